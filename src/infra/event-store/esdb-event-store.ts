/**
 * The production adapter of the event store port: EventStoreDB / KurrentDB through
 * `@eventstore/db-client`. Streams map one to one; the port's log is `$all` without the
 * server's own events; the port's position is the commit offset of an event in `$all`
 * (see esdb-mapping.ts for why that is sound).
 */
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
} from '@eventstore/db-client';
import type {
  AllStreamRecordedEvent,
  AllStreamResolvedEvent,
  AllStreamSubscription,
  AppendResult as EsdbAppendResult,
  Position,
  ReadPosition,
} from '@eventstore/db-client';
import type { RecordedEvent } from '../../domain/shared/events';
import {
  DuplicateEventError,
  ExpectedRevision,
  WrongExpectedRevisionError,
  instantTime,
  matchesFilter,
} from './event-store';
import type {
  AppendResult,
  EventFilter,
  EventStore,
  EventSubscription,
  EventToAppend,
  ReadAllOptions,
  ReadStreamOptions,
  StreamWrite,
  SubscribeOptions,
} from './event-store';
import {
  assertAfter,
  assertEventFilter,
  assertEventsToAppend,
  assertMaxCount,
  assertRevision,
  assertStreamId,
  commitPositionOf,
  comparePositions,
  decodeRecordedEvent,
  explainRefusedAppend,
  fromEsdbCurrentRevision,
  isFatalSubscriptionError,
  isSystemEvent,
  matchStoredBatch,
  readAllPageSize,
  resolveResubscribePolicy,
  resubscribeDelayMs,
  revisionToCompare,
  satisfiesExpected,
  serverFilterFor,
  toEsdbExpectedRevision,
  toReadPosition,
} from './esdb-mapping';
import type { ResubscribeOptions, ResubscribePolicy, StoredEventRef } from './esdb-mapping';

export interface EsdbEventStoreOptions {
  /** `esdb://host:2113?tls=false` for a local insecure node, `esdb+discover://...` for a cluster. */
  readonly connectionString: string;
  readonly resubscribe?: ResubscribeOptions;
  /** How long `ping()` waits for an answer before reporting false. */
  readonly pingTimeoutMs?: number;
}

/** The part of the client the adapter calls; tests may hand in a fake. */
export type EsdbClient = Pick<
  EventStoreDBClient,
  'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'dispose'
>;

/** `RecordedEvent.position` of a stream read when the server (before 22.6) reports none. */
export const POSITION_NOT_REPORTED = -1n;

const DEFAULT_PING_TIMEOUT_MS = 5_000;
/** How often an `any` append re-reads a stream that other writers keep moving. */
const CHECKED_APPEND_ATTEMPTS = 5;
/** System events are frequent ($stats every 30 s); the head is found a page at a time. */
const HEAD_SEARCH_PAGE = 128;
/** A search back in time may cross many events; larger pages mean fewer round trips. */
const TIME_SEARCH_PAGE = 1000;

export class EsdbEventStore implements EventStore {
  readonly #client: EsdbClient;
  readonly #resubscribe: ResubscribePolicy;
  readonly #pingTimeoutMs: number;
  readonly #subscriptions = new Set<EsdbSubscription>();
  #closed = false;

  /** Builds the client; it connects lazily, on the first call. */
  static connect(options: EsdbEventStoreOptions): EsdbEventStore {
    const { connectionString } = options;
    if (typeof connectionString !== 'string' || connectionString.trim() === '') {
      throw new TypeError('connectionString must be a non-empty esdb:// connection string');
    }
    let client: EventStoreDBClient;
    try {
      client = EventStoreDBClient.connectionString(connectionString);
    } catch (error) {
      // The string may hold credentials: it stays in `cause`, out of the message.
      throw new TypeError(
        'invalid EventStoreDB connection string; expected esdb://host:2113?tls=false or esdb+discover://host1:2113,host2:2113',
        { cause: error },
      );
    }
    try {
      return new EsdbEventStore(client, options);
    } catch (error) {
      void client.dispose(); // nothing was opened yet; this only releases the client
      throw error;
    }
  }

