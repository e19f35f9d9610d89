/**
 * The documents one projection batch works on: each read once through the session, evolved in
 * memory event by event, and written once by `flush` (a document written for every event
 * would be copied and re-serialised each time). Documents are never changed in place: a
 * changed one is `set` anew.
 */
import type { ProjectionSession } from './projection';
import type { Document } from './read-store';

export class BatchDocuments {
  /** By collection, then id; null where the store has none (or the batch deleted it). */
  private readonly documents = new Map<string, Map<string, Document | null>>();
  private readonly written = new Map<string, Set<string>>();

  constructor(private readonly session: ProjectionSession) {}

  async get<T extends Document>(collection: string, id: string): Promise<T | null> {
    const documents = this.collection(collection);
    if (documents.has(id)) return (documents.get(id) ?? null) as T | null;
    const document = await this.session.get<T>(collection, id);
    documents.set(id, document);
    return document;
  }

  /**
   * Reads those of these documents the batch has not read yet, together, so that its `get`s of
   * them need no read of their own (a store on a server answers each read with a round trip).
   */
  async prefetch(collection: string, ids: Iterable<string>): Promise<void> {
    const documents = this.collection(collection);
    const unread = [...new Set(ids)].filter((id) => !documents.has(id));
    if (unread.length === 0) return;
    const found = await this.session.getMany(collection, unread);
    unread.forEach((id, index) => {
      if (!documents.has(id)) documents.set(id, found[index]);
    });
  }

  set(collection: string, document: Document): void {
    this.collection(collection).set(document._id, document);
    this.writtenIn(collection).add(document._id);
  }

  delete(collection: string, id: string): void {
    this.collection(collection).set(id, null);
    this.writtenIn(collection).add(id);
  }

  /** Hands every document the batch changed to the session. */
  flush(): void {
    for (const [collection, ids] of this.written) {
      const documents = this.collection(collection);
      for (const id of ids) {
        const document = documents.get(id) ?? null;
        if (document === null) this.session.delete(collection, id);
        else this.session.put(collection, document);
      }
    }
    this.written.clear();
  }

  private collection(name: string): Map<string, Document | null> {
    let documents = this.documents.get(name);
    if (!documents) {
      documents = new Map();
      this.documents.set(name, documents);
    }
    return documents;
  }

  private writtenIn(collection: string): Set<string> {
    let ids = this.written.get(collection);
    if (!ids) {
      ids = new Set();
      this.written.set(collection, ids);
    }
    return ids;
  }
}
