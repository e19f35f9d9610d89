/**
 * The campaign's rules: given its state and a command, which events happen, or which typed
 * error explains why not. Pure: time comes from `metadata.now`, ids from the command.
 */
import { IllegalStateError, NotFoundError, ValidationError } from '../shared/errors';
import type { CommandMetadata, Decider } from '../shared/events';
import { formatMoney, type Money, parseMoney } from '../shared/money';
import { hasReachedThreshold, isBudgetThreshold } from './budget';
import { parseContent, parseContentSurface } from './campaign.content';
import type {
  ApplyCampaignContent,
  ArchiveCampaign,
  CampaignCommand,
  CompleteCampaign,
  CreateCampaign,
  CreateCampaignData,
  GoalInput,
  ImportAdReport,
  LaunchCampaign,
  PauseCampaign,
  RecordBudgetThreshold,
  RecordSpend,
  ResumeCampaign,
  ScheduleCampaign,
  UpdateCampaign,
} from './campaign.commands';
import type {
  AdReportImported,
  BudgetThresholdReached,
  CampaignArchived,
  CampaignChanges,
  CampaignCompleted,
  CampaignContentApplied,
  CampaignContentSource,
  CampaignCreated,
  CampaignEvent,
  CampaignGoal,
  CampaignLaunched,
  CampaignPaused,
  CampaignResumed,
  CampaignScheduled,
  CampaignUpdated,
  SpendRecorded,
} from './campaign.events';
import {
  assertEndsAfterStart,
  campaignLimits,
  parseBudget,
  parseChannel,
  parseChannels,
  parseCount,
  parseDay,
  parseDescription,
  parseGoal,
  parseInstant,
  parseName,
  parsePauseReason,
  parseSchedule,
  parseSource,
  parseSpendNote,
  parseTags,
} from './campaign.input';
import {
  adReportKey,
  evolve,
  initialState,
  type CampaignProfile,
  type CampaignSpend,
  type CampaignState,
  type CampaignStatus,
} from './campaign.state';
import { assertValidCampaignId } from './campaign.stream';

