/**
 * The budget guard's policy: it watches each campaign's budget, spend and status, and when
 * the spend crosses 75, 90 or 100 % of the budget it asks for the threshold to be recorded;
 * at 100 % it also pauses an active campaign. Pure: the process-manager runner in src/infra
 * stores the watches, executes the commands and keeps the checkpoint.
 */
import {
  addSpend,
  isCampaignEvent,
  thresholdsReachedBy,
  thresholdsStillReached,
  type BudgetThreshold,
  type CampaignEvent,
  type CampaignEventType,
  type PauseCampaign,
  type RecordBudgetThreshold,
} from '../../domain/campaign';
import type { RecordedEvent } from '../../domain/shared/events';
import type { Money } from '../../domain/shared/money';

export const BUDGET_GUARD = 'budget-guard';
export const BUDGET_EXHAUSTED = 'budget exhausted';

export type WatchedStatus = 'DRAFT' | 'SCHEDULED' | 'ACTIVE' | 'PAUSED' | 'COMPLETED' | 'ARCHIVED';

/** What the guard knows of one campaign. */
export interface BudgetWatch {
  readonly workspaceId: string;
  readonly campaignId: string;
  readonly status: WatchedStatus;
  readonly budget: Money | null;
  readonly spent: Money | null;
  /** Thresholds recorded, or asked for, under the current budget. */
  readonly thresholdsReached: readonly BudgetThreshold[];
}

/** A campaign command without its metadata: the runner adds it. */
export type BudgetGuardCommand =
  | Pick<RecordBudgetThreshold, 'type' | 'data'>
  | Pick<PauseCampaign, 'type' | 'data'>;

export interface IssuedBudgetCommand {
  readonly cause: RecordedEvent;
  readonly command: BudgetGuardCommand;
}

export const budgetGuardEventTypes = [
  'CampaignCreated',
  'CampaignUpdated',
  'CampaignScheduled',
  'CampaignLaunched',
  'CampaignPaused',
  'CampaignResumed',
  'CampaignCompleted',
  'CampaignArchived',
  'AdReportImported',
  'SpendRecorded',
  'BudgetThresholdReached',
] as const satisfies readonly CampaignEventType[];

export function budgetWatchKey(workspaceId: string, campaignId: string): string {
  return `${workspaceId}:${campaignId}`;
}

/**
 * One event: the watch after it and the commands it causes. Commands come in the order
 * they must run: lower thresholds, then the pause, then 100 %, so the alert for 100 % is
 * projected after the pause and can tell that the campaign was stopped.
 */
export function reactToEvent(
  watch: BudgetWatch | undefined,
  recorded: RecordedEvent,
): { watch: BudgetWatch | undefined; commands: BudgetGuardCommand[] } {
  const event = { type: recorded.type, data: recorded.data };
  if (!isCampaignEvent(event)) return { watch, commands: [] };
  if (event.type === 'CampaignCreated') {
    const { campaignId, budget } = event.data;
    const created: BudgetWatch = {
      workspaceId: recorded.metadata.workspaceId,
      campaignId,
      status: 'DRAFT',
      budget,
      spent: null,
      thresholdsReached: [],
    };
    return { watch: created, commands: [] };
  }
  // A campaign the guard never saw created is a foreign or truncated stream: left alone.
  if (watch === undefined) return { watch, commands: [] };
  const next = evolveWatch(watch, event);
  return next.spent === watch.spent && next.budget === watch.budget
    ? { watch: next, commands: [] }
    : crossings(next);
}

/** The batch form the runner calls: a fold of `reactToEvent` over the events. */
export function reactToBudgetEvents(
  events: readonly RecordedEvent[],
  stored: ReadonlyMap<string, BudgetWatch>,
): { state: Map<string, BudgetWatch>; commands: IssuedBudgetCommand[] } {
  const state = new Map<string, BudgetWatch>();
  const commands: IssuedBudgetCommand[] = [];
  for (const event of events) {
    const key = budgetWatchKeyOf(event);
    if (key === null) continue;
    const reaction = reactToEvent(state.get(key) ?? stored.get(key), event);
    if (reaction.watch !== undefined) state.set(key, reaction.watch);
    commands.push(...reaction.commands.map((command) => ({ cause: event, command })));
  }
  return { state, commands };
}

