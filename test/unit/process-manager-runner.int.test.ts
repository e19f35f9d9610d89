import {
  type CampaignCommand,
  type CampaignEvent,
  campaignDecider,
  campaignStreamId,
} from '../../src/domain/campaign';
import type { CommandMetadata, RecordedEvent } from '../../src/domain/shared/events';
import { CommandHandler } from '../../src/infra/commands/command-handler';
import { SqliteEventStore } from '../../src/infra/event-store/sqlite-event-store';
import { createLogger } from '../../src/infra/logger';
import { createBudgetGuardRunner } from '../../src/infra/process-managers/budget-guard';
import {
  type CommittedReaction,
  type ProcessManager,
  ProcessManagerRunner,
  processManagerCommandId,
} from '../../src/infra/process-managers/process-manager-runner';
import { EmbeddedReadStore } from '../../src/infra/read-store/embedded-read-store';
import {
  BUDGET_EXHAUSTED,
  type BudgetGuardCommand,
  type BudgetWatch,
  budgetGuard,
} from '../../src/projections/budget/budget-guard';
import type { Document, ReadStore } from '../../src/projections/read-store';

const workspaceId = 'acme';
const campaignId = 'spring-sale';
const logger = createLogger('silent');
const WAIT_MS = 10_000;

interface Stores {
  readonly eventStore: SqliteEventStore;
  readonly readStore: EmbeddedReadStore;
  readonly commands: CommandHandler;
}

// ---- the write side, as a client would use it ---------------------------------------------------

let commandCount = 0;

function metadata(): CommandMetadata {
  commandCount += 1;
  return { workspaceId, commandId: `client-${commandCount}`, now: new Date() };
}

/** The normal campaign command path, with the process manager's ids and metadata kept. */
function executeWith(commands: CommandHandler) {
  return (command: CampaignCommand) =>
    commands.handle(
      campaignDecider,
      campaignStreamId(command.metadata.workspaceId, command.data.campaignId),
      command,
    );
}

async function client(stores: Stores, command: Omit<CampaignCommand, 'metadata'>): Promise<void> {
  await executeWith(stores.commands)({ ...command, metadata: metadata() } as CampaignCommand);
}

async function activeCampaign(stores: Stores, budget: string | null = '1000'): Promise<void> {
  await client(stores, {
    type: 'CreateCampaign',
    data: {
      campaignId,
      name: 'Spring sale',
      channels: ['PAID_SEARCH'],
      budget: budget === null ? null : { amount: budget, currency: 'USD' },
    },
  });
  await client(stores, { type: 'LaunchCampaign', data: { campaignId } });
}

function adReport(stores: Stores, spend: string, source = 'google-ads'): Promise<void> {
  return client(stores, {
    type: 'ImportAdReport',
    data: {
      campaignId,
      channel: 'PAID_SEARCH',
      day: '2025-03-01',
      source,
      impressions: 1000,
      clicks: 20,
      spend: { amount: spend, currency: 'USD' },
    },
  });
}

function handSpend(stores: Stores, amount: string, entryId: string): Promise<void> {
  return client(stores, {
    type: 'RecordSpend',
    data: {
      campaignId,
      channel: 'DISPLAY',
      day: '2025-03-02',
      amount: { amount, currency: 'USD' },
      entryId,
    },
  });
}

/** The domain event of a recorded one, narrowed by its type. */
function asEvent(recorded: RecordedEvent): CampaignEvent {
  return { type: recorded.type, data: recorded.data } as CampaignEvent;
}

function reasonOf(recorded: RecordedEvent): string | undefined {
  const event = asEvent(recorded);
  return event.type === 'CampaignPaused' ? event.data.reason : undefined;
}

/** What the guard caused, counted from the log itself. */
async function outcome(stores: Stores) {
  const events = await stores.eventStore.readStream(campaignStreamId(workspaceId, campaignId));
  const thresholds = events
    .map(asEvent)
    .flatMap((event) => (event.type === 'BudgetThresholdReached' ? [event.data.threshold] : []));
  const pauses = events.filter((event) => event.type === 'CampaignPaused');
  return { thresholds, pauses, events };
}

