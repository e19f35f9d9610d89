/**
 * Ad-hoc funnels over history: a definition that is not saved, computed straight from the
 * log by the funnel-results projection itself (so the matching rules have one
 * implementation), run over one workspace's contact streams into memory.
 */
import type { FunnelDefinition } from '../../domain/funnel/funnel.events';
import type { StartRange } from '../../projections/funnels/funnel-events';
import {
  createFunnelResultsProjection,
  funnelPeopleCollection,
  type FunnelPersonDocument,
} from '../../projections/funnels/funnels.projection';
import type { EventStore } from '../event-store/event-store';
import { replayContactStreams, type ReplayOptions } from './contact-replay';

export type FunnelAnalysisOptions = ReplayOptions;

export const adHocFunnelId = 'ad-hoc';

export async function analyseFunnel(
  eventStore: EventStore,
  workspaceId: string,
  definition: FunnelDefinition,
  range: StartRange | null,
  options: FunnelAnalysisOptions = {},
): Promise<FunnelPersonDocument[]> {
  const projection = createFunnelResultsProjection(
    async () => [{ workspaceId, funnelId: adHocFunnelId, version: 0, definition }],
    { name: 'funnel-analysis', ...(range !== null && { range }) },
  );
  const models = await replayContactStreams(eventStore, workspaceId, projection, options);
  return models.documents<FunnelPersonDocument>(funnelPeopleCollection);
}
