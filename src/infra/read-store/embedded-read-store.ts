/**
 * The embedded read store: MongoDB semantics over documents that live in one SQLite file
 * and, once a collection is first used, in memory.
 *
 * - Disk is the truth: `documents(collection, id, body)` holds every document as JSON and
 *   `checkpoints(name, position, updated_at)` the projectors' positions. A batch and its
 *   checkpoint are written in one SQLite transaction, so a crash leaves either all of a
 *   batch or none of it.
 * - Memory is a cache per collection (id -> document, in insertion order), loaded lazily.
 *   Filters, sorts, projections and aggregations run on it through mingo; a filter that
 *   pins `_id` looks the documents up instead of scanning. A batch is applied to copies first
 *   and reaches the cache only after its transaction has committed, so a failed commit
 *   leaves disk and cache as they were.
 * - Several connections may share the file (threads, processes): each commit also appends a
 *   row to `commit_log` — which documents it touched, and the batch's notice — in the same
 *   transaction. Before a commit, and before the first read of each turn of the event loop,
 *   a store checks `PRAGMA data_version` (one cheap call) and, when another connection has
 *   committed, refreshes its cached copies of what those commits touched. A read therefore
 *   reflects every commit made before its turn began — whatever another thread or process
 *   did that this one could have heard of arrives as a new turn (a message, a socket) — and
 *   every commit of this process's connections to the file, which count as they happen; a
 *   projector's batch, thousands of reads in one turn, pays for the check once. Its
 *   followers (`follow`) then hear the notices, in commit order; a timer every
 *   `followIntervalMs` looks while nobody reads. The log keeps five minutes; a store that
 *   fell further behind drops its whole cache.
 * - Leases (`leases`) say which worker runs which job; a batch fenced by a lease commits
 *   only while the lease's token is unchanged, checked under the write lock.
 *
 * Values are JSON. A `Date` would come back as a string and a `bigint` cannot be written
 * at all, so both are refused with `UnsupportedValueError` instead of being silently
 * changed: read models keep timestamps as ISO-8601 strings (which sort and compare
 * correctly as strings) and 64-bit numbers as decimal strings. Object fields whose value
 * is `undefined` are dropped, as JSON does.
 *
 * Update operators are applied by this module (see "Update operators" below for why), with
 * mingo's ordering, equality and query matching, and refused with `InvalidUpdateError`
 * where MongoDB refuses them (`$inc` on a string, `$push` on a non-array, `$set` through a
 * scalar, two operators on one path), where mingo would quietly skip them. An upsert
 * whose filter and $setOnInsert name no `_id` gets a random UUID, as with the MongoDB
 * adapter.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
// The package root builds a context holding every query, projection, pipeline, accumulator
// and expression operator, so no `useOperators` call is needed with mingo 7.
import { Aggregator, Context, Query } from 'mingo';
import * as expressionOperators from 'mingo/operators/expression';
import * as queryOperators from 'mingo/operators/query';
import { Query as FilterQuery } from 'mingo/query';
import { compare, isEqual } from 'mingo/util';
import {
  FencedWriteError,
  StaleCheckpointError,
  type Checkpoint,
  type Lease,
  type Document,
  type Filter,
  type FindOptions,
  type PipelineStage,
  type ReadCollection,
  type ReadStore,
  type StoreNotice,
  type UpdateOperators,
  type WriteBatch,
  type WriteOperation,
} from '../../projections/read-store';

export interface EmbeddedReadStoreOptions {
  /** Path of the SQLite file (created with its folder when missing), or `':memory:'`. */
  readonly path: string;
  /** Clock for `Checkpoint.updatedAt` and leases; the system clock unless a test fixes it. */
  readonly clock?: () => Date;
  /** How often a store with followers looks for other connections' commits while idle. */
  readonly followIntervalMs?: number;
}

/** How long the commit log keeps a commit for followers that fell behind. */
const COMMIT_LOG_KEEP_MS = 5 * 60_000;
/** A writer prunes the commit log once every this many of its commits. */
const COMMIT_LOG_PRUNE_EVERY = 256;
const DEFAULT_FOLLOW_INTERVAL_MS = 5;

/**
 * Commits made through this process's connections, per file, so that a read by one
 * connection looks at the file again after another connection of the same process has
 * committed, even within one turn of the event loop.
 */
const commitsByFile = new Map<string, { count: number }>();

/** A value that JSON cannot keep without changing its meaning (a Date, a bigint, ...). */
export class UnsupportedValueError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`cannot store the value at '${path}': ${reason}`);
    this.name = 'UnsupportedValueError';
  }
}

/** An update MongoDB would refuse; refused here too so that both adapters agree. */
export class InvalidUpdateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidUpdateError';
  }
}