// ---- running ------------------------------------------------------------------------------------

/** Committed batches of a runner, with a bounded wait for the next one. */
class Commits {
  readonly batches: CommittedReaction<BudgetGuardCommand>[] = [];
  private readonly waiters = new Set<() => void>();

  readonly record = (batch: CommittedReaction<BudgetGuardCommand>): void => {
    this.batches.push(batch);
    for (const waiter of this.waiters) waiter();
  };

  /** Resolves once more than `count` batches are committed. */
  after(count: number, timeoutMs = WAIT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.batches.length <= count) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no batch committed after the ${count}th within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}

/** Waits until the runner has committed everything in the log, including what it caused. */
async function settled(
  runner: { position: bigint },
  stores: Stores,
  commits: Commits,
): Promise<void> {
  for (;;) {
    const committed = commits.batches.length;
    if (runner.position >= (await stores.eventStore.headPosition())) return;
    await commits.after(committed);
  }
}

/** A read store whose first commit fails: a crash after the commands ran, before the checkpoint. */
function failingFirstCommit(store: ReadStore): ReadStore & { failedCommits: number } {
  const flaky = {
    failedCommits: 0,
    collection: <T extends Document>(name: string) => store.collection<T>(name),
    commit: async (batch: Parameters<ReadStore['commit']>[0]) => {
      if (flaky.failedCommits === 0) {
        flaky.failedCommits += 1;
        throw new Error('simulated crash before the checkpoint was written');
      }
      await store.commit(batch);
    },
    getCheckpoint: (name: string) => store.getCheckpoint(name),
    deleteCheckpoint: (name: string) => store.deleteCheckpoint(name),
    dropCollection: (name: string) => store.dropCollection(name),
    ensureIndexes: (name: string, indexes: readonly (readonly string[])[]) =>
      store.ensureIndexes(name, indexes),
    listCollections: () => store.listCollections(),
    acquireLease: (...args: Parameters<ReadStore['acquireLease']>) => store.acquireLease(...args),
    renewLease: (...args: Parameters<ReadStore['renewLease']>) => store.renewLease(...args),
    releaseLease: (...args: Parameters<ReadStore['releaseLease']>) => store.releaseLease(...args),
    leases: () => store.leases(),
    follow: (...args: Parameters<ReadStore['follow']>) => store.follow(...args),
    ping: () => store.ping(),
    close: () => store.close(),
  };
  return flaky;
}

