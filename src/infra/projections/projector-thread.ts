/**
 * The projections on a thread of their own, seen from the API thread as `Projectors`.
 *
 * With the embedded stores the API thread would otherwise share its event loop with the
 * projectors, so every request would wait behind projector batches. Here the projector
 * thread owns the writes to the read-model file; after each committed batch it sends the
 * batch (what changed) and a snapshot (generations, positions, rebuild progress). The API
 * thread then forgets its cached copies of the changed documents — its own connection reads
 * them again from the file as committed — and only then tells its live subscribers, so a
 * subscriber always reads the batch's result.
 */
import type { Worker } from 'node:worker_threads';
import type { Projection } from '../../projections/projection';
import type { LogLevel } from '../config';
import type { EventStore } from '../event-store/event-store';
import type { Logger } from '../logger';
import type { EmbeddedReadStore } from '../read-store/embedded-read-store';
import { startThread } from '../shared/threads';
import type { ChangeFeed } from './change-feed';
import {
  physicalName,
  type ProjectionStatus,
  type Projectors,
  type ProjectorSnapshot,
  type RebuildProgress,
  UnknownProjectionError,
} from './projection-manager';
import type { CommittedBatch } from './projection-runner';
import { waitUntilReached } from './reaching';

export type ToProjector =
  | { readonly type: 'appended' }
  | { readonly type: 'ingestion'; readonly busy: boolean }
  | { readonly type: 'status'; readonly id: number }
  | { readonly type: 'rebuild'; readonly id: number; readonly name: string }
  | { readonly type: 'close' };

export type FromProjector =
  | { readonly type: 'ready'; readonly snapshot: ProjectorSnapshot }
  | { readonly type: 'failed'; readonly message: string }
  | {
      readonly type: 'committed';
      readonly batch: CommittedBatch;
      readonly snapshot: ProjectorSnapshot;
    }
  | { readonly type: 'appended' }
  | {
      readonly type: 'reply';
      readonly id: number;
      readonly ok: boolean;
      readonly value?: unknown;
      readonly error?: { readonly unknownProjection: boolean; readonly message: string };
    };

export interface ProjectorThreadOptions {
  readonly projections: readonly Projection[];
  readonly eventStorePath: string;
  readonly readStorePath: string;
  /** This thread's connections: the log (for read-your-writes) and the read models it serves. */
  readonly eventStore: EventStore;
  readonly readStore: EmbeddedReadStore;
  readonly changeFeed: ChangeFeed;
  readonly batchSize: number;
  readonly logLevel: LogLevel;
  readonly logger: Logger;
  /** The longest a projector batch waits while ingestion is busy. */
  readonly maxYieldMs: number;
  /** Called when the projector thread appended (the budget guard's commands). */
  readonly onAppended: () => void;
  /**
   * Called when the thread stops without being asked (a crash, its heap exhausted): the read
   * models no longer move, which the process must not hide.
   */
  readonly onLost?: (code: number) => void;
}

export class ProjectorThread implements Projectors {
  private worker: Worker | null = null;
  private snapshot: ProjectorSnapshot = {
    generations: {},
    positions: {},
    filters: {},
    rebuilds: {},
  };
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private nextId = 1;
  private closing = false;

  constructor(private readonly options: ProjectorThreadOptions) {}

