/**
 * The production read store: MongoDB through the official driver. A batch and its
 * checkpoint are committed in one multi-document transaction, so a projector that crashes
 * mid-batch, or retries a batch whose outcome it never heard, applies each event once.
 * Needs a replica set (a single-node one is enough) or a sharded cluster: transactions and
 * the change streams behind `follow` both do (docker-compose.yml runs a single-node set).
 *
 * Leases live in `_leases`, timed by the server's clock. A batch's fence and notice are
 * written in the batch's transaction; notices go to `_notices`, which followers watch
 * through a change stream and which a TTL index keeps to the last few minutes.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as pause } from 'node:timers/promises';
import {
  MongoClient,
  type ChangeStream,
  type ChangeStreamInsertDocument,
  type ClientSession,
  type Collection,
  type Db,
  type Long,
  type ObjectId,
  type ResumeToken,
  type TransactionOptions,
} from 'mongodb';
import {
  FencedWriteError,
  StaleCheckpointError,
  type Checkpoint,
  type Document,
  type Filter,
  type FindOptions,
  type Lease,
  type PipelineStage,
  type ReadCollection,
  type ReadStore,
  type StoreNotice,
  type WriteBatch,
} from '../../projections/read-store';
import {
  CHECKPOINTS_COLLECTION,
  LEASES_COLLECTION,
  NOTICES_COLLECTION,
  ascendingIndexKeys,
  assertReadOnlyPipeline,
  assertReadModelCollectionName,
  assertSupportsTransactions,
  decodePosition,
  encodePosition,
  groupIntoBulkWrites,
  isDuplicateKey,
  isNamespaceNotFound,
  isResumeTokenLost,
  readModelCollectionNames,
  renewLeaseUpdate,
  takeLeaseUpdate,
  takeableLeaseFilter,
  toLease,
  type LeaseDocument,
} from './mongo-mapping';

export interface MongoReadStoreOptions {
  /** e.g. `mongodb://mongo:27017/?replicaSet=rs0`; driver settings (timeouts, TLS) go in its query string. */
  readonly url: string;
  readonly database: string;
  /** Prepended to every collection name, so several stores (or test runs) can share a database. */
  readonly collectionPrefix?: string;
  /** How long `ping` waits for an answer before reporting the store as down. Default 2000. */
  readonly pingTimeoutMs?: number;
}

/** The checkpoint as stored; `position` is an Int64, read back as a bigint. */
interface CheckpointDocument {
  _id: string;
  position: Long | bigint | number;
  updatedAt: Date;
}

/** A commit's notice as stored; `writer` names the store instance that committed it. */
interface NoticeDocument {
  _id?: ObjectId;
  writer: string;
  notice: StoreNotice;
  at: Date;
}

/**
 * Followers need a notice for as long as a change stream may take to resume after an
 * outage; five minutes is ample, and keeps the collection small.
 */
const NOTICES_EXPIRE_AFTER_SECONDS = 300;
/** How long a follower waits before opening its change stream again after the driver gave up. */
const FOLLOW_RETRY_MS = 1000;

/**
 * Snapshot reads see the checkpoint as of the transaction's start, and a concurrent commit of
 * the same checkpoint makes one of the two fail with a write conflict (labelled
 * TransientTransactionError), which `withTransaction` retries from the top: the retry reads
 * the new checkpoint and refuses the batch as stale. Majority write concern makes a commit
 * survive a failover once acknowledged.
 */
const BATCH_TRANSACTION: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: { w: 'majority' },
  readPreference: 'primary',
};

const DEFAULT_PING_TIMEOUT_MS = 2000;