  constructor(client: EsdbClient, options: Omit<EsdbEventStoreOptions, 'connectionString'> = {}) {
    const pingTimeoutMs = options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
    if (!Number.isSafeInteger(pingTimeoutMs) || pingTimeoutMs <= 0) {
      throw new TypeError(`pingTimeoutMs must be an integer > 0, got ${String(pingTimeoutMs)}`);
    }
    this.#client = client;
    this.#resubscribe = resolveResubscribePolicy(options.resubscribe);
    this.#pingTimeoutMs = pingTimeoutMs;
  }

  /**
   * `exact` and `no_stream` go straight to the server, whose id check covers their retries
   * durably (see esdb-mapping.ts). `any` and `stream_exists` get the server's check only
   * while the ids sit in its cache, so the adapter checks them against the stream itself
   * and then appends at the revision it read: nothing can slip in between.
   */
  async append(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    this.#assertOpen();
    assertWrite({ streamId, events, expected });
    return this.#appendChecked(streamId, events, expected);
  }

  /**
   * EventStoreDB has no transaction across streams, so the writes go one after another, in
   * order, each with `append`'s idempotency: when one fails, the earlier ones stay stored,
   * the later ones are not tried, and a retry of the whole call stores only what is missing.
   * Consecutive writes to one stream are not merged into one append: a merged batch would
   * no longer be recognised as the retry of writes that were stored separately.
   */
  async appendMany(writes: readonly StreamWrite[]): Promise<AppendResult[]> {
    this.#assertOpen();
    if (!Array.isArray(writes)) throw new TypeError('appendMany: writes must be an array');
    // Every write is checked before the first one is sent: a malformed call stores nothing.
    writes.forEach((write, index) => {
      if (typeof write !== 'object' || write === null) {
        throw new TypeError(`appendMany: write #${index} must be an object`);
      }
      assertWrite(write);
    });
    const results: AppendResult[] = [];
    for (const { streamId, events, expected } of writes) {
      results.push(await this.#appendChecked(streamId, events, expected));
    }
    return results;
  }

  async #appendChecked(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    if (events.length === 0) return this.#appendNothing(streamId, expected);
    if (expected.kind === 'exact' || expected.kind === 'no_stream') {
      return this.#appendAt(streamId, events, expected);
    }
    return this.#appendCheckingIds(streamId, events, expected);
  }

