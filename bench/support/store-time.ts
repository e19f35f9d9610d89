/**
 * How much of a projector's time goes to its read store: a ReadStore seen through
 * `StoreTime.watch` adds the time from each call of `commit` and of a collection's reads until
 * its promise settles. The embedded store does all its work inside the call; a server's store
 * (MongoDB) is waited on until the answer comes, and both count as the store's.
 */
import type { ReadCollection, ReadStore } from '../../src/projections/read-store';

const READS = new Set<PropertyKey>(['findOne', 'find', 'count', 'aggregate']);

export class StoreTime {
  private commitMs = 0;
  private readMs = 0;
  private commits = 0;
  private reads = 0;

  /** The same store, every commit and collection read timed into this account. */
  watch<S extends ReadStore>(store: S): S {
    return new Proxy(store, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        if (property === 'commit') {
          return (...args: unknown[]) =>
            this.timed(() => value.apply(target, args) as Promise<unknown>, 'commit');
        }
        if (property === 'collection') {
          return (...args: unknown[]) => this.watchCollection(value.apply(target, args));
        }
        return value.bind(target);
      },
    });
  }

  /** The account so far, for `since` to subtract from a later one. */
  snapshot(): StoreTimeFigures {
    return {
      commitMs: this.commitMs,
      readMs: this.readMs,
      commits: this.commits,
      reads: this.reads,
    };
  }

  /** What was spent from `earlier` (a `snapshot`) until now. */
  since(earlier: StoreTimeFigures): StoreTimeFigures {
    return {
      commitMs: this.commitMs - earlier.commitMs,
      readMs: this.readMs - earlier.readMs,
      commits: this.commits - earlier.commits,
      reads: this.reads - earlier.reads,
    };
  }

  private watchCollection(collection: ReadCollection): ReadCollection {
    return new Proxy(collection, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function' || !READS.has(property)) return value;
        return (...args: unknown[]) =>
          this.timed(() => value.apply(target, args) as Promise<unknown>, 'read');
      },
    });
  }

  private async timed<T>(call: () => Promise<T>, kind: 'commit' | 'read'): Promise<T> {
    const started = performance.now();
    try {
      return await call();
    } finally {
      const ms = performance.now() - started;
      if (kind === 'commit') {
        this.commitMs += ms;
        this.commits += 1;
      } else {
        this.readMs += ms;
        this.reads += 1;
      }
    }
  }
}

export interface StoreTimeFigures {
  readonly commitMs: number;
  readonly readMs: number;
  readonly commits: number;
  readonly reads: number;
}
