/**
 * An analysis over history: a projection run over one workspace's contact streams, read from
 * the log page by page, into read models held in memory. The ad-hoc funnels and the
 * attribution under other settings both run their live projection this way, so each has one
 * implementation.
 */
import { contactStreamPrefix, trackingEventTypes } from '../../domain/tracking/tracking.events';
import type { Projection } from '../../projections/projection';
import type { EventStore } from '../event-store/event-store';
import { MemoryReadModels } from '../projections/memory-read-models';

export interface ReplayOptions {
  /** Events read per page of the log (and applied per projection batch). */
  readonly pageSize?: number;
  /** Stop at this log position (inclusive); default: the head when the analysis starts. */
  readonly until?: bigint;
  /** Called after each page with the position reached, e.g. to yield or report progress. */
  readonly onProgress?: (position: bigint, until: bigint) => Promise<void> | void;
}

export async function replayContactStreams(
  eventStore: EventStore,
  workspaceId: string,
  projection: Projection,
  options: ReplayOptions = {},
): Promise<MemoryReadModels> {
  const pageSize = options.pageSize ?? 5_000;
  const until = options.until ?? (await eventStore.headPosition());
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
  return models;
}
