/**
 * Read models held in memory for one computation (an ad-hoc analysis over the log): a
 * projection runs over them exactly as over the stores, batch by batch, and the result is
 * read back and thrown away. Documents are kept as the projection hands them over:
 * projections never change a document in place, they put a new one.
 */
import { Aggregator, Query } from 'mingo';
import type { ProjectionSession } from '../../projections/projection';
import type {
  Document,
  Filter,
  FindOptions,
  PipelineStage,
  ReadCollection,
} from '../../projections/read-store';

export class MemoryReadModels implements ProjectionSession {
  private readonly collections = new Map<string, Map<string, Document>>();

  async get<T extends Document>(collection: string, id: string): Promise<T | null> {
    return (this.collections.get(collection)?.get(id) as T | undefined) ?? null;
  }

  async getMany<T extends Document>(
    collection: string,
    ids: readonly string[],
  ): Promise<(T | null)[]> {
    const documents = this.collections.get(collection);
    return ids.map((id) => (documents?.get(id) as T | undefined) ?? null);
  }

  put(collection: string, document: Document): void {
    this.documentsOf(collection).set(document._id, document);
  }

  delete(collection: string, id: string): void {
    this.collections.get(collection)?.delete(id);
  }

  /**
   * Operator updates need the store's update semantics, which only the stores implement;
   * a projection run in memory must put whole documents.
   */
  update(collection: string): void {
    throw new Error(
      `updates by operators (on ${collection}) are not available to a projection run in memory`,
    );
  }

  documents<T extends Document>(collection: string): T[] {
    return [...(this.collections.get(collection)?.values() ?? [])] as T[];
  }

  /**
   * A collection read with MongoDB's filters, sorts and aggregations (through mingo), so the
   * queries written for the stores answer from memory too. Documents are handed out as
   * stored: readers must not change them.
   */
  collection<T extends Document>(name: string): ReadCollection<T> {
    const all = () => this.documents<T>(name);
    const find = (filter: Filter, options: FindOptions = {}): T[] => {
      const cursor = new Query(filter).find(all(), options.projection ?? {});
      if (options.sort) cursor.sort(options.sort);
      if (options.skip !== undefined) cursor.skip(options.skip);
      if (options.limit !== undefined) cursor.limit(options.limit);
      return cursor.all() as T[];
    };
    return {
      findOne: async (filter) => find(filter, { limit: 1 })[0] ?? null,
      find: async (filter, options) => find(filter, options),
      count: async (filter = {}) => find(filter).length,
      aggregate: async <R>(pipeline: readonly PipelineStage[]) =>
        new Aggregator([...pipeline]).run(all()) as R[],
    };
  }

  private documentsOf(collection: string): Map<string, Document> {
    let documents = this.collections.get(collection);
    if (!documents) {
      documents = new Map();
      this.collections.set(collection, documents);
    }
    return documents;
  }
}
