import type { CampaignEvent } from '../../src/domain/campaign';
import type { RecordedEvent } from '../../src/domain/shared/events';
import type { Money } from '../../src/domain/shared/money';
import {
  BUDGET_EXHAUSTED,
  type BudgetGuardCommand,
  type BudgetWatch,
  budgetGuard,
  reactToBudgetEvents,
} from '../../src/projections/budget/budget-guard';

const campaignId = 'spring-sale';
const usd = (major: number): Money => ({ amountMinor: major * 100, currency: 'USD' });

// ---- given: events -----------------------------------------------------------------------------

const created = (budget: Money | null = usd(1000)): CampaignEvent => ({
  type: 'CampaignCreated',
  data: {
    campaignId,
    name: 'Spring sale',
    description: '',
    channels: ['PAID_SEARCH'],
    goal: null,
    budget,
    schedule: { startsAt: null, endsAt: null },
    tags: [],
    duplicatedFrom: null,
    createdAt: '2025-03-01T00:00:00.000Z',
  },
});
const launched: CampaignEvent = {
  type: 'CampaignLaunched',
  data: { campaignId, launchedAt: '2025-03-01T01:00:00.000Z' },
};
const paused = (reason = 'manual'): CampaignEvent => ({
  type: 'CampaignPaused',
  data: { campaignId, reason, pausedAt: '2025-03-02T00:00:00.000Z' },
});
const resumed: CampaignEvent = {
  type: 'CampaignResumed',
  data: { campaignId, resumedAt: '2025-03-03T00:00:00.000Z' },
};
const budgetSetTo = (budget: Money | null): CampaignEvent => ({
  type: 'CampaignUpdated',
  data: { campaignId, changes: { budget }, updatedAt: '2025-03-02T00:00:00.000Z' },
});
/** A hand-recorded spend of `major` dollars. */
const spent = (major: number, entryId = `entry-${major}`): CampaignEvent => ({
  type: 'SpendRecorded',
  data: {
    campaignId,
    channel: 'PAID_SEARCH',
    day: '2025-03-01',
    amount: usd(major),
    entryId,
    note: null,
    recordedAt: '2025-03-02T00:00:00.000Z',
  },
});
/** An ad-report row of `major` dollars replacing one of `previous` dollars. */
const reported = (major: number, previous: number | null = null): CampaignEvent => ({
  type: 'AdReportImported',
  data: {
    campaignId,
    channel: 'PAID_SEARCH',
    day: '2025-03-01',
    source: 'google-ads',
    impressions: 1000,
    clicks: 10,
    spend: usd(major),
    previous: previous === null ? null : { impressions: 900, clicks: 9, spend: usd(previous) },
    importedAt: '2025-03-02T00:00:00.000Z',
  },
});
const thresholdReached = (threshold: 75 | 90 | 100, budget = usd(1000)): CampaignEvent => ({
  type: 'BudgetThresholdReached',
  data: { campaignId, threshold, spent: usd(1000), budget, reachedAt: '2025-03-02T00:00:00.000Z' },
});

function recorded(events: readonly CampaignEvent[], workspaceId = 'acme'): RecordedEvent[] {
  return events.map((event, index) => ({
    eventId: `${workspaceId}-event-${index}`,
    type: event.type,
    data: event.data,
    metadata: { workspaceId, schemaVersion: 1 },
    streamId: `campaign-${workspaceId}:${campaignId}`,
    revision: BigInt(index),
    position: BigInt(index),
    recordedAt: new Date('2025-03-02T00:00:00Z'),
  }));
}

// ---- when / then -------------------------------------------------------------------------------

/** Runs the guard over the events, one batch, from no stored state. */
function guard(events: readonly CampaignEvent[]) {
  return reactToBudgetEvents(recorded(events), new Map());
}

function commandsFor(events: readonly CampaignEvent[]): BudgetGuardCommand[] {
  return guard(events).commands.map((issued) => issued.command);
}

const threshold = (value: 75 | 90 | 100): BudgetGuardCommand => ({
  type: 'RecordBudgetThreshold',
  data: { campaignId, threshold: value },
});
const pause: BudgetGuardCommand = {
  type: 'PauseCampaign',
  data: { campaignId, reason: BUDGET_EXHAUSTED },
};

