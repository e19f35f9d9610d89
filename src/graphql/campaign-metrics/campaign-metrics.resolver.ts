import {
  Arg,
  Ctx,
  FieldResolver,
  ID,
  Int,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { isSupportedCurrency } from '../../domain/shared/money';
import {
  campaignBucketPrefix,
  type BucketGranularity,
  type CampaignMetricsBucket,
} from '../../projections/campaign-metrics/buckets';
import {
  campaignMetricsCollections,
  campaignMetricsProjectionName,
} from '../../projections/campaign-metrics/campaign-metrics.projection';
import {
  bucketStartsIn,
  totalsBy,
  type BucketQuery,
  type GroupTotals,
} from '../../projections/campaign-metrics/metrics-query';
import {
  emptyTotals,
  sumTotals,
  type MetricTotals,
} from '../../projections/campaign-metrics/metrics';
import { deriveRates } from '../../projections/campaign-metrics/rates';
import { Campaign } from '../campaign/campaign.types';
import type { TouchlineContext } from '../context';
import { asOfDescription, readingContext } from '../shared/consistency';
import { badInput } from '../errors';
import { pageSize } from '../shared/arguments';
import { batchTicks } from '../shared/live';
import {
  CampaignMetrics,
  CampaignMetricsSeries,
  CampaignMetricsSummary,
  MetricsGranularity,
  RankMetric,
} from './campaign-metrics.types';

const PROJECTION = campaignMetricsProjectionName;
const BUCKETS = campaignMetricsCollections.buckets;
const DAY_MS = 24 * 60 * 60 * 1000;
/** An hour series of a year (leap year included) is 8,784 points. */
export const MAX_HOUR_RANGE_DAYS = 366;
/** A day series is bounded too, so one answer stays a few thousand points. */
export const MAX_DAY_RANGE_DAYS = 3660;
export const MAX_COMPARED_CAMPAIGNS = 20;
export const DEFAULT_TOP_CAMPAIGNS = 10;

@Resolver()
export class CampaignMetricsResolver {
  @Query(() => CampaignMetricsSeries, {
    description:
      "One campaign's metrics over [from, to) as a series of hour or day buckets (UTC, by event time), or one TOTAL point summing the day buckets; with totals and a breakdown by channel.",
  })
  async campaignMetrics(
    @Arg('campaignId', () => ID) campaignId: string,
    @Arg('from', () => Date) from: Date,
    @Arg('to', () => Date, { description: 'End of the range, excluded.' }) to: Date,
    @Arg('granularity', () => MetricsGranularity) granularity: MetricsGranularity,
    @Arg('channel', () => String, {
      nullable: true,
      description: 'Only this touchpoint channel (e.g. email, paid_search).',
    })
    channel: string | null,
    @Arg('minPosition', () => String, {
      nullable: true,
      description: 'Wait (bounded) until the read model reflects this log position.',
    })
    minPosition: string | null,
    @Arg('asOf', () => Date, { nullable: true, description: asOfDescription })
    asOf: Date | null,
    @Ctx() context: TouchlineContext,
  ): Promise<CampaignMetricsSeries> {
    checkRange(from, to, granularity === 'HOUR' ? MAX_HOUR_RANGE_DAYS : MAX_DAY_RANGE_DAYS);
    const onlyChannel = channel ?? null;
    const reading = await readingContext(context, { minPosition, asOf }, [PROJECTION]);
    const bucketGranularity: BucketGranularity = granularity === 'HOUR' ? 'HOUR' : 'DAY';
    const groups = await totalsBy(
      buckets(reading),
      {
        workspaceId: context.workspaceId,
        granularity: bucketGranularity,
        from,
        to,
        campaignIds: [campaignId],
        ...(onlyChannel !== null && { channel: onlyChannel }),
      },
      ['bucketStart', 'channel'],
    );
    const totals = sumTotals(groups.map((group) => group.totals));
    const points =
      granularity === 'TOTAL'
        ? [{ bucketStart: from, metrics: CampaignMetrics.from(totals) }]
        : seriesPoints(groups, bucketStartsIn(from, to, bucketGranularity));
    return Object.assign(new CampaignMetricsSeries(), {
      campaignId,
      granularity,
      from,
      to,
      points,
      totals: CampaignMetrics.from(totals),
      byChannel: [...sumBy(groups, 'channel')]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, channelTotals]) => ({
          channel: name,
          metrics: CampaignMetrics.from(channelTotals),
        })),
    });
  }

  @Query(() => [CampaignMetricsSummary], {
    description: `The metrics of up to ${MAX_COMPARED_CAMPAIGNS} campaigns over [from, to) (day buckets), in the order asked.`,
  })
  async compareCampaigns(
    @Arg('campaignIds', () => [ID]) campaignIds: string[],
    @Arg('from', () => Date) from: Date,
    @Arg('to', () => Date) to: Date,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Arg('asOf', () => Date, { nullable: true, description: asOfDescription })
    asOf: Date | null,
    @Ctx() context: TouchlineContext,
  ): Promise<CampaignMetricsSummary[]> {
    const ids = [...new Set(campaignIds)];
    if (ids.length > MAX_COMPARED_CAMPAIGNS) {
      throw badInput(
        'campaignIds',
        `compare at most ${MAX_COMPARED_CAMPAIGNS} campaigns at once`,
        'TOO_MANY_CAMPAIGNS',
      );
    }
    checkRange(from, to, null);
    if (ids.length === 0) return [];
    const reading = await readingContext(context, { minPosition, asOf }, [PROJECTION]);
    const byCampaign = await totalsByCampaign(reading, { from, to, campaignIds: ids });
    return ids.map((id) => CampaignMetricsSummary.of(id, byCampaign.get(id) ?? emptyTotals()));
  }

  @Query(() => [CampaignMetricsSummary], {
    description:
      'The campaigns of the workspace with the highest value of a metric over [from, to) (day buckets); ties by campaign id. Campaigns for which the metric is null are left out.',
  })
  async topCampaigns(
    @Arg('metric', () => RankMetric) metric: RankMetric,
    @Arg('from', () => Date) from: Date,
    @Arg('to', () => Date) to: Date,
    @Arg('first', () => Int, { nullable: true, defaultValue: DEFAULT_TOP_CAMPAIGNS })
    first: number | null,
    @Arg('currency', () => String, {
      nullable: true,
      description: 'ISO-4217 code: needed for REVENUE and SPEND, optional for ROAS and ROI.',
    })
    currency: string | null,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Arg('asOf', () => Date, { nullable: true, description: asOfDescription })
    asOf: Date | null,
    @Ctx() context: TouchlineContext,
  ): Promise<CampaignMetricsSummary[]> {
    const limit = pageSize(first ?? DEFAULT_TOP_CAMPAIGNS);
    checkRange(from, to, null);
    const rankCurrency = parseRankCurrency(metric, currency ?? null);
    const reading = await readingContext(context, { minPosition, asOf }, [PROJECTION]);
    const byCampaign = await totalsByCampaign(reading, { from, to });
    return [...byCampaign]
      .map(([campaignId, totals]) => ({
        campaignId,
        totals,
        value: rankValue(metric, totals, rankCurrency),
      }))
      .filter((entry): entry is typeof entry & { value: number } => entry.value !== null)
      .sort(
        (a, b) =>
          b.value - a.value ||
          (a.campaignId < b.campaignId ? -1 : a.campaignId > b.campaignId ? 1 : 0),
      )
      .slice(0, limit)
      .map((entry) => CampaignMetricsSummary.of(entry.campaignId, entry.totals));
  }

  @Subscription(() => CampaignMetricsSummary, {
    description:
      "Pushes the campaign's all-time metrics after each projector batch that changed them.",
    subscribe: ({ args, context }) =>
      campaignMetricsUpdates(context as TouchlineContext, args.campaignId as string),
  })
  campaignMetricsUpdated(
    @Arg('campaignId', () => ID) _campaignId: string,
    @Root() summary: CampaignMetricsSummary,
  ): CampaignMetricsSummary {
    return summary;
  }
}

