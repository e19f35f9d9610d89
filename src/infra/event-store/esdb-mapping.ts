/**
 * Pure translations between the event store port and the EventStoreDB / KurrentDB client
 * (`@eventstore/db-client` 6.x). Kept apart from the adapter so that every rule about
 * revisions, positions, filters and retries is tested without a server.
 */
import {
  ANY,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  AccessDeniedError,
  InvalidArgumentError,
  NotFoundError,
  StreamDeletedError,
  UnsupportedError,
  eventTypeFilter,
  excludeSystemEvents,
  streamNameFilter,
} from '@eventstore/db-client';
import type {
  AppendExpectedRevision,
  CurrentRevision,
  Filter,
  Position,
  ReadPosition,
} from '@eventstore/db-client';
import { upcastEvent } from '../../domain/event-schemas';
import type { EventMetadata, RecordedEvent } from '../../domain/shared/events';
import { UnknownSchemaVersionError } from '../../domain/shared/upcasting';
import { DuplicateEventError, WrongExpectedRevisionError } from './event-store';
import type { EventFilter, EventToAppend, ExpectedRevision } from './event-store';

// ---------------------------------------------------------------------------------------
// Revisions

/** The port's expected revision in the client's vocabulary. */
export function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  if (typeof expected !== 'object' || expected === null) {
    throw new TypeError(`expected revision must be an ExpectedRevision, got ${describe(expected)}`);
  }
  switch (expected.kind) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    case 'exact':
      assertRevision(expected.revision, 'expected revision');
      return expected.revision;
    default: {
      const unknown: never = expected;
      throw new TypeError(
        `unknown expected revision kind ${describe((unknown as ExpectedRevision).kind)}`,
      );
    }
  }
}

/** The revision a WrongExpectedVersionError reports, `-1n` when the stream does not exist. */
export function fromEsdbCurrentRevision(actual: CurrentRevision): bigint {
  return actual === NO_STREAM ? -1n : actual;
}

/**
 * The revision of the event just before the appended batch when the caller named it
 * (`exact` and `no_stream`); the server compares event ids from the next revision on.
 * Undefined for `any` and `stream_exists`, which name no revision.
 */
export function revisionBeforeBatch(expected: ExpectedRevision): bigint | undefined {
  if (expected.kind === 'exact') return expected.revision;
  if (expected.kind === 'no_stream') return -1n;
  return undefined;
}

/*
 * What EventStoreDB guarantees about a retried append (the server's commit check, 20.x to
 * KurrentDB 25.x), and how the adapter builds the port's idempotency on it:
 *
 * - `exact` / `no_stream`, stream already past the expected revision: the server compares
 *   the batch's event ids with the events stored from expected + 1 on (through its index,
 *   so with no time window). All equal: the retry succeeds, stores nothing and reports the
 *   original revision. The first differs: a real conflict. The first equal but a later one
 *   not ("corrupted idempotency"): also answered with WrongExpectedVersion. Reading the
 *   event at expected + 1 tells the two apart: a partial retry becomes the port's
 *   DuplicateEventError, anything else a WrongExpectedRevisionError.
 * - `exact` at the current revision: written without any id check. Only a batch whose
 *   first event is new but which repeats a stored id further on gets through; command ids
 *   make such a batch a caller's bug, not a retry.
 * - `any` / `stream_exists`: the server looks the ids up in a bounded in-memory cache of
 *   recent writes, so a retry long after the original, or after a restart, would be stored
 *   twice. The adapter therefore reads the stream, compares the ids itself
 *   (`matchStoredBatch`) and appends at the revision it read, as `exact`.
 * - Ids are unique per stream only: the server has no index of ids across streams.
 */

/** Whether a stream at `current` (`-1n`: no stream) meets the caller's expectation. */
export function satisfiesExpected(expected: ExpectedRevision, current: bigint): boolean {
  switch (expected.kind) {
    case 'any':
      return true;
    case 'no_stream':
      return current === -1n;
    case 'stream_exists':
      return current >= 0n;
    case 'exact':
      return current === expected.revision;
  }
}

/** What the adapter needs of an event already in the stream to recognise a retry. */
export interface StoredEventRef {
  readonly eventId: string;
  readonly revision: bigint;
  readonly position: bigint | undefined;
}

export type StoredBatchMatch =
  | { readonly kind: 'new' }
  | { readonly kind: 'retry'; readonly last: StoredEventRef }
  | { readonly kind: 'duplicate'; readonly eventId: string };

/**
 * Compares a batch with the events already in its stream, as the SQLite adapter does: a
 * retry is recognised by its first id and must sit whole, in order, right behind it;
 * a batch repeating any other stored id overlaps another append.
 */
