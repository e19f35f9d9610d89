/**
 * The pure half of the MongoDB read store: how the port's values become driver values.
 * Nothing here talks to a server, so all of it is unit-tested without one.
 */
import {
  Long,
  MongoServerError,
  type AnyBulkWriteOperation,
  type Document as MongoDocument,
  type UpdateFilter,
  type WithoutId,
} from 'mongodb';
import type {
  Document,
  Filter,
  Lease,
  PipelineStage,
  StoreNotice,
  UpdateOperators,
  WriteOperation,
} from '../../projections/read-store';

/** Holds one document per checkpoint name; hidden from `listCollections`. */
export const CHECKPOINTS_COLLECTION = '_checkpoints';
/** Holds one document per lease name; hidden from `listCollections`. */
export const LEASES_COLLECTION = '_leases';
/** Holds the notices of recent commits, for followers; hidden from `listCollections`. */
export const NOTICES_COLLECTION = '_notices';

/** The store's own collections, which no read model may use. */
const STORE_COLLECTIONS: readonly string[] = [
  CHECKPOINTS_COLLECTION,
  LEASES_COLLECTION,
  NOTICES_COLLECTION,
];

/** The largest position a BSON Int64 (signed) can hold. */
export const MAX_POSITION = 2n ** 63n - 1n;

/**
 * Positions are stored as BSON Int64 (`Long`): the server compares, sorts and indexes them
 * numerically, and the shell shows them as numbers. A zero-padded decimal string would order
 * correctly too, but only as long as every writer pads it the same way.
 */
export function encodePosition(position: bigint): Long {
  if (position < 0n || position > MAX_POSITION) {
    // Long.fromBigInt silently wraps values outside the signed 64-bit range.
    throw new RangeError(`log position ${position.toString()} is outside 0..2^63-1`);
  }
  return Long.fromBigInt(position);
}

/**
 * Reads a stored position back. The driver hands an Int64 out as a bigint (with
 * `useBigInt64`), as a Long (with `promoteLongs: false`, or by default above 2^53) or as a
 * number (by default, up to 2^53); all three mean the same position.
 */
export function decodePosition(stored: unknown): bigint {
  if (typeof stored === 'bigint') return stored;
  if (Long.isLong(stored)) return stored.toBigInt();
  // BSON promotes an Int64 to a number up to 2^53 inclusive, where it is still exact.
  if (typeof stored === 'number' && Number.isInteger(stored) && Math.abs(stored) <= 2 ** 53) {
    return BigInt(stored);
  }
  throw new TypeError(`stored checkpoint position is not a 64-bit integer: ${String(stored)}`);
}

/**
 * Read-model collection names must stay clear of the store's own collections and of the
 * server's own namespaces, or a projection could overwrite either.
 */
export function assertReadModelCollectionName(name: string): void {
  if (name.length === 0) throw new RangeError('a read-model collection name must not be empty');
  if (STORE_COLLECTIONS.includes(name))
    throw new RangeError(`${name} is reserved for the store's own use`);
  if (name.startsWith('system.'))
    throw new RangeError(`collection names starting with "system." are reserved: ${name}`);
  if (name.includes('$') || name.includes('\0'))
    throw new RangeError(`invalid collection name: ${name}`);
}

/**
 * Maps one write of a batch to the driver's bulk model.
 *
 * An upsert whose filter does not fix `_id` by equality would make the server invent an
 * ObjectId; the port promises string ids, so such an upsert sets a fresh string id on insert
 * instead (the embedded store does the same).
 * `newId` is called when the operation is mapped, before the transaction starts, so a
 * retried transaction inserts the same id.
 */
