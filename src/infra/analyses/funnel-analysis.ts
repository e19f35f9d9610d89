/**
 * Ad-hoc funnels over history: a definition that is not saved, computed straight from the
 * log by the funnel-results projection itself (so the matching rules have one
 * implementation), run over one workspace's contact streams into memory.
 */
import type { FunnelDefinition } from '../../domain/funnel/funnel.events';
import { contactStreamPrefix, trackingEventTypes } from '../../domain/tracking/tracking.events';
import type { StartRange } from '../../projections/funnels/funnel-events';
import {
  createFunnelResultsProjection,
  funnelPeopleCollection,
  type FunnelPersonDocument,
} from '../../projections/funnels/funnels.projection';
import type { EventStore } from '../event-store/event-store';
import { MemoryReadModels } from '../projections/memory-read-models';

export interface FunnelAnalysisOptions {
  /** Events read per page of the log (and applied per projection batch). */
  readonly pageSize?: number;
  /** Stop at this log position (inclusive); default: the head when the analysis starts. */
  readonly until?: bigint;
  /** Called after each page with the position reached, e.g. to yield or report progress. */
  readonly onProgress?: (position: bigint, until: bigint) => Promise<void> | void;
}

export const adHocFunnelId = 'ad-hoc';

export async function analyseFunnel(
  eventStore: EventStore,
  workspaceId: string,
  definition: FunnelDefinition,
  range: StartRange | null,
  options: FunnelAnalysisOptions = {},
): Promise<FunnelPersonDocument[]> {
  const pageSize = options.pageSize ?? 5_000;
  const until = options.until ?? (await eventStore.headPosition());
  const projection = createFunnelResultsProjection(
    async () => [{ workspaceId, funnelId: adHocFunnelId, version: 0, definition }],
    { name: 'funnel-analysis', ...(range !== null && { range }) },
  );
  const models = new MemoryReadModels();
  const filter = {
    eventTypes: trackingEventTypes,
    streamPrefixes: [`${contactStreamPrefix}${workspaceId}:`],
  };
  let after = -1n;
  while (after < until) {
    const page = await eventStore.readAll({ after, maxCount: pageSize, filter });
    const events = page.filter((event) => event.position <= until);
    if (events.length > 0) await projection.project(events, models);
    if (page.length < pageSize || events.length < page.length) break;
    after = page[page.length - 1].position;
    await options.onProgress?.(after, until);
  }
  return models.documents<FunnelPersonDocument>(funnelPeopleCollection);
}
