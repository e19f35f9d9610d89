/**
 * LeaseKeeper: every job runs on exactly one worker, the jobs are spread evenly over the live
 * workers, a stopped worker's jobs move to the others, and a worker whose lease was taken
 * stops the job at its next round.
 */
import type { Lease } from '../../src/projections/read-store';
import { createLogger } from '../../src/infra/logger';
import { EmbeddedReadStore } from '../../src/infra/read-store/embedded-read-store';
import { type LeasedJob, LeaseKeeper } from '../../src/infra/shared/lease-keeper';

const TTL_MS = 120;
const logger = createLogger('silent');

/** Which worker runs which job, as the jobs themselves see it. */
class Jobs {
  readonly running = new Map<string, string>();
  readonly starts: { job: string; worker: string; token: number }[] = [];

  for(worker: string, names: readonly string[]): LeasedJob[] {
    return names.map((name) => ({
      name,
      start: async (lease: Lease) => {
        const other = this.running.get(name);
        if (other) throw new Error(`${name} started on ${worker} while ${other} runs it`);
        this.running.set(name, worker);
        this.starts.push({ job: name, worker, token: lease.token });
      },
      stop: async () => {
        if (this.running.get(name) === worker) this.running.delete(name);
      },
      report: () => ({ state: 'running' }),
    }));
  }

  on(worker: string): string[] {
    return [...this.running].filter(([, runner]) => runner === worker).map(([job]) => job);
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('LeaseKeeper', () => {
  const names = ['projection:a', 'projection:b', 'projection:c', 'projection:d'];
  let store: EmbeddedReadStore;
  const keepers: LeaseKeeper[] = [];

  const keeper = async (worker: string, jobs: Jobs): Promise<LeaseKeeper> => {
    const created = new LeaseKeeper({ readStore: store, logger, workerId: worker, ttlMs: TTL_MS });
    keepers.push(created);
    for (const job of jobs.for(worker, names)) await created.add(job);
    await created.start();
    return created;
  };

  beforeEach(() => {
    store = EmbeddedReadStore.open({ path: ':memory:' });
  });

  afterEach(async () => {
    await Promise.all(keepers.splice(0).map((created) => created.stop()));
    await store.close();
  });

  it('runs every job on the one worker there is', async () => {
    const jobs = new Jobs();
    const only = await keeper('w1', jobs);
    expect(jobs.on('w1').sort()).toEqual(names);
    expect(names.every((name) => only.holds(name))).toBe(true);
    expect(only.fence('projection:a')).toEqual({ lease: 'projection:a', token: 1 });
  });

  it('spreads the jobs over two workers, and gives them all to the survivor when one stops', async () => {
    const jobs = new Jobs();
    const first = await keeper('w1', jobs);
    await keeper('w2', jobs);
    await until(() => jobs.on('w1').length === 2 && jobs.on('w2').length === 2, 'an even spread');
    expect(jobs.running.size).toBe(names.length);

    // A worker that stops lets its leases go at once: the other takes them at its next round.
    await first.stop();
    await until(() => jobs.on('w2').length === names.length, 'the survivor to run everything');
    const movedTo = jobs.starts.filter((start) => start.worker === 'w2' && start.token > 1);
    expect(movedTo.length).toBeGreaterThanOrEqual(2);
  });

  it('stops a job whose lease another worker took, and fences the old token', async () => {
    const jobs = new Jobs();
    const worker = await keeper('w1', jobs);
    const fence = worker.fence('projection:a');
    // As if w1 stalled past its lease and another worker took the job over.
    await store.releaseLease('projection:a', 'w1', fence?.token ?? 0);
    const taken = await store.acquireLease('projection:a', 'w9', TTL_MS * 100);
    expect(taken?.token).toBe(2);

    await until(() => !jobs.on('w1').includes('projection:a'), 'w1 to stop the job');
    expect(worker.holds('projection:a')).toBe(false);
    // A batch of w1's still in flight keeps its old fence, and is refused with it.
    expect(worker.fence('projection:a')).toEqual(fence);
    await expect(store.commit({ operations: [], fence, notice: { late: true } })).rejects.toThrow(
      /no longer held/,
    );
  });

  it('refuses a lease too short to renew in time', () => {
    expect(() => new LeaseKeeper({ readStore: store, logger, ttlMs: 5 })).toThrow(/at least 30/);
  });
});
