/**
 * Entry point of the ingestion worker thread: parses, validates and appends tracking
 * messages on its own connection to the SQLite log, so a busy projector on the main thread
 * never holds up ingestion (and the other core does the work). See ingestion-thread.ts.
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { DomainError } from '../../domain/shared/errors';
import { SqliteEventStore } from '../event-store/sqlite-event-store';
import { createLogger, type Logger } from '../logger';
import type { LogLevel } from '../config';
import { TrackingService } from './tracking-service';
import type { WorkerReply, WorkerRequest } from './ingestion-thread';

interface IngestionWorkerData {
  readonly eventStorePath: string;
  readonly logLevel: LogLevel;
}

const { eventStorePath, logLevel } = workerData as IngestionWorkerData;
const logger: Logger = createLogger(logLevel).child({ thread: 'ingestion' });
const eventStore = SqliteEventStore.open({ path: eventStorePath });
const tracking = new TrackingService({
  eventStore,
  clock: () => new Date(),
  newId: randomUUID,
  logger,
});
const port = parentPort;
if (!port) throw new Error('ingestion-worker.ts runs as a worker thread');

port.on('message', (request: WorkerRequest | 'close') => {
  if (request === 'close') {
    void eventStore.close().then(() => port.close());
    return;
  }
  void handle(request).then((reply) => port.postMessage(reply));
});

async function handle(request: WorkerRequest): Promise<WorkerReply> {
  try {
    const { workspaceId, options } = request;
    const result =
      request.kind === 'batch'
        ? await tracking.ingestBatch(workspaceId, request.body, options)
        : request.kind === 'raw-batch'
          ? await tracking.ingestRawBatch(workspaceId, request.body, options)
          : await tracking.ingestMessage(workspaceId, request.body, request.type, options);
    return { id: request.id, ok: true, result };
  } catch (error) {
    if (error instanceof DomainError) {
      return {
        id: request.id,
        ok: false,
        error: {
          domain: true,
          kind: error.kind,
          reason: error.reason,
          field: error.field,
          message: error.message,
        },
      };
    }
    logger.error({ err: error }, 'ingestion failed on the worker thread');
    return {
      id: request.id,
      ok: false,
      error: { domain: false, message: error instanceof Error ? error.message : String(error) },
    };
  }
}
