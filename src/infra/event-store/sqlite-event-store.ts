/**
 * The embedded event store: one SQLite file (better-sqlite3, WAL) holding the whole log in
 * one `events` table. Positions are the table's AUTOINCREMENT rowid, so they start at 1 and
 * strictly increase in commit order: appends take the write lock (`BEGIN IMMEDIATE`), so
 * only one writer — in this process or another one sharing the file — commits at a time.
 *
 * Record times (`recorded_at`, ms) never decrease along positions: a commit is stamped with
 * the later of the clock and the newest stamp in the file, so a clock stepped back (NTP, a
 * writer on another machine's clock) cannot break the order `positionAt` searches by. Files
 * written before that rule may hold such a step back; `positionAt` then answers a position
 * next to the step, not necessarily the last one at or before the instant.
 *
 * Events are handed out in their type's current shape (upcast on read); rows keep the shape
 * and `schemaVersion` they were written with.
 */
import Database from 'better-sqlite3';
import { upcastEvent } from '../../domain/event-schemas';
import type { RecordedEvent } from '../../domain/shared/events';
import {
  DuplicateEventError,
  instantTime,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventFilter,
  type EventStore,
  type EventSubscription,
  type EventToAppend,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type StreamWrite,
  type SubscribeOptions,
} from './event-store';

export interface SqliteEventStoreOptions {
  /** File of the log, or `':memory:'` for a private throw-away log (tests). */
  readonly path: string;
  /** How often a waiting subscription looks for events appended by other processes. */
  readonly pollIntervalMs?: number;
  /** How long a write waits for another connection's write lock before failing. */
  readonly busyTimeoutMs?: number;
  /**
   * In WAL mode NORMAL survives a crash of the process but may lose the last committed
   * transactions on power loss or an OS crash; FULL syncs the WAL on every commit and
   * survives those too. The log is the source of truth and a lost append would be an
   * acknowledged command that silently vanished, so FULL is the default; NORMAL is for
   * throw-away logs (tests, benchmarks) where speed matters more.
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** Events a subscription reads per query while catching up. */
  readonly subscriptionPageSize?: number;
}

const DEFAULT_POLL_INTERVAL_MS = 50;
/** How often a store with waiting subscriptions asks whether another connection committed. */
const CHANGE_CHECK_MS = 5;
const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
const DEFAULT_SUBSCRIPTION_PAGE_SIZE = 500;
/** Bumped when the table layout changes; a file written by another layout is refused. */
const SCHEMA_VERSION = 1n;
const LAST_POSSIBLE_POSITION = 0x7fff_ffff_ffff_ffffn;
/** SQLite reads `LIMIT -1` as "no limit". */
const NO_LIMIT = -1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id   TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    event_id    TEXT    NOT NULL UNIQUE,
    type        TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    metadata    TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL,
    UNIQUE (stream_id, revision)
  ) STRICT;
  CREATE INDEX IF NOT EXISTS events_by_type ON events (type, position);