export function matchStoredBatch(
  stored: readonly StoredEventRef[],
  batchIds: readonly string[],
): StoredBatchMatch {
  const key = (eventId: string) => eventId.toLowerCase();
  const indexById = new Map(stored.map((event, index) => [key(event.eventId), index]));
  const [firstId] = batchIds;
  const start = firstId === undefined ? undefined : indexById.get(key(firstId));
  if (firstId !== undefined && start !== undefined) {
    const slice = stored.slice(start, start + batchIds.length);
    const whole =
      slice.length === batchIds.length &&
      slice.every((event, index) => key(event.eventId) === key(batchIds[index] as string));
    const last = slice[slice.length - 1];
    return whole && last ? { kind: 'retry', last } : { kind: 'duplicate', eventId: firstId };
  }
  const repeated = batchIds.find((eventId) => indexById.has(key(eventId)));
  return repeated === undefined ? { kind: 'new' } : { kind: 'duplicate', eventId: repeated };
}

/** The revision whose stored event id tells a partial retry from a conflict, if any. */
export function revisionToCompare(
  expected: ExpectedRevision,
  actual: bigint | undefined,
): bigint | undefined {
  const before = revisionBeforeBatch(expected);
  return before !== undefined && actual !== undefined && actual > before ? before + 1n : undefined;
}

/**
 * The port's error for an append the server refused. `storedIdToCompare` is the id of the
 * event stored at `revisionToCompare(expected, actual)`, when that revision was read: equal
 * to the batch's first id, the refusal was a partial retry.
 */
export function explainRefusedAppend(
  streamId: string,
  expected: ExpectedRevision,
  actual: bigint | undefined,
  firstEventId: string,
  storedIdToCompare?: string,
): WrongExpectedRevisionError | DuplicateEventError {
  const partialRetry =
    storedIdToCompare !== undefined &&
    storedIdToCompare.toLowerCase() === firstEventId.toLowerCase();
  return partialRetry
    ? new DuplicateEventError(firstEventId)
    : new WrongExpectedRevisionError(streamId, expected, actual);
}

export function assertRevision(revision: unknown, what: string): asserts revision is bigint {
  if (typeof revision !== 'bigint' || revision < 0n) {
    throw new TypeError(`${what} must be a bigint >= 0n, got ${describe(revision)}`);
  }
}

// ---------------------------------------------------------------------------------------
// Positions
//
// EventStoreDB addresses a record in its transaction log by two offsets, {commit, prepare}.
// Every event appended through the gRPC API since server 20.6 is written as a single
// implicitly committed prepare record, and reading $all reports such an event at
// {commit: its log position, prepare: its log position}: the two are equal and unique per
// event, and grow in log order. So the commit offset alone is a faithful position for the
// port, and {commit: p, prepare: p} names exactly the same record when reading from p.
// (Only events written by the legacy TCP API inside explicit multi-event transactions share
// one commit offset with distinct prepare offsets; Touchline never writes those.)

/** The largest log position EventStoreDB uses; larger values are "no position" markers. */
const MAX_LOG_POSITION = 2n ** 63n - 1n;

/** Where to start reading $all so that only events after `after` come back. */
export function toReadPosition(after: bigint | undefined): ReadPosition {
  if (after === undefined || after === -1n) return START;
  return { commit: after, prepare: after };
}

/**
 * The commit offset of a client Position, or undefined when the server gave none. Servers
 * before 22.6 report no position on stream reads, and some report 2^64 - 1 or -1 for "none".
 */
export function commitPositionOf(position: Position | undefined): bigint | undefined {
  if (position === undefined) return undefined;
  const { commit } = position;
  return commit >= 0n && commit <= MAX_LOG_POSITION ? commit : undefined;
}

