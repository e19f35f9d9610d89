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
