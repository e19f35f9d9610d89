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