/** Orders two log addresses the way the server does: by commit, then by prepare offset. */
export function comparePositions(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

/**
 * How many events to ask $all for when `remaining` more are wanted. One extra covers the
 * event a page starts on (reads from a position include it); a floor keeps pages useful when
 * system events and client-side filtering thin them out; a ceiling bounds memory.
 */
export function readAllPageSize(remaining: number): number {
  return Math.min(READ_ALL_MAX_PAGE, Math.max(READ_ALL_MIN_PAGE, remaining + 1));
}

const READ_ALL_MIN_PAGE = 32;
const READ_ALL_MAX_PAGE = 1000;

/** `after` as the port accepts it: absent, `-1n` (an empty log's head) or a position. */
export function assertAfter(after: unknown): asserts after is bigint | undefined {
  if (after === undefined) return;
  if (typeof after !== 'bigint' || after < -1n) {
    throw new TypeError(`after must be a bigint >= -1n, got ${describe(after)}`);
  }
}

/** An optional count: a non-negative safe integer. */
export function assertMaxCount(maxCount: unknown): asserts maxCount is number | undefined {
  if (maxCount === undefined) return;
  if (typeof maxCount !== 'number' || !Number.isSafeInteger(maxCount) || maxCount < 0) {
    throw new TypeError(`maxCount must be an integer >= 0, got ${describe(maxCount)}`);
  }
}

// ---------------------------------------------------------------------------------------
// System events and filters

/**
 * EventStoreDB keeps its own records in $all: statistics, projections' bookkeeping, stream
 * metadata (streams named `$$...`), link events (`$>`) and tombstones (`$streamDeleted`).
 * All of them have a type or a stream name starting with `$`; Touchline's never do.
 */
export function isSystemEvent(event: {
  readonly type: string;
  readonly streamId: string;
}): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

/** Escapes every character that has a meaning in .NET or JavaScript regular expressions. */
export function escapeRegex(literal: string): string {
  return literal.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** A pattern that no string matches: what an empty list of names or prefixes asks for. */
const MATCHES_NOTHING = '^(?!)';

/**
 * A regex (valid for the server's .NET engine) matching exactly one of `names`. The client's
 * `prefixes` option would also let `CampaignLaunchedV2` through a filter on
 * `CampaignLaunched`, hence anchors on both ends.
 */
export function exactNamesRegex(names: readonly string[]): string {
  if (names.length === 0) return MATCHES_NOTHING;
  return `^(?:${names.map(escapeRegex).join('|')})$`;
}

/**
 * The filter the server applies to a subscription. It can filter on one field only: event
 * types when the caller names them (the more selective), else stream prefixes, else it just
 * keeps system events out. The adapter re-checks every event with the port's `matchesFilter`
 * and `isSystemEvent`, so the server filter only saves traffic; it never decides alone.
 */
export function serverFilterFor(filter: EventFilter | undefined): Filter {
  if (filter?.eventTypes !== undefined) {
    return eventTypeFilter({ regex: exactNamesRegex(filter.eventTypes) });
  }
  if (filter?.streamPrefixes !== undefined) {
    return filter.streamPrefixes.length === 0
      ? streamNameFilter({ regex: MATCHES_NOTHING })
      : streamNameFilter({ prefixes: [...filter.streamPrefixes] });
  }
  return excludeSystemEvents();
}

/** A filter whose lists hold strings only; anything else is a caller's mistake. */
export function assertEventFilter(filter: unknown): asserts filter is EventFilter | undefined {
  if (filter === undefined) return;
  if (typeof filter !== 'object' || filter === null) {
    throw new TypeError(`filter must be an object, got ${describe(filter)}`);
  }
  for (const key of ['eventTypes', 'streamPrefixes'] as const) {
    const list: unknown = (filter as Record<string, unknown>)[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
      throw new TypeError(`filter.${key} must be an array of strings, got ${describe(list)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Resubscribing

export interface ResubscribeOptions {
  /** Wait before the first resubscription. */
  readonly initialDelayMs?: number;
  /** The wait doubles after each failed attempt up to this ceiling. */
  readonly maxDelayMs?: number;
  /** Consecutive failed attempts before the error reaches the consumer; 0 never retries. */
  readonly maxAttempts?: number;
}

export type ResubscribePolicy = Required<ResubscribeOptions>;

export const DEFAULT_RESUBSCRIBE_POLICY: ResubscribePolicy = {
  initialDelayMs: 250,
  maxDelayMs: 10_000,
  maxAttempts: 10,
};

export function resolveResubscribePolicy(options: ResubscribeOptions = {}): ResubscribePolicy {
  const policy = { ...DEFAULT_RESUBSCRIBE_POLICY, ...definedOnly(options) };
  for (const key of ['initialDelayMs', 'maxDelayMs', 'maxAttempts'] as const) {
    const value = policy[key];
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new TypeError(`resubscribe.${key} must be an integer >= 0, got ${describe(value)}`);
    }
  }
  if (policy.maxDelayMs < policy.initialDelayMs) {
    throw new TypeError(
      `resubscribe.maxDelayMs (${policy.maxDelayMs}) must not be below initialDelayMs (${policy.initialDelayMs})`,
    );
  }
  return policy;
}

/** Exponential backoff: the wait before resubscription attempt `attempt` (1-based). */
export function resubscribeDelayMs(attempt: number, policy: ResubscribePolicy): number {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be an integer >= 1, got ${describe(attempt)}`);
  }
  if (policy.initialDelayMs === 0) return 0;
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
}

/**
 * Whether resubscribing cannot help: the server refused us, or an event cannot be decoded
 * (it would fail again at the same position). Dropped connections, leader changes, timeouts
 * and unknown gRPC failures are all worth another attempt.
 */
export function isFatalSubscriptionError(error: unknown): boolean {
  return (
    error instanceof AccessDeniedError ||
    error instanceof InvalidArgumentError ||
    error instanceof UnsupportedError ||
    error instanceof NotFoundError ||
    error instanceof StreamDeletedError ||
    error instanceof EventDecodingError ||
    error instanceof UnknownSchemaVersionError ||
    error instanceof TypeError ||
    error instanceof RangeError
  );
}

// ---------------------------------------------------------------------------------------
// Events

/** What the adapter reads from the client's recorded events (JSON or binary). */
export interface EsdbRecordedEvent {
  readonly id: string;
  readonly streamId: string;
  readonly revision: bigint;
  readonly type: string;
  readonly created: Date;
  readonly isJson: boolean;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly position?: Position;
}

/** A stored event that is not the JSON object data and metadata Touchline writes. */
export class EventDecodingError extends Error {
  constructor(
    readonly eventId: string,
    readonly streamId: string,
    reason: string,
  ) {
    super(`cannot decode event ${eventId} in stream ${streamId}: ${reason}`);
    this.name = 'EventDecodingError';
  }
}

/**
 * A client event as the port's RecordedEvent, in its type's current shape (upcast; the
 * stored event keeps its own). The client has already parsed the JSON: it hands back the
 * raw string when the data is not valid JSON and the raw bytes when the metadata is not,
 * and both must be objects for Touchline.
 */
export function decodeRecordedEvent(event: EsdbRecordedEvent, position: bigint): RecordedEvent {
  const fail = (reason: string) => new EventDecodingError(event.id, event.streamId, reason);
  if (!event.isJson) throw fail('its content type is not application/json');
  if (!isJsonObject(event.data)) throw fail('its data is not a JSON object');
  if (!isJsonObject(event.metadata)) throw fail('its metadata is not a JSON object');
  return upcastEvent({
    eventId: event.id,
    type: event.type,
    data: event.data,
    metadata: event.metadata as EventMetadata,
    streamId: event.streamId,
    revision: event.revision,
    position,
    recordedAt: event.created,
  });
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value)
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** EventStoreDB stores event ids as GUIDs and rejects anything else. */
export function assertEventId(eventId: unknown): asserts eventId is string {
  if (typeof eventId !== 'string' || !UUID.test(eventId)) {
    throw new TypeError(`eventId must be a UUID, got ${describe(eventId)}`);
  }
}

/** Stream ids starting with `$` belong to the server; `readAll` would never return them. */
export function assertStreamId(streamId: unknown): asserts streamId is string {
  if (typeof streamId !== 'string' || streamId.length === 0 || streamId.startsWith('$')) {
    throw new TypeError(
      `stream id must be a non-empty string not starting with "$", got ${describe(streamId)}`,
    );
  }
}

/** A batch the server can store and Touchline can read back. */
export function assertEventsToAppend(events: unknown): asserts events is readonly EventToAppend[] {
  if (!Array.isArray(events)) {
    throw new TypeError(`events must be an array, got ${describe(events)}`);
  }
  const seen = new Set<string>();
  events.forEach((event: Partial<EventToAppend>, index) => {
    const where = `events[${index}]`;
    assertEventId(event.eventId);
    if (seen.has(event.eventId.toLowerCase())) {
      throw new TypeError(`${where} repeats event id ${event.eventId} within one append`);
    }
    seen.add(event.eventId.toLowerCase());
    if (typeof event.type !== 'string' || event.type.length === 0 || event.type.startsWith('$')) {
      throw new TypeError(
        `${where}.type must be a non-empty string not starting with "$", got ${describe(event.type)}`,
      );
    }
    for (const field of ['data', 'metadata'] as const) {
      const value = event[field];
      if (!isJsonObject(value)) {
        throw new TypeError(`${where}.${field} must be an object, got ${describe(value)}`);
      }
      assertJson(value, `${where}.${field}`);
    }
  });
}

/** The client serialises with JSON.stringify; its failures (bigint, cycles) surface here first. */
function assertJson(value: object, what: string): void {
  try {
    JSON.stringify(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TypeError(`${what} is not JSON: ${reason}`, { cause: error });
  }
}

// ---------------------------------------------------------------------------------------

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}