export function budgetWatchKeyOf(recorded: RecordedEvent): string | null {
  const event = { type: recorded.type, data: recorded.data };
  return isCampaignEvent(event)
    ? budgetWatchKey(recorded.metadata.workspaceId, event.data.campaignId)
    : null;
}

/** The guard as a process manager (see src/infra/process-managers). */
export const budgetGuard = {
  name: BUDGET_GUARD,
  eventTypes: budgetGuardEventTypes,
  stateKey: budgetWatchKeyOf,
  react: reactToBudgetEvents,
};

function evolveWatch(watch: BudgetWatch, event: CampaignEvent): BudgetWatch {
  switch (event.type) {
    case 'CampaignCreated':
    case 'CampaignContentApplied':
      return watch;
    case 'CampaignUpdated': {
      const { budget } = event.data.changes;
      if (budget === undefined) return watch;
      return {
        ...watch,
        budget,
        thresholdsReached: thresholdsStillReached(watch.thresholdsReached, watch.spent, budget),
      };
    }
    case 'CampaignScheduled':
      return { ...watch, status: 'SCHEDULED' };
    case 'CampaignLaunched':
    case 'CampaignResumed':
      return { ...watch, status: 'ACTIVE' };
    case 'CampaignPaused':
      return { ...watch, status: 'PAUSED' };
    case 'CampaignCompleted':
      return { ...watch, status: 'COMPLETED' };
    case 'CampaignArchived':
      return { ...watch, status: 'ARCHIVED' };
    case 'AdReportImported': {
      const { spend, previous } = event.data;
      return { ...watch, spent: addSpend(watch.spent, spend, previous?.spend ?? null) };
    }
    case 'SpendRecorded':
      return { ...watch, spent: addSpend(watch.spent, event.data.amount) };
    case 'BudgetThresholdReached': {
      const { threshold } = event.data;
      if (watch.thresholdsReached.includes(threshold)) return watch;
      return { ...watch, thresholdsReached: ascending([...watch.thresholdsReached, threshold]) };
    }
    default: {
      const _exhaustive: never = event;
      void _exhaustive;
      return watch;
    }
  }
}

/** The thresholds newly crossed, and the pause when the budget is used up while active. */
function crossings(watch: BudgetWatch): { watch: BudgetWatch; commands: BudgetGuardCommand[] } {
  const { campaignId } = watch;
  const crossed = thresholdsReachedBy(watch.spent, watch.budget).filter(
    (threshold) => !watch.thresholdsReached.includes(threshold),
  );
  if (crossed.length === 0) return { watch, commands: [] };
  const record = (threshold: BudgetThreshold): BudgetGuardCommand => ({
    type: 'RecordBudgetThreshold',
    data: { campaignId, threshold },
  });
  const exhausted = crossed.includes(100);
  const pause = exhausted && watch.status === 'ACTIVE';
  const commands: BudgetGuardCommand[] = [
    ...crossed.filter((threshold) => threshold !== 100).map(record),
    ...(pause
      ? [{ type: 'PauseCampaign', data: { campaignId, reason: BUDGET_EXHAUSTED } } as const]
      : []),
    ...(exhausted ? [record(100)] : []),
  ];
  return {
    // Counted as done at once: a spend event between this one and the events these commands
    // cause must not ask again.
    watch: {
      ...watch,
      status: pause ? 'PAUSED' : watch.status,
      thresholdsReached: ascending([...watch.thresholdsReached, ...crossed]),
    },
    commands,
  };
}

function ascending(thresholds: BudgetThreshold[]): BudgetThreshold[] {
  return thresholds.sort((a, b) => a - b);
}
