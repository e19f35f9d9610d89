/**
 * Keeps every projection running, knows which generation of its collections serves reads,
 * rebuilds a projection from the log into fresh collections and switches over once the new
 * generation has caught up (the old one serves until then), and answers how far each
 * projection has got.
 *
 * Several managers may share the stores (threads, processes, machines). A manager with a
 * lease keeper runs a projection only while it holds the projection's lease
 * (`projection:<name>`); the others follow it: every batch is committed with a notice (the
 * serving generation, the position, what changed), which the read store hands to the
 * managers of the other processes, so each one's live subscribers and read-your-writes
 * waits see every projection move, wherever it runs. A manager without a keeper (an API
 * process) only follows; asked for a rebuild, it passes the request on to the holder.
 */
import type { BatchScheduler } from './batch-scheduler';
import { DomainError } from '../../domain/shared/errors';
import type { ProjectionStatusView, RebuildProgressView } from '../../graphql/context';
import type { DocumentChange, Projection } from '../../projections/projection';
import type { ReadStore, StoreNotice, WriteBatch } from '../../projections/read-store';
import type { EventFilter, EventStore } from '../event-store/event-store';
import type { Logger } from '../logger';
import type { ChangeFeed } from './change-feed';
import { type CommittedBatch, ProjectionRunner } from './projection-runner';
import { LeaseKeeper } from '../shared/lease-keeper';
import { hasReached, type ReadingProgress, waitUntilReached } from './reaching';

/** Which version and generation of each projection serves, one document per projection. */
export const PROJECTION_REGISTRY = 'projection_registry';

export interface RegistryDocument {
  _id: string;
  version: number;
  generation: number;
  /** Logical collections of the serving generation (a newer version may own others). */
  collections?: string[];
  /** A rebuild in progress, so that a worker taking the projection over carries it on. */
  rebuilding?: StoredRebuild | null;
  [key: string]: unknown;
}

/** What the manager reports is what the GraphQL admin area declares it needs. */
export type RebuildProgress = RebuildProgressView;
export type ProjectionStatus = ProjectionStatusView;

/** A rebuild in progress, as the registry keeps it so that another worker can carry it on. */
export interface StoredRebuild {
  readonly generation: number;
  readonly target: string;
  readonly startedAt: number;
}

interface Entry {
  readonly projection: Projection;
  /** The lease's name: `projection:<name>`. */
  readonly job: string;
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
  /** Watchers running while this manager holds the lease. */
  stopWatching: (() => void)[];
  /** What the manager that runs it elsewhere last told; used while it does not run here. */
  heard: Progress;
}

/** How far a projection has got, as a notice or a lease report tells it. */
interface Progress {
  readonly position: bigint;
  readonly filter: EventFilter;
  readonly rebuild: RebuildProgress | null;
}

/** Started while this manager runs the projection, stopped when it stops: reactions to commits. */
export interface ProjectionWatcher {
  readonly projection: string;
  /** Starts watching; resolves to the function that stops it. */
  watch(manager: ProjectionManager): Promise<() => void>;
}

export interface ProjectionManagerOptions {
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  readonly projections: readonly Projection[];
  readonly changeFeed: ChangeFeed;
  readonly batchSize: number;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Orders batches when the projector cannot do everything at once (see BatchScheduler). */
  readonly scheduler?: BatchScheduler;
  /**
   * E.g. recomputing the funnels when their definitions change, the segment scheduler:
   * each runs where its projection runs.
   */
  readonly watchers?: readonly ProjectionWatcher[];
  /**
   * The leases this manager runs projections under. Omitted: a keeper of its own, started
   * and stopped with the manager (one process running everything). Null: it runs nothing
   * and only follows the managers that do (an API process).
   */
  readonly leases?: LeaseKeeper | null;
}

/** The serving state of every projection, as this manager knows it. */
export interface ProjectorSnapshot {
  readonly generations: Record<string, number>;
  /** Position of the runner that serves (or rebuilds, while an outdated generation serves). */
  readonly positions: Record<string, bigint>;
  /** The events that runner reads now (a projection may need fewer than it declares). */
  readonly filters: Record<string, EventFilter>;
  readonly rebuilds: Record<string, RebuildProgress | null>;
}

/** What the server needs of the projections, whether they run here or elsewhere. */
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

/** How long a manager that does not run a projection waits for its holder to start a rebuild. */
const REBUILD_REQUEST_TIMEOUT_MS = 10_000;

export class ProjectionManager implements Projectors {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private switching: Promise<void> = Promise.resolve();
  private readonly leases: LeaseKeeper | null;
  private readonly ownsLeases: boolean;
  private unfollow: (() => void) | null = null;