  async #appendAt(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    const proposed = events.map((event) =>
      jsonEvent({
        id: event.eventId,
        type: event.type,
        data: event.data as Record<string, unknown>,
        metadata: event.metadata,
      }),
    );
    let result: EsdbAppendResult;
    try {
      result = await this.#client.appendToStream(streamId, proposed, {
        expectedRevision: toEsdbExpectedRevision(expected),
      });
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      const actual = fromEsdbCurrentRevision(error.actualVersion);
      throw await this.#explainRefusal(streamId, events, expected, actual);
    }
    // Only when `throwOnAppendFailure=false` is in the connection string; the revision the
    // client then reports is unreliable, so the stream is asked.
    if (!result.success) {
      const actual = await this.#lastRevision(streamId);
      throw await this.#explainRefusal(streamId, events, expected, actual);
    }

    const nextRevision = result.nextExpectedRevision;
    // Idempotent retries on older servers come back without a position.
    const position =
      commitPositionOf(result.position) ?? (await this.#positionOfRevision(streamId, nextRevision));
    return { nextRevision, position };
  }

  async #appendCheckingIds(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    for (let attempt = 1; ; attempt += 1) {
      const stored = await this.#storedRefs(streamId);
      const match = matchStoredBatch(
        stored,
        events.map((event) => event.eventId),
      );
      if (match.kind === 'duplicate') throw new DuplicateEventError(match.eventId);
      if (match.kind === 'retry') {
        const { revision, position } = match.last;
        return {
          nextRevision: revision,
          position: position ?? (await this.#positionOfRevision(streamId, revision)),
        };
      }
      const current = stored[stored.length - 1]?.revision ?? -1n;
      if (!satisfiesExpected(expected, current)) {
        throw new WrongExpectedRevisionError(streamId, expected, current);
      }
      try {
        return await this.#appendAt(streamId, events, atRevision(current));
      } catch (error) {
        // Another writer appended between our read and our write: read again.
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (attempt >= CHECKED_APPEND_ATTEMPTS) {
          throw new WrongExpectedRevisionError(streamId, expected, error.actual);
        }
      }
    }
  }

  /** An empty batch writes nothing; it still answers whether the expectation holds. */
  async #appendNothing(streamId: string, expected: ExpectedRevision): Promise<AppendResult> {
    const current = await this.#lastRevision(streamId);
    if (!satisfiesExpected(expected, current)) {
      throw new WrongExpectedRevisionError(streamId, expected, current);
    }
    return { nextRevision: current, position: await this.headPosition() };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.#assertOpen();
    assertStreamId(streamId);
    const { fromRevision, maxCount } = options;
    if (fromRevision !== undefined) assertRevision(fromRevision, 'fromRevision');
    assertMaxCount(maxCount);
    if (maxCount === 0) return [];

    try {
      const resolved = await collect(
        this.#client.readStream(streamId, { fromRevision, maxCount, direction: FORWARDS }),
      );
      return resolved.flatMap(({ event }) =>
        event
          ? [decodeRecordedEvent(event, commitPositionOf(event.position) ?? POSITION_NOT_REPORTED)]
          : [],
      );
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
  }

  /**
   * The client (6.x) cannot filter a read of $all on the server, so this reads pages and
   * filters here, until `maxCount` events passed or the log ends.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.#assertOpen();
    const { after, maxCount, filter } = options;
    assertAfter(after);
    assertMaxCount(maxCount);
    assertEventFilter(filter);
    const wanted = maxCount ?? Number.POSITIVE_INFINITY;

    const events: RecordedEvent[] = [];
    let from: ReadPosition = toReadPosition(after);
    let lastSeen: Position | undefined;
    while (events.length < wanted) {
      const pageSize = readAllPageSize(wanted - events.length);
      const page = await collect(
        this.#client.readAll({ fromPosition: from, maxCount: pageSize, direction: FORWARDS }),
      );
      for (const { event } of page) {
        if (!event) continue;
        // A read includes the event at its start position: the previous page's last one.
        if (lastSeen && comparePositions(event.position, lastSeen) <= 0) continue;
        lastSeen = event.position;
        // ... or the event at `after` itself, which the port excludes.
        if (after !== undefined && event.position.commit <= after) continue;
        if (!isTouchlineEvent(event, filter)) continue;
        events.push(decodeRecordedEvent(event, event.position.commit));
        if (events.length >= wanted) break;
      }
      if (page.length < pageSize || !lastSeen) break;
      from = lastSeen;
    }
    return events;
  }

  subscribe(options: SubscribeOptions = {}): EventSubscription {
    this.#assertOpen();
    const { after, filter } = options;
    assertAfter(after);
    assertEventFilter(filter);
    const serverFilter = serverFilterFor(filter);
    const subscription = new EsdbSubscription({
      open: (fromPosition) => this.#client.subscribeToAll({ fromPosition, filter: serverFilter }),
      after,
      filter,
      policy: this.#resubscribe,
      onClosed: (closed) => this.#subscriptions.delete(closed),
    });
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<bigint> {
    this.#assertOpen();
    return this.#lastPositionWhere(() => true, HEAD_SEARCH_PAGE);
  }

  /**
   * The server keeps no index by time, so this reads $all backwards from the end until an
   * event created at or before `instant`: the cost grows with the events recorded since.
   * Reading backwards makes it the last such event whatever order the server's clock took.
   */
  async positionAt(instant: Date): Promise<bigint> {
    this.#assertOpen();
    const time = instantTime(instant);
    return this.#lastPositionWhere((event) => event.created.getTime() <= time, TIME_SEARCH_PAGE);
  }

  /** The position of the newest Touchline event that `accepts`, read backwards from the end. */
  async #lastPositionWhere(
    accepts: (event: AllStreamRecordedEvent) => boolean,
    pageSize: number,
  ): Promise<bigint> {
    let from: ReadPosition = END;
    let lastSeen: Position | undefined;
    for (;;) {
      const page = await collect(
        this.#client.readAll({ fromPosition: from, maxCount: pageSize, direction: BACKWARDS }),
      );
      for (const { event } of page) {
        if (!event) continue;
        // Backward reads exclude their start; the check keeps that true whatever the server.
        if (lastSeen && comparePositions(event.position, lastSeen) >= 0) continue;
        lastSeen = event.position;
        if (!isSystemEvent(event) && accepts(event)) return event.position.commit;
      }
      if (page.length < pageSize || !lastSeen) return -1n;
      from = lastSeen;
    }
  }

  async ping(): Promise<boolean> {
    if (this.#closed) return false;
    const read = this.#client.readAll({ fromPosition: END, maxCount: 1, direction: BACKWARDS });
    const timeout = new AbortController();
    const answered = collect(read).then(
      () => true,
      () => false,
    );
    const timedOut = pause(this.#pingTimeoutMs, timeout.signal).then(() => false);
    const healthy = await Promise.race([answered, timedOut]);
    timeout.abort();
    if (!healthy) await cancelQuietly(read);
    return healthy;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close()));
    await this.#client.dispose();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('the EventStoreDB event store is closed');
  }

  async #explainRefusal(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
    actual: bigint | undefined,
  ): Promise<Error> {
    const revision = revisionToCompare(expected, actual);
    const storedId =
      revision === undefined ? undefined : (await this.#eventAt(streamId, revision))?.id;
    return explainRefusedAppend(streamId, expected, actual, events[0].eventId, storedId);
  }

  async #eventAt(streamId: string, revision: bigint) {
    try {
      const [resolved] = await collect(
        this.#client.readStream(streamId, { fromRevision: revision, maxCount: 1 }),
      );
      return resolved?.event;
    } catch (error) {
      if (error instanceof StreamNotFoundError) return undefined;
      throw error;
    }
  }

  async #storedRefs(streamId: string): Promise<StoredEventRef[]> {
    try {
      const resolved = await collect(this.#client.readStream(streamId, { direction: FORWARDS }));
      return resolved.flatMap(({ event }) =>
        event
          ? [
              {
                eventId: event.id,
                revision: event.revision,
                position: commitPositionOf(event.position),
              },
            ]
          : [],
      );
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
  }

  async #lastRevision(streamId: string): Promise<bigint> {
    try {
      const [resolved] = await collect(
        this.#client.readStream(streamId, { fromRevision: END, maxCount: 1, direction: BACKWARDS }),
      );
      return resolved?.event?.revision ?? -1n;
    } catch (error) {
      if (error instanceof StreamNotFoundError) return -1n;
      throw error;
    }
  }

  async #positionOfRevision(streamId: string, revision: bigint): Promise<bigint> {
    const position = commitPositionOf((await this.#eventAt(streamId, revision))?.position);
    if (position === undefined) {
      throw new Error(
        `EventStoreDB reported no log position for ${streamId}@${revision}; Touchline needs EventStoreDB 22.10 or later`,
      );
    }
    return position;
  }
}

