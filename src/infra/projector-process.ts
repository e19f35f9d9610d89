/**
 * A process with the `projector` role: a projector worker on the configured stores, with no
 * API. It runs the projections and process managers whose leases it takes; the API
 * processes follow what it commits through the read store.
 */
import type { Config } from './config';
import type { Logger } from './logger';
import { ChangeFeed } from './projections/change-feed';
import { startProjector } from './projections/projector';
import { openEventStore, openReadStore } from './stores';

export interface RunningProjectorProcess {
  readonly workerId: string;
  /** Stops every job at a checkpoint, lets the leases go, closes the stores. */
  stop(): Promise<void>;
}

export async function startProjectorProcess(
  config: Config,
  logger: Logger,
): Promise<RunningProjectorProcess> {
  const eventStore = await openEventStore(config.eventStore);
  const readStore = await openReadStore(config.readStore);
  const projector = await startProjector({
    eventStore,
    readStore,
    changeFeed: new ChangeFeed(),
    batchSize: config.projectionBatchSize,
    logger,
    leaseTtlMs: config.leaseTtlMs,
  });
  // The worker's timers do not hold a process open (tests stop them); with no server
  // listening, this one does until the process is stopped.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  let stopping: Promise<void> | null = null;
  return {
    workerId: projector.leases.workerId,
    stop: () =>
      (stopping ??= (async () => {
        logger.info('shutting down: stopping the projections at a checkpoint');
        clearInterval(keepAlive);
        await projector.stop();
        await eventStore.close();
        await readStore.close();
        logger.info('stopped');
      })()),
  };
}