  constructor(private readonly options: ProjectionManagerOptions) {
    this.now = options.now ?? Date.now;
    this.ownsLeases = options.leases === undefined;
    this.leases =
      options.leases === undefined
        ? new LeaseKeeper({ readStore: options.readStore, logger: options.logger })
        : options.leases;
  }

  /** Loads the registry, follows the other managers, and takes what leases it can. */
  async start(): Promise<void> {
    const { readStore } = this.options;
    const reports = new Map((await readStore.leases()).map((lease) => [lease.name, lease.report]));
    for (const projection of this.options.projections) {
      if (this.entries.has(projection.name))
        throw new Error(`projection ${projection.name} registered twice`);
      const job = projectionJob(projection.name);
      const entry: Entry = {
        projection,
        job,
        version: projection.version,
        generation: 1,
        active: null,
        rebuild: null,
        lastRebuild: null,
        abandonedGeneration: 0,
        servingCollections: projection.collections,
        stopWatching: [],
        heard: { position: -1n, filter: { eventTypes: projection.eventTypes }, rebuild: null },
      };
      await this.loadRegistry(entry);
      const checkpoint = await readStore.getCheckpoint(
        checkpointName(projection.name, entry.generation),
      );
      const reported = decodeProgress(reports.get(job) ?? null);
      entry.heard = {
        position: checkpoint?.position ?? -1n,
        filter: reported?.filter ?? entry.heard.filter,
        rebuild: reported?.rebuild ?? null,
      };
      this.entries.set(projection.name, entry);
    }
    this.unfollow = readStore.follow((notice) => {
      try {
        this.heard(notice);
      } catch (error) {
        this.options.logger.error({ err: error }, 'could not take in another worker’s notice');
      }
    });
    const leases = this.leases;
    if (!leases) return;
    for (const entry of this.entries.values()) {
      await leases.add({
        name: entry.job,
        start: () => this.run(entry),
        stop: () => this.halt(entry),
        report: () => encodeProgress(this.progress(entry)),
      });
    }
    if (this.ownsLeases) await leases.start();
  }

