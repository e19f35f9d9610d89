/**
 * Runs one generation of one projection: reads the log after its checkpoint in batches,
 * lets the projection turn each batch into writes, and commits writes and checkpoint in one
 * atomic step, so a crash at any moment neither applies an event twice nor skips one.
 */
import type { RecordedEvent } from '../../domain/shared/events';
import type { DocumentChange, Projection, ReadDocument } from '../../projections/projection';
import type { Document, ReadStore, WriteBatch } from '../../projections/read-store';
import type { EventFilter, EventStore } from '../event-store/event-store';
import type { Logger } from '../logger';
import { CheckpointedLoop, type LoopState } from '../shared/checkpointed-loop';
import { projectBatch } from './batch-session';

export interface CommittedBatch {
  readonly projection: string;
  readonly position: bigint;
  readonly events: number;
  readonly changes: readonly DocumentChange[];
}

export type RunnerState = LoopState;

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
  /** The fence and the notice a batch is committed with, given what it will have done. */
  readonly seal?: (batch: CommittedBatch) => Pick<WriteBatch, 'fence' | 'notice'>;
  /** Awaited before each batch: lets more urgent work (ingestion) go first. */
  readonly beforeBatch?: () => Promise<void>;
}

export class ProjectionRunner {
  eventsProcessed = 0;
  private readonly loop: CheckpointedLoop;

  constructor(private readonly options: RunnerOptions) {
    this.loop = new CheckpointedLoop({
      name: options.checkpointName,
      kind: 'projection',
      eventStore: options.eventStore,
      readStore: options.readStore,
      filter: { eventTypes: options.projection.eventTypes },
      batchSize: options.batchSize,
      logger: options.logger,
      beforeBatch: options.beforeBatch,
      handle: (events, after) => this.apply(events, after),
    });
  }

  /** The events it reads now (see Projection.eventTypesNow). */
  get filter(): EventFilter {
    return this.loop.filter;
  }

  get name(): string {
    return this.options.checkpointName;
  }

  /** Position of the last event applied; `-1n` before the first. */
  get position(): bigint {
    return this.loop.position;
  }

  get state(): RunnerState {
    return this.loop.state;
  }

  get lastError(): string | null {
    return this.loop.lastError;
  }

  start(): void {
    this.loop.start();
  }

  /** Stops after the batch in progress is committed; resolves once it is. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async apply(events: readonly RecordedEvent[], after: bigint): Promise<void> {
    const { projection, readStore } = this.options;
    const { position, changes } = await projectBatch(
      readStore,
      projection,
      events,
      { name: this.name, after },
      this.options.physical,
      this.options.seal &&
        ((position, changes) =>
          this.options.seal?.({
            projection: projection.name,
            position,
            events: events.length,
            changes,
          }) ?? {}),
    );
    this.loop.committed(position);
    this.eventsProcessed += events.length;
    this.options.onCommitted({
      projection: projection.name,
      position,
      events: events.length,
      changes,
    });
    if (projection.eventTypesNow) {
      const { physical } = this.options;
      const read: ReadDocument = <T extends Document>(collection: string, id: string) =>
        readStore.collection<T>(physical(collection)).findOne({ _id: id });
      if (this.loop.narrowTo(await projection.eventTypesNow(read))) {
        // Whoever checks positions against this projection's filter must hear of the new one.
        this.options.onCommitted({ projection: projection.name, position, events: 0, changes: [] });
      }
    }
  }
}
