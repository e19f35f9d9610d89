/**
 * Groups a pulled event stream into batches: a batch closes when it is full or when the
 * source has nothing more ready right now, so catch-up reads fill big batches while live
 * events are applied without waiting for company.
 */
const NOTHING_READY = Symbol('nothing-ready');

export async function* batches<T>(source: AsyncIterable<T>, maxSize: number): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | null = null;
  try {
    for (;;) {
      const first: IteratorResult<T> = await (pending ?? iterator.next());
      pending = null;
      if (first.done) return;
      const batch: T[] = [first.value];
      while (batch.length < maxSize) {
        pending = iterator.next();
        const result = await Promise.race([pending, nextMacrotask()]);
        if (result === NOTHING_READY) break;
        pending = null;
        if (result.done) {
          yield batch;
          return;
        }
        batch.push(result.value);
      }
      yield batch;
    }
  } finally {
    await iterator.return?.();
  }
}

function nextMacrotask(): Promise<typeof NOTHING_READY> {
  return new Promise((resolve) => setImmediate(() => resolve(NOTHING_READY)));
}
