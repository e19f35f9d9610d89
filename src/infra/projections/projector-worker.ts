/**
 * Entry point of the projector thread: a projector worker (projector.ts) on its own
 * connections to the SQLite log and the embedded read-model file, so the API thread only
 * answers requests. The API thread follows what it commits through the read store, as any
 * other process would (see projector-thread.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LogLevel } from '../config';
import { SqliteEventStore } from '../event-store/sqlite-event-store';
import { createLogger } from '../logger';
import { EmbeddedReadStore } from '../read-store/embedded-read-store';
import { BatchScheduler } from './batch-scheduler';
import { ChangeFeed } from './change-feed';
import { type RunningProjector, startProjector } from './projector';
import type { FromProjector, ToProjector } from './projector-thread';

interface ProjectorWorkerData {
  readonly eventStorePath: string;
  readonly readStorePath: string;
  readonly batchSize: number;
  readonly logLevel: LogLevel;
  readonly leaseTtlMs: number;
}

const port = parentPort;
if (!port) throw new Error('projector-worker.ts runs as a worker thread');
const options = workerData as ProjectorWorkerData;
const logger = createLogger(options.logLevel).child({ thread: 'projector' });
const eventStore = SqliteEventStore.open({ path: options.eventStorePath });
const readStore = EmbeddedReadStore.open({ path: options.readStorePath });
// Told by the API thread whether tracking ingestion is busy, from before the projector runs.
const scheduler = new BatchScheduler();
let projector: RunningProjector | null = null;
const send = (message: FromProjector) => port.postMessage(message);

port.on('message', (message: ToProjector) => {
  switch (message.type) {
    case 'ingestion':
      scheduler.ingestionBusy(message.busy);
      return;
    case 'close':
      void close();
      return;
  }
});

void startProjector({
  eventStore,
  readStore,
  changeFeed: new ChangeFeed(),
  batchSize: options.batchSize,
  logger,
  leaseTtlMs: options.leaseTtlMs,
  scheduler,
}).then(
  (running) => {
    projector = running;
    send({ type: 'ready' });
  },
  (error: unknown) => {
    logger.fatal({ err: error }, 'projector thread failed to start');
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  },
);

async function close(): Promise<void> {
  await projector?.stop();
  await eventStore.close();
  await readStore.close();
  port?.close();
}
