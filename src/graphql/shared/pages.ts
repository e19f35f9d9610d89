/**
 * A page of documents newest first (`createdAt`, then `_id`, both descending) with an opaque
 * cursor after the last one: the lists of saved definitions (funnels, experiments) read this way.
 */
import type { Document, Filter, ReadCollection } from '../../projections/read-store';
import { decodeCursor, encodeCursor, pageSize } from './arguments';

export async function newestFirst<T extends Document & { readonly createdAt: string }>(
  collection: ReadCollection<T>,
  matching: Filter,
  first: number | null | undefined,
  after: string | null | undefined,
): Promise<{
  documents: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}> {
  const limit = pageSize(first);
  let page: Filter = matching;
  if (after) {
    const [createdAt, id] = decodeCursor('after', after, 2);
    page = {
      $and: [
        matching,
        { $or: [{ createdAt: { $lt: createdAt } }, { createdAt, _id: { $lt: id } }] },
      ],
    };
  }
  const [found, totalCount] = await Promise.all([
    collection.find(page, { sort: { createdAt: -1, _id: -1 }, limit: limit + 1 }),
    collection.count(matching),
  ]);
  const documents = found.slice(0, limit);
  const last = documents.at(-1);
  return {
    documents,
    pageInfo: {
      hasNextPage: found.length > limit,
      endCursor: last ? encodeCursor([last.createdAt, last._id]) : null,
    },
    totalCount,
  };
}
