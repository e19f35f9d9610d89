/**
 * The projector worker (projector.ts) on a thread of its own, for the embedded stores.
 *
 * With the embedded stores the API thread would otherwise share its event loop with the
 * projectors, so every request would wait behind projector batches. Here the projector
 * thread owns the writes to the read-model file. The API thread learns what it committed
 * the way any other process sharing the file does: its follower ProjectionManager reads the
 * read store's commit notices (refreshing its cached copies of the changed documents first).
 * Appends reach it the same way: its log connection notices other connections' commits
 * within milliseconds. The messages below only start and stop the thread, and tell it
 * whether tracking ingestion is busy (its batches give way meanwhile).
 */
import type { Worker } from 'node:worker_threads';
import type { LogLevel } from '../config';
import type { Logger } from '../logger';
import { startThread } from '../shared/threads';

export type ToProjector =
  | { readonly type: 'ingestion'; readonly busy: boolean }
  | { readonly type: 'close' };

export type FromProjector =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly message: string };

export interface ProjectorThreadOptions {
  readonly eventStorePath: string;
  readonly readStorePath: string;
  readonly batchSize: number;
  readonly logLevel: LogLevel;
  readonly logger: Logger;
  readonly leaseTtlMs: number;
  /**
   * Called when the thread stops without being asked (a crash, its heap exhausted): the read
   * models no longer move, which the process must not hide.
   */
  readonly onLost?: (code: number) => void;
}

export class ProjectorThread {
  private worker: Worker | null = null;
  private closing = false;

  constructor(private readonly options: ProjectorThreadOptions) {}

  /** Resolves once the worker has taken its first leases. */
  start(): Promise<void> {
    const worker = startThread(__dirname, 'projector-worker', {
      eventStorePath: this.options.eventStorePath,
      readStorePath: this.options.readStorePath,
      batchSize: this.options.batchSize,
      logLevel: this.options.logLevel,
      leaseTtlMs: this.options.leaseTtlMs,
    });
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message: FromProjector) => {
        switch (message.type) {
          case 'ready':
            resolve();
            return;
          case 'failed':
            reject(new Error(`the projector thread failed to start: ${message.message}`));
            return;
        }
      });
      worker.on('error', (error) => {
        this.options.logger.error({ err: error }, 'projector thread failed');
        reject(error);
      });
      worker.on('exit', (code) => {
        // Gone: stopping it later has nothing to wait for.
        this.worker = null;
        if (!this.closing) {
          this.options.logger.fatal({ code }, 'projector thread exited');
          this.options.onLost?.(code);
        }
      });
    });
  }

  /** Tells the projector thread whether tracking ingestion is busy (see IngestionPriority). */
  ingestionBusy(busy: boolean): void {
    this.worker?.postMessage({ type: 'ingestion', busy } satisfies ToProjector);
  }

  /** Stops the worker's jobs at a checkpoint, lets its leases go, and ends the thread. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker || this.closing) return;
    this.closing = true;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage({ type: 'close' } satisfies ToProjector);
    await exited;
  }
}