@Resolver(() => CampaignMetricsSummary)
export class CampaignMetricsSummaryResolver {
  @FieldResolver(() => Campaign, {
    nullable: true,
    description: 'The campaign, or null when the campaigns read model does not know the id.',
  })
  async campaign(
    @Root() summary: CampaignMetricsSummary,
    @Ctx() context: TouchlineContext,
  ): Promise<Campaign | null> {
    const document = await context.loaders.campaign.load(summary.campaignId);
    return document && Campaign.from(document);
  }
}

function buckets(context: TouchlineContext) {
  return context.services.readModels.collection<CampaignMetricsBucket>(BUCKETS);
}

/** A reversed range is refused; `maxDays` bounds the number of points a series returns. */
function checkRange(from: Date, to: Date, maxDays: number | null): void {
  if (to < from) throw badInput('to', 'to must not be before from', 'REVERSED_RANGE');
  if (maxDays !== null && to.getTime() - from.getTime() > maxDays * DAY_MS) {
    throw badInput(
      'to',
      `this granularity covers at most ${maxDays} days; ask for a coarser one or a shorter range`,
      'RANGE_TOO_LONG',
    );
  }
}

function seriesPoints(groups: readonly GroupTotals[], starts: readonly string[]) {
  const byStart = sumBy(groups, 'bucketStart');
  return starts.map((start) => ({
    bucketStart: new Date(start),
    metrics: CampaignMetrics.from(byStart.get(start) ?? emptyTotals()),
  }));
}

