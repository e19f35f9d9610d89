/**
 * The loop every log consumer with a checkpoint runs (projection runners, process
 * managers): read the checkpoint, subscribe to the log after it, hand each batch to
 * `handle` (which commits its writes with the new checkpoint), and on failure retry with
 * exponential backoff from the checkpoint; a checkpoint moved on by another worker is
 * re-read at once; a write refused by a lease's fence ends the loop. `stop()` lets the batch
 * in progress finish.
 */
import type { RecordedEvent } from '../../domain/shared/events';
import {
  FencedWriteError,
  type ReadStore,
  StaleCheckpointError,
} from '../../projections/read-store';
import type { EventFilter, EventStore, EventSubscription } from '../event-store/event-store';
import { batches } from '../projections/batches';
import type { Logger } from '../logger';
import { delay } from './async-queue';

export type LoopState = 'starting' | 'running' | 'retrying' | 'stopped';

export interface CheckpointedLoopOptions {
  /** The checkpoint's name, also the consumer's name in logs. */
  readonly name: string;
  /** What the consumer is, in log messages (`projection`, `process manager`). */
  readonly kind: string;
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  readonly filter: EventFilter;
  readonly batchSize: number;
  readonly logger: Logger;
  /** First retry delay; doubles per consecutive failure up to 30 s. */
  readonly retryDelayMs?: number;
  /** Awaited before each batch (see BatchScheduler); a stop does not wait for it. */
  readonly beforeBatch?: () => Promise<void>;
  /**
   * Handles one batch read after checkpoint `after` (`-1n`: none) and commits it with the
   * checkpoint at the batch's last position; throws to have it retried.
   */
  readonly handle: (events: readonly RecordedEvent[], after: bigint) => Promise<void>;
}

const MAX_RETRY_DELAY_MS = 30_000;

export class CheckpointedLoop {
  /** Position of the last event handled; `-1n` before the first. */
  position = -1n;
  state: LoopState = 'starting';
  lastError: string | null = null;

  private subscription: EventSubscription | null = null;
  private currentFilter: EventFilter;
  private stopping = false;
  private readonly abort = new AbortController();
  /** Settles when stop() is called: a batch waiting for its turn goes no further. */
  private readonly stopRequested = new Promise<void>((resolve) =>
    this.abort.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  private loop: Promise<void> | null = null;

  constructor(private readonly options: CheckpointedLoopOptions) {
    this.currentFilter = options.filter;
  }

  /** Which events it reads now. */
  get filter(): EventFilter {
    return this.currentFilter;
  }

  /**
   * Reads `eventTypes` from now on: the subscription is closed and opened again after the
   * checkpoint with the new filter. Called by `handle` after its commit; true when it changed.
   */
  narrowTo(eventTypes: readonly string[]): boolean {
    const current = this.currentFilter.eventTypes;
    const same =
      current !== undefined &&
      current.length === eventTypes.length &&
      current.every((type, index) => type === eventTypes[index]);
    if (same) return false;
    this.currentFilter = { ...this.currentFilter, eventTypes };
    void this.subscription?.close();
    return true;
  }

  /**
   * Called by `handle` right after its commit, before it tells anyone: whoever hears of the
   * commit must already see the new position.
   */
  committed(position: bigint): void {
    this.position = position;
  }

  /** True once stop() was called: a handler may abandon its batch. */
  get isStopping(): boolean {
    return this.stopping;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort(new Error(`${this.options.name} stopped`));
    await this.subscription?.close();
    await this.loop;
    this.state = 'stopped';
  }

  private async run(): Promise<void> {
    const { name, logger, readStore, eventStore } = this.options;
    let failures = 0;
    while (!this.stopping) {
      try {
        const checkpoint = await readStore.getCheckpoint(name);
        this.position = checkpoint?.position ?? -1n;
        this.subscription = eventStore.subscribe({
          after: this.position >= 0n ? this.position : undefined,
          filter: this.currentFilter,
        });
        // stop() may have come while the checkpoint was read, before there was a subscription to close.
        if (this.stopping) break;
        this.state = 'running';
        for await (const batch of batches(this.subscription, this.options.batchSize)) {
          if (this.options.beforeBatch) {
            await Promise.race([this.options.beforeBatch(), this.stopRequested]);
            if (this.stopping) break;
          }
          await this.options.handle(batch, this.position);
          this.position = batch[batch.length - 1].position;
          failures = 0;
          this.lastError = null;
          if (this.stopping) break;
        }
      } catch (error) {
        if (this.stopping) break;
        await this.subscription?.close();
        if (error instanceof StaleCheckpointError) {
          logger.warn(
            { consumer: name, err: error.message },
            'checkpoint moved on elsewhere; re-reading it',
          );
          continue;
        }
        if (error instanceof FencedWriteError) {
          // Another worker runs it now; the lease keeper's next round stops this one for good.
          logger.warn({ consumer: name, err: error.message }, 'lease lost: no longer running');
          break;
        }
        failures += 1;
        this.state = 'retrying';
        this.lastError = error instanceof Error ? error.message : String(error);
        const wait = Math.min(
          MAX_RETRY_DELAY_MS,
          (this.options.retryDelayMs ?? 100) * 2 ** Math.min(failures - 1, 10),
        );
        logger.error(
          { consumer: name, err: error, retryInMs: wait },
          `${this.options.kind} batch failed; it will run again`,
        );
        await delay(wait, this.abort.signal).catch(() => undefined);
      }
    }
    await this.subscription?.close();
    this.state = 'stopped';
  }
}
