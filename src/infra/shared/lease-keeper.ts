/**
 * Exactly one runner per job (a projection, a process manager) across every worker sharing
 * the stores: a worker runs a job only while it holds the job's lease in the read store.
 *
 * Each round (every third of the lease's time to live) a worker
 * 1. renews its presence lease (`worker:<id>`), which tells the others that it is alive;
 * 2. renews the leases of the jobs it runs, with a report (state, position) for `status`,
 *    and stops a job whose lease was lost;
 * 3. works out its fair share, the jobs divided by the live workers (rounded up), gives up
 *    jobs beyond it (stopped at a checkpoint first, so the next holder starts from there),
 *    and takes free or expired leases while below it.
 * A worker that dies stops renewing: its leases expire and the others take its jobs over
 * from their checkpoints. A worker that only stalls (a long GC pause, a frozen VM) may come
 * back still running a job another worker took: its next write carries its old fencing
 * token and is refused (`FencedWriteError`), and its next round stops the job.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Lease, ReadStore, StoreNotice } from '../../projections/read-store';
import type { Logger } from '../logger';

/** What a worker runs under a lease. */
export interface LeasedJob {
  /** The lease's name, e.g. `projection:campaignMetrics`. */
  readonly name: string;
  /** Starts running under `lease`; its writes are fenced with the lease's token. */
  start(lease: Lease): Promise<void>;
  /** Stops at a checkpoint; called when the lease is given up or lost. */
  stop(): Promise<void>;
  /** What the holder tells with each renewal (shown by `status`). */
  report(): StoreNotice;
}

export interface LeaseKeeperOptions {
  readonly readStore: ReadStore;
  readonly logger: Logger;
  /** Identifies this worker in leases and logs; host, pid and a random suffix by default. */
  readonly workerId?: string;
  /** How long a lease lasts without renewal: how long a dead worker's jobs wait. */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export const DEFAULT_LEASE_TTL_MS = 15_000;
const WORKER_LEASE_PREFIX = 'worker:';

export class LeaseKeeper {
  readonly workerId: string;
  private readonly ttlMs: number;
  private readonly jobs = new Map<string, LeasedJob>();
  private readonly held = new Map<string, Lease>();
  /**
   * The token of each job's last lease taken here, kept after the lease is lost: a batch
   * still in flight then commits with its old token and is refused, never unfenced.
   */
  private readonly tokens = new Map<string, number>();
  private presence: Lease | null = null;
  private rounds: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly options: LeaseKeeperOptions) {
    this.workerId =
      options.workerId ?? `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    if (!Number.isInteger(this.ttlMs) || this.ttlMs < 30) {
      throw new TypeError(`a lease lasts a whole number of milliseconds, at least 30`);
    }
    this.now = options.now ?? Date.now;
  }

  /** Starts taking leases; resolves after the first round. */
  start(): Promise<void> {
    if (this.started) return this.rounds;
    this.started = true;
    this.timer = setInterval(() => void this.round(), Math.max(10, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
    return this.round();
  }

  /** Adds a job; once started, resolves after a round that may have taken its lease. */
  add(job: LeasedJob): Promise<void> {
    if (this.jobs.has(job.name)) throw new Error(`job ${job.name} added twice`);
    this.jobs.set(job.name, job);
    return this.started ? this.round() : Promise.resolve();
  }

  /**
   * The fence of a job's writes: the token of the last lease this worker took for it (the
   * store refuses it once the lease has changed hands); undefined for a job never run here.
   */
  fence(name: string): { readonly lease: string; readonly token: number } | undefined {
    const token = this.tokens.get(name);
    return token === undefined ? undefined : { lease: name, token };
  }

  holds(name: string): boolean {
    return this.held.has(name);
  }

  /** Stops every job at a checkpoint and lets its lease go, so another worker takes it at once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.rounds;
    const { readStore } = this.options;
    await Promise.all(
      [...this.held].map(async ([name, lease]) => {
        await this.jobs.get(name)?.stop();
        await readStore.releaseLease(name, this.workerId, lease.token);
      }),
    );
    this.held.clear();
    if (this.presence) {
      await readStore.releaseLease(this.presence.name, this.workerId, this.presence.token);
    }
  }

  /** One round at a time: rounds queue behind each other. */
  private round(): Promise<void> {
    this.rounds = this.rounds
      .then(() => (this.stopped ? undefined : this.claim()))
      .catch((error: unknown) =>
        this.options.logger.error({ err: error, worker: this.workerId }, 'lease round failed'),
      );
    return this.rounds;
  }

  private async claim(): Promise<void> {
    const { readStore, logger } = this.options;
    this.presence = await readStore.acquireLease(
      `${WORKER_LEASE_PREFIX}${this.workerId}`,
      this.workerId,
      this.ttlMs,
    );
    for (const [name, lease] of [...this.held]) {
      const job = this.jobs.get(name);
      const kept =
        job !== undefined &&
        (await readStore.renewLease(name, this.workerId, lease.token, this.ttlMs, job.report()));
      if (kept) continue;
      this.held.delete(name);
      logger.warn({ job: name, worker: this.workerId }, 'lease lost: stopping the job');
      await job?.stop();
    }
    const share = await this.fairShare();
    for (const name of [...this.held.keys()].slice(share)) {
      const lease = this.held.get(name) as Lease;
      this.held.delete(name);
      logger.info({ job: name, worker: this.workerId }, 'handing the job over to another worker');
      await this.jobs.get(name)?.stop();
      await readStore.releaseLease(name, this.workerId, lease.token);
    }
    for (const [name, job] of this.jobs) {
      if (this.held.size >= share) break;
      if (this.held.has(name)) continue;
      const lease = await readStore.acquireLease(name, this.workerId, this.ttlMs);
      if (!lease) continue;
      this.held.set(name, lease);
      this.tokens.set(name, lease.token);
      logger.info({ job: name, worker: this.workerId, token: lease.token }, 'lease taken');
      try {
        await job.start(lease);
      } catch (error) {
        logger.error({ err: error, job: name }, 'job failed to start: letting its lease go');
        this.held.delete(name);
        await readStore.releaseLease(name, this.workerId, lease.token);
      }
    }
  }

  /** The jobs each live worker should run: all of them divided among the workers, rounded up. */
  private async fairShare(): Promise<number> {
    const now = this.now();
    const workers = (await this.options.readStore.leases()).filter(
      (lease) => lease.name.startsWith(WORKER_LEASE_PREFIX) && lease.expiresAt.getTime() > now,
    ).length;
    return Math.ceil(this.jobs.size / Math.max(1, workers));
  }
}
