/**
 * What a projection declares. The runner (src/infra/projection-runner) reads the log from
 * the projection's checkpoint in batches, hands each batch to `project`, and commits the
 * writes together with the new checkpoint; projections never do I/O of their own.
 */
import type { RecordedEvent } from '../domain/shared/events';
import type { Document, Filter, UpdateOperators } from './read-store';

/**
 * The projection's view of its read models while it handles one batch. Reads see the
 * batch's own earlier writes. Collection names are the projection's logical names; the
 * runner maps them to the physical collections of the generation being built.
 */
export interface ProjectionSession {
  get<T extends Document>(collection: string, id: string): Promise<T | null>;
  /**
   * The documents of these ids, in their order (null where there is none), read together:
   * `get` reads one document at a time, a round trip each to a store on a server.
   */
  getMany<T extends Document>(collection: string, ids: readonly string[]): Promise<(T | null)[]>;
  put(collection: string, document: Document): void;
  delete(collection: string, id: string): void;
  /** An update by operators; for counters and sets, where reading first is not needed. */
  update(
    collection: string,
    filter: Filter,
    update: UpdateOperators,
    options?: { upsert?: boolean },
  ): void;
}

export interface Projection {
  /** Stable name; the checkpoint and the published changes carry it. */
  readonly name: string;
  /** Bump when the shape or the meaning of the read model changes: it is rebuilt from the log. */
  readonly version: number;
  /** Event types this projection reads; the runner subscribes with this filter. */
  readonly eventTypes: readonly string[];
  /** Logical names of the collections it owns. */
  readonly collections: readonly string[];
  /**
   * Optional: the fewest events the runner should gather per batch when more are waiting, for
   * a projection whose batches cost mostly per batch (its sums documents are rewritten
   * whatever the batch holds). The runner's own batch size applies when larger.
   */
  readonly minBatchSize?: number;
  /**
   * Optional: read as events happen (the campaign metrics dashboards watch), or read by the
   * other projections (definitions). When the projector cannot keep up with everything, a
   * live projection's batches go first and the others give way (see BatchScheduler).
   */
  readonly live?: boolean;
  /** Index hints per collection (field paths), used by adapters that can index. */
  readonly indexes?: Readonly<Record<string, readonly (readonly string[])[]>>;
  project(events: readonly RecordedEvent[], session: ProjectionSession): Promise<void>;
  /**
   * Optional: the event types it still needs, given its read model now (a subset of
   * `eventTypes`), asked after each batch; the runner reads only those from then on. For a
   * read model that can no longer change (funnels pinned to no definition at all), so it
   * does not read the whole log for nothing.
   */
  eventTypesNow?(read: ReadDocument): Promise<readonly string[]>;
}

/** Reads one of the projection's documents as committed (logical collection names). */
export type ReadDocument = <T extends Document>(
  collection: string,
  id: string,
) => Promise<T | null>;

/** A document changed by a committed batch, published to live subscribers. */
export interface DocumentChange {
  readonly collection: string;
  readonly id: string;
  readonly workspaceId?: string;
}

/**
 * The common case: one document per key, evolved event by event.
 * `evolve` returns the new document, or null to delete it; returning the same object
 * unchanged (e.g. an event already applied, seen by its revision) writes nothing.
 */
export function documentProjection<D extends Document>(definition: {
  name: string;
  version: number;
  collection: string;
  eventTypes: readonly string[];
  indexes?: readonly (readonly string[])[];
  live?: boolean;
  /** The id of the document an event concerns, or null to ignore the event. */
  documentId: (event: RecordedEvent) => string | null;
  evolve: (document: D | null, event: RecordedEvent) => D | null;
}): Projection {
  const { collection } = definition;
  return {
    name: definition.name,
    version: definition.version,
    eventTypes: definition.eventTypes,
    collections: [collection],
    indexes: definition.indexes ? { [collection]: definition.indexes } : undefined,
    live: definition.live,
    async project(events, session) {
      for (const event of events) {
        const id = definition.documentId(event);
        if (id === null) continue;
        const current = await session.get<D>(collection, id);
        const next = definition.evolve(current, event);
        if (next === current) continue;
        if (next === null) session.delete(collection, id);
        else session.put(collection, next);
      }
    },
  };
}
