/**
 * The event store port: the log that is Touchline's source of truth. Two adapters
 * implement it (SQLite for the embedded mode, EventStoreDB for production) and both pass
 * `test/contract/event-store.contract.ts`.
 */
import type { EventMetadata, RecordedEvent } from '../../domain/shared/events';

/** What the caller expects the stream to be at before appending. */
export type ExpectedRevision =
  | { kind: 'any' }
  | { kind: 'no_stream' }
  | { kind: 'stream_exists' }
  | { kind: 'exact'; revision: bigint };

export const ExpectedRevision = {
  any: { kind: 'any' } as ExpectedRevision,
  noStream: { kind: 'no_stream' } as ExpectedRevision,
  streamExists: { kind: 'stream_exists' } as ExpectedRevision,
  exact: (revision: bigint): ExpectedRevision => ({ kind: 'exact', revision }),
};

export interface EventToAppend {
  /** Unique id (UUID). Appending the same ids again is a retry and stores nothing new. */
  readonly eventId: string;
  readonly type: string;
  readonly data: object;
  readonly metadata: EventMetadata;
}

export interface AppendResult {
  /** Revision of the last event now in the stream. */
  readonly nextRevision: bigint;
  /** Log position of the last event of this append. */
  readonly position: bigint;
}

/** Narrows reads and subscriptions of the whole log, server-side where the store can. */
export interface EventFilter {
  /** Only events of these types. */
  readonly eventTypes?: readonly string[];
  /** Only events whose stream id starts with one of these. */
  readonly streamPrefixes?: readonly string[];
}

export interface ReadAllOptions {
  /** Exclusive: only events with a position greater than this. Omitted: from the start. */
  readonly after?: bigint;
  readonly maxCount?: number;
  readonly filter?: EventFilter;
}

export interface ReadStreamOptions {
  /** Inclusive: the first revision to read. */
  readonly fromRevision?: bigint;
  readonly maxCount?: number;
}

export interface SubscribeOptions {
  /** Exclusive: deliver events after this position. Omitted: from the start. */
  readonly after?: bigint;
  readonly filter?: EventFilter;
}

/**
 * A catch-up subscription to the whole log: every stored event after the start position,
 * then live ones as they are appended, in position order, pulled (back-pressured) with
 * `for await`. Ends when closed.
 */
export interface EventSubscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
}

/** One stream's part of an `appendMany`. */
export interface StreamWrite {
  readonly streamId: string;
  readonly events: readonly EventToAppend[];
  readonly expected: ExpectedRevision;
}

export interface EventStore {
  append(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult>;
  /**
   * Appends to many streams in one call (tracking ingestion: one write per message). Each
   * write has `append`'s semantics, including retries recognised by event id, and results
   * come back in the writes' order; several writes may name the same stream and are applied
   * in order. SQLite commits all writes in one transaction (all or nothing); EventStoreDB has
   * no cross-stream transaction, so a failure may leave earlier writes stored: a retry of
   * the same writes is safe because each is idempotent.
   */
  appendMany(writes: readonly StreamWrite[]): Promise<AppendResult[]>;
  /** The stream's events in revision order; an empty array when the stream does not exist. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** A page of the whole log in position order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribe(options?: SubscribeOptions): EventSubscription;
  /** Position of the newest event in the log; `-1n` when the log is empty. */
  headPosition(): Promise<bigint>;
  /**
   * Position of the last event recorded at or before `instant`; `-1n` when none was.
   */
  positionAt(instant: Date): Promise<bigint>;
  /** True when the store answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** The stream is not at the revision the append expected. */
export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** Current revision, `-1n` when the stream does not exist; undefined when unknown. */
    readonly actual: bigint | undefined,
  ) {
    super(
      `stream ${streamId} is at revision ${actual === undefined ? 'unknown' : actual.toString()}, expected ${describeExpected(expected)}`,
    );
    this.name = 'WrongExpectedRevisionError';
  }
}

/** Some, but not all, of the appended event ids were already stored: not a clean retry. */
export class DuplicateEventError extends Error {
  constructor(readonly eventId: string) {
    super(`event ${eventId} is already stored as part of another append`);
    this.name = 'DuplicateEventError';
  }
}

export function describeExpected(expected: ExpectedRevision): string {
  return expected.kind === 'exact' ? expected.revision.toString() : expected.kind;
}

/** Whether an event passes a filter; shared by adapters that filter in process. */
export function matchesFilter(
  event: Pick<RecordedEvent, 'type' | 'streamId'>,
  filter: EventFilter | undefined,
): boolean {
  if (!filter) return true;
  if (filter.eventTypes && !filter.eventTypes.includes(event.type)) return false;
  if (filter.streamPrefixes && !filter.streamPrefixes.some((p) => event.streamId.startsWith(p))) {
    return false;
  }
  return true;
}

/** The epoch milliseconds of `positionAt`'s instant; shared by the adapters' argument check. */
export function instantTime(instant: Date): number {
  const time = instant instanceof Date ? instant.getTime() : Number.NaN;
  if (Number.isNaN(time)) {
    throw new TypeError(`instant must be a valid Date, got ${String(instant)}`);
  }
  return time;
}