export function decide(command: CampaignCommand, state: CampaignState): CampaignEvent[] {
  switch (command.type) {
    case 'CreateCampaign':
      return [create(command, state)];
    case 'UpdateCampaign':
      return update(command, state);
    case 'ScheduleCampaign':
      return [schedule(command, state)];
    case 'LaunchCampaign':
      return [launch(command, state)];
    case 'PauseCampaign':
      return [pause(command, state)];
    case 'ResumeCampaign':
      return [resume(command, state)];
    case 'CompleteCampaign':
      return [complete(command, state)];
    case 'ArchiveCampaign':
      return [archive(command, state)];
    case 'ImportAdReport':
      return importAdReport(command, state);
    case 'RecordSpend':
      return recordSpend(command, state);
    case 'RecordBudgetThreshold':
      return recordBudgetThreshold(command, state);
    case 'ApplyCampaignContent':
      return applyContent(command, state);
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

export const campaignDecider: Decider<CampaignCommand, CampaignEvent, CampaignState> = {
  initialState,
  evolve,
  decide,
};

/**
 * The CreateCampaign data that copies `source` under a new id. The schedule is left out on
 * purpose: the source's dates have usually passed, and the copy starts as a fresh draft.
 */
export function duplicateCampaignInput(
  source: CampaignState,
  newCampaignId: string,
  name?: string,
): CreateCampaignData {
  if (source.status === 'Nonexistent') throw new NotFoundError('campaign', 'to duplicate');
  const { campaign } = source;
  return {
    campaignId: newCampaignId,
    name: name ?? `Copy of ${campaign.name}`.slice(0, campaignLimits.nameLength),
    description: campaign.description,
    channels: [...campaign.channels],
    goal: campaign.goal && goalInputOf(campaign.goal),
    budget: campaign.budget && {
      amount: formatMoney(campaign.budget),
      currency: campaign.budget.currency,
    },
    tags: [...campaign.tags],
    duplicatedFrom: campaign.campaignId,
  };
}

function create({ data, metadata }: CreateCampaign, state: CampaignState): CampaignCreated {
  if (state.status !== 'Nonexistent') {
    throw new IllegalStateError(`campaign ${data.campaignId} already exists`, 'ALREADY_EXISTS');
  }
  assertValidCampaignId(data.campaignId, 'campaignId');
  if (data.duplicatedFrom != null) assertValidCampaignId(data.duplicatedFrom, 'duplicatedFrom');
  return {
    type: 'CampaignCreated',
    data: {
      campaignId: data.campaignId,
      name: parseName(data.name),
      description: parseDescription(data.description),
      channels: parseChannels(data.channels),
      goal: parseGoal(data.goal),
      budget: parseBudget(data.budget),
      schedule: parseSchedule(data.schedule),
      tags: parseTags(data.tags),
      duplicatedFrom: data.duplicatedFrom ?? null,
      createdAt: timestamp(metadata),
    },
  };
}

/** Only fields that really change go into the event; an update that changes nothing is no event. */
function update({ data, metadata }: UpdateCampaign, state: CampaignState): CampaignUpdated[] {
  const current = requirePhase(
    state,
    ['Draft', 'Scheduled', 'Active', 'Paused'],
    'update',
    data.campaignId,
  );
  const changes = withoutUnchanged(current.campaign, parseChanges(data));
  if (current.status === 'Active')
    assertSameBudgetCurrency(current.campaign.budget, changes.budget);
  assertBudgetInSpendCurrency(current.spend.total, changes.budget);
  if (Object.keys(changes).length === 0) return [];
  return [
    {
      type: 'CampaignUpdated',
      data: { campaignId: data.campaignId, changes, updatedAt: timestamp(metadata) },
    },
  ];
}

/** The command states the whole schedule: an absent `endsAt` means open-ended. */
function schedule({ data, metadata }: ScheduleCampaign, state: CampaignState): CampaignScheduled {
  requirePhase(state, ['Draft', 'Scheduled'], 'schedule', data.campaignId);
  const startsAt = parseInstant(data.startsAt, 'startsAt');
  if (Date.parse(startsAt) <= metadata.now.getTime()) {
    throw new ValidationError(
      'startsAt',
      `must be in the future, got ${startsAt}`,
      'START_IN_PAST',
    );
  }
  const endsAt = data.endsAt == null ? null : parseInstant(data.endsAt, 'endsAt');
  if (endsAt !== null) assertEndsAfterStart(startsAt, endsAt, 'endsAt');
  return {
    type: 'CampaignScheduled',
    data: {
      campaignId: data.campaignId,
      schedule: { startsAt, endsAt },
      scheduledAt: timestamp(metadata),
    },
  };
}

/** Launching early, before a scheduled start, is allowed: it is how a campaign goes live. */
function launch({ data, metadata }: LaunchCampaign, state: CampaignState): CampaignLaunched {
  const { campaign } = requirePhase(state, ['Draft', 'Scheduled'], 'launch', data.campaignId);
  if (campaign.channels.length === 0) {
    throw new IllegalStateError(
      'add at least one channel before launching the campaign',
      'NO_CHANNELS',
    );
  }
  const { endsAt } = campaign.schedule;
  if (endsAt !== null && Date.parse(endsAt) <= metadata.now.getTime()) {
    throw new IllegalStateError(`the campaign's schedule ended at ${endsAt}`, 'SCHEDULE_ENDED');
  }
  return {
    type: 'CampaignLaunched',
    data: { campaignId: data.campaignId, launchedAt: timestamp(metadata) },
  };
}

function pause({ data, metadata }: PauseCampaign, state: CampaignState): CampaignPaused {
  requirePhase(state, ['Active'], 'pause', data.campaignId);
  return {
    type: 'CampaignPaused',
    data: {
      campaignId: data.campaignId,
      reason: parsePauseReason(data.reason),
      pausedAt: timestamp(metadata),
    },
  };
}

function resume({ data, metadata }: ResumeCampaign, state: CampaignState): CampaignResumed {
  requirePhase(state, ['Paused'], 'resume', data.campaignId);
  return {
    type: 'CampaignResumed',
    data: { campaignId: data.campaignId, resumedAt: timestamp(metadata) },
  };
}

function complete({ data, metadata }: CompleteCampaign, state: CampaignState): CampaignCompleted {
  requirePhase(state, ['Active', 'Paused'], 'complete', data.campaignId);
  return {
    type: 'CampaignCompleted',
    data: { campaignId: data.campaignId, completedAt: timestamp(metadata) },
  };
}

function archive({ data, metadata }: ArchiveCampaign, state: CampaignState): CampaignArchived {
  // Archiving hides a campaign that may still be spending; the client must stop it first.
  if (state.status === 'Active') {
    throw new IllegalStateError('pause or complete an active campaign before archiving it');
  }
  requirePhase(state, ['Draft', 'Scheduled', 'Paused', 'Completed'], 'archive', data.campaignId);
  return {
    type: 'CampaignArchived',
    data: { campaignId: data.campaignId, archivedAt: timestamp(metadata) },
  };
}

/** Spend keeps coming in after a campaign stops (platforms report late), until it is archived. */
const spendingPhases = ['Draft', 'Scheduled', 'Active', 'Paused', 'Completed'] as const;

/**
 * Re-importing a campaign × channel × day × source replaces the earlier row (platforms
 * restate); the same figures again change nothing.
 */
function importAdReport(
  { data, metadata }: ImportAdReport,
  state: CampaignState,
): AdReportImported[] {
  const { campaign, spend } = requirePhase(
    state,
    spendingPhases,
    'import spend into',
    data.campaignId,
  );
  const channel = parseChannel(data.channel);
  const day = parseDay(data.day);
  const source = parseSource(data.source);
  const figures = {
    impressions: parseCount(data.impressions, 'impressions'),
    clicks: parseCount(data.clicks, 'clicks'),
    spend: parseSpendAmount(data.spend.amount, data.spend.currency, 'spend', campaign, spend),
  };
  const previous = spend.adReports.get(adReportKey({ channel, day, source })) ?? null;
  if (previous !== null && isSameJson(previous, figures)) return [];
  return [
    {
      type: 'AdReportImported',
      data: {
        campaignId: data.campaignId,
        channel,
        day,
        source,
        ...figures,
        previous,
        importedAt: timestamp(metadata),
      },
    },
  ];
}

/** An entry id already recorded with the same figures is a retry; with others, a mistake. */
function recordSpend({ data, metadata }: RecordSpend, state: CampaignState): SpendRecorded[] {
  const { campaign, spend } = requirePhase(
    state,
    spendingPhases,
    'record spend on',
    data.campaignId,
  );
  assertValidCampaignId(data.entryId, 'entryId');
  const entry = {
    channel: parseChannel(data.channel),
    day: parseDay(data.day),
    amount: parseSpendAmount(data.amount.amount, data.amount.currency, 'amount', campaign, spend),
    note: parseSpendNote(data.note),
  };
  const earlier = spend.entries.get(data.entryId);
  if (earlier !== undefined) {
    if (isSameJson(earlier, entry)) return [];
    throw new IllegalStateError(
      `spend entry ${data.entryId} was already recorded with other figures`,
      'ENTRY_EXISTS',
    );
  }
  return [
    {
      type: 'SpendRecorded',
      data: {
        campaignId: data.campaignId,
        ...entry,
        entryId: data.entryId,
        recordedAt: timestamp(metadata),
      },
    },
  ];
}

/** Once per threshold (and budget): a repeat is no event, a threshold not reached is refused. */
function recordBudgetThreshold(
  { data, metadata }: RecordBudgetThreshold,
  state: CampaignState,
): BudgetThresholdReached[] {
  const { campaign, spend } = requirePhase(
    state,
    spendingPhases,
    'record a budget threshold of',
    data.campaignId,
  );
  const { threshold } = data;
  if (!isBudgetThreshold(threshold)) {
    throw new ValidationError(
      'threshold',
      `threshold must be 75, 90 or 100, got ${threshold}`,
      'INVALID_THRESHOLD',
    );
  }
  if (spend.thresholdsReached.includes(threshold)) return [];
  const { budget } = campaign;
  const spent = spend.total;
  if (budget === null || spent === null || !hasReachedThreshold(spent, budget, threshold)) {
    throw new IllegalStateError(
      budget === null
        ? 'the campaign has no budget'
        : `spend ${spent === null ? 'none' : formatMoney(spent)} is below ${threshold} % of the budget ${formatMoney(budget)} ${budget.currency}`,
      'THRESHOLD_NOT_REACHED',
    );
  }
  return [
    {
      type: 'BudgetThresholdReached',
      data: {
        campaignId: data.campaignId,
        threshold,
        spent,
        budget,
        reachedAt: timestamp(metadata),
      },
    },
  ];
}

/**
 * While the campaign can still show something (not once completed or archived). The content
 * replaces what the surface showed; the same content again is no event.
 */
function applyContent(
  { data, metadata }: ApplyCampaignContent,
  state: CampaignState,
): CampaignContentApplied[] {
  const current = requirePhase(
    state,
    ['Draft', 'Scheduled', 'Active', 'Paused'],
    'apply content to',
    data.campaignId,
  );
  const surface = parseContentSurface(data.surface);
  const content = parseContent(data.content);
  const source = parseContentSource(data.source);
  if (Object.hasOwn(current.content, surface) && isSameJson(current.content[surface], content)) {
    return [];
  }
  return [
    {
      type: 'CampaignContentApplied',
      data: {
        campaignId: data.campaignId,
        surface,
        content,
        source,
        appliedAt: timestamp(metadata),
      },
    },
  ];
}

function parseContentSource(
  source: CampaignContentSource | null | undefined,
): CampaignContentSource | null {
  if (source == null) return null;
  assertValidCampaignId(source.experimentId, 'source.experimentId');
  assertValidCampaignId(source.variant, 'source.variant');
  return { experimentId: source.experimentId, variant: source.variant };
}

/**
 * Spend is summed, and sums never mix currencies: it must be in the budget's currency, or
 * without a budget in the currency of the spend so far. `field` is the money input's path.
 */
function parseSpendAmount(
  amount: string,
  currency: string,
  field: string,
  campaign: CampaignProfile,
  spend: CampaignSpend,
): Money {
  const money = parseMoney(amount, currency, `${field}.amount`);
  const expected = campaign.budget?.currency ?? spend.total?.currency;
  if (expected !== undefined && money.currency !== expected) {
    throw new ValidationError(
      `${field}.currency`,
      `spend must be in ${expected}, the currency of the campaign's ${campaign.budget ? 'budget' : 'spend so far'}, got ${money.currency}`,
      'CURRENCY_MISMATCH',
    );
  }
  return money;
}

/** A phase in which a command may run; an archived campaign accepts nothing. */
type OpenStatus = Exclude<CampaignStatus, 'Nonexistent' | 'Archived'>;

/**
 * Narrows the state to the phases a command is allowed in, or throws the error that tells
 * the client the campaign's true state (no silent, "idempotent" success).
 */
function requirePhase<S extends OpenStatus>(
  state: CampaignState,
  allowed: readonly S[],
  action: string,
  campaignId: string,
): Extract<CampaignState, { status: S }> {
  if (state.status === 'Nonexistent') throw new NotFoundError('campaign', campaignId);
  if (state.status === 'Archived') throw new IllegalStateError('campaign is archived');
  if (!isAllowed(allowed, state)) {
    const phase = state.status.toLowerCase();
    throw new IllegalStateError(`cannot ${action} ${articleFor(phase)} ${phase} campaign`);
  }
  return state;
}

function isAllowed<S extends OpenStatus>(
  allowed: readonly S[],
  state: CampaignState,
): state is Extract<CampaignState, { status: S }> {
  return (allowed as readonly CampaignStatus[]).includes(state.status);
}

function articleFor(word: string): 'a' | 'an' {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

type MutableChanges = { -readonly [K in keyof CampaignChanges]: CampaignChanges[K] };

/**
 * Parses the fields present in the input; absent ones are not touched. Only goal and budget
 * can be cleared, so a null name, description, channels or tags also means "leave as is".
 */
function parseChanges(data: UpdateCampaign['data']): CampaignChanges {
  const changes: MutableChanges = {};
  if (data.name != null) changes.name = parseName(data.name);
  if (data.description != null) changes.description = parseDescription(data.description);
  if (data.channels != null) changes.channels = parseChannels(data.channels);
  if (data.goal !== undefined) changes.goal = parseGoal(data.goal);
  if (data.budget !== undefined) changes.budget = parseBudget(data.budget);
  if (data.tags != null) changes.tags = parseTags(data.tags);
  return changes;
}

function withoutUnchanged(profile: CampaignProfile, proposed: CampaignChanges): CampaignChanges {
  const changed = Object.entries(proposed).filter(
    ([field, value]) => !isSameJson(profile[field as keyof CampaignChanges], value),
  );
  return Object.fromEntries(changed) as CampaignChanges;
}

/** Spend already recorded is in the budget's currency; switching it mid-flight breaks the sums. */
function assertSameBudgetCurrency(current: Money | null, proposed: Money | null | undefined): void {
  if (current && proposed && proposed.currency !== current.currency) {
    throw new ValidationError(
      'budget.currency',
      `cannot change the budget currency of an active campaign from ${current.currency} to ${proposed.currency}`,
      'CURRENCY_CHANGE',
    );
  }
}

/** Spend already recorded fixes the currency a budget may be in. */
function assertBudgetInSpendCurrency(
  spent: Money | null,
  proposed: Money | null | undefined,
): void {
  if (spent && proposed && proposed.currency !== spent.currency) {
    throw new ValidationError(
      'budget.currency',
      `the campaign has spent in ${spent.currency}; its budget cannot be in ${proposed.currency}`,
      'CURRENCY_MISMATCH',
    );
  }
}

/** Structural equality of JSON values (what event data and the state are made of). */
function isSameJson(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null) {
    return false;
  }
  if (Array.isArray(left) !== Array.isArray(right)) return false;
  const leftRecord = left as Record<string, unknown>;
  const rightRecord = right as Record<string, unknown>;
  const leftKeys = Object.keys(leftRecord);
  return (
    leftKeys.length === Object.keys(rightRecord).length &&
    leftKeys.every(
      (key) => Object.hasOwn(rightRecord, key) && isSameJson(leftRecord[key], rightRecord[key]),
    )
  );
}

function goalInputOf(goal: CampaignGoal): GoalInput {
  return goal.metric === 'REVENUE'
    ? { metric: goal.metric, target: formatMoney(goal.target), currency: goal.target.currency }
    : { metric: goal.metric, target: goal.target };
}

function timestamp(metadata: CommandMetadata): string {
  return metadata.now.toISOString();
}
