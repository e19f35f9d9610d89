/**
 * Keeps every projection running, knows which generation of its collections serves reads,
 * rebuilds a projection from the log into fresh collections and switches over once the new
 * generation has caught up (the old one serves until then), and answers how far each
 * projection has got.
 */
import type { ProjectionStatusView, RebuildProgressView } from '../../graphql/context';
import type { Projection } from '../../projections/projection';
import type { ReadStore } from '../../projections/read-store';
import type { EventFilter, EventStore } from '../event-store/event-store';
import type { Logger } from '../logger';
import type { ChangeFeed } from './change-feed';
import { type CommittedBatch, ProjectionRunner } from './projection-runner';
import { hasReached, waitUntilReached } from './reaching';

/** Which version and generation of each projection serves, one document per projection. */
export const PROJECTION_REGISTRY = 'projection_registry';

export interface RegistryDocument {
  _id: string;
  version: number;
  generation: number;
  /** Logical collections of the serving generation (a newer version may own others). */
  collections?: string[];
  [key: string]: unknown;
}

/** What the manager reports is what the GraphQL admin area declares it needs. */
export type RebuildProgress = RebuildProgressView;
export type ProjectionStatus = ProjectionStatusView;

interface Entry {
  readonly projection: Projection;
  version: number;
  generation: number;
  /** Runner of the generation that serves reads; null while an outdated one serves. */
  active: ProjectionRunner | null;
  rebuild: {
    runner: ProjectionRunner;
    generation: number;
    target: bigint;
    startedAt: number;
    startPosition: bigint;
  } | null;
  /** The last rebuild that took over, reported with `done: true` once it has. */
  lastRebuild: RebuildProgress | null;
  /** The generation of the last rebuild dropped for a fresh one (0: none), never reused. */
  abandonedGeneration: number;
  /** Logical collections of the serving generation, dropped when a rebuild takes over. */
  servingCollections: readonly string[];
}

export interface ProjectionManagerOptions {
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  readonly projections: readonly Projection[];
  readonly changeFeed: ChangeFeed;
  readonly batchSize: number;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Awaited before each projector batch (see IngestionPriority). */
  readonly beforeBatch?: () => Promise<void>;
  /**
   * Started once the projections run, stopped before they stop: reactions to what they
   * commit (e.g. recomputing the funnels when their definitions change). Each returns its stop.
   */
  readonly watchers?: readonly ((manager: ProjectionManager) => Promise<() => void>)[];
}

/** The serving state of every projection, as the projector thread sends it to the API thread. */
export interface ProjectorSnapshot {
  readonly generations: Record<string, number>;
  /** Position of the runner that serves (or rebuilds, while an outdated generation serves). */
  readonly positions: Record<string, bigint>;
  /** The events that runner reads now (a projection may need fewer than it declares). */
  readonly filters: Record<string, EventFilter>;
  readonly rebuilds: Record<string, RebuildProgress | null>;
}

/** What the server needs of the projections, whether they run here or on a projector thread. */
export interface Projectors {
  start(): Promise<void>;
  stop(): Promise<void>;
  collection(logical: string): string;
  names(): string[];
  waitForPosition(position: bigint, timeoutMs: number, names?: readonly string[]): Promise<boolean>;
  status(): Promise<ProjectionStatus[]>;
  rebuild(name: string, options?: { restart?: boolean }): Promise<RebuildProgress>;
  rebuildProgress(name: string): RebuildProgress | null;
}

export class ProjectionManager implements Projectors {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private switching: Promise<void> = Promise.resolve();
  private readonly stopWatching: (() => void)[] = [];

  constructor(private readonly options: ProjectionManagerOptions) {
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    const registry = this.options.readStore.collection<RegistryDocument>(PROJECTION_REGISTRY);
    for (const projection of this.options.projections) {
      if (this.entries.has(projection.name))
        throw new Error(`projection ${projection.name} registered twice`);
      const stored = await registry.findOne({ _id: projection.name });
      const entry: Entry = {
        projection,
        version: stored?.version ?? projection.version,
        generation: stored?.generation ?? 1,
        active: null,
        rebuild: null,
        lastRebuild: null,
        abandonedGeneration: 0,
        servingCollections: stored?.collections ?? projection.collections,
      };
      this.entries.set(projection.name, entry);
      if (!stored) await this.saveRegistry(entry);
      if (entry.version === projection.version) {
        await this.prepareCollections(projection, entry.generation);
        entry.active = this.runner(entry, entry.generation);
        entry.active.start();
      } else {
        this.options.logger.info(
          { projection: projection.name, from: entry.version, to: projection.version },
          'projection version changed: rebuilding from the log while the old read model serves',
        );
        await this.rebuild(projection.name);
      }
    }
    for (const watch of this.options.watchers ?? []) this.stopWatching.push(await watch(this));
  }