export class EmbeddedReadStore implements ReadStore {
  /** Loaded collections only; a collection missing here is read from disk on first use. */
  private readonly cache = new Map<string, Map<string, Document>>();
  private closed = false;
  /** Names this connection's rows in the commit log, so it skips its own commits. */
  private readonly writerId = randomUUID();
  /** The last commit-log row this store has taken into account. */
  private followedSeq: number;
  private dataVersion: number;
  private commits = 0;
  /** The value of `fileCommits.count` when this turn's reads last looked; null before. */
  private checkedAtCommits: number | null = null;
  private readonly followers = new Set<(notice: StoreNotice) => void>();
  private followTimer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly db: Database.Database,
    private readonly sql: Statements,
    private readonly clock: () => Date,
    private readonly followIntervalMs: number,
    private readonly fileCommits: { count: number },
  ) {
    this.followedSeq = sql.lastCommitSeq.get() ?? 0;
    this.dataVersion = sql.dataVersion.get() as number;
  }

  static open(options: EmbeddedReadStoreOptions): EmbeddedReadStore {
    const inMemory = options.path === ':memory:';
    if (!inMemory) mkdirSync(dirname(options.path), { recursive: true });
    const db = new Database(options.path);
    if (!inMemory) db.pragma('journal_mode = WAL');
    // With WAL, NORMAL survives a crash of the process; a power cut may lose the last
    // batches, and their checkpoint with them, so the projector simply applies them again.
    db.pragma('synchronous = NORMAL');
    // Projectors rewrite the same documents batch after batch. Checkpointing the WAL every
    // 10,000 pages (40 MB) rather than every 1,000 copies such a page into the file once
    // instead of many times, and syncs a tenth as often: commits take half the time.
    db.pragma('wal_autocheckpoint = 10000');
    db.exec(SCHEMA);
    return new EmbeddedReadStore(
      db,
      prepareStatements(db),
      options.clock ?? (() => new Date()),
      options.followIntervalMs ?? DEFAULT_FOLLOW_INTERVAL_MS,
      inMemory ? { count: 0 } : fileCommitCounter(options.path),
    );
  }

  collection<T extends Document = Document>(name: string): ReadCollection<T> {
    return {
      findOne: async (filter) =>
        (this.findDocuments(name, filter, { limit: 1 })[0] as T | undefined) ?? null,
      find: async (filter, options) => this.findDocuments(name, filter, options ?? {}) as T[],
      count: async (filter) => this.countDocuments(name, filter ?? {}),
      aggregate: async <R>(pipeline: readonly PipelineStage[]) =>
        this.aggregateDocuments(name, pipeline) as R[],
    };
  }

  async commit(batch: WriteBatch): Promise<void> {
    this.assertOpen();
    // Everything below is synchronous and runs under the file's write lock (BEGIN
    // IMMEDIATE), so no other commit, in this process or another, can slip in between
    // catching up, the guards, the writes and the cache update.
    let staged = new Map<string, StagedCollection>();
    const notices = this.transaction(() => {
      const heard = this.catchUp();
      if (batch.fence) this.assertFence(batch.fence);
      if (batch.checkpoint) this.assertCheckpointAhead(batch.checkpoint);
      staged = this.stage(batch.operations, batch.documentsHandedOver ?? false);
      this.persist(staged, batch.checkpoint, batch.notice);
      return heard;
    });
    this.publishToCache(staged);
    this.deliver(notices);
    this.commits += 1;
    if (this.commits % COMMIT_LOG_PRUNE_EVERY === 0) {
      this.sql.pruneCommitLog.run(this.clock().getTime() - COMMIT_LOG_KEEP_MS);
    }
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    this.assertOpen();
    return this.transaction(() => {
      const now = this.clock().getTime();
      const row = this.sql.selectLease.get(name);
      if (row && row.holder !== holder && row.expires_at > now) return null;
      const token = !row ? 1 : row.holder === holder ? row.token : row.token + 1;
      this.sql.upsertLease.run(name, holder, token, now + ttlMs);
      return this.lease(this.sql.selectLease.get(name));
    });
  }

  async renewLease(
    name: string,
    holder: string,
    token: number,
    ttlMs: number,
    report?: StoreNotice,
  ): Promise<boolean> {
    this.assertOpen();
    const expiresAt = this.clock().getTime() + ttlMs;
    const json = report === undefined ? null : JSON.stringify(report);
    return this.sql.renewLease.run(expiresAt, json, name, holder, token).changes === 1;
  }

  async releaseLease(name: string, holder: string, token: number): Promise<void> {
    this.assertOpen();
    this.sql.releaseLease.run(name, holder, token);
  }

  async leases(): Promise<Lease[]> {
    this.assertOpen();
    return this.sql.selectLeases.all().map((row) => this.lease(row));
  }

  follow(listener: (notice: StoreNotice) => void): () => void {
    this.assertOpen();
    this.followers.add(listener);
    this.followTimer ??= setInterval(() => {
      if (!this.closed) this.deliver(this.catchUp());
    }, this.followIntervalMs).unref();
    return () => {
      this.followers.delete(listener);
      if (this.followers.size === 0 && this.followTimer) {
        clearInterval(this.followTimer);
        this.followTimer = null;
      }
    };
  }

  async getCheckpoint(name: string): Promise<Checkpoint | null> {
    this.assertOpen();
    const row = this.sql.selectCheckpoint.get(name);
    if (!row) return null;
    return { name, position: BigInt(row.position), updatedAt: new Date(row.updated_at) };
  }

  async deleteCheckpoint(name: string): Promise<void> {
    this.assertOpen();
    this.sql.deleteCheckpoint.run(name);
  }

  /**
   * Queries run over the in-memory copy of a collection, with a direct path for `_id`; a
   * secondary index would cost memory on every write for scans that take milliseconds, so
   * the projections' index hints are accepted and not built here.
   */
  async ensureIndexes(
    _collection: string,
    _indexes: readonly (readonly string[])[],
  ): Promise<void> {
    this.assertOpen();
  }

  async dropCollection(name: string): Promise<void> {
    this.assertOpen();
    const notices = this.transaction(() => {
      const heard = this.catchUp();
      this.sql.deleteCollection.run(name);
      this.logCommit({ [name]: null }, undefined);
      return heard;
    });
    this.cache.delete(name);
    this.deliver(notices);
  }

  async listCollections(): Promise<string[]> {
    this.assertOpen();
    return this.sql.selectCollectionNames.all().map((row) => row.collection);
  }

  async ping(): Promise<boolean> {
    return !this.closed && this.db.prepare('SELECT 1').pluck().get() === 1;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.followTimer) clearInterval(this.followTimer);
    this.followers.clear();
    this.cache.clear();
    this.db.close();
  }

  private findDocuments(collection: string, filter: Filter, options: FindOptions): Document[] {
    this.assertOpen();
    this.refresh();
    const source = committedSource(this.committedCollection(collection));
    // Without a sort, the first skip + limit matches are all that can be returned.
    const enough = options.sort ? Infinity : (options.skip ?? 0) + (options.limit ?? Infinity);
    const matches = matchingDocuments(source, filter, enough);
    // Most reads (every `findOne` by `_id` of a projector) neither sort nor project, and
    // a mingo cursor costs more to build than the lookup itself.
    if (!options.sort && !options.projection && isCount(options.skip) && isCount(options.limit)) {
      const start = options.skip ?? 0;
      const end = options.limit === undefined ? undefined : start + options.limit;
      return matches.slice(start, end).map(copyJson);
    }
    const cursor = new Query({}).find(matches, options.projection ?? {});
    if (options.sort) cursor.sort(options.sort);
    if (options.skip !== undefined) cursor.skip(options.skip);
    if (options.limit !== undefined) cursor.limit(options.limit);
    return cursor.all().map((document) => deepCopy(document as Document));
  }

  private countDocuments(collection: string, filter: Filter): number {
    this.assertOpen();
    this.refresh();
    const documents = this.committedCollection(collection);
    if (Object.keys(filter).length === 0) return documents.size;
    return matchingDocuments(committedSource(documents), filter).length;
  }

  private aggregateDocuments(collection: string, pipeline: readonly PipelineStage[]): unknown[] {
    this.assertOpen();
    this.refresh();
    assertReadOnlyPipeline(pipeline);
    const aggregator = new Aggregator(pipeline.flatMap(asMongoStages), {
      // For $lookup / $unionWith: a snapshot, so the pipeline cannot touch the cache.
      collectionResolver: (name) => Array.from(this.committedCollection(name).values()),
    });
    return aggregator.run(this.committedCollection(collection).values()).map(deepCopy);
  }

  /**
   * Reloads the cached copies of these documents from disk as committed by another
   * connection (all of the collection is forgotten when no ids are given, and loaded again
   * on its next read).
   */
  private invalidate(collection: string, ids?: readonly string[]): void {
    const documents = this.cache.get(collection);
    if (!documents) return;
    if (ids === undefined) {
      this.cache.delete(collection);
      return;
    }
    for (const id of ids) {
      const row = this.sql.selectDocument.get(collection, id);
      if (row) documents.set(id, JSON.parse(row.body) as Document);
      else documents.delete(id);
    }
  }

  /**
   * A committed batch reaches the collections this connection has loaded; one it has not
   * loaded is read from disk, batch included, when it is first read.
   */
  private publishToCache(staged: Map<string, StagedCollection>): void {
    for (const [name, target] of staged) {
      const documents = this.cache.get(name);
      if (documents === undefined) continue;
      for (const [id, document] of target.changes) {
        if (document) documents.set(id, document);
        else documents.delete(id);
      }
    }
  }

  private committedCollection(name: string): Map<string, Document> {
    let documents = this.cache.get(name);
    if (!documents) {
      documents = new Map();
      for (const row of this.sql.selectCollection.iterate(name)) {
        documents.set(row.id, JSON.parse(row.body) as Document);
      }
      this.cache.set(name, documents);
    }
    return documents;
  }

  /** Runs `work` under the file's write lock, as one transaction. */
  private transaction<T>(work: () => T): T {
    try {
      return this.db.transaction(work).immediate();
    } finally {
      this.fileCommits.count += 1;
    }
  }

  /** Takes other connections' commits into account before a read; tells followers later. */
  private refresh(): void {
    if (this.checkedAtCommits === this.fileCommits.count) return;
    if (this.checkedAtCommits === null) {
      // The turn's check stands until the turn ends.
      setImmediate(() => {
        this.checkedAtCommits = null;
      });
    }
    this.checkedAtCommits = this.fileCommits.count;
    this.deliver(this.catchUp());
  }

  /**
   * Refreshes the cached copies of what other connections committed since the last look,
   * and answers their notices (for `deliver`). Costs one pragma when nothing changed.
   */
  private catchUp(): StoreNotice[] {
    const version = this.sql.dataVersion.get() as number;
    if (version === this.dataVersion) return [];
    this.dataVersion = version;
    const first = this.sql.firstCommitSeq.get();
    if (first !== undefined && first > this.followedSeq + 1) {
      // Commits this store never saw were pruned: nothing cached can be trusted.
      this.cache.clear();
    }
    const notices: StoreNotice[] = [];
    for (const row of this.sql.selectCommitsAfter.iterate(this.followedSeq)) {
      this.followedSeq = row.seq;
      if (row.writer === this.writerId) continue;
      const touched = JSON.parse(row.touched) as Record<string, string[] | null>;
      for (const [collection, ids] of Object.entries(touched)) {
        this.invalidate(collection, ids ?? undefined);
      }
      if (row.notice !== null) notices.push(JSON.parse(row.notice) as StoreNotice);
    }
    return notices;
  }

  /** Tells the followers, outside whatever read or commit found the notices. */
  private deliver(notices: readonly StoreNotice[]): void {
    if (notices.length === 0 || this.followers.size === 0) return;
    const followers = [...this.followers];
    queueMicrotask(() => {
      for (const notice of notices) for (const follower of followers) follower(notice);
    });
  }

  private logCommit(
    touched: Record<string, readonly string[] | null>,
    notice: StoreNotice | undefined,
  ): void {
    const row = this.sql.insertCommit.run(
      this.writerId,
      this.clock().getTime(),
      JSON.stringify(touched),
      notice === undefined ? null : JSON.stringify(notice),
    );
    this.followedSeq = Number(row.lastInsertRowid);
  }

  private assertFence(fence: NonNullable<WriteBatch['fence']>): void {
    const row = this.sql.selectLease.get(fence.lease);
    if (row?.token !== fence.token) throw new FencedWriteError(fence.lease, fence.token);
  }

  private lease(row: LeaseRow | undefined): Lease {
    if (!row) throw new Error('lease row missing');
    return {
      name: row.name,
      holder: row.holder,
      token: row.token,
      expiresAt: new Date(row.expires_at),
      report: row.report === null ? null : (JSON.parse(row.report) as StoreNotice),
    };
  }

  private assertCheckpointAhead(checkpoint: NonNullable<WriteBatch['checkpoint']>): void {
    const row = this.sql.selectCheckpoint.get(checkpoint.name);
    const stored = row ? BigInt(row.position) : -1n;
    const moved = checkpoint.after !== undefined && checkpoint.after !== stored;
    if (moved || (row && stored >= checkpoint.position)) {
      throw new StaleCheckpointError(checkpoint.name, stored, checkpoint.position);
    }
  }

  private stage(
    operations: readonly WriteOperation[],
    documentsHandedOver: boolean,
  ): Map<string, StagedCollection> {
    const staged = new Map<string, StagedCollection>();
    for (const operation of operations) {
      let target = staged.get(operation.collection);
      if (!target) {
        const name = operation.collection;
        target = new StagedCollection(() => this.committedCollection(name));
        staged.set(operation.collection, target);
      }
      applyOperation(target, operation, documentsHandedOver);
    }
    return staged;
  }

  /** Writes a staged batch; runs inside `commit`'s transaction. */
  private persist(
    staged: Map<string, StagedCollection>,
    checkpoint: WriteBatch['checkpoint'],
    notice: StoreNotice | undefined,
  ): void {
    const touched: Record<string, string[]> = {};
    for (const [collection, target] of staged) {
      if (target.changes.size === 0) continue;
      touched[collection] = [...target.changes.keys()];
      for (const [id, document] of target.changes) {
        if (document) this.sql.upsertDocument.run(collection, id, JSON.stringify(document));
        else this.sql.deleteDocument.run(collection, id);
      }
    }
    if (checkpoint) {
      this.sql.upsertCheckpoint.run(
        checkpoint.name,
        checkpoint.position.toString(),
        this.clock().toISOString(),
      );
    }
    if (Object.keys(touched).length > 0 || notice !== undefined) this.logCommit(touched, notice);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the embedded read store is closed');
  }
}