  start(): Promise<void> {
    const worker = startThread(__dirname, 'projector-worker', {
      eventStorePath: this.options.eventStorePath,
      readStorePath: this.options.readStorePath,
      batchSize: this.options.batchSize,
      logLevel: this.options.logLevel,
      maxYieldMs: this.options.maxYieldMs,
    });
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message: FromProjector) => {
        switch (message.type) {
          case 'ready':
            this.snapshot = message.snapshot;
            resolve();
            return;
          case 'failed':
            reject(new Error(`the projector thread failed to start: ${message.message}`));
            return;
          case 'committed':
            this.committed(message.batch, message.snapshot);
            return;
          case 'appended':
            this.options.onAppended();
            return;
          case 'reply':
            this.settle(message);
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
        for (const { reject: fail } of this.pending.values())
          fail(new Error('the projector thread stopped'));
        this.pending.clear();
        if (!this.closing) {
          this.options.logger.fatal({ code }, 'projector thread exited');
          this.options.onLost?.(code);
        }
      });
    });
  }

  /** Tells the projector thread that this thread (or the ingestion thread) appended. */
  appended(): void {
    this.worker?.postMessage({ type: 'appended' } satisfies ToProjector);
  }

  /** Tells the projector thread whether tracking ingestion is busy (see IngestionPriority). */
  ingestionBusy(busy: boolean): void {
    this.worker?.postMessage({ type: 'ingestion', busy } satisfies ToProjector);
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker || this.closing) return;
    this.closing = true;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage({ type: 'close' } satisfies ToProjector);
    await exited;
  }

  collection(logical: string): string {
    const owner = this.options.projections.find((projection) =>
      projection.collections.includes(logical),
    );
    if (!owner) throw new Error(`no projection owns the collection ${logical}`);
    return physicalName(logical, this.snapshot.generations[owner.name] ?? 1);
  }

  names(): string[] {
    return this.options.projections.map((projection) => projection.name);
  }

  waitForPosition(
    position: bigint,
    timeoutMs: number,
    names?: readonly string[],
  ): Promise<boolean> {
    return waitUntilReached({
      eventStore: this.options.eventStore,
      changeFeed: this.options.changeFeed,
      position,
      timeoutMs,
      progressOf: () =>
        (names ?? this.names()).map((name) => {
          const projection = this.options.projections.find((candidate) => candidate.name === name);
          if (!projection) throw new UnknownProjectionError(name);
          return {
            position: this.snapshot.positions[name] ?? -1n,
            filter: this.snapshot.filters[name] ?? { eventTypes: projection.eventTypes },
          };
        }),
    });
  }

  status(): Promise<ProjectionStatus[]> {
    return this.request({ type: 'status', id: this.nextId++ }) as Promise<ProjectionStatus[]>;
  }

  rebuild(name: string): Promise<RebuildProgress> {
    return this.request({ type: 'rebuild', id: this.nextId++, name }).catch((error: unknown) => {
      throw error instanceof Error && error.name === 'UnknownProjection'
        ? new UnknownProjectionError(name)
        : error;
    }) as Promise<RebuildProgress>;
  }

  rebuildProgress(name: string): RebuildProgress | null {
    return this.snapshot.rebuilds[name] ?? null;
  }

  private committed(batch: CommittedBatch, snapshot: ProjectorSnapshot): void {
    const previous = this.snapshot;
    this.snapshot = snapshot;
    const projection = this.options.projections.find(
      (candidate) => candidate.name === batch.projection,
    );
    if (
      projection &&
      previous.generations[projection.name] !== snapshot.generations[projection.name]
    ) {
      // A rebuild took over: nothing cached of either generation can be trusted.
      for (const logical of projection.collections) {
        this.options.readStore.invalidate(
          physicalName(logical, previous.generations[projection.name] ?? 1),
        );
        this.options.readStore.invalidate(
          physicalName(logical, snapshot.generations[projection.name] ?? 1),
        );
      }
    }
    const generation = snapshot.generations[batch.projection] ?? 1;
    const byCollection = new Map<string, string[]>();
    for (const change of batch.changes) {
      const ids = byCollection.get(change.collection) ?? [];
      ids.push(change.id);
      byCollection.set(change.collection, ids);
    }
    for (const [logical, ids] of byCollection) {
      this.options.readStore.invalidate(physicalName(logical, generation), ids);
    }
    this.options.changeFeed.publish(batch);
  }

  private request(message: ToProjector & { id: number }): Promise<unknown> {
    const worker = this.worker;
    if (!worker || this.closing)
      return Promise.reject(new Error('the projector thread is not running'));
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject });
      worker.postMessage(message);
    });
  }

  private settle(reply: Extract<FromProjector, { type: 'reply' }>): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (reply.ok) {
      waiting.resolve(reply.value);
      return;
    }
    const error = new Error(reply.error?.message ?? 'the projector thread failed');
    if (reply.error?.unknownProjection) error.name = 'UnknownProjection';
    waiting.reject(error);
  }
}
