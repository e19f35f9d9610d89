/**
 * Whether projections reflect the log up to a position, and waiting (bounded) until they
 * do: the one implementation behind read-your-writes, in process or across threads.
 */
import type { EventFilter, EventStore } from '../event-store/event-store';
import type { ChangeFeed } from './change-feed';

/** How far one projection has read, and which events it reads. */
export interface ReadingProgress {
  /** Position of the last event applied; `-1n` before the first. */
  readonly position: bigint;
  readonly filter: EventFilter;
}

/**
 * True when the projection has applied `position`, or none of the events up to it concern
 * it (a projection's checkpoint only moves on the events it reads).
 */
export async function hasReached(
  eventStore: EventStore,
  progress: ReadingProgress,
  position: bigint,
): Promise<boolean> {
  if (progress.position >= position) return true;
  const [next] = await eventStore.readAll({
    after: progress.position >= 0n ? progress.position : undefined,
    maxCount: 1,
    filter: progress.filter,
  });
  return next === undefined || next.position > position;
}

/**
 * Resolves true once every projection `progressOf` lists has reached `position` (checked
 * again after each committed batch), false after `timeoutMs`. A projection listed as null
 * (none running) has not reached it.
 */
export async function waitUntilReached(options: {
  readonly eventStore: EventStore;
  readonly changeFeed: ChangeFeed;
  readonly position: bigint;
  readonly timeoutMs: number;
  readonly progressOf: () => readonly (ReadingProgress | null)[];
}): Promise<boolean> {
  const { eventStore, position } = options;
  const reachedAll = async () => {
    for (const progress of options.progressOf()) {
      if (!progress || !(await hasReached(eventStore, progress, position))) return false;
    }
    return true;
  };
  if (await reachedAll()) return true;
  return new Promise<boolean>((resolve) => {
    let checking = false;
    let again = false;
    let settled = false;
    const finish = (result: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unlisten();
      resolve(result);
    };
    const check = () => {
      // A commit while a check runs asks for another check, so the last one is never missed.
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      reachedAll().then(
        (reached) => {
          checking = false;
          if (reached) finish(true);
          else if (again) {
            again = false;
            check();
          }
        },
        () => finish(false),
      );
    };
    const timer = setTimeout(() => finish(false), options.timeoutMs);
    const unlisten = options.changeFeed.listen(check);
  });
}