/** Checks one write before anything is read or written. */
function assertWrite({ streamId, events, expected }: StreamWrite): void {
  assertStreamId(streamId);
  assertEventsToAppend(events);
  toEsdbExpectedRevision(expected);
}

/** The expectation that appends right after the revision just read. */
function atRevision(current: bigint): ExpectedRevision {
  return current < 0n ? ExpectedRevision.noStream : ExpectedRevision.exact(current);
}

/** Not one of the server's own events, and passing the caller's filter. */
function isTouchlineEvent(event: AllStreamRecordedEvent, filter: EventFilter | undefined): boolean {
  return !isSystemEvent(event) && matchesFilter(event, filter);
}

async function collect<T>(read: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of read) items.push(item);
  return items;
}

/** Cancels a read we stopped waiting for; one whose call never started has nothing to cancel. */
async function cancelQuietly(read: { cancel(): Promise<void> }): Promise<void> {
  try {
    await read.cancel();
  } catch {
    // The read's own failure was already observed (and reported) by whoever awaited it.
  }
}

/** Resolves after `ms`, or at once when `signal` aborts; the timer never outlives either. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

// ---------------------------------------------------------------------------------------
// Subscriptions

interface SubscriptionSource {
  /** Opens a catch-up subscription to $all that starts after `fromPosition` (exclusive). */
  readonly open: (fromPosition: ReadPosition) => AllStreamSubscription;
  readonly after: bigint | undefined;
  readonly filter: EventFilter | undefined;
  readonly policy: ResubscribePolicy;
  readonly onClosed: (subscription: EsdbSubscription) => void;
}