export class MongoReadStore implements ReadStore {
  /** Names this instance's notices, so its own followers skip them. */
  private readonly writerId = randomUUID();
  private readonly followers = new Set<NoticeFollower>();
  /** The TTL index on notices, created before the first commit with a notice. */
  private noticesExpire: Promise<void> | undefined;

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    private readonly prefix: string,
    private readonly pingTimeoutMs: number,
  ) {}

  static async connect(options: MongoReadStoreOptions): Promise<MongoReadStore> {
    if (options.database.length === 0)
      throw new RangeError('the MongoDB read store needs a database name');
    // Documents are JSON-like: a field set to undefined is left out, as JSON.stringify does,
    // instead of being stored as null (the driver's default).
    const client = new MongoClient(options.url, { ignoreUndefined: true });
    await client.connect();
    try {
      assertSupportsTransactions(await client.db('admin').command({ hello: 1 }));
    } catch (error) {
      await client.close();
      throw error;
    }
    return new MongoReadStore(
      client,
      client.db(options.database),
      options.collectionPrefix ?? '',
      options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS,
    );
  }

  collection<T extends Document = Document>(name: string): ReadCollection<T> {
    return new MongoReadCollection<T>(this.readModel(name));
  }

  /**
   * If the commit's acknowledgement is lost (UnknownTransactionCommitResult), the driver
   * retries commitTransaction itself, which the server treats as idempotent, for up to
   * 120 s; only then does the error reach the caller, with the outcome still unknown. The
   * batch and its checkpoint landed together or not at all, so the stored checkpoint tells
   * which: a projector that re-reads it resumes after the batch or replays it, and one that
   * retries the same batch blindly is refused with StaleCheckpointError if it had landed.
   * Either way no event is applied twice.
   */
  async commit(batch: WriteBatch): Promise<void> {
    const { checkpoint, fence, notice } = batch;
    const writesNothing = batch.operations.length === 0 && checkpoint === undefined;
    if (writesNothing && fence === undefined && notice === undefined) return;
    for (const operation of batch.operations) assertReadModelCollectionName(operation.collection);
    const groups = groupIntoBulkWrites(batch.operations, randomUUID);
    // Indexes cannot be created inside a transaction on a collection that already exists.
    if (notice !== undefined) await this.ensureNoticesExpire();

    await this.client.withSession((session) =>
      session.withTransaction(async () => {
        if (fence !== undefined) await this.refuseFencedWrite(fence, session);
        if (checkpoint !== undefined) await this.refuseStaleCheckpoint(checkpoint, session);
        // One at a time: operations of a transaction must not run in parallel.
        for (const group of groups) {
          await this.readModel(group.collection).bulkWrite(group.operations, {
            session,
            ordered: true,
          });
        }
        if (checkpoint !== undefined) {
          await this.checkpoints().updateOne(
            { _id: checkpoint.name },
            // The server's clock, so checkpoints written by different workers compare fairly.
            {
              $set: { position: encodePosition(checkpoint.position) },
              $currentDate: { updatedAt: true },
            },
            { upsert: true, session },
          );
        }
        if (notice !== undefined) {
          // The client's clock: the TTL only needs to be right to within minutes.
          await this.notices().insertOne(
            { writer: this.writerId, notice, at: new Date() },
            { session },
          );
        }
      }, BATCH_TRANSACTION),
    );
  }

  /**
   * One atomic findAndModify: it takes the lease when it is free, run out or already the
   * caller's. When another holder's lease runs, the filter matches nothing and the upsert
   * tries to insert a second document with the lease's `_id`, which the unique `_id` index
   * refuses (E11000); two workers creating the same new lease at once end the same way for
   * the slower one. Either way the lease is someone else's: null.
   */
  async acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    try {
      const taken = await this.leaseDocuments().findOneAndUpdate(
        takeableLeaseFilter(name, holder),
        takeLeaseUpdate(holder, ttlMs),
        { upsert: true, returnDocument: 'after' },
      );
      return taken === null ? null : toLease(taken);
    } catch (error) {
      if (isDuplicateKey(error)) return null;
      throw error;
    }
  }

  async renewLease(
    name: string,
    holder: string,
    token: number,
    ttlMs: number,
    report?: StoreNotice,
  ): Promise<boolean> {
    const { matchedCount } = await this.leaseDocuments().updateOne(
      { _id: name, holder, token },
      renewLeaseUpdate(ttlMs, report),
    );
    return matchedCount === 1;
  }

  /** The epoch rather than the server's now: in the past on every clock, and plainly a release. */
  async releaseLease(name: string, holder: string, token: number): Promise<void> {
    await this.leaseDocuments().updateOne(
      { _id: name, holder, token },
      { $set: { expiresAt: new Date(0) } },
    );
  }

  async leases(): Promise<Lease[]> {
    const stored = await this.leaseDocuments()
      .find({}, { sort: { _id: 1 } })
      .toArray();
    return stored.map(toLease);
  }

  /**
   * A change stream on the notices collection, from the moment the server opens it (the
   * stream's first request leaves at once, but a commit racing it may land just before).
   * Each notice is delivered once its transaction is majority-committed, in commit order;
   * this store keeps no cache, so a follower that hears a notice already reads what the
   * batch wrote. Needs a replica set or a sharded cluster, as transactions do.
   */
  follow(listener: (notice: StoreNotice) => void): () => void {
    const follower = new NoticeFollower(this.notices(), this.writerId, listener);
    this.followers.add(follower);
    return () => {
      this.followers.delete(follower);
      void follower.stop();
    };
  }

  async getCheckpoint(name: string): Promise<Checkpoint | null> {
    const stored = await this.checkpoints().findOne({ _id: name }, { useBigInt64: true });
    if (stored === null) return null;
    return { name, position: decodePosition(stored.position), updatedAt: stored.updatedAt };
  }

  async deleteCheckpoint(name: string): Promise<void> {
    await this.checkpoints().deleteOne({ _id: name });
  }

  async dropCollection(name: string): Promise<void> {
    assertReadModelCollectionName(name);
    try {
      // Driver 7 already answers false for a missing collection; older servers and drivers
      // raised "ns not found", which means the same here: the collection is gone.
      await this.db.dropCollection(this.physicalName(name));
    } catch (error) {
      if (!isNamespaceNotFound(error)) throw error;
    }
  }

  async listCollections(): Promise<string[]> {
    const collections = await this.db.listCollections({}, { nameOnly: true }).toArray();
    return readModelCollectionNames(collections, this.prefix);
  }

  /**
   * Bounded by an abort signal: a readiness probe must answer quickly, while the driver
   * waits 30 s by default to find a server (and `timeoutMS` has no effect in driver 7).
   * `Db#command` on the admin database, not `Admin#command`, which drops the signal.
   */
  async ping(): Promise<boolean> {
    try {
      const reply = await this.client
        .db('admin')
        .command({ ping: 1 }, { signal: AbortSignal.timeout(this.pingTimeoutMs) });
      return reply.ok === 1;
    } catch {
      return false;
    }
  }

  /** Followers first, so that none opens its stream again on the client being closed. */
  async close(): Promise<void> {
    const followers = [...this.followers];
    this.followers.clear();
    await Promise.all(followers.map((follower) => follower.stop()));
    await this.client.close();
  }

  /**
   * Creates one ascending compound index per field list (a projection's `indexes` hint).
   * Idempotent: an index with the same keys gets the same default name, and the server
   * treats creating it again as a no-op.
   */
  async ensureIndexes(collection: string, indexes: readonly (readonly string[])[]): Promise<void> {
    if (indexes.length === 0) return;
    await this.readModel(collection).createIndexes(
      indexes.map((fields) => ({ key: ascendingIndexKeys(fields) })),
    );
  }

  private async refuseStaleCheckpoint(
    checkpoint: NonNullable<WriteBatch['checkpoint']>,
    session: ClientSession,
  ): Promise<void> {
    const stored = await this.checkpoints().findOne(
      { _id: checkpoint.name },
      { session, useBigInt64: true },
    );
    const storedPosition = stored === null ? -1n : decodePosition(stored.position);
    const moved = checkpoint.after !== undefined && checkpoint.after !== storedPosition;
    if (moved || (stored !== null && storedPosition >= checkpoint.position)) {
      // Not a MongoError, so withTransaction aborts the transaction and rethrows it as is.
      throw new StaleCheckpointError(checkpoint.name, storedPosition, checkpoint.position);
    }
  }

  /**
   * Writes to the lease document, not only reads it: a takeover that commits while this
   * transaction runs then conflicts with it (and the retried transaction sees the new token)
   * instead of slipping past a snapshot read.
   */
  private async refuseFencedWrite(
    fence: NonNullable<WriteBatch['fence']>,
    session: ClientSession,
  ): Promise<void> {
    const { matchedCount } = await this.leaseDocuments().updateOne(
      { _id: fence.lease, token: fence.token },
      { $currentDate: { lastWriteAt: true } },
      { session },
    );
    if (matchedCount === 0) throw new FencedWriteError(fence.lease, fence.token);
  }

  /** Once per store; a failed attempt is tried again with the next commit that has a notice. */
  private ensureNoticesExpire(): Promise<void> {
    this.noticesExpire ??= this.notices()
      .createIndex({ at: 1 }, { expireAfterSeconds: NOTICES_EXPIRE_AFTER_SECONDS })
      .then(
        () => undefined,
        (error: unknown) => {
          this.noticesExpire = undefined;
          throw error;
        },
      );
    return this.noticesExpire;
  }

  private readModel(name: string): Collection<Document> {
    assertReadModelCollectionName(name);
    return this.db.collection<Document>(this.physicalName(name));
  }

  private checkpoints(): Collection<CheckpointDocument> {
    return this.db.collection<CheckpointDocument>(this.physicalName(CHECKPOINTS_COLLECTION));
  }

  private leaseDocuments(): Collection<LeaseDocument> {
    return this.db.collection<LeaseDocument>(this.physicalName(LEASES_COLLECTION));
  }

  private notices(): Collection<NoticeDocument> {
    return this.db.collection<NoticeDocument>(this.physicalName(NOTICES_COLLECTION));
  }

  private physicalName(name: string): string {
    return this.prefix + name;
  }
}

