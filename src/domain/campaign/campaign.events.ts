/**
 * What has happened to a campaign. Event data is JSON: timestamps are ISO-8601 strings and
 * money is integer minor units, so an event reads back from the log exactly as written.
 */
import type { DomainEvent } from '../shared/events';
import type { Money } from '../shared/money';
import type { JsonObject } from '../tracking/tracking.events';
import type { BudgetThreshold } from './budget';

export const campaignChannels = [
  'EMAIL',
  'PAID_SEARCH',
  'PAID_SOCIAL',
  'DISPLAY',
  'AFFILIATE',
  'ORGANIC_SEARCH',
  'ORGANIC_SOCIAL',
  'REFERRAL',
  'DIRECT',
  'OTHER',
] as const;
export type CampaignChannel = (typeof campaignChannels)[number];

export const campaignGoalMetrics = [
  'CONVERSIONS',
  'REVENUE',
  'CLICKS',
  'IMPRESSIONS',
  'SIGNUPS',
] as const;
export type CampaignGoalMetric = (typeof campaignGoalMetrics)[number];
export type CountGoalMetric = Exclude<CampaignGoalMetric, 'REVENUE'>;

/**
 * A revenue target is money (it needs a currency and exact minor units); every other
 * metric counts things, so its target is a positive whole number.
 */
export type CampaignGoal =
  | { readonly metric: CountGoalMetric; readonly target: number }
  | { readonly metric: 'REVENUE'; readonly target: Money };

export interface CampaignSchedule {
  readonly startsAt: string | null;
  readonly endsAt: string | null;
}

/** The fields a CampaignUpdated may change; an absent key is unchanged, null clears it. */
export interface CampaignChanges {
  readonly name?: string;
  readonly description?: string;
  readonly channels?: readonly CampaignChannel[];
  readonly goal?: CampaignGoal | null;
  readonly budget?: Money | null;
  readonly tags?: readonly string[];
}

export type CampaignCreated = DomainEvent<
  'CampaignCreated',
  {
    readonly campaignId: string;
    readonly name: string;
    readonly description: string;
    readonly channels: readonly CampaignChannel[];
    readonly goal: CampaignGoal | null;
    readonly budget: Money | null;
    readonly schedule: CampaignSchedule;
    readonly tags: readonly string[];
    readonly duplicatedFrom: string | null;
    readonly createdAt: string;
  }
>;

export type CampaignUpdated = DomainEvent<
  'CampaignUpdated',
  { readonly campaignId: string; readonly changes: CampaignChanges; readonly updatedAt: string }
>;

/**
 * Schema version 2: the schedule is the same `{ startsAt, endsAt }` object that
 * CampaignCreated carries and the state keeps, with a start (version 1 spread the two
 * fields over the event; campaign.upcasters.ts lifts it).
 */
export type CampaignScheduled = DomainEvent<
  'CampaignScheduled',
  {
    readonly campaignId: string;
    readonly schedule: CampaignSchedule & { readonly startsAt: string };
    readonly scheduledAt: string;
  }
>;

export type CampaignLaunched = DomainEvent<
  'CampaignLaunched',
  { readonly campaignId: string; readonly launchedAt: string }
>;

export type CampaignPaused = DomainEvent<
  'CampaignPaused',
  { readonly campaignId: string; readonly reason: string; readonly pausedAt: string }
>;

export type CampaignResumed = DomainEvent<
  'CampaignResumed',
  { readonly campaignId: string; readonly resumedAt: string }
>;

export type CampaignCompleted = DomainEvent<
  'CampaignCompleted',
  { readonly campaignId: string; readonly completedAt: string }
>;

export type CampaignArchived = DomainEvent<
  'CampaignArchived',
  { readonly campaignId: string; readonly archivedAt: string }
>;

/** The numbers an ad platform reported for one campaign × channel × day × source. */
export interface AdReportFigures {
  readonly impressions: number;
  readonly clicks: number;
  readonly spend: Money;
}

/**
 * An ad platform's row for campaign × channel × day (a calendar day, `YYYY-MM-DD`) × source.
 * Platforms restate their numbers, so a row replaces the earlier one with the same key;
 * `previous` is that replaced row (null for a first import), so a read model applies the
 * difference without remembering rows itself.
 */
export type AdReportImported = DomainEvent<
  'AdReportImported',
  AdReportFigures & {
    readonly campaignId: string;
    readonly channel: CampaignChannel;
    readonly day: string;
    readonly source: string;
    readonly previous: AdReportFigures | null;
    readonly importedAt: string;
  }
>;

/** Spend entered by hand (an invoice, a sponsorship); adds to the campaign's spend. */
export type SpendRecorded = DomainEvent<
  'SpendRecorded',
  {
    readonly campaignId: string;
    readonly channel: CampaignChannel;
    readonly day: string;
    readonly amount: Money;
    /** The client's id of the entry: the same entry is never counted twice. */
    readonly entryId: string;
    readonly note: string | null;
    readonly recordedAt: string;
  }
>;

/** The campaign's spend reached `threshold` % of its budget (once per threshold and budget). */
export type BudgetThresholdReached = DomainEvent<
  'BudgetThresholdReached',
  {
    readonly campaignId: string;
    readonly threshold: BudgetThreshold;
    readonly spent: Money;
    readonly budget: Money;
    readonly reachedAt: string;
  }
>;

/** The experiment variant a campaign's content came from (see ExperimentWinnerApplied). */
export interface CampaignContentSource {
  readonly experimentId: string;
  readonly variant: string;
}

/** What the campaign shows on `surface` is now `content` (it replaces the earlier content). */
export type CampaignContentApplied = DomainEvent<
  'CampaignContentApplied',
  {
    readonly campaignId: string;
    readonly surface: string;
    readonly content: JsonObject;
    readonly source: CampaignContentSource | null;
    readonly appliedAt: string;
  }
>;

export type CampaignEvent =
  | CampaignCreated
  | CampaignUpdated
  | CampaignScheduled
  | CampaignLaunched
  | CampaignPaused
  | CampaignResumed
  | CampaignCompleted
  | CampaignArchived
  | AdReportImported
  | SpendRecorded
  | BudgetThresholdReached
  | CampaignContentApplied;

export type CampaignEventType = CampaignEvent['type'];

/** A record rather than a list so the compiler insists on every type of the union. */
const eventTypeNames: Readonly<Record<CampaignEventType, true>> = {
  CampaignCreated: true,
  CampaignUpdated: true,
  CampaignScheduled: true,
  CampaignLaunched: true,
  CampaignPaused: true,
  CampaignResumed: true,
  CampaignCompleted: true,
  CampaignArchived: true,
  AdReportImported: true,
  SpendRecorded: true,
  BudgetThresholdReached: true,
  CampaignContentApplied: true,
};

export const campaignEventTypes: readonly CampaignEventType[] = Object.keys(
  eventTypeNames,
) as CampaignEventType[];

const campaignEventTypeSet: ReadonlySet<string> = new Set(campaignEventTypes);

/**
 * Narrows by type name only: the data of an event in the log was written by the decider
 * (and lifted by upcasters when its shape was older), so it is trusted here.
 */
export function isCampaignEvent(event: {
  readonly type: string;
  readonly data: unknown;
}): event is CampaignEvent {
  return campaignEventTypeSet.has(event.type);
}