function sumBy(
  groups: readonly GroupTotals[],
  field: 'bucketStart' | 'channel' | 'campaignId',
): Map<string, MetricTotals> {
  const parts = new Map<string, MetricTotals[]>();
  for (const { key, totals } of groups) {
    const value = key[field];
    if (value === undefined) continue;
    parts.set(value, [...(parts.get(value) ?? []), totals]);
  }
  return new Map([...parts].map(([value, list]) => [value, sumTotals(list)]));
}

async function totalsByCampaign(
  context: TouchlineContext,
  range: Pick<BucketQuery, 'from' | 'to' | 'campaignIds'>,
): Promise<Map<string, MetricTotals>> {
  const groups = await totalsBy(
    buckets(context),
    { workspaceId: context.workspaceId, granularity: 'DAY', ...range },
    ['campaignId'],
  );
  return sumBy(groups, 'campaignId');
}

function parseRankCurrency(metric: RankMetric, currency: string | null): string | null {
  if (currency === null) {
    if (metric === 'REVENUE' || metric === 'SPEND') {
      throw badInput('currency', `ranking by ${metric} needs a currency`, 'CURRENCY_REQUIRED');
    }
    return null;
  }
  const code = currency.trim().toUpperCase();
  if (!isSupportedCurrency(code)) {
    throw badInput('currency', `unknown currency "${currency}"`, 'UNKNOWN_CURRENCY');
  }
  return code;
}

/** The value a campaign ranks by, or null to leave it out. */
function rankValue(
  metric: RankMetric,
  totals: MetricTotals,
  currency: string | null,
): number | null {
  switch (metric) {
    case 'IMPRESSIONS':
      return totals.impressions;
    case 'CLICKS':
      return totals.clicks;
    case 'SENDS':
      return totals.sends;
    case 'DELIVERIES':
      return totals.deliveries;
    case 'UNIQUE_OPENS':
      return totals.uniqueOpens;
    case 'UNIQUE_CLICKS':
      return totals.uniqueClicks;
    case 'CONVERSIONS':
      return totals.conversions;
    case 'REVENUE':
      return currency === null ? null : (totals.revenue[currency] ?? 0);
    case 'SPEND':
      return currency === null ? null : (totals.spend[currency] ?? 0);
    case 'CTR':
      return deriveRates(totals).ctr;
    case 'CVR':
      return deriveRates(totals).cvr;
    case 'OPEN_RATE':
      return deriveRates(totals).openRate;
    case 'CLICK_TO_OPEN':
      return deriveRates(totals).clickToOpen;
    case 'ROAS':
    case 'ROI': {
      const rates = deriveRates(totals);
      if (currency !== null && rates.costCurrency !== currency) return null;
      return metric === 'ROAS' ? rates.roas : rates.roi;
    }
    default: {
      const _exhaustive: never = metric;
      void _exhaustive;
      return null;
    }
  }
}

/**
 * The subscription's source. Written as plain iterators rather than async generators: a
 * generator that is waiting cannot be stopped from outside, so a client leaving while
 * nothing changes would keep its listener forever; here `return()` ends the wait at once.
 */
function campaignMetricsUpdates(
  context: TouchlineContext,
  campaignId: string,
): AsyncIterableIterator<CampaignMetricsSummary> {
  const { workspaceId } = context;
  const prefix = campaignBucketPrefix(workspaceId, campaignId);
  const ticks = batchTicks(context.services.live.changes(BUCKETS, workspaceId), (change) =>
    change.id.startsWith(prefix),
  );
  return {
    async next() {
      const tick = await ticks.next();
      if (tick.done) return { done: true, value: undefined };
      const [allTime] = await totalsBy(
        buckets(context),
        { workspaceId, granularity: 'DAY', campaignIds: [campaignId] },
        [],
      );
      return {
        done: false,
        value: CampaignMetricsSummary.of(campaignId, allTime?.totals ?? emptyTotals()),
      };
    },
    async return() {
      await ticks.return();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