  async stop(): Promise<void> {
    this.unfollow?.();
    this.unfollow = null;
    if (this.ownsLeases) await this.leases?.stop();
    // With a shared keeper, whoever owns it stops it; what still runs here stops now.
    await Promise.all([...this.entries.values()].map((entry) => this.halt(entry)));
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
   * e.g. the definitions it pinned). Where another manager runs the projection, the request
   * is passed on to it and this answers once it has started.
   */
  async rebuild(name: string, options: { restart?: boolean } = {}): Promise<RebuildProgress> {
    const entry = this.entry(name);
    if (!this.runsHere(entry)) return this.requestRebuild(entry, options.restart ?? false);
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
      await this.saveRegistry(entry);
      runner.start();
      this.options.logger.info({ projection: name, generation }, 'rebuild started');
      await this.queueSwitchCheck(entry);
    }
    return this.rebuildProgress(entry) as RebuildProgress;
  }

  /** The rebuild in progress, else the last one that took over (`done: true`), else null. */
  rebuildProgress(name: string | Entry): RebuildProgress | null {
    const entry = typeof name === 'string' ? this.entry(name) : name;
    if (!this.runsHere(entry)) return entry.heard.rebuild;
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
    const leases = new Map(
      (await this.options.readStore.leases()).map((lease) => [lease.name, lease]),
    );
    const statuses: ProjectionStatus[] = [];
    for (const entry of this.entries.values()) {
      const base = {
        name: entry.projection.name,
        version: entry.version,
        generation: entry.generation,
        headPosition: head,
        rebuild: this.rebuildProgress(entry),
      };
      if (this.runsHere(entry)) {
        const runner = entry.active;
        statuses.push({
          ...base,
          state: runner ? runner.state : 'outdated',
          position: runner?.position ?? -1n,
          lagMs: await this.lagMs(runner ?? entry.rebuild?.runner ?? null),
          lastError: runner?.lastError ?? entry.rebuild?.runner.lastError ?? null,
          worker: this.leases?.workerId ?? null,
        });
        continue;
      }
      const lease = leases.get(entry.job);
      const live = lease !== undefined && lease.expiresAt.getTime() > this.now();
      const report = lease?.report ?? null;
      statuses.push({
        ...base,
        // Nobody runs it: its worker died (its lease expired) or none has started yet.
        state: live ? (stringField(report, 'state') ?? 'running') : 'unassigned',
        position: entry.heard.position,
        lagMs: await this.lagMs(entry.heard),
        lastError: live ? stringField(report, 'lastError') : null,
        worker: live ? lease.holder : null,
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
        (names ?? this.names()).map((name) => this.readingProgress(this.entry(name))),
    });
  }

  /** Generations, positions, filters and rebuilds of every projection, as this manager knows them. */
  snapshot(): ProjectorSnapshot {
    const snapshot: ProjectorSnapshot = {
      generations: {},
      positions: {},
      filters: {},
      rebuilds: {},
    };
    for (const [name, entry] of this.entries) {
      const progress = this.progress(entry);
      snapshot.generations[name] = entry.generation;
      snapshot.positions[name] = progress.position;
      snapshot.filters[name] = progress.filter;
      snapshot.rebuilds[name] = progress.rebuild;
    }
    return snapshot;
  }

  /** Whether this manager runs the projection now (holds its lease). */
  private runsHere(entry: Entry): boolean {
    return this.leases?.holds(entry.job) ?? false;
  }

  /** Where the projection has got: its runner's here, else what its holder last told. */
  private progress(entry: Entry): Progress {
    if (!this.runsHere(entry)) return entry.heard;
    const runner = entry.active ?? entry.rebuild?.runner;
    return {
      position: runner?.position ?? -1n,
      filter: runner?.filter ?? { eventTypes: entry.projection.eventTypes },
      rebuild: this.rebuildProgress(entry),
    };
  }

  private readingProgress(entry: Entry): ReadingProgress | null {
    if (!this.runsHere(entry)) return entry.heard;
    return entry.active ?? entry.rebuild?.runner ?? null;
  }

  /** Runs the projection here, under its lease just taken: from the registry as it is now. */
  private async run(entry: Entry): Promise<void> {
    const stored = await this.loadRegistry(entry);
    const { projection } = entry;
    if (entry.version === projection.version) {
      await this.prepareCollections(projection, entry.generation);
      entry.active = this.runner(entry, entry.generation);
      entry.active.start();
    }
    const resumed = stored?.rebuilding;
    if (resumed && resumed.generation > entry.generation) {
      // Another worker was rebuilding: carry on from the rebuild's own checkpoint.
      const runner = this.runner(entry, resumed.generation);
      entry.rebuild = {
        runner,
        generation: resumed.generation,
        target: BigInt(resumed.target),
        startedAt: resumed.startedAt,
        startPosition: (await this.options.readStore.getCheckpoint(runner.name))?.position ?? -1n,
      };
      runner.start();
      void this.queueSwitchCheck(entry);
    } else if (entry.version !== projection.version) {
      this.options.logger.info(
        { projection: projection.name, from: entry.version, to: projection.version },
        'projection version changed: rebuilding from the log while the old read model serves',
      );
      await this.rebuild(projection.name);
    }
    for (const watcher of this.options.watchers ?? []) {
      if (watcher.projection === projection.name)
        entry.stopWatching.push(await watcher.watch(this));
    }
    // Followers learn which events it reads now and that it runs.
    await this.announce(entry);
  }

  /** Stops running the projection here (its lease is given up or lost). */
  private async halt(entry: Entry): Promise<void> {
    for (const stop of entry.stopWatching.splice(0)) stop();
    await this.switching;
    const runners = [entry.active, entry.rebuild?.runner];
    entry.heard = this.progress(entry);
    entry.active = null;
    entry.rebuild = null;
    await Promise.all(runners.map((runner) => runner?.stop()));
  }

  /** Reads the projection's registry document into the entry (a first one is written). */
  private async loadRegistry(entry: Entry): Promise<RegistryDocument | null> {
    const stored = await this.options.readStore
      .collection<RegistryDocument>(PROJECTION_REGISTRY)
      .findOne({ _id: entry.projection.name });
    entry.version = stored?.version ?? entry.projection.version;
    entry.generation = stored?.generation ?? 1;
    entry.servingCollections = stored?.collections ?? entry.projection.collections;
    if (!stored && this.runsHere(entry)) await this.saveRegistry(entry);
    return stored;
  }

  /** Asks the manager that runs the projection to rebuild it; answers once it has started. */
  private async requestRebuild(entry: Entry, restart: boolean): Promise<RebuildProgress> {
    const running = entry.heard.rebuild;
    if (running && !running.done && !restart) return running;
    const before = running?.generation ?? entry.generation;
    const name = entry.projection.name;
    const now = this.now();
    const held = (await this.options.readStore.leases()).some(
      (lease) => lease.name === entry.job && lease.expiresAt.getTime() > now,
    );
    if (!held) throw noProjector(name, 'no projector worker runs it now');
    const started = new Promise<RebuildProgress | null>((resolve) => {
      const timer = setTimeout(() => finish(null), REBUILD_REQUEST_TIMEOUT_MS);
      const unlisten = this.options.changeFeed.listen((batch) => {
        const progress = entry.heard.rebuild;
        if (batch.projection === name && progress && progress.generation > before) finish(progress);
      });
      const finish = (progress: RebuildProgress | null) => {
        clearTimeout(timer);
        unlisten();
        resolve(progress);
      };
    });
    await this.options.readStore.commit({
      operations: [],
      notice: { kind: REBUILD_REQUESTED, projection: name, restart },
    });
    const progress = await started;
    if (!progress) {
      throw noProjector(
        name,
        `its projector worker did not start the rebuild within ${REBUILD_REQUEST_TIMEOUT_MS / 1000} s`,
      );
    }
    return progress;
  }

  /** A notice from another manager's commit. */
  private heard(notice: StoreNotice): void {
    const entry =
      typeof notice.projection === 'string' ? this.entries.get(notice.projection) : undefined;
    if (!entry) return;
    if (notice.kind === REBUILD_REQUESTED) {
      if (this.runsHere(entry)) {
        void this.rebuild(entry.projection.name, { restart: notice.restart === true }).catch(
          (error: unknown) =>
            this.options.logger.error(
              { err: error, projection: entry.projection.name },
              'requested rebuild failed',
            ),
        );
      }
      return;
    }
    const told = decodeCommitNotice(notice);
    // Its own commits never come back; a late one from a worker that lost the lease to this one is old news.
    if (!told || this.runsHere(entry)) return;
    // A worker that just took the projection over may tell before it has read its checkpoint.
    const sameGeneration = told.generation === entry.generation;
    entry.generation = told.generation;
    entry.heard = {
      ...told.progress,
      position:
        sameGeneration && entry.heard.position > told.progress.position
          ? entry.heard.position
          : told.progress.position,
    };
    this.options.changeFeed.publish(told.batch);
  }

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

  private reached(runner: ProjectionRunner, position: bigint): Promise<boolean> {
    return hasReached(this.options.eventStore, runner, position);
  }

  private async lagMs(progress: ReadingProgress | null): Promise<number> {
    if (!progress) return 0;
    const [next] = await this.options.eventStore.readAll({
      after: progress.position >= 0n ? progress.position : undefined,
      maxCount: 1,
      filter: progress.filter,
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
    const { scheduler } = this.options;
    const batchSize = Math.max(this.options.batchSize, projection.minBatchSize ?? 0);
    // Only the serving runner waits for a turn (a background projection's) or tells of its
    // batches (a live one's); a rebuild, asked for by someone waiting on it, never waits.
    const serving = () => entry.active === runner;
    /** When this runner's background batch got its turn (for the scheduler's time share). */
    let turnAt: number | null = null;
    const runner: ProjectionRunner = new ProjectionRunner({
      projection,
      checkpointName: checkpointName(projection.name, generation),
      physical: (logical) => physicalName(logical, generation),
      eventStore: this.options.eventStore,
      readStore: this.options.readStore,
      batchSize,
      logger: this.options.logger,
      seal: (batch) => ({
        fence: this.fence(entry),
        notice: commitNotice(entry, this.progressAfter(entry, runner, batch.position), {
          ...batch,
          // Subscribers read the serving generation: a rebuild's batches change nothing they see.
          changes: generation === entry.generation ? batch.changes : [],
        }),
      }),
      onCommitted: (batch) => {
        if (scheduler && turnAt !== null) {
          scheduler.backgroundBatch(this.now() - turnAt);
          turnAt = null;
        }
        if (projection.live && serving()) {
          // Behind when it read a full batch of the projector's size: a projection reading
          // larger pages (minBatchSize) rarely fills one, yet is behind all the same.
          scheduler?.liveBatch(runner.name, batch.events >= this.options.batchSize);
        }
        this.committed(entry, generation, batch);
      },
      ...(scheduler && {
        beforeBatch: async () => {
          if (!serving() || projection.live) return;
          await scheduler.backgroundTurn();
          turnAt = this.now();
        },
      }),
    });
    return runner;
  }

  /** Where the projection will be once `runner` has committed up to `position`. */
  private progressAfter(entry: Entry, runner: ProjectionRunner, position: bigint): Progress {
    const serving = entry.active ?? entry.rebuild?.runner;
    return {
      position: serving === runner ? position : (serving?.position ?? -1n),
      filter: serving?.filter ?? runner.filter,
      rebuild: this.rebuildProgress(entry),
    };
  }

  private fence(entry: Entry): WriteBatch['fence'] {
    return this.leases?.fence(entry.job);
  }

  private committed(entry: Entry, generation: number, batch: CommittedBatch): void {
    if (batch.events === 0) {
      // The runner narrowed what it reads without a commit: followers must hear of it.
      void this.announce(entry).catch((error: unknown) =>
        this.options.logger.warn(
          { err: error, projection: entry.projection.name },
          'could not announce',
        ),
      );
    }
    if (entry.rebuild?.generation === generation) {
      void this.queueSwitchCheck(entry);
      this.options.changeFeed.publish({ ...batch, changes: [] });
      return;
    }
    // The last batch of an abandoned rebuild: nobody reads what it wrote.
    if (generation !== entry.generation) return;
    this.options.changeFeed.publish(batch);
  }

  /** Tells the followers where the projection is, in a commit of its own. */
  private async announce(entry: Entry): Promise<void> {
    await this.options.readStore.commit({
      operations: [],
      fence: this.fence(entry),
      notice: this.stateNotice(entry),
    });
  }

  /** A notice of where the projection is, with no batch of its own. */
  private stateNotice(entry: Entry): StoreNotice {
    const progress = this.progress(entry);
    return commitNotice(entry, progress, {
      projection: entry.projection.name,
      position: progress.position,
      events: 0,
      changes: [],
    });
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
    // Subscribers, here and elsewhere, re-read from the new collections.
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
    this.options.changeFeed.publish({
      projection: entry.projection.name,
      position: rebuild.runner.position,
      events: 0,
      changes: [],
    });
  }

  /** Writes the projection's registry document, fenced, and tells the followers. */
  private async saveRegistry(entry: Entry): Promise<void> {
    const rebuilding: StoredRebuild | null = entry.rebuild && {
      generation: entry.rebuild.generation,
      target: entry.rebuild.target.toString(),
      startedAt: entry.rebuild.startedAt,
    };
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
            ...(rebuilding && { rebuilding }),
          },
        },
      ],
      fence: this.fence(entry),
      notice: this.stateNotice(entry),
    });
  }

  private entry(name: string): Entry {
    const entry = this.entries.get(name);
    if (!entry) throw new UnknownProjectionError(name);
    return entry;
  }
}