// ---------------------------------------------------------------------------------------
// SQLite

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (collection, id)
  );
  CREATE TABLE IF NOT EXISTS checkpoints (
    name TEXT PRIMARY KEY,
    position TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS commit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    writer TEXT NOT NULL,
    at INTEGER NOT NULL,
    touched TEXT NOT NULL,
    notice TEXT
  );
  CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    token INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    report TEXT
  );
`;

interface LeaseRow {
  readonly name: string;
  readonly holder: string;
  readonly token: number;
  readonly expires_at: number;
  readonly report: string | null;
}

interface CommitRow {
  readonly seq: number;
  readonly writer: string;
  readonly touched: string;
  readonly notice: string | null;
}

interface Statements {
  selectCollection: Database.Statement<[string], { id: string; body: string }>;
  selectDocument: Database.Statement<[string, string], { body: string }>;
  selectCollectionNames: Database.Statement<[], { collection: string }>;
  upsertDocument: Database.Statement<[string, string, string]>;
  deleteDocument: Database.Statement<[string, string]>;
  dataVersion: Database.Statement<[], number>;
  lastCommitSeq: Database.Statement<[], number | undefined>;
  firstCommitSeq: Database.Statement<[], number | undefined>;
  selectCommitsAfter: Database.Statement<[number], CommitRow>;
  insertCommit: Database.Statement<[string, number, string, string | null]>;
  pruneCommitLog: Database.Statement<[number]>;
  selectLease: Database.Statement<[string], LeaseRow>;
  selectLeases: Database.Statement<[], LeaseRow>;
  upsertLease: Database.Statement<[string, string, number, number]>;
  renewLease: Database.Statement<[number, string | null, string, string, number]>;
  releaseLease: Database.Statement<[string, string, number]>;
  deleteCollection: Database.Statement<[string]>;
  selectCheckpoint: Database.Statement<[string], { position: string; updated_at: string }>;
  upsertCheckpoint: Database.Statement<[string, string, string]>;
  deleteCheckpoint: Database.Statement<[string]>;
}

function fileCommitCounter(path: string): { count: number } {
  const file = resolve(path);
  let counter = commitsByFile.get(file);
  if (counter === undefined) {
    counter = { count: 0 };
    commitsByFile.set(file, counter);
  }
  return counter;
}

function prepareStatements(db: Database.Database): Statements {
  return {
    selectDocument: db.prepare('SELECT body FROM documents WHERE collection = ? AND id = ?'),
    // rowid order is insertion order: the embedded equivalent of MongoDB's natural order.
    selectCollection: db.prepare(
      'SELECT id, body FROM documents WHERE collection = ? ORDER BY rowid',
    ),
    selectCollectionNames: db.prepare(
      'SELECT DISTINCT collection FROM documents ORDER BY collection',
    ),
    // ON CONFLICT ... DO UPDATE keeps the rowid, so an updated document keeps its place.
    upsertDocument: db.prepare(
      'INSERT INTO documents (collection, id, body) VALUES (?, ?, ?) ' +
        'ON CONFLICT (collection, id) DO UPDATE SET body = excluded.body',
    ),
    deleteDocument: db.prepare('DELETE FROM documents WHERE collection = ? AND id = ?'),
    deleteCollection: db.prepare('DELETE FROM documents WHERE collection = ?'),
    // Positions are unsigned 64-bit in EventStoreDB: kept as decimal text, compared as bigint.
    selectCheckpoint: db.prepare('SELECT position, updated_at FROM checkpoints WHERE name = ?'),
    upsertCheckpoint: db.prepare(
      'INSERT INTO checkpoints (name, position, updated_at) VALUES (?, ?, ?) ' +
        'ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at',
    ),
    deleteCheckpoint: db.prepare('DELETE FROM checkpoints WHERE name = ?'),
    // Changes whenever another connection commits to the file; this one's own commits do not.
    dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
    lastCommitSeq: db.prepare<[], number | undefined>('SELECT max(seq) FROM commit_log').pluck(),
    firstCommitSeq: db.prepare<[], number | undefined>('SELECT min(seq) FROM commit_log').pluck(),
    selectCommitsAfter: db.prepare(
      'SELECT seq, writer, touched, notice FROM commit_log WHERE seq > ? ORDER BY seq',
    ),
    insertCommit: db.prepare(
      'INSERT INTO commit_log (writer, at, touched, notice) VALUES (?, ?, ?, ?)',
    ),
    pruneCommitLog: db.prepare('DELETE FROM commit_log WHERE at < ?'),
    selectLease: db.prepare('SELECT * FROM leases WHERE name = ?'),
    selectLeases: db.prepare('SELECT * FROM leases ORDER BY name'),
    upsertLease: db.prepare(
      'INSERT INTO leases (name, holder, token, expires_at) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token, ' +
        'expires_at = excluded.expires_at',
    ),
    renewLease: db.prepare(
      'UPDATE leases SET expires_at = ?, report = coalesce(?, report) ' +
        'WHERE name = ? AND holder = ? AND token = ?',
    ),
    releaseLease: db.prepare(
      'UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ? AND token = ?',
    ),
  };
}

// ---------------------------------------------------------------------------------------
// Documents as a batch sees them

/** What filters run on: the committed cache, or the cache seen through a batch's changes. */
interface DocumentSource {
  get(id: string): Document | undefined;
  values(): Iterable<Document>;
}

function committedSource(documents: Map<string, Document>): DocumentSource {
  return { get: (id) => documents.get(id), values: () => documents.values() };
}

/**
 * A collection as a batch sees it: the committed documents overlaid with the batch's own
 * writes (null marks a deletion), so later operations see earlier ones while the committed
 * documents stay untouched until the transaction has succeeded. The committed documents are
 * loaded only when an operation reads them: a batch that replaces and deletes by id (all a
 * projector writes into a history it never reads back) leaves the collection on disk only.
 */
class StagedCollection implements DocumentSource {
  readonly changes = new Map<string, Document | null>();
  private loaded: Map<string, Document> | null = null;

  constructor(private readonly load: () => Map<string, Document>) {}

  private get committed(): Map<string, Document> {
    this.loaded ??= this.load();
    return this.loaded;
  }

  get(id: string): Document | undefined {
    return this.changes.has(id) ? (this.changes.get(id) ?? undefined) : this.committed.get(id);
  }

  *values(): IterableIterator<Document> {
    for (const [id, document] of this.committed) {
      const current = this.changes.has(id) ? this.changes.get(id) : document;
      if (current) yield current;
    }
    for (const [id, document] of this.changes) {
      if (document && !this.committed.has(id)) yield document;
    }
  }

  put(document: Document): void {
    this.changes.set(document._id, document);
  }

  /** Deleting a document that is not there changes nothing (on disk, a no-op `DELETE`). */
  delete(id: string): void {
    if (this.loaded === null || this.get(id)) this.changes.set(id, null);
  }
}

// ---------------------------------------------------------------------------------------
// Reading

/** Matches in natural order, at most `max` of them. */
function matchingDocuments(source: DocumentSource, filter: Filter, max = Infinity): Document[] {
  const matches: Document[] = [];
  if (max <= 0) return matches;
  if (typeof filter._id === 'string') {
    const document = source.get(filter._id);
    if (document && matchesBesidesId(document, filter)) matches.push(document);
    return matches;
  }
  const ids = idsNamedByFilter(filter);
  // Only the documents with those ids can match: no scan, and the rest of the filter is
  // tested on those few documents.
  const candidates = ids ? ids.map((id) => source.get(id)).filter(isDefined) : source.values();
  const matchesRest = compileMatcher(ids ? withoutId(filter) : filter);
  for (const document of candidates) {
    if (!matchesRest(document)) continue;
    matches.push(document);
    if (matches.length >= max) break;
  }
  return matches;
}

/** The rest of a filter that pins one `_id`, the usual `{ _id, workspaceId }`, tested directly. */
function matchesBesidesId(document: Document, filter: Filter): boolean {
  for (const field of Object.keys(filter)) {
    if (field === '_id') continue;
    const value = filter[field];
    if (!isScalarEquality(field, value)) return compileMatcher(withoutId(filter))(document);
    if (!matchesScalar(document[field], value)) return false;
  }
  return true;
}

function withoutId(filter: Filter): Filter {
  const { _id: _pinned, ...rest } = filter;
  return rest;
}

/**
 * A predicate for the filter. Top-level equalities on strings, numbers and booleans — the
 * shape of nearly every write filter — are tested directly, with MongoDB's rule that an
 * array field matches when it contains the value; compiling a mingo query for each of a
 * batch's thousand operations would cost more than the rest of the commit.
 */
function compileMatcher(filter: Filter): (document: Document) => boolean {
  const conditions = Object.entries(filter);
  if (!conditions.every(([field, value]) => isScalarEquality(field, value))) {
    const query = compileFilter(filter);
    return (document) => query.test(document);
  }
  return (document) => conditions.every(([field, value]) => matchesScalar(document[field], value));
}

function isScalarEquality(field: string, value: unknown): boolean {
  if (field.startsWith('$') || field.includes('.')) return false;
  return typeof value === 'string' || typeof value === 'boolean' || Number.isFinite(value);
}

/** MongoDB's equality on a top-level field: an array field matches when it contains the value. */
function matchesScalar(actual: unknown, value: unknown): boolean {
  return actual === value || (Array.isArray(actual) && actual.includes(value));
}

/** A skip or limit the reads can apply themselves: absent, or a whole number from 0. */
function isCount(value: number | undefined): boolean {
  return value === undefined || (Number.isInteger(value) && value >= 0);
}

/**
 * The ids a filter pins down with `_id: 'x'`, `_id: { $eq: 'x' }` or `_id: { $in: [...] }`
 * (strings only); null when the filter does not limit `_id` that way.
 */
function idsNamedByFilter(filter: Filter): string[] | null {
  const condition = filter._id;
  if (typeof condition === 'string') return [condition];
  if (!isPlainObject(condition)) return null;
  const operators = Object.keys(condition);
  if (operators.length !== 1) return null;
  if (operators[0] === '$eq' && typeof condition.$eq === 'string') return [condition.$eq];
  const listed = condition.$in;
  if (operators[0] === '$in' && Array.isArray(listed) && listed.every(isString)) {
    return [...new Set(listed)];
  }
  return null;
}

/**
 * Filters are compiled once per operation or read, so they get a context holding only
 * the query and expression operators: mingo copies the context it is given on every
 * compile, and the full one costs ten times as much.
 */
const FILTER_OPTIONS = {
  context: Context.init({ query: queryOperators, expression: expressionOperators }),
};

function compileFilter(filter: Filter): FilterQuery {
  return new FilterQuery(filter, FILTER_OPTIONS);
}

/** Writes go through `commit`; a pipeline that writes would bypass the checkpoint. */
function assertReadOnlyPipeline(pipeline: readonly PipelineStage[]): void {
  for (const stage of pipeline) {
    const writing = Object.keys(stage).find(
      (operator) => operator === '$out' || operator === '$merge',
    );
    if (writing)
      throw new Error(`${writing} is not supported by the read store: write through commit()`);
  }
}

/**
 * mingo's $count yields `{ n: 0 }` for no input where MongoDB yields nothing; MongoDB
 * defines $count as this $group + $project, which mingo gets right.
 */
function asMongoStages(stage: PipelineStage): PipelineStage[] {
  const keys = Object.keys(stage);
  if (keys.length !== 1 || keys[0] !== '$count' || typeof stage.$count !== 'string') return [stage];
  return [{ $group: { _id: null, [stage.$count]: { $sum: 1 } } }, { $project: { _id: 0 } }];
}

/**
 * A deep copy of a value known to be JSON: a stored document or a part of one. Callers get
 * copies so that they cannot change the cache, and updates change copies.
 */
function copyJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyJson) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value))
    copy[key] = copyJson((value as Record<string, unknown>)[key]);
  return copy as T;
}

/**
 * A deep copy for callers of what an aggregation produced: its expressions may produce
 * values other than JSON, such as dates, which structuredClone handles.
 */
function deepCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(deepCopy) as T;
  if (!isPlainObject(value)) return structuredClone(value);
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = deepCopy(value[key]);
  return copy as T;
}

// ---------------------------------------------------------------------------------------
// Writing

function applyOperation(
  target: StagedCollection,
  operation: WriteOperation,
  documentsHandedOver: boolean,
): void {
  switch (operation.kind) {
    case 'updateOne': {
      const update = parseUpdate(operation.update);
      const [match] = matchingDocuments(target, operation.filter, 1);
      if (match) updateStaged(target, match, update);
      else if (operation.upsert) insertStaged(target, documentForUpsert(operation.filter, update));
      return;
    }
    case 'updateMany': {
      const update = parseUpdate(operation.update);
      for (const match of matchingDocuments(target, operation.filter)) {
        updateStaged(target, match, update);
      }
      return;
    }
    case 'replaceOne':
      target.put(toStoredDocument(operation.document, documentsHandedOver));
      return;
    case 'deleteOne':
      target.delete(operation.id);
      return;
    case 'deleteMany':
      for (const match of matchingDocuments(target, operation.filter)) target.delete(match._id);
      return;
    default: {
      const unknown: never = operation;
      throw new Error(`unknown write operation ${JSON.stringify(unknown)}`);
    }
  }
}

function updateStaged(target: StagedCollection, current: Document, update: ParsedUpdate): void {
  const edit = new DocumentEdit(copyJson(current));
  applyFieldUpdates(edit, update, 'update');
  const document = edit.result(current);
  if (document !== current) target.put(document);
}

function insertStaged(target: StagedCollection, document: Document): void {
  // The filter did not match, yet its _id may be taken by a document that fails the
  // rest of the filter: MongoDB refuses that upsert with a duplicate key error.
  if (target.get(document._id)) {
    throw new InvalidUpdateError(
      `E11000 duplicate key: an upsert would insert _id '${document._id}' twice`,
    );
  }
  target.put(document);
}

/**
 * The document an upsert inserts, built as MongoDB builds it: the filter's equality
 * conditions, then the update with $setOnInsert.
 */
function documentForUpsert(filter: Filter, update: ParsedUpdate): Document {
  const { _id: filterId, ...fields } = equalityFields(filter);
  const insertId = update.find(
    ({ operator, path }) => operator === '$setOnInsert' && path === '_id',
  );
  // Where MongoDB would invent an ObjectId, a fresh string id keeps the port's promise of
  // string ids (the MongoDB adapter does the same).
  const id = filterId ?? insertId?.argument ?? randomUUID();
  if (typeof id !== 'string') {
    throw new InvalidUpdateError(`an upserted _id must be a string, not ${JSON.stringify(id)}`);
  }
  const edit = new DocumentEdit({ _id: id });
  for (const [path, value] of Object.entries(fields)) {
    // deepCopy, as for any seed: an object of a class is kept as its fields.
    writePath(edit.document, path, edit.own(deepCopy(value)));
  }
  applyFieldUpdates(edit, update, 'insert');
  return edit.result();
}

/** Fields fixed by the filter: `{ a: 1 }`, `{ a: { $eq: 1 } }`, and those inside `$and`. */
function equalityFields(filter: Filter): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, condition] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(condition)) {
      for (const clause of condition) Object.assign(fields, equalityFields(clause as Filter));
    } else if (key.startsWith('$') || condition instanceof RegExp) {
      continue;
    } else if (isOperatorExpression(condition)) {
      if (Object.hasOwn(condition, '$eq')) fields[key] = condition.$eq;
    } else {
      fields[key] = condition;
    }
  }
  return fields;
}

// ---------------------------------------------------------------------------------------
// Update operators
//
// mingo's updater copies its operator tables on every call (30-100 µs), which alone would
// make a batch of 1,000 upserts take tens of milliseconds. The port's nine operators are
// applied here instead, with mingo's own ordering (`compare`), equality (`isEqual`) and
// query matching ($pull conditions), and with MongoDB's refusals where mingo is lenient.

type UpdateOperator = keyof UpdateOperators;

/** One field of one operator, e.g. `$inc: { clicks: 1 }` gives `$inc`, `clicks`, `1`. */
interface FieldUpdate {
  readonly operator: UpdateOperator;
  readonly path: string;
  readonly argument: unknown;
}

type ParsedUpdate = readonly FieldUpdate[];

const APPLY_FIELD_UPDATE: Record<
  UpdateOperator,
  (edit: DocumentEdit, path: string, argument: unknown) => void
> = {
  $set: (edit, path, value) => edit.set(path, value),
  $setOnInsert: (edit, path, value) => edit.set(path, value),
  $unset: (edit, path) => {
    if (unsetPath(edit.document, path)) edit.noteChange('yes');
  },
  $inc: incrementPath,
  $max: (edit, path, value) => replaceWhen(edit, path, value, (order) => order > 0),
  $min: (edit, path, value) => replaceWhen(edit, path, value, (order) => order < 0),
  $push: (edit, path, argument) => {
    const array = arrayAt(edit, path, '$push');
    const values = valuesToAdd('$push', argument);
    for (const value of values) array.push(edit.own(value));
    if (values.length > 0) edit.noteChange('yes');
  },
  $addToSet: (edit, path, argument) => {
    const array = arrayAt(edit, path, '$addToSet');
    const before = array.length;
    // Compared as given, then copied, so that the copies change no comparison.
    for (const value of valuesToAdd('$addToSet', argument)) {
      if (!array.some((element) => isEqual(element, value))) array.push(value);
    }
    for (let index = before; index < array.length; index += 1) {
      array[index] = edit.own(array[index]);
    }
    if (array.length > before) edit.noteChange('yes');
  },
  $pull: pullFromPath,
};

/** Checks the operators and their paths once, before any document is touched. */
function parseUpdate(update: UpdateOperators): ParsedUpdate {
  const operators = Object.keys(update);
  if (operators.length === 0) {
    throw new InvalidUpdateError('an update needs at least one update operator');
  }
  const fieldUpdates: FieldUpdate[] = [];
  for (const operator of operators) {
    if (!Object.hasOwn(APPLY_FIELD_UPDATE, operator)) {
      const supported = Object.keys(APPLY_FIELD_UPDATE).join(' ');
      throw new InvalidUpdateError(
        `unsupported update operator '${operator}'; supported: ${supported}`,
      );
    }
    const fields = update[operator as UpdateOperator];
    if (!isPlainObject(fields)) {
      throw new InvalidUpdateError(`${operator} needs an object of field paths`);
    }
    for (const [path, argument] of Object.entries(fields)) {
      assertUpdatablePath(path);
      fieldUpdates.push({ operator: operator as UpdateOperator, path, argument });
    }
  }
  assertNoConflicts(fieldUpdates.map(({ path }) => path));
  return fieldUpdates;
}

/** An empty segment (`a..b`, `.a`, `a.`) or a positional one (`$`, `$[]`). */
const UNSUPPORTED_PATH = /^$|^\.|\.$|\.\.|^\$|\.\$/;

function assertUpdatablePath(path: string): void {
  if (UNSUPPORTED_PATH.test(path)) {
    throw new InvalidUpdateError(
      `'${path}' is not a supported update path (empty or positional segments)`,
    );
  }
}

/** MongoDB refuses an update naming a path twice, or a path and a path inside it. */
function assertNoConflicts(paths: readonly string[]): void {
  if (!hasConflict(paths)) return;
  // Found again pair by pair, to name the first clash.
  for (const [index, path] of paths.entries()) {
    const clash = paths
      .slice(index + 1)
      .find(
        (other) => other === path || other.startsWith(`${path}.`) || path.startsWith(`${other}.`),
      );
    if (clash !== undefined) {
      throw new InvalidUpdateError(
        `Updating the path '${path}' would create a conflict at '${clash}'`,
      );
    }
  }
}

/** Linear in the number of paths: a bucket upsert names twenty of them. */
function hasConflict(paths: readonly string[]): boolean {
  const named = new Set(paths);
  if (named.size !== paths.length) return true;
  for (const path of paths) {
    for (let dot = path.indexOf('.'); dot !== -1; dot = path.indexOf('.', dot + 1)) {
      if (named.has(path.slice(0, dot))) return true;
    }
  }
  return false;
}

/** Applies a parsed update to the edit's document. $setOnInsert counts only when inserting. */
function applyFieldUpdates(
  edit: DocumentEdit,
  update: ParsedUpdate,
  mode: 'insert' | 'update',
): void {
  for (const { operator, path, argument } of update) {
    if (operator === '$setOnInsert' && mode === 'update') continue;
    if (isIdPath(path)) {
      assertIdKept(edit.document, operator, path, argument);
      continue;
    }
    APPLY_FIELD_UPDATE[operator](edit, path, argument);
  }
}

/** A change a write made: certainly one, or one only a comparison of the documents can tell. */
type Change = 'yes' | 'unknown';

/**
 * A copy of a document under an update, ready to be stored once the update is applied.
 * Values from the update are copied as they are written, so the result needs no second,
 * checking copy; a value JSON cannot keep is written as it is and leaves the document to
 * `toStoredDocument`, which refuses it naming its place. Each write notes whether it
 * changed the document, so that an update that changed nothing (an upsert of the same
 * values) is known without comparing the documents.
 */
class DocumentEdit {
  private change: Change | 'no' = 'no';
  private unchecked = false;

  constructor(readonly document: Document) {}

  /** What to write for a value from the update: a copy, or the value itself to be refused. */
  own(value: unknown): unknown {
    if (isJsonScalar(value)) return value;
    if (isJson(value)) return copyJson(value);
    this.unchecked = true;
    return value;
  }

  /** Writes a copy of the value at the path, creating the objects on the way. */
  set(path: string, value: unknown): void {
    const previous = writePath(this.document, path, this.own(value));
    if (previous === MISSING) this.noteChange('yes');
    else if (previous !== value) {
      this.noteChange(isJsonScalar(previous) && isJsonScalar(value) ? 'yes' : 'unknown');
    }
  }

  noteChange(change: Change): void {
    if (this.change !== 'yes') this.change = change;
  }

  /** The document to store; `current`, the document updated, when nothing changed. */
  result(current?: Document): Document {
    if (this.unchecked) {
      if (current && isEqual(this.document, current)) return current;
      return toStoredDocument(this.document);
    }
    if (!current || this.change === 'yes') return this.document;
    return this.change === 'no' || isEqual(this.document, current) ? current : this.document;
  }
}

function isIdPath(path: string): boolean {
  return path === '_id' || path.startsWith('_id.');
}

/** Setting _id to its own value is a no-op, as in MongoDB; anything else would change it. */
function assertIdKept(
  document: Document,
  operator: UpdateOperator,
  path: string,
  value: unknown,
): void {
  const setsSameId = (operator === '$set' || operator === '$setOnInsert') && path === '_id';
  if (setsSameId && value === document._id) return;
  throw new InvalidUpdateError(
    `Performing an update on the path '${path}' would modify the immutable field '_id'`,
  );
}

function incrementPath(edit: DocumentEdit, path: string, by: unknown): void {
  if (typeof by !== 'number' || !Number.isFinite(by)) {
    throw new InvalidUpdateError(`Cannot increment '${path}' with a non-numeric argument`);
  }
  const target = locatePath(edit.document, path);
  if (target.kind === 'found' && typeof target.value !== 'number') {
    throw new InvalidUpdateError(`Cannot apply $inc to a value of non-numeric type at '${path}'`);
  }
  edit.set(path, target.kind === 'found' ? (target.value as number) + by : by);
}

/** $max and $min: compared in MongoDB's order across types, set when missing. */
function replaceWhen(
  edit: DocumentEdit,
  path: string,
  value: unknown,
  replaces: (order: number) => boolean,
): void {
  const target = locatePath(edit.document, path);
  if (target.kind !== 'found' || replaces(compare(value, target.value))) edit.set(path, value);
}

/** The array at the path, created when missing; MongoDB refuses to treat anything else as one. */
function arrayAt(edit: DocumentEdit, path: string, operator: UpdateOperator): unknown[] {
  const target = locatePath(edit.document, path);
  if (target.kind === 'found') {
    if (!Array.isArray(target.value)) {
      throw new InvalidUpdateError(`Cannot apply ${operator} to the non-array value at '${path}'`);
    }
    return target.value;
  }
  const created: unknown[] = [];
  writePath(edit.document, path, created);
  edit.noteChange('yes');
  return created;
}

/** `value` or `{ $each: [values] }`. */
function valuesToAdd(operator: UpdateOperator, argument: unknown): unknown[] {
  if (!isPlainObject(argument) || !Object.hasOwn(argument, '$each')) return [argument];
  const { $each: values, ...modifiers } = argument;
  if (!Array.isArray(values)) throw new InvalidUpdateError(`${operator} needs an array in $each`);
  const unsupported = Object.keys(modifiers);
  if (unsupported.length > 0) {
    throw new InvalidUpdateError(`${operator} supports $each only, not ${unsupported.join(' ')}`);
  }
  return values;
}

function pullFromPath(edit: DocumentEdit, path: string, condition: unknown): void {
  const target = locatePath(edit.document, path);
  if (target.kind !== 'found') return;
  if (!Array.isArray(target.value)) {
    throw new InvalidUpdateError(`Cannot apply $pull to the non-array value at '${path}'`);
  }
  const pulled = pullCondition(condition);
  const kept = target.value.filter((element) => !pulled(element));
  writePath(edit.document, path, kept);
  if (kept.length !== target.value.length) edit.noteChange('yes');
}

/**
 * As in MongoDB: `{ $gte: 5 }` is tested against each element, a document is a query
 * on each element that is a document, anything else is compared whole.
 */
function pullCondition(condition: unknown): (element: unknown) => boolean {
  if (isOperatorExpression(condition)) {
    const query = compileFilter({ element: condition });
    return (element) => query.test({ element });
  }
  if (isPlainObject(condition)) {
    const query = compileFilter(condition);
    return (element) => isPlainObject(element) && query.test(element);
  }
  return (element) => isEqual(element, condition);
}

type PathTarget =
  | { readonly kind: 'found'; readonly value: unknown }
  | { readonly kind: 'missing' }
  /** The path runs into a scalar, null or an array with a non-numeric segment. */
  | {
      readonly kind: 'blocked';
      readonly field: string;
      readonly parentPath: string;
      readonly parent: unknown;
    };

const MISSING_TARGET: PathTarget = { kind: 'missing' };

function locatePath(document: Document, path: string): PathTarget {
  // A top-level field, the usual counter or flag: the document itself is a plain object.
  if (!path.includes('.')) {
    return Object.hasOwn(document, path)
      ? { kind: 'found', value: document[path] }
      : MISSING_TARGET;
  }
  const segments = path.split('.');
  let current: unknown = document;
  for (const [depth, segment] of segments.entries()) {
    const next = childOf(current, segment);
    if (next.kind !== 'found') {
      if (next.kind === 'missing') return next;
      return { ...next, parentPath: segments.slice(0, depth).join('.') };
    }
    current = next.value;
  }
  return { kind: 'found', value: current };
}

function childOf(
  container: unknown,
  segment: string,
): PathTarget | { readonly kind: 'blocked'; readonly field: string; readonly parent: unknown } {
  if (isPlainObject(container)) {
    return Object.hasOwn(container, segment)
      ? { kind: 'found', value: container[segment] }
      : { kind: 'missing' };
  }
  if (Array.isArray(container) && isArrayIndex(segment)) {
    const index = Number(segment);
    return index < container.length
      ? { kind: 'found', value: container[index] }
      : { kind: 'missing' };
  }
  return { kind: 'blocked', field: segment, parent: container };
}

/** What `writePath` replaced when there was nothing at the path. */
const MISSING = Symbol('missing');

/**
 * Sets the value at a dotted path, creating the objects on the way; an array index past
 * the end pads the array with nulls, as MongoDB does. Returns the value replaced.
 */
function writePath(document: Document, path: string, value: unknown): unknown {
  if (!path.includes('.')) {
    const previous = Object.hasOwn(document, path) ? document[path] : MISSING;
    (document as Record<string, unknown>)[path] = value;
    return previous;
  }
  const segments = path.split('.');
  let container: unknown = document;
  let previous: unknown = MISSING;
  for (const [depth, segment] of segments.entries()) {
    const last = depth === segments.length - 1;
    const child = childOf(container, segment);
    if (last && child.kind === 'found') previous = child.value;
    if (child.kind === 'blocked') {
      const parentPath = segments.slice(0, depth).join('.');
      throw new InvalidUpdateError(
        `Cannot create field '${segment}' in element {${parentPath}: ${JSON.stringify(child.parent)}}`,
      );
    }
    if (!last && child.kind === 'found') {
      container = child.value;
      continue;
    }
    const placed = last ? value : {};
    if (Array.isArray(container)) {
      const index = Number(segment);
      while (container.length < index) container.push(null);
      container[index] = placed;
    } else {
      (container as Record<string, unknown>)[segment] = placed;
    }
    container = placed;
  }
  return previous;
}

/**
 * Removes a field; an array element becomes null instead, as in MongoDB. Missing paths are
 * fine. Returns whether anything changed.
 */
function unsetPath(document: Document, path: string): boolean {
  const cut = path.lastIndexOf('.');
  const parent =
    cut === -1
      ? { kind: 'found' as const, value: document }
      : locatePath(document, path.slice(0, cut));
  if (parent.kind !== 'found') return false;
  const field = path.slice(cut + 1);
  if (isPlainObject(parent.value)) {
    if (!Object.hasOwn(parent.value, field)) return false;
    delete parent.value[field];
    return true;
  }
  if (
    Array.isArray(parent.value) &&
    isArrayIndex(field) &&
    Number(field) < parent.value.length &&
    parent.value[Number(field)] !== null
  ) {
    parent.value[Number(field)] = null;
    return true;
  }
  return false;
}

function isArrayIndex(segment: string): boolean {
  return /^\d+$/.test(segment);
}

// ---------------------------------------------------------------------------------------
// Values

/**
 * A validated deep copy: the cache never shares objects with callers. A document handed
 * over is kept as it is when it is JSON already.
 */
function toStoredDocument(document: Document, handedOver = false): Document {
  if (!isPlainObject(document) || typeof document._id !== 'string') {
    throw new UnsupportedValueError('_id', 'a document needs a string _id');
  }
  // Nearly always JSON already: checked without building the path of every field, which
  // storableCopy needs only to say where a value is refused (or an undefined one dropped).
  if (isJson(document)) return handedOver ? document : copyJson(document);
  return storableCopy(document, '') as Document;
}

/** A value storableCopy would copy as it is: JSON, with no undefined field to drop. */
function isJson(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) return value.every(isJson);
      if (!isPlainObject(value)) return false;
      for (const key of Object.keys(value)) if (!isJson(value[key])) return false;
      return true;
    }
    default:
      return false;
  }
}

function isJsonScalar(value: unknown): boolean {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    value === null ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function storableCopy(value: unknown, path: string): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value))
        throw new UnsupportedValueError(path, `${value} is not a finite number`);
      return value;
    case 'bigint':
      throw new UnsupportedValueError(
        path,
        'bigint is not JSON; store 64-bit numbers as decimal strings',
      );
    case 'object':
      return storableObjectCopy(value, path);
    default:
      throw new UnsupportedValueError(path, `${typeof value} is not JSON`);
  }
}

function storableObjectCopy(value: object | null, path: string): unknown {
  if (value === null) return null;
  if (value instanceof Date) {
    throw new UnsupportedValueError(
      path,
      'a Date would come back as a string; store an ISO-8601 string instead',
    );
  }
  if (Array.isArray(value))
    return value.map((item, index) => storableCopy(item, joinPath(path, String(index))));
  if (!isPlainObject(value)) {
    throw new UnsupportedValueError(
      path,
      `${value.constructor?.name ?? 'this object'} is not a plain JSON object`,
    );
  }
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (field !== undefined) copy[key] = storableCopy(field, joinPath(path, key));
  }
  return copy;
}

function joinPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/**
 * An object literal or JSON object. Compared by shape rather than by identity with this
 * realm's `Object.prototype`, because values may come from another realm (structuredClone
 * in a VM context, as under jest).
 */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

/** `{ $gt: 1 }` rather than an embedded document `{ a: 1 }`. */
function isOperatorExpression(value: unknown): value is Record<string, unknown> {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => key.startsWith('$'));
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}
