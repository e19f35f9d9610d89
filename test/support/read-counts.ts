/**
 * Counts a store's document reads from now on, for tests that a projection reads in bulk:
 * `one` by `findOne`, `many` by `find` (`getMany` reads through `find`).
 */
import type { ReadCollection, ReadStore } from '../../src/projections/read-store';

export interface ReadCounts {
  one: number;
  many: number;
}

export function countReads(store: ReadStore): ReadCounts {
  const counts: ReadCounts = { one: 0, many: 0 };
  const collection = store.collection.bind(store);
  store.collection = ((name: string) => {
    const inner = collection(name);
    return {
      ...inner,
      findOne: (filter) => ((counts.one += 1), inner.findOne(filter)),
      find: (filter, options) => ((counts.many += 1), inner.find(filter, options)),
    } satisfies ReadCollection;
  }) as ReadStore['collection'];
  return counts;
}
