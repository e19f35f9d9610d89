/**
 * Whole documents of one collection as a projection handles one batch: each is read from
 * the session at most once, and its latest version written once at the end of the batch,
 * however many events of the batch change it (every read and write through the session
 * copies the document).
 */
import type { ProjectionSession } from '../projection';
import type { Document } from '../read-store';

export class BatchDocuments<T extends Document> {
  private readonly documents = new Map<string, T | null>();
  private readonly changedIds = new Set<string>();

  constructor(
    private readonly session: ProjectionSession,
    private readonly collection: string,
  ) {}

  /** The document as the batch has left it so far. */
  async get(id: string): Promise<T | null> {
    const known = this.documents.get(id);
    if (known !== undefined || this.documents.has(id)) return known ?? null;
    const stored = await this.session.get<T>(this.collection, id);
    this.documents.set(id, stored);
    return stored;
  }

  /** Keeps the document's new version, to be written by `flush`. */
  set(document: T): void {
    this.documents.set(document._id, document);
    this.changedIds.add(document._id);
  }

  /** The documents set in this batch, in their latest version. */
  changed(): T[] {
    return [...this.changedIds].map((id) => this.documents.get(id) as T);
  }

  /** Writes every document set in this batch, once. */
  flush(): void {
    for (const document of this.changed()) this.session.put(this.collection, document);
    this.changedIds.clear();
  }
}