`;

/** From this many writes in one call, stored ids and stream heads are looked up in bulk. */
const BULK_LOOKUP_THRESHOLD = 16;

interface BulkLookup {
  /** First event ids of the call already in the log (grows as the call inserts). */
  readonly stored: Set<string>;
  /** Current revision per stream of the call (moves as the call inserts). */
  readonly heads: Map<string, bigint>;
}

const EVENT_COLUMNS = 'position, stream_id, revision, event_id, type, data, metadata, recorded_at';

/** A row as better-sqlite3 returns it with safe integers on: every INTEGER is a bigint. */
interface EventRow {
  readonly position: bigint;
  readonly stream_id: string;
  readonly revision: bigint;
  readonly event_id: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
  readonly recorded_at: bigint;
}

interface StoredEventRef {
  readonly event_id: string;
  readonly stream_id: string;
  readonly revision: bigint;
  readonly position: bigint;
}

/** An append that has been checked and serialised, ready to write. */
interface PreparedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

/** One stream's part of an append, checked and serialised. */
interface PreparedWrite {
  readonly streamId: string;
  readonly events: readonly PreparedEvent[];
  readonly expected: ExpectedRevision;
}

/** What an append answers, and whether it wrote anything (a retry or an empty batch does not). */
interface AppendOutcome {
  readonly result: AppendResult;
  readonly written: boolean;
}

/** One page of the log for a subscription, and how far the scan got. */
interface LogPage {
  readonly events: RecordedEvent[];
  /** Every matching event up to this position is in `events`: the next scan starts after it. */
  readonly scannedTo: bigint;
}

/** What a subscription needs from the store; kept narrow so it can be reasoned about alone. */
interface LogSource {
  readPage(after: bigint, filter: EventFilter | undefined, limit: number): LogPage;
  /** Calls `listener` once after the next append through this instance; returns an undo. */
  onNextAppend(listener: () => void): () => void;
  forget(subscription: PollingSubscription): void;
}

export class SqliteEventStore implements EventStore {
  private readonly subscriptions = new Set<PollingSubscription>();
  private readonly appendListeners = new Set<() => void>();
  /** Filtered reads vary in shape (how many types and prefixes); one statement per shape. */
  private readonly filteredReads = new Map<string, Database.Statement<unknown[], EventRow>>();
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly appendTransaction: Database.Transaction<
    (writes: readonly PreparedWrite[]) => AppendOutcome[]
  >;
  private isClosed = false;
  private changeWatch: NodeJS.Timeout | undefined;

  private constructor(
    private readonly db: Database.Database,
    private readonly pollIntervalMs: number,
    private readonly subscriptionPageSize: number,
  ) {
    this.statements = prepareStatements(db);
    this.appendTransaction = db.transaction((writes) => {
      // One record time for the whole commit: these events became durable together. Never
      // before the newest stamp, read under the write lock (see the top of this file).
      const recordedAt = Math.max(Date.now(), Number(this.statements.lastRecordedAt.get() ?? 0n));
      const known = writes.length >= BULK_LOOKUP_THRESHOLD ? this.lookUpInBulk(writes) : undefined;
      return writes.map((write) => this.appendInTransaction(write, recordedAt, known));
    });
  }

  static open(options: SqliteEventStoreOptions): SqliteEventStore {
    const settings = validateOptions(options);
    const db = new Database(settings.path, { timeout: settings.busyTimeoutMs });
    try {
      db.defaultSafeIntegers(true);
      // WAL lets subscriptions and other processes read while one writer appends.
      const journalMode = db.pragma('journal_mode = WAL', { simple: true });
      if (journalMode !== 'wal' && settings.path !== ':memory:') {
        throw new Error(
          `SQLite refused WAL mode for ${settings.path} (got ${String(journalMode)})`,
        );
      }
      db.pragma(`synchronous = ${settings.synchronous}`);
      createSchema(db);
      return new SqliteEventStore(db, settings.pollIntervalMs, settings.subscriptionPageSize);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  async append(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    this.assertOpen();
    const [result] = this.commit([prepareWrite({ streamId, events, expected }, 'append')]);
    return result as AppendResult;
  }

  async appendMany(writes: readonly StreamWrite[]): Promise<AppendResult[]> {
    this.assertOpen();
    if (!Array.isArray(writes)) throw new TypeError('appendMany: writes must be an array');
    // Every write is checked before the transaction starts: a malformed one stores nothing.
    const prepared = writes.map((write, index) =>
      prepareWrite(write, `appendMany: write #${index}`),
    );
    if (prepared.length === 0) return [];
    return this.commit(prepared);
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    assertStreamId(streamId);
    const fromRevision = options.fromRevision ?? 0n;
    assertBigInt(fromRevision, 'fromRevision', 0n);
    const limit = toLimit(options.maxCount);
    return this.statements.readStream.all(streamId, fromRevision, limit).map(toRecordedEvent);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const after = options.after ?? 0n;
    assertBigInt(after, 'after');
    assertFilter(options.filter);
    return this.selectEvents(
      after,
      LAST_POSSIBLE_POSITION,
      options.filter,
      toLimit(options.maxCount),
    );
  }

  subscribe(options: SubscribeOptions = {}): EventSubscription {
    this.assertOpen();
    const after = options.after ?? 0n;
    assertBigInt(after, 'after');
    assertFilter(options.filter);
    const source: LogSource = {
      readPage: (from, filter, limit) => this.readPage(from, filter, limit),
      onNextAppend: (listener) => {
        this.appendListeners.add(listener);
        this.watchOtherConnections();
        return () => this.appendListeners.delete(listener);
      },
      forget: (subscription) => this.subscriptions.delete(subscription),
    };
    const subscription = new PollingSubscription(source, {
      after,
      filter: options.filter,
      pageSize: this.subscriptionPageSize,
      pollIntervalMs: this.pollIntervalMs,
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<bigint> {
    this.assertOpen();
    return this.currentHead() ?? -1n;
  }

  /**
   * A binary search over positions, each probe one primary-key seek: record times never
   * decrease along positions (see the top of this file), so no time index is needed.
   */
  async positionAt(instant: Date): Promise<bigint> {
    this.assertOpen();
    const time = BigInt(instantTime(instant));
    const first = this.statements.firstFrom.get(0n);
    const head = this.currentHead();
    if (!first || head === undefined || first.recorded_at > time) return -1n;
    // The answer is `known` or a position between it and `beyond`; none from `beyond` on is.
    let known = first.position;
    let beyond = head + 1n;
    while (beyond - known > 1n) {
      const middle = known + (beyond - known) / 2n;
      const probe = this.statements.firstFrom.get(middle);
      if (!probe || probe.position >= beyond) beyond = middle;
      else if (probe.recorded_at <= time) known = probe.position;
      else beyond = probe.position;
    }
    return known;
  }

  async ping(): Promise<boolean> {
    if (this.isClosed) return false;
    return this.statements.ping.get() === 1n;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.changeWatch);
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    this.db.close();
  }

  /**
   * Applies the writes in one transaction, all or nothing. IMMEDIATE takes the write lock
   * before any stream's revision is read, so a writer in another process cannot slip in
   * between a check and its insert.
   */
  private commit(writes: readonly PreparedWrite[]): AppendResult[] {
    const outcomes = this.appendTransaction.immediate(writes);
    if (outcomes.some((outcome) => outcome.written)) {
      this.notifyAppend();
    }
    return outcomes.map((outcome) => outcome.result);
  }

  /**
   * For a large call (tracking ingestion: hundreds of single-event writes), which first
   * event ids are stored already and each stream's head, in two queries instead of two a
   * write. Read inside the transaction, so nothing can change them before the inserts.
   */
  private lookUpInBulk(writes: readonly PreparedWrite[]): BulkLookup {
    const firstIds = writes.flatMap((write) => (write.events[0] ? [write.events[0].eventId] : []));
    const streams = [...new Set(writes.map((write) => write.streamId))];
    const stored = new Set(this.statements.storedEventIds.all(JSON.stringify(firstIds)));
    const heads = new Map<string, bigint>();
    for (const row of this.statements.streamHeads.all(JSON.stringify(streams))) {
      heads.set(row.stream_id, row.head);
    }
    return { stored, heads };
  }

  private appendInTransaction(
    { streamId, events, expected }: PreparedWrite,
    recordedAt: number,
    known?: BulkLookup,
  ): AppendOutcome {
    const first = events[0];
    const maybeRetry = !known || (first !== undefined && known.stored.has(first.eventId));
    const retried = maybeRetry ? this.findRetriedAppend(streamId, events) : undefined;
    if (retried) return { result: retried, written: false };

    const current = known
      ? (known.heads.get(streamId) ?? -1n)
      : (this.statements.streamRevision.get(streamId) ?? -1n);
    if (!satisfies(expected, current)) {
      throw new WrongExpectedRevisionError(streamId, expected, current);
    }
    if (events.length === 0) {
      return {
        result: { nextRevision: current, position: this.currentHead() ?? -1n },
        written: false,
      };
    }

    let revision = current;
    let position = 0n;
    for (const event of events) {
      revision += 1n;
      position = this.insertEvent(streamId, revision, event, recordedAt);
      known?.stored.add(event.eventId);
    }
    known?.heads.set(streamId, revision);
    return { result: { nextRevision: revision, position }, written: true };
  }

  /**
   * A retry stores nothing and answers what the first attempt answered. It is recognised
   * by its first event id; every other id must then sit right behind it in the same stream,
   * otherwise the batch overlaps another append and is refused.
   */
  private findRetriedAppend(
    streamId: string,
    events: readonly PreparedEvent[],
  ): AppendResult | undefined {
    const first = events[0];
    if (!first) return undefined;
    const original = this.statements.findEvent.get(first.eventId);
    if (!original) return undefined;
    if (original.stream_id !== streamId) throw new DuplicateEventError(first.eventId);

    const stored = this.statements.streamSlice.all(streamId, original.revision, events.length);
    events.forEach((event, index) => {
      if (stored[index]?.event_id !== event.eventId) throw new DuplicateEventError(first.eventId);
    });
    const last = stored[stored.length - 1] as StoredEventRef;
    return { nextRevision: last.revision, position: last.position };
  }

  private insertEvent(
    streamId: string,
    revision: bigint,
    event: PreparedEvent,
    recordedAt: number,
  ): bigint {
    try {
      const { lastInsertRowid } = this.statements.insert.run(
        streamId,
        revision,
        event.eventId,
        event.type,
        event.data,
        event.metadata,
        recordedAt,
      );
      return BigInt(lastInsertRowid);
    } catch (error) {
      // The stream and revision were checked under the write lock, so the only unique
      // key this insert can break is the event id: that event belongs to another append.
      if (isUniqueViolation(error, 'events.event_id')) throw new DuplicateEventError(event.eventId);
      throw error;
    }
  }

  private readPage(after: bigint, filter: EventFilter | undefined, limit: number): LogPage {
    // Reading the head first bounds the scan: every event up to it is committed (one
    // writer at a time, positions in commit order), so a filtered scan that comes back
    // short has seen everything up to the head and never rescans those rows again.
    const head = this.currentHead();
    if (head === undefined || head <= after) return { events: [], scannedTo: after };
    const events = this.selectEvents(after, head, filter, limit);
    const last = events[events.length - 1];
    return { events, scannedTo: events.length < limit || !last ? head : last.position };
  }

  private selectEvents(
    after: bigint,
    upTo: bigint,
    filter: EventFilter | undefined,
    limit: number,
  ): RecordedEvent[] {
    const condition = filterCondition(filter);
    let statement = this.filteredReads.get(condition.sql);
    if (!statement) {
      statement = this.db.prepare<unknown[], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events
         WHERE position > ? AND position <= ? AND ${condition.sql}
         ORDER BY position LIMIT ?`,
      );
      this.filteredReads.set(condition.sql, statement);
    }
    return statement.all(after, upTo, ...condition.params, limit).map(toRecordedEvent);
  }

  private currentHead(): bigint | undefined {
    return this.statements.head.get() ?? undefined;
  }

  /**
   * While a subscription waits, looks every few milliseconds whether another connection (a
   * thread or process sharing the file) has committed: `PRAGMA data_version` changes when
   * one has, and costs next to nothing to ask. Waiting subscriptions then read at once
   * instead of at their next poll.
   */
  private watchOtherConnections(): void {
    if (this.changeWatch || this.isClosed) return;
    let version = this.statements.dataVersion.get();
    this.changeWatch = setInterval(() => {
      if (this.appendListeners.size === 0 || this.isClosed) {
        clearInterval(this.changeWatch);
        this.changeWatch = undefined;
        return;
      }
      const current = this.statements.dataVersion.get();
      if (current === version) return;
      version = current;
      this.notifyAppend();
    }, CHANGE_CHECK_MS);
    this.changeWatch.unref();
  }

  private notifyAppend(): void {
    const listeners = [...this.appendListeners];
    this.appendListeners.clear();
    for (const listener of listeners) listener();
  }

  private assertOpen(): void {
    if (this.isClosed) throw new Error('the SQLite event store is closed');
  }
}

/**
 * A catch-up subscription that reads a page only when the consumer pulls and the previous
 * page is used up; when it has caught up it waits for an append through this store or for
 * the poll interval (appends by other processes on the same file), whichever comes first.
 */
class PollingSubscription implements EventSubscription, AsyncIterator<RecordedEvent> {
  private after: bigint;
  private page: RecordedEvent[] = [];
  private pageIndex = 0;
  private closed = false;
  private stopWaiting: (() => void) | undefined;
  /** `next()` calls run one after another so two pulls never read the same page. */
  private pulls: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly source: LogSource,
    private readonly options: {
      readonly after: bigint;
      readonly filter: EventFilter | undefined;
      readonly pageSize: number;
      readonly pollIntervalMs: number;
    },
  ) {
    this.after = options.after;
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return this;
  }

  next(): Promise<IteratorResult<RecordedEvent>> {
    const result = this.pulls.then(() => this.pull());
    this.pulls = result.catch(() => undefined);
    return result;
  }

  /** Called by `for await` on `break`, `return` or a throw in the loop body. */
  async return(): Promise<IteratorResult<RecordedEvent>> {
    await this.close();
    return { done: true, value: undefined };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.page = [];
    this.stopWaiting?.();
    this.source.forget(this);
  }

  private async pull(): Promise<IteratorResult<RecordedEvent>> {
    while (!this.closed) {
      const event = this.page[this.pageIndex];
      if (event) {
        this.pageIndex += 1;
        return { done: false, value: event };
      }
      const { events, scannedTo } = this.source.readPage(
        this.after,
        this.options.filter,
        this.options.pageSize,
      );
      this.page = events;
      this.pageIndex = 0;
      this.after = scannedTo;
      if (events.length === 0) await this.waitForNews();
    }
    return { done: true, value: undefined };
  }

  private waitForNews(): Promise<void> {
    return new Promise((resolve) => {
      const stop = (): void => {
        clearTimeout(timer);
        stopListening();
        this.stopWaiting = undefined;
        resolve();
      };
      const timer = setTimeout(stop, this.options.pollIntervalMs);
      const stopListening = this.source.onNextAppend(stop);
      this.stopWaiting = stop;
    });
  }
}

function prepareStatements(db: Database.Database) {
  return {
    // Changes whenever another connection commits to the file; this one's own commits do not.
    dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
    insert: db.prepare<[string, bigint, string, string, string, string, number]>(
      `INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    findEvent: db.prepare<[string], StoredEventRef>(
      'SELECT event_id, stream_id, revision, position FROM events WHERE event_id = ?',
    ),
    streamSlice: db.prepare<[string, bigint, number], StoredEventRef>(
      `SELECT event_id, stream_id, revision, position FROM events
       WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?`,
    ),
    streamRevision: db
      .prepare<[string], bigint | null>('SELECT MAX(revision) FROM events WHERE stream_id = ?')
      .pluck(),
    storedEventIds: db
      .prepare<
        [string],
        string
      >('SELECT event_id FROM events WHERE event_id IN (SELECT value FROM json_each(?))')
      .pluck(),
    streamHeads: db.prepare<[string], { stream_id: string; head: bigint }>(
      `SELECT stream_id, MAX(revision) AS head FROM events
       WHERE stream_id IN (SELECT value FROM json_each(?)) GROUP BY stream_id`,
    ),
    readStream: db.prepare<[string, bigint, number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?`,
    ),
    head: db.prepare<[], bigint | null>('SELECT MAX(position) FROM events').pluck(),
    lastRecordedAt: db
      .prepare<[], bigint>('SELECT recorded_at FROM events ORDER BY position DESC LIMIT 1')
      .pluck(),
    /** The first event at or after a position: one seek on the primary key. */
    firstFrom: db.prepare<[bigint], { position: bigint; recorded_at: bigint }>(
      'SELECT position, recorded_at FROM events WHERE position >= ? ORDER BY position LIMIT 1',
    ),
    ping: db.prepare<[], bigint>('SELECT 1').pluck(),
  };
}

function createSchema(db: Database.Database): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as bigint;
    if (version === 0n) {
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    } else if (version !== SCHEMA_VERSION) {
      throw new Error(
        `the event store file has schema version ${version}, this build reads version ${SCHEMA_VERSION}`,
      );
    }
  }).immediate();
}

function validateOptions(options: SqliteEventStoreOptions): Required<SqliteEventStoreOptions> {
  if (typeof options.path !== 'string' || options.path.length === 0) {
    throw new TypeError('SqliteEventStore: path must be a file path or ":memory:"');
  }
  const settings = {
    path: options.path,
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    busyTimeoutMs: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    synchronous: options.synchronous ?? 'FULL',
    subscriptionPageSize: options.subscriptionPageSize ?? DEFAULT_SUBSCRIPTION_PAGE_SIZE,
  };
  assertWholeNumber(settings.pollIntervalMs, 'pollIntervalMs', 1);
  assertWholeNumber(settings.busyTimeoutMs, 'busyTimeoutMs', 0);
  assertWholeNumber(settings.subscriptionPageSize, 'subscriptionPageSize', 1);
  if (settings.synchronous !== 'FULL' && settings.synchronous !== 'NORMAL') {
    throw new TypeError(`SqliteEventStore: synchronous must be 'FULL' or 'NORMAL'`);
  }
  return settings;
}

function prepareWrite(write: StreamWrite, where: string): PreparedWrite {
  if (typeof write !== 'object' || write === null) {
    throw new TypeError(`${where} must be an object`);
  }
  assertStreamId(write.streamId);
  assertExpectedRevision(write.expected);
  return {
    streamId: write.streamId,
    events: prepareEvents(write.events, where),
    expected: write.expected,
  };
}

function prepareEvents(events: readonly EventToAppend[], context: string): PreparedEvent[] {
  if (!Array.isArray(events)) throw new TypeError(`${context}: events must be an array`);
  const seen = new Set<string>();
  return events.map((event, index) => {
    const where = `${context}: event #${index}`;
    if (typeof event?.eventId !== 'string' || event.eventId.length === 0) {
      throw new TypeError(`${where} needs a non-empty eventId`);
    }
    if (seen.has(event.eventId)) {
      throw new TypeError(`${where} repeats event id ${event.eventId} within one append`);
    }
    seen.add(event.eventId);
    if (typeof event.type !== 'string' || event.type.length === 0) {
      throw new TypeError(`${where} (${event.eventId}) needs a non-empty type`);
    }
    return {
      eventId: event.eventId,
      type: event.type,
      data: toJsonObject(event.data, `${where} (${event.eventId}) data`),
      metadata: toJsonObject(event.metadata, `${where} (${event.eventId}) metadata`),
    };
  });
}

function toJsonObject(value: unknown, what: string): string {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${what} must be an object`);
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TypeError(
      `${what} is not JSON: ${reason} (bigint values are not allowed in events; store them as strings)`,
      { cause: error },
    );
  }
  if (json === undefined) throw new TypeError(`${what} is not JSON`);
  return json;
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return upcastEvent({
    eventId: row.event_id,
    type: row.type,
    data: JSON.parse(row.data) as object,
    metadata: JSON.parse(row.metadata) as RecordedEvent['metadata'],
    streamId: row.stream_id,
    revision: row.revision,
    position: row.position,
    recordedAt: new Date(Number(row.recorded_at)),
  });
}

/** Whether a stream currently at `current` (-1n: missing) meets the expectation. */
function satisfies(expected: ExpectedRevision, current: bigint): boolean {
  switch (expected.kind) {
    case 'any':
      return true;
    case 'no_stream':
      return current === -1n;
    case 'stream_exists':
      return current >= 0n;
    case 'exact':
      return current === expected.revision;
    default: {
      const _exhaustive: never = expected;
      return _exhaustive;
    }
  }
}

/** SQL for a filter: types and prefixes are bound parameters, never spliced into the text. */
export function filterCondition(filter: EventFilter | undefined): {
  sql: string;
  params: string[];
} {
  const clauses: string[] = [];
  const params: string[] = [];
  if (filter?.eventTypes) {
    // An empty list matches nothing, as in `matchesFilter`.
    clauses.push(
      filter.eventTypes.length === 0
        ? '0'
        : `type IN (${filter.eventTypes.map(() => '?').join(', ')})`,
    );
    params.push(...filter.eventTypes);
  }
  if (filter?.streamPrefixes) {
    const ranges = filter.streamPrefixes.map((prefix) => {
      const upperBound = prefixUpperBound(prefix);
      params.push(prefix);
      if (upperBound === undefined) return 'stream_id >= ?';
      params.push(upperBound);
      return '(stream_id >= ? AND stream_id < ?)';
    });
    clauses.push(ranges.length === 0 ? '0' : `(${ranges.join(' OR ')})`);
  }
  return { sql: clauses.length === 0 ? '1' : clauses.join(' AND '), params };
}

/**
 * The smallest string above every string that starts with `prefix` (undefined: none), so
 * a prefix match becomes a range that can use the (stream_id, revision) index. SQLite
 * compares text byte-wise in UTF-8, which is code point order, so the bound bumps the
 * last code point that can still grow.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const codePoints = Array.from(prefix);
  while (codePoints.length > 0) {
    const last = (codePoints.pop() as string).codePointAt(0) as number;
    if (last < 0x10ffff) {
      // Surrogate code points cannot occur in UTF-8 text, so the next one after U+D7FF is U+E000.
      const next = last === 0xd7ff ? 0xe000 : last + 1;
      return codePoints.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

/**
 * Recognised by its code rather than `instanceof`: the native addon keeps the error class
 * of the first copy of better-sqlite3 that loaded it, and a process may load several
 * (jest gives each test file its own module registry and realm).
 */
function isUniqueViolation(error: unknown, column: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof message === 'string' && message.includes(column)
  );
}

function toLimit(maxCount: number | undefined): number {
  if (maxCount === undefined) return NO_LIMIT;
  assertWholeNumber(maxCount, 'maxCount', 0);
  return maxCount;
}

function assertStreamId(streamId: string): void {
  if (typeof streamId !== 'string' || streamId.length === 0) {
    throw new TypeError('stream id must be a non-empty string');
  }
}

function assertExpectedRevision(expected: ExpectedRevision): void {
  const kind = (expected as { kind?: unknown } | undefined)?.kind;
  if (kind === 'exact') {
    const revision = (expected as { revision?: unknown }).revision;
    if (typeof revision !== 'bigint' || revision < 0n) {
      throw new TypeError(
        `an exact expected revision must be a bigint >= 0, got ${String(revision)}`,
      );
    }
  } else if (kind !== 'any' && kind !== 'no_stream' && kind !== 'stream_exists') {
    throw new TypeError(`unknown expected revision kind: ${String(kind)}`);
  }
}

function assertFilter(filter: EventFilter | undefined): void {
  if (filter === undefined) return;
  for (const key of ['eventTypes', 'streamPrefixes'] as const) {
    const list: unknown = filter[key];
    if (
      list !== undefined &&
      (!Array.isArray(list) || list.some((item) => typeof item !== 'string'))
    ) {
      throw new TypeError(`filter.${key} must be an array of strings`);
    }
  }
}

function assertBigInt(value: unknown, name: string, min?: bigint): asserts value is bigint {
  if (typeof value !== 'bigint')
    throw new TypeError(`${name} must be a bigint, got ${typeof value}`);
  if (min !== undefined && value < min)
    throw new RangeError(`${name} must be >= ${min}, got ${value}`);
}

function assertWholeNumber(value: unknown, name: string, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be a whole number >= ${min}, got ${String(value)}`);
  }
}