const REBUILD_REQUESTED = 'rebuild-requested';
const PROJECTION_COMMITTED = 'projection-committed';

/** A rebuild asked where no projector worker takes it: a client can retry once one runs. */
function noProjector(name: string, why: string): DomainError {
  return new DomainError('CONFLICT', 'NO_PROJECTOR', `cannot rebuild ${name}: ${why}`, 'name');
}

export function projectionJob(name: string): string {
  return `projection:${name}`;
}

function commitNotice(entry: Entry, progress: Progress, batch: CommittedBatch): StoreNotice {
  return {
    kind: PROJECTION_COMMITTED,
    projection: entry.projection.name,
    generation: entry.generation,
    events: batch.events,
    changes: batch.changes,
    ...encodeProgress(progress),
  };
}

function decodeCommitNotice(
  notice: StoreNotice,
): { generation: number; progress: Progress; batch: CommittedBatch } | null {
  const progress = decodeProgress(notice);
  if (notice.kind !== PROJECTION_COMMITTED || !progress || typeof notice.generation !== 'number')
    return null;
  return {
    generation: notice.generation,
    progress,
    batch: {
      projection: notice.projection as string,
      position: progress.position,
      events: typeof notice.events === 'number' ? notice.events : 0,
      changes: Array.isArray(notice.changes) ? (notice.changes as DocumentChange[]) : [],
    },
  };
}

/** Progress as JSON: 64-bit positions as decimal strings. */
function encodeProgress(progress: Progress): StoreNotice {
  const rebuild = progress.rebuild;
  return {
    position: progress.position.toString(),
    filter: { ...progress.filter },
    rebuild: rebuild && {
      ...rebuild,
      position: rebuild.position.toString(),
      targetPosition: rebuild.targetPosition.toString(),
    },
  };
}

function decodeProgress(json: StoreNotice | null): Progress | null {
  if (!json || typeof json.position !== 'string') return null;
  const rebuild = json.rebuild as (Record<string, unknown> & RebuildProgress) | null | undefined;
  return {
    position: BigInt(json.position),
    filter: (json.filter ?? {}) as EventFilter,
    rebuild: rebuild
      ? {
          ...rebuild,
          position: BigInt(rebuild.position as unknown as string),
          targetPosition: BigInt(rebuild.targetPosition as unknown as string),
        }
      : null,
  };
}

function stringField(json: StoreNotice | null, field: string): string | null {
  const value = json?.[field];
  return typeof value === 'string' ? value : null;
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