  async stop(): Promise<void> {
    for (const stop of this.stopWatching.splice(0)) stop();
    await this.switching;
    await Promise.all(
      [...this.entries.values()].flatMap((entry) => [
        entry.active?.stop(),
        entry.rebuild?.runner.stop(),
      ]),
    );
  }

  /** The physical collection that serves reads of a projection's logical collection. */
  collection(logical: string): string {
    for (const entry of this.entries.values()) {
      if (entry.projection.collections.includes(logical))
        return physicalName(logical, entry.generation);
    }
    throw new Error(`no projection owns the collection ${logical}`);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Starts rebuilding a projection into a new generation. A rebuild in progress is returned
   * as is, unless `restart` asks to drop it and start over (its projection's input changed,
   * e.g. the definitions it pinned).
   */
  async rebuild(name: string, options: { restart?: boolean } = {}): Promise<RebuildProgress> {
    const entry = this.entry(name);
    if (entry.rebuild && options.restart) await this.abandonRebuild(entry);
    if (!entry.rebuild) {
      const generation = Math.max(entry.generation, entry.abandonedGeneration) + 1;
      const runner = this.runner(entry, generation);
      for (const logical of entry.projection.collections) {
        await this.options.readStore.dropCollection(physicalName(logical, generation));
      }
      await this.options.readStore.deleteCheckpoint(runner.name);
      await this.prepareCollections(entry.projection, generation);
      entry.rebuild = {
        runner,
        generation,
        target: await this.options.eventStore.headPosition(),
        startedAt: this.now(),
        startPosition: -1n,
      };
      runner.start();
      this.options.logger.info({ projection: name, generation }, 'rebuild started');
      await this.queueSwitchCheck(entry);
    }
    return this.rebuildProgress(entry) as RebuildProgress;
  }

  /** Stops the rebuild in progress and drops what it wrote; the serving generation is untouched. */
  private async abandonRebuild(entry: Entry): Promise<void> {
    const rebuild = entry.rebuild;
    if (!rebuild) return;
    await this.switching;
    if (entry.rebuild !== rebuild) return;
    entry.rebuild = null;
    entry.abandonedGeneration = rebuild.generation;
    await rebuild.runner.stop();
    for (const logical of entry.projection.collections) {
      await this.options.readStore.dropCollection(physicalName(logical, rebuild.generation));
    }
    await this.options.readStore.deleteCheckpoint(rebuild.runner.name);
    this.options.logger.info(
      { projection: entry.projection.name, generation: rebuild.generation },
      'rebuild abandoned for a fresh one',
    );
  }

  /** The rebuild in progress, else the last one that took over (`done: true`), else null. */
  rebuildProgress(name: string | Entry): RebuildProgress | null {
    const entry = typeof name === 'string' ? this.entry(name) : name;
    const rebuild = entry.rebuild;
    if (!rebuild) return entry.lastRebuild;
    const { runner, target, startedAt } = rebuild;
    const seconds = Math.max((this.now() - startedAt) / 1000, 0.001);
    const covered = Number(runner.position - rebuild.startPosition);
    const remaining = Math.max(0, Number(target - runner.position));
    return {
      projection: entry.projection.name,
      generation: rebuild.generation,
      eventsProcessed: runner.eventsProcessed,
      position: runner.position,
      targetPosition: target,
      eventsPerSecond: runner.eventsProcessed / seconds,
      etaSeconds: covered > 0 ? (remaining / covered) * seconds : null,
      done: false,
    };
  }

  async status(): Promise<ProjectionStatus[]> {
    const head = await this.options.eventStore.headPosition();
    const statuses: ProjectionStatus[] = [];
    for (const entry of this.entries.values()) {
      const runner = entry.active;
      statuses.push({
        name: entry.projection.name,
        version: entry.version,
        generation: entry.generation,
        state: runner ? runner.state : 'outdated',
        position: runner?.position ?? -1n,
        headPosition: head,
        lagMs: runner ? await this.lagMs(runner) : await this.lagMs(entry.rebuild?.runner ?? null),
        lastError: runner?.lastError ?? entry.rebuild?.runner.lastError ?? null,
        rebuild: this.rebuildProgress(entry),
      });
    }
    return statuses;
  }

  /**
   * Waits until every named projection (all by default) reflects the log up to `position`,
   * or the timeout passes. Resolves true when reached.
   */
  async waitForPosition(
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
          const entry = this.entry(name);
          return entry.active ?? entry.rebuild?.runner ?? null;
        }),
    });
  }

  /** What a projector thread reports after each batch: generations, positions, rebuilds. */
  snapshot(): ProjectorSnapshot {
    const snapshot: ProjectorSnapshot = {
      generations: {},
      positions: {},
      filters: {},
      rebuilds: {},
    };
    for (const [name, entry] of this.entries) {
      const runner = entry.active ?? entry.rebuild?.runner;
      snapshot.generations[name] = entry.generation;
      snapshot.positions[name] = runner?.position ?? -1n;
      if (runner) snapshot.filters[name] = runner.filter;
      snapshot.rebuilds[name] = this.rebuildProgress(entry);
    }
    return snapshot;
  }

  private reached(runner: ProjectionRunner, position: bigint): Promise<boolean> {
    return hasReached(this.options.eventStore, runner, position);
  }

  private async lagMs(runner: ProjectionRunner | null): Promise<number> {
    if (!runner) return 0;
    const [next] = await this.options.eventStore.readAll({
      after: runner.position >= 0n ? runner.position : undefined,
      maxCount: 1,
      filter: runner.filter,
    });
    return next ? Math.max(0, this.now() - next.recordedAt.getTime()) : 0;
  }

  private async prepareCollections(projection: Projection, generation: number): Promise<void> {
    for (const [logical, indexes] of Object.entries(projection.indexes ?? {})) {
      await this.options.readStore.ensureIndexes(physicalName(logical, generation), indexes);
    }
  }

  private runner(entry: Entry, generation: number): ProjectionRunner {
    const { projection } = entry;
    return new ProjectionRunner({
      projection,
      checkpointName: checkpointName(projection.name, generation),
      physical: (logical) => physicalName(logical, generation),
      eventStore: this.options.eventStore,
      readStore: this.options.readStore,
      batchSize: Math.max(this.options.batchSize, projection.minBatchSize ?? 0),
      logger: this.options.logger,
      onCommitted: (batch) => this.committed(entry, generation, batch),
      beforeBatch: this.options.beforeBatch,
    });
  }

  private committed(entry: Entry, generation: number, batch: CommittedBatch): void {
    if (entry.rebuild?.generation === generation) {
      void this.queueSwitchCheck(entry);
      this.options.changeFeed.publish({ ...batch, changes: [] });
      return;
    }
    // The last batch of an abandoned rebuild: nobody reads what it wrote.
    if (generation !== entry.generation) return;
    this.options.changeFeed.publish(batch);
  }

  /** Switch checks run one at a time, so two can never both retire the same generation. */
  private queueSwitchCheck(entry: Entry): Promise<void> {
    this.switching = this.switching
      .then(() => this.switchIfCaughtUp(entry))
      .catch((error: unknown) =>
        this.options.logger.error(
          { projection: entry.projection.name, err: error },
          'switching to the rebuilt generation failed',
        ),
      );
    return this.switching;
  }

  /** Makes a rebuilt generation the one that serves once it has reached the rebuild's target. */
  private async switchIfCaughtUp(entry: Entry): Promise<void> {
    const rebuild = entry.rebuild;
    if (!rebuild || !(await this.reached(rebuild.runner, rebuild.target))) return;
    const previous = { runner: entry.active, generation: entry.generation };
    const finished = this.rebuildProgress(entry) as RebuildProgress;
    await previous.runner?.stop();
    entry.generation = rebuild.generation;
    entry.version = entry.projection.version;
    entry.active = rebuild.runner;
    entry.rebuild = null;
    entry.lastRebuild = { ...finished, etaSeconds: 0, done: true };
    const retired = entry.servingCollections;
    entry.servingCollections = entry.projection.collections;
    await this.saveRegistry(entry);
    for (const logical of retired) {
      await this.options.readStore.dropCollection(physicalName(logical, previous.generation));
    }
    await this.options.readStore.deleteCheckpoint(
      checkpointName(entry.projection.name, previous.generation),
    );
    this.options.logger.info(
      { projection: entry.projection.name, generation: entry.generation },
      'rebuild caught up: the new generation serves reads',
    );
    // Subscribers re-read from the new collections.
    this.options.changeFeed.publish({
      projection: entry.projection.name,
      position: rebuild.runner.position,
      events: 0,
      changes: [],
    });
  }

  private async saveRegistry(entry: Entry): Promise<void> {
    await this.options.readStore.commit({
      operations: [
        {
          kind: 'replaceOne',
          collection: PROJECTION_REGISTRY,
          document: {
            _id: entry.projection.name,
            version: entry.version,
            generation: entry.generation,
            collections: [...entry.servingCollections],
          },
        },
      ],
    });
  }

  private entry(name: string): Entry {
    const entry = this.entries.get(name);
    if (!entry) throw new UnknownProjectionError(name);
    return entry;
  }
}

export class UnknownProjectionError extends Error {
  constructor(readonly projection: string) {
    super(`there is no projection named ${projection}`);
    this.name = 'UnknownProjectionError';
  }
}

export function physicalName(logical: string, generation: number): string {
  return `${logical}_g${generation}`;
}

export function checkpointName(projection: string, generation: number): string {
  return `${projection}@g${generation}`;
}
