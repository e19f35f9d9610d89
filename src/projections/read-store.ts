/**
 * The read store port, owned by the projections that write to it. Documents follow
 * MongoDB's model: JSON objects with a string `_id`, MongoDB query filters, update
 * operators and aggregation stages. Two adapters implement it (an embedded, durable store
 * with mingo semantics, and MongoDB) and both pass `test/contract/read-store.contract.ts`.
 */

export type Document = { _id: string } & Record<string, unknown>;

/** A MongoDB query filter, e.g. `{ status: { $in: ['ACTIVE'] } }`. */
export type Filter = Record<string, unknown>;

/**
 * MongoDB update operators. Supported by every adapter: $set, $unset, $inc, $max, $min,
 * $push (with $each), $addToSet (with $each), $pull, $setOnInsert.
 */
export type UpdateOperators = Partial<
  Record<
    '$set' | '$unset' | '$inc' | '$max' | '$min' | '$push' | '$addToSet' | '$pull' | '$setOnInsert',
    Record<string, unknown>
  >
>;

/** `1` ascending, `-1` descending, applied in key order. */
export type Sort = Record<string, 1 | -1>;

export interface FindOptions {
  readonly sort?: Sort;
  readonly skip?: number;
  readonly limit?: number;
  /** Inclusion or exclusion projection, e.g. `{ name: 1 }`. */
  readonly projection?: Record<string, 0 | 1>;
}

/** An aggregation stage; every adapter supports $match $group $sort $project $unwind $limit $skip $count. */
export type PipelineStage = Record<string, unknown>;

export interface ReadCollection<T extends Document = Document> {
  findOne(filter: Filter): Promise<T | null>;
  find(filter: Filter, options?: FindOptions): Promise<T[]>;
  count(filter?: Filter): Promise<number>;
  aggregate<R = Record<string, unknown>>(pipeline: readonly PipelineStage[]): Promise<R[]>;
}

/** One write of a batch. Filters of `updateOne` / `upsert` usually name `_id`. */
export type WriteOperation =
  | {
      readonly kind: 'updateOne';
      readonly collection: string;
      readonly filter: Filter;
      readonly update: UpdateOperators;
      readonly upsert?: boolean;
    }
  | {
      readonly kind: 'updateMany';
      readonly collection: string;
      readonly filter: Filter;
      readonly update: UpdateOperators;
    }
  | { readonly kind: 'replaceOne'; readonly collection: string; readonly document: Document }
  | { readonly kind: 'deleteOne'; readonly collection: string; readonly id: string }
  | { readonly kind: 'deleteMany'; readonly collection: string; readonly filter: Filter };

/** How far a projection (or process manager) has read the log. */
export interface Checkpoint {
  readonly name: string;
  /** Position of the last event applied. */
  readonly position: bigint;
  readonly updatedAt: Date;
}

export interface WriteBatch {
  readonly operations: readonly WriteOperation[];
  /**
   * The committer gives up the documents of its `replaceOne` operations (fresh copies it
   * keeps no reference to): a store may keep them rather than copy them once more.
   */
  readonly documentsHandedOver?: boolean;
  /**
   * Stored in the same atomic write as the operations. `after` is the checkpoint the batch
   * was read from (`-1n`: none yet); when given, the store refuses the batch unless that is
   * still the stored checkpoint, so two workers that read the same events cannot both
   * apply them.
   */
  readonly checkpoint?: {
    readonly name: string;
    readonly position: bigint;
    readonly after?: bigint;
  };
  /**
   * Refuses the batch with `FencedWriteError`, changing nothing, unless the lease is still
   * held under this fencing token (checked in the same atomic write): a worker that lost its
   * lease, and does not know it yet, cannot overwrite what the new holder wrote.
   */
  readonly fence?: { readonly lease: string; readonly token: number };
  /**
   * What the batch tells the processes that follow this store (`follow`), e.g. which
   * projection committed up to which position. Plain JSON, stored with the batch, in commit
   * order.
   */
  readonly notice?: StoreNotice;
}

/** A commit's message to the processes following the store: plain JSON. */
export type StoreNotice = Record<string, unknown>;

/**
 * Who runs a named job (a projection, a process manager) until `expiresAt`. The token grows
 * each time the lease changes hands; writes carry it as their fence.
 */
export interface Lease {
  readonly name: string;
  readonly holder: string;
  readonly token: number;
  readonly expiresAt: Date;
  /** What the holder last reported with a renewal (state, last error): plain JSON. */
  readonly report: StoreNotice | null;
}

export interface ReadStore {
  collection<T extends Document = Document>(name: string): ReadCollection<T>;
  /**
   * Applies the operations in order and stores the checkpoint, all or nothing. A batch
   * whose checkpoint is not ahead of the stored one, or whose `after` is not the stored one,
   * is refused with `StaleCheckpointError` and changes nothing, so an event is never applied
   * twice.
   */
  commit(batch: WriteBatch): Promise<void>;
  getCheckpoint(name: string): Promise<Checkpoint | null>;
  deleteCheckpoint(name: string): Promise<void>;
  dropCollection(name: string): Promise<void>;
  /**
   * Creates ascending compound indexes (field paths) if missing; idempotent. A store that
   * answers from memory may take them as a hint only.
   */
  ensureIndexes(collection: string, indexes: readonly (readonly string[])[]): Promise<void>;
  listCollections(): Promise<string[]>;
  /**
   * Takes the lease for `holder` when it is free, expired or already its own, for `ttlMs`
   * from now; null while another holder's lease runs. Taking it from another holder (or
   * for the first time) gives a new, larger token; extending one's own keeps the token.
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | null>;
  /**
   * Extends the lease by `ttlMs` from now and stores `report`, if `holder` still holds it under
   * `token` (expired but not taken by anyone counts as held); false when it was lost.
   */
  renewLease(
    name: string,
    holder: string,
    token: number,
    ttlMs: number,
    report?: StoreNotice,
  ): Promise<boolean>;
  /** Lets the lease go at once (if still held under `token`), keeping its token. */
  releaseLease(name: string, holder: string, token: number): Promise<void>;
  /** Every lease ever taken, expired ones included. */
  leases(): Promise<Lease[]>;
  /**
   * Calls `listener` with the notice of every batch committed through another connection
   * (another process or thread) from now on, in commit order. A store that caches documents
   * refreshes its copies of what the batch changed before the listener hears of it. Returns
   * the function that stops following.
   */
  follow(listener: (notice: StoreNotice) => void): () => void;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export class StaleCheckpointError extends Error {
  constructor(
    readonly checkpointName: string,
    readonly stored: bigint,
    readonly attempted: bigint,
  ) {
    super(
      `checkpoint ${checkpointName} is at ${stored.toString()}; refusing a batch that ends at ${attempted.toString()}`,
    );
    this.name = 'StaleCheckpointError';
  }
}

/** A write fenced by a lease that has since changed hands (see `WriteBatch.fence`). */
export class FencedWriteError extends Error {
  constructor(
    readonly lease: string,
    readonly token: number,
  ) {
    super(`lease ${lease} is no longer held under token ${token}; refusing the write`);
    this.name = 'FencedWriteError';
  }
}
