/**
 * Event schema evolution. An event type's shape version grows by one each time its data
 * changes shape; an upcaster turns the data of version n into version n + 1, and a chain of
 * them lifts any stored version to the current one when the event is read. The log itself
 * is never rewritten: an old event keeps its old shape and `schemaVersion` on disk.
 *
 * Pure: the adapters call `upcast` on every event they hand out, writers stamp
 * `currentVersion(type)` into the metadata of every event they append.
 */
import type { EventMetadata, RecordedEvent } from './events';

/**
 * Lifts one event's data from version n to n + 1. It receives the stored metadata (as
 * the log holds it) for the rare shape change that needs the workspace or the actor.
 */
export type Upcaster<From extends object = never, To extends object = object> = (
  data: From,
  metadata: EventMetadata,
) => To;

/**
 * The upcasters of each event type, oldest first: entry 0 lifts version 1 to 2, entry 1
 * lifts 2 to 3, and so on, so the current version of a type is its number of upcasters + 1.
 * A type without upcasters is at version 1.
 */
export type UpcasterChains = Readonly<Record<string, readonly Upcaster[]>>;

/** A stored event whose shape version this build cannot read. */
export class UnknownSchemaVersionError extends Error {
  readonly code = 'UNKNOWN_SCHEMA_VERSION';

  constructor(
    readonly eventId: string,
    readonly eventType: string,
    readonly storedVersion: unknown,
    readonly currentVersion: number,
  ) {
    super(
      typeof storedVersion === 'number' && Number.isSafeInteger(storedVersion) && storedVersion > 0
        ? `event ${eventId} (${eventType}) has schema version ${storedVersion}, newer than this build reads (${currentVersion}): it was written by a later Touchline; upgrade before reading this log`
        : `event ${eventId} (${eventType}) has no valid schema version (got ${String(storedVersion)}); versions are whole numbers from 1`,
    );
    this.name = 'UnknownSchemaVersionError';
  }
}

export interface EventSchemas {
  /** The version writers store for `type` (1 when it has no upcasters). */
  currentVersion(type: string): number;
  /**
   * The event in its type's current shape: the same object when it is current already,
   * otherwise a copy whose data went through the upcasters and whose `schemaVersion` is
   * the current one (`storedSchemaVersion` keeps the version the log holds).
   */
  upcast(event: RecordedEvent): RecordedEvent;
}

export function eventSchemas(chains: UpcasterChains): EventSchemas {
  const registered = new Map(Object.entries(chains));
  const currentVersion = (type: string): number => (registered.get(type)?.length ?? 0) + 1;

  return {
    currentVersion,
    upcast(event) {
      const current = currentVersion(event.type);
      const stored: unknown = event.metadata.schemaVersion;
      if (stored === current) return event;
      // Not a version at all, or one a later build wrote: the error's message tells which.
      if (
        typeof stored !== 'number' ||
        !Number.isSafeInteger(stored) ||
        stored < 1 ||
        stored > current
      ) {
        throw new UnknownSchemaVersionError(event.eventId, event.type, stored, current);
      }
      const chain = registered.get(event.type) ?? [];
      let data: object = event.data;
      for (let version = stored; version < current; version += 1) {
        const lift = chain[version - 1] as Upcaster;
        data = lift(data as never, event.metadata);
      }
      return {
        ...event,
        data,
        metadata: { ...event.metadata, schemaVersion: current, storedSchemaVersion: stored },
      };
    },
  };
}