describe('ProcessManagerRunner with the budget guard', () => {
  let stores: Stores;
  const running: { stop(): Promise<void> }[] = [];

  beforeEach(() => {
    const eventStore = SqliteEventStore.open({ path: ':memory:', synchronous: 'NORMAL' });
    stores = {
      eventStore,
      readStore: EmbeddedReadStore.open({ path: ':memory:' }),
      commands: new CommandHandler(eventStore),
    };
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((runner) => runner.stop()));
    await stores.eventStore.close();
    await stores.readStore.close();
  });

  function startGuard(
    commits: Commits,
    options: {
      readStore?: ReadStore;
      execute?: (command: CampaignCommand) => Promise<unknown>;
    } = {},
  ) {
    const runner = createBudgetGuardRunner({
      eventStore: stores.eventStore,
      readStore: options.readStore ?? stores.readStore,
      executeCampaignCommand: options.execute ?? executeWith(stores.commands),
      batchSize: 4,
      logger,
      onCommitted: commits.record,
      retryDelayMs: 5,
    });
    running.push(runner);
    runner.start();
    return runner;
  }

  it('given an overspending campaign, then each threshold is recorded once and it is paused exactly once', async () => {
    // given an active campaign with a 1000 USD budget and a running guard
    await activeCampaign(stores);
    const commits = new Commits();
    const guard = startGuard(commits);

    // when spend comes in step by step, some of it restated, and keeps coming after exhaustion
    await adReport(stores, '800');
    await settled(guard, stores, commits);
    await handSpend(stores, '150', 'invoice-1');
    await settled(guard, stores, commits);
    await adReport(stores, '900'); // restates 800 → 900: 1050 in all
    await settled(guard, stores, commits);
    await handSpend(stores, '200', 'invoice-2');
    await adReport(stores, '50', 'meta-ads');
    await settled(guard, stores, commits);

    // then the log holds each threshold once and one pause, for the budget's reason
    const { thresholds, pauses, events } = await outcome(stores);
    expect(thresholds).toEqual([75, 90, 100]);
    expect(pauses).toHaveLength(1);
    expect(reasonOf(pauses[0])).toBe(BUDGET_EXHAUSTED);
    // and the pause was issued under the guard's deterministic id, caused by the restatement
    const restatement = events.find((recorded) => {
      const event = asEvent(recorded);
      return event.type === 'AdReportImported' && event.data.previous !== null;
    });
    expect(pauses[0].metadata).toMatchObject({
      commandId: processManagerCommandId('budget-guard', restatement?.eventId ?? '', 0),
      causationId: restatement?.eventId,
      actor: 'process-manager:budget-guard',
    });
    // and the campaign is paused with 1300 spent
    const { state } = await stores.commands.load(
      campaignDecider,
      campaignStreamId(workspaceId, campaignId),
    );
    expect(state).toMatchObject({
      status: 'Paused',
      spend: { total: { amountMinor: 130000, currency: 'USD' } },
    });
    // and the guard's own state and checkpoint are stored
    const watch = await stores.readStore
      .collection<Document & { state: BudgetWatch }>('process_budget-guard')
      .findOne({ _id: `${workspaceId}:${campaignId}` });
    expect(watch?.state).toMatchObject({
      status: 'PAUSED',
      spent: { amountMinor: 130000, currency: 'USD' },
      thresholdsReached: [75, 90, 100],
    });
    expect((await stores.readStore.getCheckpoint('budget-guard'))?.position).toBe(guard.position);
    expect(commits.batches.flatMap((batch) => batch.rejected)).toEqual([]);
  });

  it('given all the spend at once, before the guard starts, then it still pauses once', async () => {
    // given spend far past the budget, in many events, already in the log
    await activeCampaign(stores);
    for (let entry = 1; entry <= 9; entry++) await handSpend(stores, '150', `invoice-${entry}`);

    // when the guard starts
    const commits = new Commits();
    const guard = startGuard(commits);
    await settled(guard, stores, commits);

    // then one of each
    const { thresholds, pauses } = await outcome(stores);
    expect(thresholds).toEqual([75, 90, 100]);
    expect(pauses).toHaveLength(1);
  });

  it('given a pause the domain refuses, then it is skipped and the batch commits', async () => {
    // given spend past the budget, and the campaign paused by hand before the guard acts
    await activeCampaign(stores);
    await handSpend(stores, '1200', 'invoice-1');
    await client(stores, { type: 'PauseCampaign', data: { campaignId, reason: 'by hand' } });

    // when the guard runs
    const commits = new Commits();
    const guard = startGuard(commits);
    await settled(guard, stores, commits);

    // then its pause was refused by the decider and logged, the thresholds still recorded
    const rejected = commits.batches.flatMap((batch) => batch.rejected);
    expect(rejected.map(({ issued, error }) => [issued.command.type, error.kind])).toEqual([
      ['PauseCampaign', 'CONFLICT'],
    ]);
    const { thresholds, pauses } = await outcome(stores);
    expect(thresholds).toEqual([75, 90, 100]);
    expect(pauses.map(reasonOf)).toEqual(['by hand']);
    expect(guard.state).toBe('running');
  });

  it('given a crash after the commands ran and before the checkpoint, then the re-run issues the same commands and nothing doubles', async () => {
    // given an overspent campaign and a read store whose first commit fails
    await activeCampaign(stores);
    await handSpend(stores, '1100', 'invoice-1');
    const readStore = failingFirstCommit(stores.readStore);
    const issued: string[] = [];
    const execute = (command: CampaignCommand) => {
      issued.push(`${command.type}:${command.metadata.commandId}`);
      return executeWith(stores.commands)(command);
    };

    // when the guard runs, fails to commit its first batch, and runs it again
    const commits = new Commits();
    const guard = startGuard(commits, { readStore, execute });
    await settled(guard, stores, commits);

    // then the batch ran twice with the same command ids
    expect(readStore.failedCommits).toBe(1);
    const firstRun = issued.slice(0, 4);
    expect(firstRun.map((each) => each.split(':')[0])).toEqual([
      'RecordBudgetThreshold',
      'RecordBudgetThreshold',
      'PauseCampaign',
      'RecordBudgetThreshold',
    ]);
    expect(issued.slice(4, 8)).toEqual(firstRun);
    // and the command handler turned the second run into no-ops
    const { thresholds, pauses } = await outcome(stores);
    expect(thresholds).toEqual([75, 90, 100]);
    expect(pauses).toHaveLength(1);
    expect(commits.batches.flatMap((batch) => batch.rejected)).toEqual([]);
  });

  it('given a command that fails for a reason other than a rule, then the batch is retried', async () => {
    // given an overspent campaign and a command path that fails once, mid-batch
    await activeCampaign(stores);
    await handSpend(stores, '1000', 'invoice-1');
    let calls = 0;
    const execute = (command: CampaignCommand) => {
      calls += 1;
      if (calls === 2) return Promise.reject(new Error('event store unavailable'));
      return executeWith(stores.commands)(command);
    };

    // when the guard runs
    const commits = new Commits();
    const guard = startGuard(commits, { execute });
    await settled(guard, stores, commits);

    // then after the retry everything happened once
    const { thresholds, pauses } = await outcome(stores);
    expect(thresholds).toEqual([75, 90, 100]);
    expect(pauses).toHaveLength(1);
    expect(guard.lastError).toBeNull();
  });

  it('given a restart, then it continues from its checkpoint', async () => {
    // given a guard that handled the spend up to 80 % and was stopped
    await activeCampaign(stores);
    await adReport(stores, '800');
    const seen: bigint[] = [];
    const spying: ProcessManager<BudgetWatch, BudgetGuardCommand> = {
      ...budgetGuard,
      react: (events, state) => {
        seen.push(...events.map((event) => event.position));
        return budgetGuard.react(events, state);
      },
    };
    const runnerOf = (commits: Commits) => {
      const runner = new ProcessManagerRunner({
        processManager: spying,
        eventStore: stores.eventStore,
        readStore: stores.readStore,
        execute: (command: BudgetGuardCommand, metadata: CommandMetadata) =>
          executeWith(stores.commands)({ ...command, metadata }),
        batchSize: 4,
        logger,
        onCommitted: commits.record,
      });
      running.push(runner);
      runner.start();
      return runner;
    };
    const firstCommits = new Commits();
    const first = runnerOf(firstCommits);
    await settled(first, stores, firstCommits);
    await first.stop();
    const checkpoint = (await stores.readStore.getCheckpoint('budget-guard'))?.position;
    expect(checkpoint).toBe(first.position);
    const seenBeforeRestart = seen.length;

    // when more spend comes in while it is down, and it starts again
    await handSpend(stores, '250', 'invoice-1');
    const secondCommits = new Commits();
    const second = runnerOf(secondCommits);
    await settled(second, stores, secondCommits);

    // then it read only the events after its checkpoint
    const afterRestart = seen.slice(seenBeforeRestart);
    expect(afterRestart.length).toBeGreaterThan(0);
    expect(afterRestart.every((position) => position > (checkpoint ?? -1n))).toBe(true);
    // and it went on from the state it had stored: 75 % before, 90 % and 100 % after
    const { thresholds, pauses } = await outcome(stores);
    expect(thresholds).toEqual([75, 90, 100]);
    expect(pauses).toHaveLength(1);
  });

  it('given no budget, then nothing happens however much is spent', async () => {
    await activeCampaign(stores, null);
    await handSpend(stores, '100000', 'invoice-1');
    const commits = new Commits();
    const guard = startGuard(commits);
    await settled(guard, stores, commits);

    const { thresholds, pauses } = await outcome(stores);
    expect(thresholds).toEqual([]);
    expect(pauses).toEqual([]);
    expect(commits.batches.flatMap((batch) => batch.executed)).toEqual([]);
  });
});
