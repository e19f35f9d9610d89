/**
 * The ProjectionSession the runner hands to a projection for one batch: it reads through to
 * the read store, remembers what the batch wrote, and turns it into one atomic write.
 */
import type { RecordedEvent } from '../../domain/shared/events';
import type { DocumentChange, Projection, ProjectionSession } from '../../projections/projection';
import type {
  Document,
  Filter,
  ReadStore,
  UpdateOperators,
  WriteBatch,
  WriteOperation,
} from '../../projections/read-store';

/** Ids per read of `getMany`: a MongoDB query stays small, and the answers come in a few. */
const GET_MANY_CHUNK = 1_000;

export class BatchSession implements ProjectionSession {
  /** Whole documents written (or deleted: null) in this batch, by physical collection and id. */
  private readonly written = new Map<string, Map<string, Document | null>>();
  private readonly updates: WriteOperation[] = [];
  /** Documents changed through operators: reading them back in the same batch would be stale. */
  private readonly updatedIds = new Set<string>();
  private readonly changes = new Map<string, DocumentChange>();

  constructor(
    private readonly store: ReadStore,
    private readonly physical: (logical: string) => string,
  ) {}

  async get<T extends Document>(collection: string, id: string): Promise<T | null> {
    this.refuseMixing(collection, id);
    const written = this.written.get(collection);
    if (written?.has(id)) return copyDocument(written.get(id) ?? null) as T | null;
    return this.store.collection<T>(this.physical(collection)).findOne({ _id: id });
  }

  async getMany<T extends Document>(
    collection: string,
    ids: readonly string[],
  ): Promise<(T | null)[]> {
    const written = this.written.get(collection);
    const unread = new Set<string>();
    for (const id of ids) {
      this.refuseMixing(collection, id);
      if (!written?.has(id)) unread.add(id);
    }
    const stored = new Map<string, T>();
    const reads = this.store.collection<T>(this.physical(collection));
    const pending = [...unread];
    for (let start = 0; start < pending.length; start += GET_MANY_CHUNK) {
      const chunk = pending.slice(start, start + GET_MANY_CHUNK);
      for (const document of await reads.find({ _id: { $in: chunk } })) {
        stored.set(document._id, document);
      }
    }
    return ids.map((id) =>
      written?.has(id)
        ? (copyDocument(written.get(id) ?? null) as T | null)
        : (stored.get(id) ?? null),
    );
  }

  put(collection: string, document: Document): void {
    this.refuseMixing(collection, document._id);
    this.writtenIn(collection).set(document._id, copyDocument(document));
    this.noteChange(collection, document._id, document.workspaceId);
  }

  delete(collection: string, id: string): void {
    this.refuseMixing(collection, id);
    this.writtenIn(collection).set(id, null);
    this.noteChange(collection, id, undefined);
  }

  update(
    collection: string,
    filter: Filter,
    update: UpdateOperators,
    options?: { upsert?: boolean },
  ): void {
    const id = typeof filter._id === 'string' ? filter._id : undefined;
    this.updates.push({
      kind: 'updateOne',
      collection: this.physical(collection),
      filter,
      update,
      upsert: options?.upsert ?? false,
    });
    if (id !== undefined) {
      this.updatedIds.add(key(collection, id));
      this.noteChange(collection, id, filter.workspaceId);
    }
  }

  operations(): WriteOperation[] {
    const wholeDocuments: WriteOperation[] = [];
    for (const [collection, documents] of this.written) {
      const physical = this.physical(collection);
      for (const [id, document] of documents) {
        wholeDocuments.push(
          document === null
            ? { kind: 'deleteOne', collection: physical, id }
            : { kind: 'replaceOne', collection: physical, document },
        );
      }
    }
    // The documents are the session's own copies, which it never changes: the store may
    // keep them rather than copy them again.
    return [...wholeDocuments, ...this.updates];
  }

  changed(): DocumentChange[] {
    return [...this.changes.values()];
  }

  /** Operator updates are applied after whole documents, so the two must not meet on one id. */
  private refuseMixing(collection: string, id: string): void {
    if (this.updatedIds.size > 0 && this.updatedIds.has(key(collection, id))) {
      throw new Error(
        `projection touched ${collection}/${id} as a whole after updating it by operators in the same batch`,
      );
    }
  }

  private writtenIn(collection: string): Map<string, Document | null> {
    let documents = this.written.get(collection);
    if (!documents) {
      documents = new Map();
      this.written.set(collection, documents);
    }
    return documents;
  }

  private noteChange(collection: string, id: string, workspaceId: unknown): void {
    this.changes.set(key(collection, id), {
      collection,
      id,
      ...(typeof workspaceId === 'string' && { workspaceId }),
    });
  }
}

/**
 * A deep copy, so that neither the projection nor the session changes what the other
 * holds. Documents are mostly plain objects, copied by a walk (several times faster than
 * structuredClone); anything else, such as a Date for a store that keeps dates, goes
 * through structuredClone, which also refuses what it cannot copy.
 */
function copyDocument<T>(value: T): T {
  if (typeof value !== 'object' || value === null) {
    return typeof value === 'function' || typeof value === 'symbol'
      ? structuredClone(value)
      : value;
  }
  if (Array.isArray(value)) return value.map(copyDocument) as T;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== null && Object.getPrototypeOf(prototype) !== null)
    return structuredClone(value);
  const copy: Record<string, unknown> = {};
  for (const field of Object.keys(value)) {
    copy[field] = copyDocument((value as Record<string, unknown>)[field]);
  }
  return copy as T;
}

function key(collection: string, id: string): string {
  return `${collection}\u0000${id}`;
}

/**
 * One batch of a projection: its writes and the checkpoint that follows them (the name it is
 * stored under, and the position the batch was read after) committed in one atomic step.
 * Answers the batch's last position and the documents it changed.
 */
export async function projectBatch(
  readStore: ReadStore,
  projection: Projection,
  events: readonly RecordedEvent[],
  checkpoint: { readonly name: string; readonly after: bigint },
  physical: (logical: string) => string,
  seal?: (
    position: bigint,
    changes: readonly DocumentChange[],
  ) => Pick<WriteBatch, 'fence' | 'notice'>,
): Promise<{ position: bigint; changes: DocumentChange[] }> {
  const session = new BatchSession(readStore, physical);
  await projection.project(events, session);
  const position = events[events.length - 1].position;
  const changes = session.changed();
  await readStore.commit({
    operations: session.operations(),
    // The session's operations carry fresh copies of its documents.
    documentsHandedOver: true,
    checkpoint: { name: checkpoint.name, position, after: checkpoint.after },
    ...seal?.(position, changes),
  });
  return { position, changes };
}
