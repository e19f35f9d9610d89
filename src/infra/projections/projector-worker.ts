/**
 * Entry point of the projector thread: runs every projection and the process managers on its
 * own connections to the SQLite log and the embedded read-model file, so the API thread
 * only answers requests. It reports each committed batch, with a snapshot of generations
 * and positions, to the API thread, which forgets the documents it changed and tells its
 * live subscribers. See projector-thread.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { campaignDecider, campaignStreamId } from '../../domain/campaign';
import { CommandHandler } from '../commands/command-handler';
import type { LogLevel } from '../config';
import { SqliteEventStore } from '../event-store/sqlite-event-store';
import { createLogger } from '../logger';
import { createProcessManagers } from '../process-managers/process-managers';
import { EmbeddedReadStore } from '../read-store/embedded-read-store';
import { IngestionPriority } from '../shared/ingestion-priority';
import { createProjectionManager } from './catalog';
import { ChangeFeed } from './change-feed';
import { UnknownProjectionError } from './projection-manager';
import type { FromProjector, ToProjector } from './projector-thread';

interface ProjectorWorkerData {
  readonly eventStorePath: string;
  readonly readStorePath: string;
  readonly batchSize: number;
  readonly logLevel: LogLevel;
  readonly maxYieldMs: number;
}

const port = parentPort;
if (!port) throw new Error('projector-worker.ts runs as a worker thread');
const options = workerData as ProjectorWorkerData;
const logger = createLogger(options.logLevel).child({ thread: 'projector' });
const eventStore = SqliteEventStore.open({ path: options.eventStorePath });
const readStore = EmbeddedReadStore.open({ path: options.readStorePath });
const changeFeed = new ChangeFeed();
// Mirrors the API thread's view of tracking ingestion: projector batches give way while it is busy.
const priority = new IngestionPriority(options.maxYieldMs);
let ingestionDone: (() => void) | null = null;
const manager = createProjectionManager({
  eventStore,
  readStore,
  changeFeed,
  batchSize: options.batchSize,
  logger,
  beforeBatch: () => priority.yieldToIngestion(),
});
const commands = new CommandHandler(eventStore);
const processManagers = createProcessManagers({
  eventStore,
  readStore,
  executeCampaignCommand: async (command) => {
    const streamId = campaignStreamId(command.metadata.workspaceId, command.data.campaignId);
    const result = await commands.handle(campaignDecider, streamId, command);
    return { revision: result.revision, position: result.position, replayed: result.replayed };
  },
  batchSize: options.batchSize,
  logger,
});
const send = (message: FromProjector) => port.postMessage(message);
changeFeed.listen((batch) => send({ type: 'committed', batch, snapshot: manager.snapshot() }));
// The process managers' commands append here: the API thread hears of them at once.
eventStore.onAppended(() => send({ type: 'appended' }));

port.on('message', (message: ToProjector) => {
  switch (message.type) {
    case 'appended':
      eventStore.appendedElsewhere();
      return;
    case 'ingestion':
      if (message.busy) ingestionDone ??= priority.begin();
      else {
        ingestionDone?.();
        ingestionDone = null;
      }
      return;
    case 'status':
      void answer(message.id, () => manager.status());
      return;
    case 'rebuild':
      void answer(message.id, () => manager.rebuild(message.name));
      return;
    case 'close':
      void close();
      return;
  }
});

void manager.start().then(
  () => {
    processManagers.start();
    send({ type: 'ready', snapshot: manager.snapshot() });
  },
  (error: unknown) => {
    logger.fatal({ err: error }, 'projector thread failed to start');
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  },
);

async function answer(id: number, work: () => Promise<unknown>): Promise<void> {
  try {
    send({ type: 'reply', id, ok: true, value: await work() });
  } catch (error) {
    send({
      type: 'reply',
      id,
      ok: false,
      error: {
        unknownProjection: error instanceof UnknownProjectionError,
        message: error instanceof Error ? error.message : String(error),
      },
    });
  }
}

async function close(): Promise<void> {
  await processManagers.stop();
  await manager.stop();
  await eventStore.close();
  await readStore.close();
  port?.close();
}
