/**
 * Helpers for subscriptions fed by the projectors' change feed.
 */

/**
 * A subscription stream that ends as soon as the client leaves. An async generator waiting
 * inside `for await` only notices `return()` once its source yields again, so a quiet
 * source would keep its listener forever; closing the source first ends that wait at once.
 */
export function closingWith<T>(
  source: AsyncIterator<unknown>,
  stream: AsyncGenerator<T>,
): AsyncIterableIterator<T> {
  const iterator: AsyncIterableIterator<T> = {
    next: () => stream.next(),
    async return() {
      await source.return?.();
      return stream.return(undefined);
    },
    async throw(error: unknown) {
      await source.return?.();
      return stream.throw(error);
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

/**
 * One tick per projector batch that changed a wanted document, however many documents it
 * changed: a batch's changes are published together, so once the first arrives the rest
 * are taken in (until the next macrotask) before the tick is handed out.
 */
export function batchTicks<T>(
  source: AsyncIterable<T>,
  wanted: (item: T) => boolean,
): AsyncIterableIterator<void> & { return(): Promise<IteratorResult<void>> } {
  const changes = source[Symbol.asyncIterator]();
  const done: IteratorResult<void> = { done: true, value: undefined };
  let pending = false;
  let ended = false;
  let closed = false;
  let failure: { error: unknown } | null = null;
  let wake: (() => void) | null = null;
  const signal = () => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  void (async () => {
    try {
      for (let next = await changes.next(); !next.done; next = await changes.next()) {
        if (wanted(next.value)) {
          pending = true;
          signal();
        }
      }
    } catch (error) {
      failure = { error };
    } finally {
      ended = true;
      signal();
    }
  })();
  return {
    async next() {
      while (!pending && !ended && !closed) await new Promise<void>((resolve) => (wake = resolve));
      if (closed) return done;
      if (pending) {
        await new Promise((resolve) => setImmediate(resolve));
        pending = false;
        return { done: false, value: undefined };
      }
      if (failure !== null) throw failure.error;
      return done;
    },
    async return() {
      closed = true;
      signal();
      await changes.return?.();
      return done;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
