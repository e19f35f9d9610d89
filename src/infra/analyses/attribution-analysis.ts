/**
 * Attribution under other settings (lookback, half-life, channel table) than the live read
 * model's: the attribution projection itself run over one workspace's contact streams into
 * memory, then read with the same report code as the live read model, so the journeys,
 * models and sums have one implementation.
 */
import {
  AttributionReports,
  type AttributionCollection,
} from '../../projections/attribution/attribution-query';
import { createAttributionProjection } from '../../projections/attribution/attribution.projection';
import type { AttributionSettings } from '../../projections/attribution/journeys';
import type { ChannelRule } from '../../projections/touchpoints/channels';
import type { AttributionReadModel } from '../../graphql/context';
import type { EventStore } from '../event-store/event-store';
import { replayContactStreams, type ReplayOptions } from './contact-replay';

export interface AttributionAnalysisOptions extends ReplayOptions {
  /** The channel table sessions are classified with; default ANALYTICS.md's. */
  readonly channelRules?: readonly ChannelRule<string>[];
}

export const attributionAnalysisName = 'attribution-analysis';

export async function analyseAttribution(
  eventStore: EventStore,
  workspaceId: string,
  settings: AttributionSettings,
  options: AttributionAnalysisOptions = {},
): Promise<AttributionReadModel> {
  const projection = createAttributionProjection({
    name: attributionAnalysisName,
    settings,
    channelRules: options.channelRules,
  });
  const models = await replayContactStreams(eventStore, workspaceId, projection, options);
  const collection: AttributionCollection = (name) => models.collection(name);
  return { collection, reports: new AttributionReports(collection) };
}