/**
 * One `follow`: a change stream of other writers' notices that outlives outages. The
 * driver resumes the stream by itself after a resumable error (a failover, a dropped
 * connection); when it gives up (no server within the selection timeout), this opens a new
 * stream after a pause, from the last resume token, so nothing the oplog still holds is
 * missed. Only a token the oplog has lost makes it start again from the present.
 */
class NoticeFollower {
  private readonly stopping = new AbortController();
  private stream: ChangeStream<NoticeDocument, ChangeStreamInsertDocument<NoticeDocument>>;
  /** Where the next stream starts: null for the present. */
  private resumeToken: ResumeToken = null;
  private readonly running: Promise<void>;

  constructor(
    private readonly notices: Collection<NoticeDocument>,
    private readonly writerId: string,
    private readonly listener: (notice: StoreNotice) => void,
  ) {
    this.stream = this.open();
    this.running = this.run();
  }

  /** Delivers nothing from the moment it is called; resolves once the stream is closed. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.stream.close();
    await this.running;
  }

  private open(): ChangeStream<NoticeDocument, ChangeStreamInsertDocument<NoticeDocument>> {
    return this.notices.watch<NoticeDocument, ChangeStreamInsertDocument<NoticeDocument>>(
      [{ $match: { operationType: 'insert', 'fullDocument.writer': { $ne: this.writerId } } }],
      // Left out rather than undefined, which could reach the server as null.
      this.resumeToken === null ? {} : { resumeAfter: this.resumeToken },
    );
  }

  private async run(): Promise<void> {
    const { signal } = this.stopping;
    while (!signal.aborted) {
      try {
        for (;;) {
          const change = await this.stream.next();
          if (signal.aborted) return;
          this.resumeToken = this.stream.resumeToken;
          this.deliver(change.fullDocument.notice);
        }
      } catch (error) {
        if (signal.aborted) return;
        // The stream that failed has closed itself; its token (the one it started from, if it
        // got no further) says where the next one starts.
        this.resumeToken = isResumeTokenLost(error) ? null : (this.stream.resumeToken ?? null);
      }
      try {
        await pause(FOLLOW_RETRY_MS, undefined, { signal });
      } catch {
        return; // stopped while waiting
      }
      this.stream = this.open();
    }
  }

  /**
   * The listener owns its errors (this store has no logger to report them to); one that
   * throws must not end the stream for the notices after it.
   */
  private deliver(notice: StoreNotice): void {
    try {
      this.listener(notice);
    } catch {
      // deliberately ignored: see above
    }
  }
}

class MongoReadCollection<T extends Document> implements ReadCollection<T> {
  constructor(private readonly collection: Collection<Document>) {}

  async findOne(filter: Filter): Promise<T | null> {
    return (await this.collection.findOne(filter)) as T | null;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    const { sort, skip, limit, projection } = options;
    const documents = await this.collection
      .find(filter, { sort, skip, limit, projection })
      .toArray();
    return documents as T[];
  }

  async count(filter: Filter = {}): Promise<number> {
    return this.collection.countDocuments(filter);
  }

  async aggregate<R = Record<string, unknown>>(pipeline: readonly PipelineStage[]): Promise<R[]> {
    assertReadOnlyPipeline(pipeline);
    const results = await this.collection.aggregate([...pipeline]).toArray();
    return results as R[];
  }
}