export function toBulkOperation(
  operation: WriteOperation,
  newId: () => string,
): AnyBulkWriteOperation<Document> {
  switch (operation.kind) {
    case 'updateOne': {
      const upsert = operation.upsert ?? false;
      const update =
        upsert && !fixesIdByEquality(operation.filter)
          ? withStringIdOnInsert(operation.update, newId)
          : operation.update;
      return { updateOne: { filter: operation.filter, update: toDriverUpdate(update), upsert } };
    }
    case 'updateMany':
      return { updateMany: { filter: operation.filter, update: toDriverUpdate(operation.update) } };
    case 'replaceOne':
      return {
        replaceOne: {
          filter: { _id: operation.document._id },
          replacement: withoutId(operation.document),
          upsert: true,
        },
      };
    case 'deleteOne':
      return { deleteOne: { filter: { _id: operation.id } } };
    case 'deleteMany':
      return { deleteMany: { filter: operation.filter } };
    default: {
      const unknown: never = operation;
      throw new TypeError(`unknown write operation ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * True when an upsert takes its `_id` from the filter: `{ _id: 'x' }`, `{ _id: { $eq: 'x' } }`,
 * or either of those inside `$and`, as the server derives an inserted document's fields.
 */
export function fixesIdByEquality(filter: Filter): boolean {
  const condition = filter._id;
  if (condition instanceof RegExp) return false;
  if (condition !== undefined && !isOperatorExpression(condition)) return true;
  if (isOperatorExpression(condition) && Object.hasOwn(condition, '$eq')) return true;
  const clauses = filter.$and;
  return Array.isArray(clauses) && clauses.some((clause) => fixesIdByEquality(clause as Filter));
}

function isOperatorExpression(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => key.startsWith('$'));
}

/**
 * The port types operator arguments loosely (read models are schemaless at this layer) while
 * the driver types them per field; the server validates them either way.
 */
function toDriverUpdate(update: UpdateOperators): UpdateFilter<Document> {
  return update as UpdateFilter<Document>;
}

function withStringIdOnInsert(update: UpdateOperators, newId: () => string): UpdateOperators {
  const setOnInsert = update.$setOnInsert ?? {};
  if ('_id' in setOnInsert) return update;
  return { ...update, $setOnInsert: { ...setOnInsert, _id: newId() } };
}

/** The server takes the id from the filter; leaving it out of the replacement avoids a mismatch error. */
function withoutId(document: Document): WithoutId<Document> {
  const { _id: _ignored, ...fields } = document;
  return fields;
}

/** A run of consecutive writes to one collection, sent as one ordered bulkWrite. */
export interface BulkWriteGroup {
  readonly collection: string;
  readonly operations: AnyBulkWriteOperation<Document>[];
}

/**
 * Splits a batch into runs of consecutive writes to the same collection. Only consecutive
 * writes are merged: reordering writes across collections would be harmless, but within a
 * collection the batch's order is the meaning (an upsert, then an update of that document).
 */
export function groupIntoBulkWrites(
  operations: readonly WriteOperation[],
  newId: () => string,
): BulkWriteGroup[] {
  const groups: { collection: string; operations: AnyBulkWriteOperation<Document>[] }[] = [];
  for (const operation of operations) {
    const last = groups.at(-1);
    const bulkOperation = toBulkOperation(operation, newId);
    if (last !== undefined && last.collection === operation.collection)
      last.operations.push(bulkOperation);
    else groups.push({ collection: operation.collection, operations: [bulkOperation] });
  }
  return groups;
}

/** `['workspaceId', 'status']` becomes `{ workspaceId: 1, status: 1 }`; key order is the index order. */
export function ascendingIndexKeys(fields: readonly string[]): Record<string, 1> {
  if (fields.length === 0) throw new RangeError('an index needs at least one field');
  const keys: Record<string, 1> = {};
  for (const field of fields) keys[field] = 1;
  return keys;
}

/** The logical read-model names among a database's collections, as `listCollections` returns them. */
export function readModelCollectionNames(
  collections: readonly { readonly name: string; readonly type?: string }[],
  prefix: string,
): string[] {
  return collections
    .filter((collection) => (collection.type ?? 'collection') === 'collection')
    .map((collection) => collection.name)
    .filter((name) => name.startsWith(prefix))
    .map((name) => name.slice(prefix.length))
    .filter(
      (name) => !STORE_COLLECTIONS.includes(name) && !name.startsWith('system.') && name.length > 0,
    )
    .sort();
}

/**
 * Transactions need a replica set member or a mongos. Checked once at connect, so a
 * standalone server fails at start with a clear message, not at the first batch with
 * "Transaction numbers are only allowed on a replica set member or mongos".
 */
export function assertSupportsTransactions(hello: MongoDocument): void {
  const isReplicaSetMember = typeof hello.setName === 'string';
  const isMongos = hello.msg === 'isdbgrid';
  if (!isReplicaSetMember && !isMongos) {
    throw new Error(
      'the MongoDB read store needs a replica set or a sharded cluster (transactions); ' +
        'start mongod with --replSet and run rs.initiate(), and name the set in the URL (?replicaSet=rs0)',
    );
  }
}

/** Writes go through `commit`; a pipeline ending in $out or $merge would bypass the checkpoint. */
export function assertReadOnlyPipeline(pipeline: readonly PipelineStage[]): void {
  for (const stage of pipeline) {
    const writing = Object.keys(stage).find(
      (operator) => operator === '$out' || operator === '$merge',
    );
    if (writing !== undefined) {
      throw new Error(`${writing} is not supported by the read store: write through commit()`);
    }
  }
}

/** Error 26 (NamespaceNotFound, "ns not found"): dropping a collection that is already gone. */
export function isNamespaceNotFound(error: unknown): boolean {
  return (
    error instanceof MongoServerError &&
    (error.code === 26 || error.codeName === 'NamespaceNotFound')
  );
}

/** A lease as stored; `expiresAt` is the server's time. */
export interface LeaseDocument {
  _id: string;
  holder: string;
  token: number;
  expiresAt: Date;
  /** Missing until the holder first reports. */
  report?: StoreNotice;
  /** When a batch fenced by this lease last committed (written so that the fence conflicts). */
  lastWriteAt?: Date;
}

/**
 * Leases are timed by the server's clock (`$$NOW`), never the caller's, so workers on
 * machines whose clocks disagree still agree on whether a lease has run out.
 */
export function leaseTtlFromNow(ttlMs: number): MongoDocument {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new RangeError(`a lease needs a positive time to live, not ${ttlMs}`);
  return { $add: ['$$NOW', ttlMs] };
}

/** Matches the lease `holder` may take: its own, or one that has run out. */
export function takeableLeaseFilter(name: string, holder: string): MongoDocument {
  return { _id: name, $or: [{ holder }, { $expr: { $lte: ['$expiresAt', '$$NOW'] } }] };
}

/**
 * The pipeline update that gives a lease to `holder`: every field of one `$set` stage is
 * computed from the document as it was, so `$holder` and `$token` are the previous holder's.
 * A new holder gets the next token (1 for a lease never taken); the same holder keeps its
 * token, so its fenced writes in flight stay valid. The report stays until the holder
 * renews, as in the embedded store. `$literal`: a holder name starting with `$` is not a
 * field path.
 */
export function takeLeaseUpdate(holder: string, ttlMs: number): MongoDocument[] {
  const sameHolder = { $eq: ['$holder', { $literal: holder }] };
  return [
    {
      $set: {
        token: { $cond: [sameHolder, '$token', { $add: [{ $ifNull: ['$token', 0] }, 1] }] },
        holder: { $literal: holder },
        expiresAt: leaseTtlFromNow(ttlMs),
      },
    },
  ];
}

/** Extends a lease from the server's now and stores the report, when one is given. */
export function renewLeaseUpdate(ttlMs: number, report: StoreNotice | undefined): MongoDocument[] {
  const expiresAt = leaseTtlFromNow(ttlMs);
  // `$literal`: a report is plain JSON, not an expression to evaluate.
  return [
    { $set: report === undefined ? { expiresAt } : { expiresAt, report: { $literal: report } } },
  ];
}

export function toLease(stored: LeaseDocument): Lease {
  return {
    name: stored._id,
    holder: stored.holder,
    token: stored.token,
    expiresAt: stored.expiresAt,
    report: stored.report ?? null,
  };
}

/** Error 11000: an insert (here, an upsert's) found the `_id` taken. */
export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}

/**
 * The change stream cannot resume from its token: the oplog no longer holds that point
 * (286, ChangeStreamHistoryLost) or the server will never resume this stream (280,
 * ChangeStreamFatalError). Retrying with the same token would fail forever.
 */
export function isResumeTokenLost(error: unknown): boolean {
  return error instanceof MongoServerError && (error.code === 286 || error.code === 280);
}