/** The server ended a subscription that should run until closed. */
export class SubscriptionEndedError extends Error {
  constructor() {
    super('EventStoreDB ended the subscription to $all');
    this.name = 'SubscriptionEndedError';
  }
}

const CLOSED = Symbol('closed');

/**
 * A catch-up subscription to $all that survives dropped connections. It remembers the
 * position of the last event it delivered and resubscribes from there with exponential
 * backoff. `subscribeToAll` starts strictly after the given position (catch-up subscriptions
 * are exclusive, unlike reads and persistent subscriptions), and every event at or before
 * the last delivered one is dropped here as well: nothing is delivered twice or skipped.
 * Events are pulled one at a time through the client stream's async iterator, so a slow
 * consumer holds the gRPC stream back instead of buffering the log in memory.
 *
 * Filtered subscriptions also send checkpoints; they are not used to move the resume
 * position (a checkpoint is not a delivered event), and no callback is registered for them.
 */
class EsdbSubscription implements EventSubscription {
  readonly #source: SubscriptionSource;
  readonly #closing = new AbortController();
  readonly #closedSignal: Promise<typeof CLOSED>;
  #current: AllStreamSubscription | undefined;
  #iterated = false;

  constructor(source: SubscriptionSource) {
    this.#source = source;
    this.#closedSignal = new Promise((resolve) =>
      this.#closing.signal.addEventListener('abort', () => resolve(CLOSED), { once: true }),
    );
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    if (this.#iterated) throw new Error('an EventStoreDB subscription can be iterated only once');
    this.#iterated = true;
    return this.#deliver();
  }

  async close(): Promise<void> {
    this.#closing.abort();
    await this.#drop(this.#current);
    this.#source.onClosed(this);
  }

  get #closed(): boolean {
    return this.#closing.signal.aborted;
  }

  async *#deliver(): AsyncGenerator<RecordedEvent, void, undefined> {
    const { open, filter, policy } = this.#source;
    let lastDelivered = this.#source.after;
    let failedAttempts = 0;
    try {
      while (!this.#closed) {
        let subscription: AllStreamSubscription | undefined;
        let failure: unknown;
        try {
          subscription = open(toReadPosition(lastDelivered));
          this.#current = subscription;
          // Confirmed by the server: the attempt worked, only consecutive failures count.
          subscription.once('confirmation', () => {
            failedAttempts = 0;
          });
          const received = subscription[Symbol.asyncIterator]();
          for (;;) {
            const next = await this.#unlessClosed(received.next());
            if (next === CLOSED) return;
            if (next.done) throw new SubscriptionEndedError();
            const { event } = next.value as AllStreamResolvedEvent;
            if (!event) continue;
            const position = event.position.commit;
            if (lastDelivered !== undefined && position <= lastDelivered) continue;
            if (!isTouchlineEvent(event, filter)) continue;
            const recorded = decodeRecordedEvent(event, position);
            lastDelivered = position;
            yield recorded;
          }
        } catch (error) {
          failure = error;
        } finally {
          await this.#drop(subscription);
        }

        if (this.#closed) return;
        failedAttempts += 1;
        if (isFatalSubscriptionError(failure) || failedAttempts > policy.maxAttempts) {
          throw failure;
        }
        await pause(resubscribeDelayMs(failedAttempts, policy), this.#closing.signal);
      }
    } finally {
      // Ended by the consumer, by close() or by a surfaced error: nothing more will come.
      this.#closing.abort();
      this.#source.onClosed(this);
    }
  }

  #unlessClosed<T>(promise: Promise<T>): Promise<T | typeof CLOSED> {
    return Promise.race([promise, this.#closedSignal]);
  }

  async #drop(subscription: AllStreamSubscription | undefined): Promise<void> {
    if (!subscription) return;
    if (this.#current === subscription) this.#current = undefined;
    // The gRPC call may still report its end after we stopped listening; nobody needs it.
    subscription.on('error', ignoreLateError);
    subscription.destroy();
    await cancelSubscriptionQuietly(subscription);
  }
}

function ignoreLateError(): void {
  // See EsdbSubscription.#drop: errors of an abandoned subscription have no reader.
}

async function cancelSubscriptionQuietly(subscription: AllStreamSubscription): Promise<void> {
  await cancelQuietly({ cancel: () => subscription.unsubscribe() });
}
