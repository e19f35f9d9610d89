/**
 * The segment scheduler: tells the segments projection that time has passed, by appending a
 * `SegmentClockTicked` event to the workspace's clock stream, when
 * - a scheduled check is due (a window slides past an event, a dated event comes due): a
 *   timer for the workspace's earliest check (`nextDueAt` in its catalog); or
 * - a back-fill has contacts left: one tick per step, as soon as the previous step committed.
 *
 * Ticks come no more often than `minIntervalMs` per workspace (1 s by default): checks due in
 * between wait for the next tick, and are still recorded at their own instants. No tick is
 * appended while nothing is due, so an idle workspace's log does not grow.
 */
import { randomUUID } from 'node:crypto';
import { currentSchemaVersion } from '../../domain/event-schemas';
import { segmentClockStreamId } from '../../domain/segment';
import type { SegmentClockTicked } from '../../domain/segment/segment.events';
import {
  catalogId,
  segmentCatalogCollection,
  type SegmentCatalogDocument,
} from '../../projections/segments/segment-documents';
import { segmentsProjection } from '../../projections/segments/segments.projection';
import type { ReadStore } from '../../projections/read-store';
import { ExpectedRevision, type EventStore } from '../event-store/event-store';
import type { Logger } from '../logger';
import type { ChangeFeed } from '../projections/change-feed';
import type { ProjectionManager } from '../projections/projection-manager';

export interface SegmentClockOptions {
  readonly manager: Pick<ProjectionManager, 'collection'>;
  readonly readStore: ReadStore;
  readonly eventStore: EventStore;
  readonly changeFeed: ChangeFeed;
  readonly logger: Logger;
  /** Milliseconds since the epoch; injected by tests. */
  readonly now?: () => number;
  readonly minIntervalMs?: number;
}

/** setTimeout's longest delay is about 24.8 days; a longer wait is taken in steps. */
const longestTimer = 2 ** 31 - 1;

/** Starts the scheduler; returns the function that stops it. */
export async function watchSegmentClock(options: SegmentClockOptions): Promise<() => void> {
  const { manager, readStore, eventStore, changeFeed, logger } = options;
  const now = options.now ?? Date.now;
  const minInterval = options.minIntervalMs ?? 1000;
  const timers = new Map<string, NodeJS.Timeout>();
  const lastTick = new Map<string, number>();
  const ticking = new Set<string>();
  let stopped = false;

  const catalogOf = (workspaceId: string) =>
    readStore
      .collection<SegmentCatalogDocument>(manager.collection(segmentCatalogCollection))
      .findOne({ _id: catalogId(workspaceId) });

  const tick = async (workspaceId: string): Promise<void> => {
    if (stopped || ticking.has(workspaceId)) return;
    ticking.add(workspaceId);
    try {
      const at = now();
      lastTick.set(workspaceId, at);
      const event: SegmentClockTicked = {
        type: 'SegmentClockTicked',
        data: { at: new Date(at).toISOString() },
      };
      await eventStore.append(
        segmentClockStreamId(workspaceId),
        [
          {
            eventId: randomUUID(),
            ...event,
            metadata: { workspaceId, schemaVersion: currentSchemaVersion(event.type) },
          },
        ],
        ExpectedRevision.any,
      );
    } catch (error) {
      logger.error({ err: error, workspaceId }, 'segment clock tick failed');
    } finally {
      ticking.delete(workspaceId);
    }
  };

  /** Sets the workspace's one timer from its catalog as last committed. */
  const plan = (catalog: SegmentCatalogDocument): void => {
    const { workspaceId } = catalog;
    clearTimeout(timers.get(workspaceId));
    timers.delete(workspaceId);
    if (stopped) return;
    const backfilling = catalog.segments.some(
      (segment) =>
        segment.status === 'active' &&
        segment.backfill !== null &&
        segment.backfill.finishedAt === null,
    );
    let due: number | null = backfilling ? now() : catalog.nextDueAt;
    if (due === null) return;
    // A check the last tick already covered is stale; the projection dropped it.
    if (!backfilling && catalog.tickedAt !== null && due <= catalog.tickedAt) return;
    // A back-fill's next step follows its last as soon as that one committed.
    if (!backfilling) due = Math.max(due, (lastTick.get(workspaceId) ?? -Infinity) + minInterval);
    const delay = Math.max(0, due - now());
    const timer = setTimeout(
      () => {
        timers.delete(workspaceId);
        if (delay > longestTimer) plan(catalog);
        else void tick(workspaceId);
      },
      Math.min(delay, longestTimer),
    );
    timer.unref();
    timers.set(workspaceId, timer);
  };

  const replan = async (workspaceId: string): Promise<void> => {
    const catalog = await catalogOf(workspaceId);
    if (catalog !== null) plan(catalog);
  };

  const stopListening = changeFeed.listen((batch) => {
    if (batch.projection !== segmentsProjection.name) return;
    for (const change of batch.changes) {
      if (change.collection === segmentCatalogCollection) {
        replan(change.id).catch((error: unknown) =>
          logger.error({ err: error, workspaceId: change.id }, 'segment clock planning failed'),
        );
      }
    }
  });

  // What was due or unfinished when the server stopped.
  const catalogs = await readStore
    .collection<SegmentCatalogDocument>(manager.collection(segmentCatalogCollection))
    .find({});
  catalogs.forEach(plan);

  return () => {
    stopped = true;
    stopListening();
    timers.forEach((timer) => clearTimeout(timer));
    timers.clear();
  };
}
