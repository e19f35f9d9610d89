/**
 * A projection that pins its inputs when a generation starts (funnel definitions, attribution
 * settings) is recomputed whenever they change: a fresh generation starts over the log while
 * the old one serves. It starts when the projection that keeps the inputs commits a change,
 * and once at start when the serving generation pinned other inputs than the current ones (a
 * change that landed while the server was down).
 */
import type { Logger } from '../logger';
import type { ChangeFeed } from './change-feed';
import type { ProjectionManager } from './projection-manager';

export interface PinnedInputs {
  readonly manager: ProjectionManager;
  readonly changeFeed: ChangeFeed;
  readonly logger: Logger;
  /** The projection that computes with the pinned inputs. */
  readonly projection: string;
  /** The projection, and its collection, that keeps the inputs. */
  readonly inputs: { readonly projection: string; readonly collection: string };
  /** What the inputs are, for the logs (e.g. "funnel definitions"). */
  readonly what: string;
  /**
   * The serving generation's pinned inputs and the current ones, each as one comparable
   * string; `pinned` is null when the generation has pinned nothing yet.
   */
  readonly pinned: () => Promise<string | null>;
  readonly current: () => Promise<string>;
}

/** Watches the inputs; returns a function that stops watching. */
export async function watchPinnedInputs(options: PinnedInputs): Promise<() => void> {
  const { manager, changeFeed, logger, projection, inputs, what } = options;
  const restart = (why: string) =>
    manager.rebuild(projection, { restart: true }).then(
      () => logger.info({ projection }, why),
      (error: unknown) => logger.error({ err: error, projection }, 'could not start recomputing'),
    );
  const stop = changeFeed.listen((batch) => {
    if (batch.projection !== inputs.projection) return;
    if (batch.changes.some((change) => change.collection === inputs.collection)) {
      void restart(`${what} changed: recomputing ${projection} from the log`);
    }
  });
  const pinned = await options.pinned();
  if (pinned !== null && pinned !== (await options.current())) {
    await restart(`${what} changed while stopped: recomputing ${projection} from the log`);
  }
  return stop;
}
