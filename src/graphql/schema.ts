import type { GraphQLSchema } from 'graphql';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { AccessResolver } from './access/access.resolver';
import { ProjectionResolver } from './admin/projection.resolver';
import { AttributionResolver } from './attribution/attribution.resolver';
import { ChannelRulesResolver } from './attribution/channel-rules.resolver';
import { BudgetResolver } from './budget/budget.resolver';
import { CampaignCommandResultResolver, CampaignResolver } from './campaign/campaign.resolver';
import {
  CampaignMetricsResolver,
  CampaignMetricsSummaryResolver,
} from './campaign-metrics/campaign-metrics.resolver';
import { ContactResolver } from './contact/contact.resolver';
import { ExperimentResolver } from './experiment/experiment.resolver';
import { FunnelResolver } from './funnel/funnel.resolver';
import { mapErrors } from './errors';
import { HistoryResolver } from './history/history.resolver';
import { SegmentMemberResolver, SegmentResolver } from './segment/segment.resolver';
import { scalarsMap } from './shared/scalars';
import { TrackingResolver } from './tracking/tracking.resolver';

/**
 * Every subscription here names its own `subscribe` function fed by the projector's change
 * feed; type-graphql insists on a topic-based PubSub all the same, so it gets one that
 * refuses to be used.
 */
const noTopicPubSub: PubSub = {
  publish() {
    throw new Error('Touchline subscriptions are fed by the change feed, not by topics');
  },
  subscribe() {
    throw new Error('Touchline subscriptions are fed by the change feed, not by topics');
  },
};

/** The one schema that serves HTTP and WebSocket. */
export function buildTouchlineSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [
      AccessResolver,
      CampaignResolver,
      CampaignCommandResultResolver,
      ProjectionResolver,
      TrackingResolver,
      ContactResolver,
      CampaignMetricsResolver,
      CampaignMetricsSummaryResolver,
      BudgetResolver,
      FunnelResolver,
      ExperimentResolver,
      AttributionResolver,
      ChannelRulesResolver,
      SegmentResolver,
      SegmentMemberResolver,
      HistoryResolver,
    ],
    scalarsMap,
    globalMiddlewares: [mapErrors],
    validate: false,
    pubSub: noTopicPubSub,
  });
}

/** The SDL committed as schema.graphql (sorted, so it diffs well). */
export function printTouchlineSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
