/**
 * Runs one generation of one projection: reads the log after its checkpoint in batches,
 * lets the projection turn each batch into writes, and commits writes and checkpoint in one
 * atomic step, so a crash at any moment neither applies an event twice nor skips one.
 */
import type { RecordedEvent } from '../../domain/shared/events';
import type { DocumentChange, Projection } from '../../projections/projection';
import { type ReadStore, StaleCheckpointError } from '../../projections/read-store';
import type { EventFilter, EventStore, EventSubscription } from '../event-store/event-store';
import type { Logger } from '../logger';
import { delay } from '../shared/async-queue';
import { BatchSession } from './batch-session';
import { batches } from './batches';

export interface CommittedBatch {
  readonly projection: string;
  readonly position: bigint;
  readonly events: number;
  readonly changes: readonly DocumentChange[];
}

export type RunnerState = 'starting' | 'running' | 'retrying' | 'stopped';

export interface RunnerOptions {
  readonly projection: Projection;
  readonly checkpointName: string;
  /** Maps the projection's logical collection names to this generation's physical ones. */
  readonly physical: (logical: string) => string;
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  readonly batchSize: number;
  readonly logger: Logger;
  readonly onCommitted: (batch: CommittedBatch) => void;
  /** Awaited before each batch: lets more urgent work (ingestion) go first. */
  readonly beforeBatch?: () => Promise<void>;
}

const MAX_RETRY_DELAY_MS = 30_000;

export class ProjectionRunner {
  /** Position of the last event applied; `-1n` before the first. */
  position = -1n;
  eventsProcessed = 0;
  state: RunnerState = 'starting';
  lastError: string | null = null;
  readonly filter: EventFilter;

  private subscription: EventSubscription | null = null;
  private stopping = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(private readonly options: RunnerOptions) {
    this.filter = { eventTypes: options.projection.eventTypes };
  }

  get name(): string {
    return this.options.checkpointName;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops after the batch in progress is committed; resolves once it is. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort(new Error('runner stopped'));
    await this.subscription?.close();
    await this.loop;
    this.state = 'stopped';
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    let failures = 0;
    while (!this.stopping) {
      try {
        const checkpoint = await this.options.readStore.getCheckpoint(this.name);
        this.position = checkpoint?.position ?? -1n;
        this.subscription = this.options.eventStore.subscribe({
          after: this.position >= 0n ? this.position : undefined,
          filter: this.filter,
        });
        // stop() may have come while the checkpoint was read, before there was a subscription to close.
        if (this.stopping) break;
        this.state = 'running';
        for await (const batch of batches(this.subscription, this.options.batchSize)) {
          await this.options.beforeBatch?.();
          await this.apply(batch);
          failures = 0;
          this.lastError = null;
          if (this.stopping) break;
        }
      } catch (error) {
        if (this.stopping) break;
        await this.subscription?.close();
        if (error instanceof StaleCheckpointError) {
          logger.warn(
            { projection: this.name, err: error.message },
            'checkpoint moved on elsewhere; re-reading it',
          );
          continue;
        }
        failures += 1;
        this.state = 'retrying';
        this.lastError = error instanceof Error ? error.message : String(error);
        const wait = Math.min(MAX_RETRY_DELAY_MS, 100 * 2 ** Math.min(failures, 10));
        logger.error(
          { projection: this.name, err: error, retryInMs: wait },
          'projection batch failed',
        );
        await delay(wait, this.abort.signal).catch(() => undefined);
      }
    }
    await this.subscription?.close();
  }

  private async apply(events: readonly RecordedEvent[]): Promise<void> {
    const { projection, readStore } = this.options;
    const session = new BatchSession(readStore, this.options.physical);
    await projection.project(events, session);
    const position = events[events.length - 1].position;
    await readStore.commit({
      operations: session.operations(),
      checkpoint: { name: this.name, position, after: this.position },
    });
    this.position = position;
    this.eventsProcessed += events.length;
    this.options.onCommitted({
      projection: projection.name,
      position,
      events: events.length,
      changes: session.changed(),
    });
  }
}