describe('budget guard', () => {
  it('declares the events it watches and keys its state by workspace and campaign', () => {
    expect([...budgetGuard.eventTypes].sort()).toEqual(
      [
        'AdReportImported',
        'BudgetThresholdReached',
        'CampaignArchived',
        'CampaignCompleted',
        'CampaignCreated',
        'CampaignLaunched',
        'CampaignPaused',
        'CampaignResumed',
        'CampaignScheduled',
        'CampaignUpdated',
        'SpendRecorded',
      ].sort(),
    );
    const [event] = recorded([created()], 'globex');
    expect(budgetGuard.stateKey(event)).toBe('globex:spring-sale');
    expect(budgetGuard.stateKey({ ...event, type: 'ContactCreated' })).toBeNull();
  });

  it('given an active campaign, when spend jumps past 100 % at once, then all three thresholds and one pause, caused by that event', () => {
    const { commands, state } = guard([created(), launched, spent(1200)]);

    expect(commands.map((issued) => issued.command)).toEqual([
      threshold(75),
      threshold(90),
      pause,
      threshold(100),
    ]);
    expect(new Set(commands.map((issued) => issued.cause.eventId))).toEqual(
      new Set(['acme-event-2']),
    );
    expect(state.get('acme:spring-sale')).toEqual<BudgetWatch>({
      workspaceId: 'acme',
      campaignId,
      status: 'PAUSED',
      budget: usd(1000),
      spent: usd(1200),
      thresholdsReached: [75, 90, 100],
    });
  });

  it('given spend rising step by step, then each threshold once, at the event that crosses it', () => {
    const events = [created(), launched, spent(700), spent(60), spent(100), spent(89), spent(51)];
    const { commands } = guard([...events, spent(500)]);

    expect(commands.map((issued) => [issued.cause.eventId, issued.command])).toEqual([
      ['acme-event-3', threshold(75)],
      ['acme-event-5', threshold(90)],
      ['acme-event-6', pause],
      ['acme-event-6', threshold(100)],
    ]);
  });

  it('given the thresholds and the pause came back as events, then more spend asks for nothing', () => {
    expect(
      commandsFor([
        created(),
        launched,
        spent(1000),
        thresholdReached(75),
        thresholdReached(90),
        paused(BUDGET_EXHAUSTED),
        thresholdReached(100),
        spent(300),
      ]),
    ).toEqual([threshold(75), threshold(90), pause, threshold(100)]);
  });

  it('given 90 % spent, when the budget is raised, then no pause at the old 100 %', () => {
    const { commands, state } = guard([
      created(),
      launched,
      spent(950),
      budgetSetTo(usd(2000)),
      spent(100),
    ]);
    expect(commands.map((issued) => issued.command)).toEqual([threshold(75), threshold(90)]);
    expect(state.get('acme:spring-sale')).toMatchObject({
      status: 'ACTIVE',
      spent: usd(1050),
      thresholdsReached: [],
    });
  });

  it('given a raised budget, when the new 100 % is crossed, then it pauses again', () => {
    expect(
      commandsFor([
        created(),
        launched,
        spent(1000),
        paused(BUDGET_EXHAUSTED),
        budgetSetTo(usd(1500)),
        resumed,
        spent(600),
      ]),
    ).toEqual([
      threshold(75),
      threshold(90),
      pause,
      threshold(100),
      // 1000 of 1500 is 66 %: every threshold is armed again; 1600 crosses all of them.
      threshold(75),
      threshold(90),
      pause,
      threshold(100),
    ]);
  });

  it('given spend past 90 %, when the budget is lowered below it, then the update crosses 100 % and pauses', () => {
    const { commands } = guard([created(), launched, spent(950), budgetSetTo(usd(900))]);
    expect(commands.map((issued) => [issued.cause.eventId, issued.command])).toEqual([
      ['acme-event-2', threshold(75)],
      ['acme-event-2', threshold(90)],
      ['acme-event-3', pause],
      ['acme-event-3', threshold(100)],
    ]);
  });

  it('given no budget, then spend asks for nothing', () => {
    expect(commandsFor([created(null), launched, spent(1_000_000)])).toEqual([]);
  });

  it('given the budget removed, then nothing is reached and nothing asked', () => {
    const { commands, state } = guard([
      created(),
      launched,
      spent(800),
      budgetSetTo(null),
      spent(800),
    ]);
    expect(commands.map((issued) => issued.command)).toEqual([threshold(75)]);
    expect(state.get('acme:spring-sale')?.thresholdsReached).toEqual([]);
  });

  it.each<[string, CampaignEvent[]]>([
    ['a draft', [created()]],
    ['a paused', [created(), launched, paused()]],
  ])(
    'given %s campaign, when spend passes 100 %, then the thresholds are recorded but nothing is paused',
    (_, history) => {
      expect(commandsFor([...history, spent(1100)])).toEqual([
        threshold(75),
        threshold(90),
        threshold(100),
      ]);
    },
  );

  it('given a restated ad report, then only the difference counts', () => {
    const { commands, state } = guard([created(), launched, reported(800), reported(500, 800)]);
    expect(commands.map((issued) => issued.command)).toEqual([threshold(75)]);
    expect(state.get('acme:spring-sale')?.spent).toEqual(usd(500));
  });

  it('given events of a campaign it never saw created, then it keeps no state and asks nothing', () => {
    expect(guard([launched, spent(5000)])).toEqual({ state: new Map(), commands: [] });
  });

  it('keeps two workspaces apart', () => {
    const events = [
      ...recorded([created(), launched, spent(800)], 'acme'),
      ...recorded([created(), launched, spent(950)], 'globex'),
    ];
    const { state, commands } = reactToBudgetEvents(events, new Map());
    expect(state.get('acme:spring-sale')?.spent).toEqual(usd(800));
    expect(state.get('globex:spring-sale')?.spent).toEqual(usd(950));
    expect(commands.map((issued) => issued.cause.metadata.workspaceId)).toEqual([
      'acme',
      'globex',
      'globex',
    ]);
  });

  it('issues the same commands for the same events however the log is cut into batches', () => {
    const events = recorded([
      created(),
      launched,
      spent(500),
      spent(300),
      budgetSetTo(usd(900)),
      spent(50),
      spent(200),
    ]);
    const inOneBatch = reactToBudgetEvents(events, new Map());
    for (let cut = 1; cut < events.length; cut++) {
      const first = reactToBudgetEvents(events.slice(0, cut), new Map());
      const second = reactToBudgetEvents(events.slice(cut), first.state);
      const stored = new Map([...first.state, ...second.state]);
      expect([...first.commands, ...second.commands]).toEqual(inOneBatch.commands);
      expect(stored).toEqual(inOneBatch.state);
    }
  });
});
