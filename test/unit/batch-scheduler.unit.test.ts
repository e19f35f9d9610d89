import { BatchScheduler } from '../../src/infra/projections/batch-scheduler';

describe('BatchScheduler', () => {
  let now = 0;
  const scheduler = () => new BatchScheduler({ trickleMs: 100, now: () => now });

  beforeEach(() => {
    jest.useFakeTimers();
    now = 0;
  });
  afterEach(() => jest.useRealTimers());

  /** Starts `count` background turns; answers which have been let through so far. */
  function turns(subject: BatchScheduler, count: number): { passed: number[] } {
    const state = { passed: [] as number[] };
    for (let index = 0; index < count; index++) {
      void subject.backgroundTurn().then(() => state.passed.push(index));
    }
    return state;
  }

  /** Advances the clocks and lets the released turns' callbacks run. */
  async function advance(ms: number): Promise<void> {
    now += ms;
    jest.advanceTimersByTime(ms);
    await Promise.resolve();
    await Promise.resolve();
  }

  it('lets background batches go at once while nothing is contended', async () => {
    const subject = scheduler();
    const state = turns(subject, 3);
    await advance(0);
    expect(state.passed).toEqual([0, 1, 2]);
  });

  it('holds background batches while ingestion is busy, one going every trickle interval', async () => {
    const subject = scheduler();
    subject.ingestionBusy(true);
    const state = turns(subject, 3);
    await advance(99);
    expect(state.passed).toEqual([]);
    await advance(1);
    expect(state.passed).toEqual([0]);
    await advance(100);
    expect(state.passed).toEqual([0, 1]);
  });

  it('gives background batches no more than a tenth of the time while contended', async () => {
    const subject = scheduler();
    subject.ingestionBusy(true);
    const state = turns(subject, 3);
    await advance(100);
    expect(state.passed).toEqual([0]);
    // the first took 50 ms: the next goes 450 ms later, at the first tick after
    now += 50;
    subject.backgroundBatch(50);
    await advance(350);
    expect(state.passed).toEqual([0]);
    await advance(100);
    expect(state.passed).toEqual([0, 1]);
    // a very slow one pauses the rest for at most 2 s
    subject.backgroundBatch(10_000);
    await advance(1_900);
    expect(state.passed).toEqual([0, 1]);
    await advance(100);
    expect(state.passed).toEqual([0, 1, 2]);
  });

  it('lets every waiting batch go once ingestion turns idle, whatever the time share', async () => {
    const subject = scheduler();
    subject.ingestionBusy(true);
    const state = turns(subject, 2);
    subject.backgroundBatch(1_000);
    await advance(10);
    subject.ingestionBusy(false);
    await advance(0);
    expect(state.passed).toEqual([0, 1]);
  });

  it('lets every waiting batch go when ingestion turns idle', async () => {
    const subject = scheduler();
    subject.ingestionBusy(true);
    const state = turns(subject, 3);
    await advance(10);
    subject.ingestionBusy(false);
    await advance(0);
    expect(state.passed).toEqual([0, 1, 2]);
  });

  it('holds background batches while a live projection is behind, until its batch is not full', async () => {
    const subject = scheduler();
    subject.liveBatch('campaign-metrics', true);
    const state = turns(subject, 2);
    await advance(50);
    expect(state.passed).toEqual([]);
    subject.liveBatch('campaign-metrics', false);
    await advance(0);
    expect(state.passed).toEqual([0, 1]);
  });

  it('waits for every live projection that is behind', async () => {
    const subject = scheduler();
    subject.liveBatch('campaign-metrics', true);
    subject.liveBatch('campaigns', true);
    const state = turns(subject, 1);
    subject.liveBatch('campaigns', false);
    await advance(50);
    expect(state.passed).toEqual([]);
    subject.liveBatch('campaign-metrics', false);
    await advance(0);
    expect(state.passed).toEqual([0]);
  });

  it('stops counting a live projection that marked itself behind and has not committed for a second', async () => {
    const subject = scheduler();
    subject.liveBatch('campaign-metrics', true);
    expect(subject.contended).toBe(true);
    const state = turns(subject, 20);
    await advance(1_000);
    // A stopped or failing runner does not hold the others back for long.
    expect(subject.contended).toBe(false);
    await advance(100);
    expect(state.passed).toHaveLength(20);
  });

  it('a live batch that was not full releases nothing while ingestion is still busy', async () => {
    const subject = scheduler();
    subject.ingestionBusy(true);
    subject.liveBatch('campaign-metrics', true);
    const state = turns(subject, 2);
    subject.liveBatch('campaign-metrics', false);
    await advance(0);
    expect(state.passed).toEqual([]);
    await advance(100);
    expect(state.passed).toEqual([0]);
  });
});
