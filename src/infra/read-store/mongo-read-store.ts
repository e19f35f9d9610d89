/**
 * The production read store: MongoDB through the official driver. A batch and its
 * checkpoint are committed in one multi-document transaction, so a projector that crashes
 * mid-batch, or retries a batch whose outcome it never heard, applies each event once.
 * Needs a replica set (a single-node one is enough) or a sharded cluster.
 */
import { randomUUID } from 'node:crypto';
import {
  MongoClient,
  type ClientSession,
  type Collection,
  type Db,
  type Long,
  type TransactionOptions,
} from 'mongodb';
import {
  StaleCheckpointError,
  type Checkpoint,
  type Document,
  type Filter,
  type FindOptions,
  type PipelineStage,
  type ReadCollection,
  type ReadStore,
  type WriteBatch,
} from '../../projections/read-store';
import {
  CHECKPOINTS_COLLECTION,
  ascendingIndexKeys,
  assertReadOnlyPipeline,
  assertReadModelCollectionName,
  assertSupportsTransactions,
  decodePosition,
  encodePosition,
  groupIntoBulkWrites,
  isNamespaceNotFound,
  readModelCollectionNames,
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
    const { checkpoint } = batch;
    if (batch.operations.length === 0 && checkpoint === undefined) return;
    for (const operation of batch.operations) assertReadModelCollectionName(operation.collection);
    const groups = groupIntoBulkWrites(batch.operations, randomUUID);

    await this.client.withSession((session) =>
      session.withTransaction(async () => {
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
      }, BATCH_TRANSACTION),
    );
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

  async close(): Promise<void> {
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

  private readModel(name: string): Collection<Document> {
    assertReadModelCollectionName(name);
    return this.db.collection<Document>(this.physicalName(name));
  }

  private checkpoints(): Collection<CheckpointDocument> {
    return this.db.collection<CheckpointDocument>(this.physicalName(CHECKPOINTS_COLLECTION));
  }

  private physicalName(name: string): string {
    return this.prefix + name;
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
