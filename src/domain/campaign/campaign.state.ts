/**
 * A campaign's state is the phase of its life it is in; each phase carries what the
 * decisions in that phase need. `evolve` folds the stream's events into it.
 */
import type { Money } from '../shared/money';
import type { JsonObject } from '../tracking/tracking.events';
import { addSpend, type BudgetThreshold, thresholdsStillReached } from './budget';
import type {
  AdReportFigures,
  CampaignChanges,
  CampaignChannel,
  CampaignEvent,
  CampaignGoal,
  CampaignSchedule,
} from './campaign.events';

/** The campaign's own description, shared by every phase once it exists. */
export interface CampaignProfile {
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

/** A hand-recorded spend entry, remembered so that the same entry id is recognised. */
export interface SpendEntry {
  readonly channel: CampaignChannel;
  readonly day: string;
  readonly amount: Money;
  readonly note: string | null;
}

/** What the campaign has spent, in every phase once it exists. */
export interface CampaignSpend {
  /** Ad-report rows by `adReportKey`: a re-import of the same key replaces its row. */
  readonly adReports: ReadonlyMap<string, AdReportFigures>;
  readonly entries: ReadonlyMap<string, SpendEntry>;
  /** Sum of the current ad-report rows and the entries; null before any spend. */
  readonly total: Money | null;
  /** Thresholds reported for the current budget (see `thresholdsStillReached`). */
  readonly thresholdsReached: readonly BudgetThreshold[];
}

/** The key of an ad-report row; the source comes last, so a `|` in it cannot be ambiguous. */
export function adReportKey(row: { channel: string; day: string; source: string }): string {
  return `${row.channel}|${row.day}|${row.source}`;
}

/** What the campaign shows, by surface (`CAMPAIGN`, `EMAIL:welcome-email`, …). */
export type CampaignContent = Readonly<Record<string, JsonObject>>;

const noSpend: CampaignSpend = {
  adReports: new Map(),
  entries: new Map(),
  total: null,
  thresholdsReached: [],
};

interface Existing<Status extends string> {
  readonly status: Status;
  readonly campaign: CampaignProfile;
  readonly spend: CampaignSpend;
  readonly content: CampaignContent;
}

export type NonexistentCampaign = { readonly status: 'Nonexistent' };
export type DraftCampaign = Existing<'Draft'>;
export type ScheduledCampaign = Existing<'Scheduled'>;
export type ActiveCampaign = Existing<'Active'> & { readonly launchedAt: string };
export type PausedCampaign = Existing<'Paused'> & {
  readonly launchedAt: string;
  readonly pausedAt: string;
  readonly pauseReason: string;
};
export type CompletedCampaign = Existing<'Completed'> & { readonly completedAt: string };
export type ArchivedCampaign = Existing<'Archived'> & { readonly archivedAt: string };

export type CampaignState =
  | NonexistentCampaign
  | DraftCampaign
  | ScheduledCampaign
  | ActiveCampaign
  | PausedCampaign
  | CompletedCampaign
  | ArchivedCampaign;

export type ExistingCampaignState = Exclude<CampaignState, NonexistentCampaign>;
export type CampaignStatus = CampaignState['status'];

export const initialState = (): CampaignState => ({ status: 'Nonexistent' });

/**
 * Events are facts the decider has already checked, so `evolve` does not re-validate
 * transitions. An event that needs an existing campaign but finds none (a truncated or
 * foreign stream) leaves the state as it is rather than inventing a profile.
 */
export function evolve(state: CampaignState, event: CampaignEvent): CampaignState {
  switch (event.type) {
    case 'CampaignCreated':
      return { status: 'Draft', campaign: { ...event.data }, spend: noSpend, content: {} };
    case 'CampaignUpdated': {
      if (state.status === 'Nonexistent') return state;
      const campaign = applyChanges(state.campaign, event.data.changes);
      const { spend } = state;
      const thresholdsReached = thresholdsStillReached(
        spend.thresholdsReached,
        spend.total,
        campaign.budget,
      );
      return { ...state, campaign, spend: { ...spend, thresholdsReached } };
    }
    case 'CampaignScheduled': {
      if (state.status === 'Nonexistent') return state;
      return {
        status: 'Scheduled',
        ...carriedOver(state),
        campaign: { ...state.campaign, schedule: { ...event.data.schedule } },
      };
    }
    case 'CampaignLaunched':
      if (state.status === 'Nonexistent') return state;
      return {
        status: 'Active',
        ...carriedOver(state),
        launchedAt: event.data.launchedAt,
      };
    case 'CampaignPaused':
      if (state.status === 'Nonexistent') return state;
      return {
        status: 'Paused',
        ...carriedOver(state),
        launchedAt: launchedAtOf(state, event.data.pausedAt),
        pausedAt: event.data.pausedAt,
        pauseReason: event.data.reason,
      };
    case 'CampaignResumed':
      if (state.status === 'Nonexistent') return state;
      return {
        status: 'Active',
        ...carriedOver(state),
        launchedAt: launchedAtOf(state, event.data.resumedAt),
      };
    case 'CampaignCompleted':
      if (state.status === 'Nonexistent') return state;
      return {
        status: 'Completed',
        ...carriedOver(state),
        completedAt: event.data.completedAt,
      };
    case 'CampaignArchived':
      if (state.status === 'Nonexistent') return state;
      return {
        status: 'Archived',
        ...carriedOver(state),
        archivedAt: event.data.archivedAt,
      };
    case 'AdReportImported': {
      if (state.status === 'Nonexistent') return state;
      const { impressions, clicks, spend: amount, previous } = event.data;
      const adReports = new Map(state.spend.adReports);
      adReports.set(adReportKey(event.data), { impressions, clicks, spend: amount });
      const total = addSpend(state.spend.total, amount, previous?.spend ?? null);
      return { ...state, spend: { ...state.spend, adReports, total } };
    }
    case 'SpendRecorded': {
      if (state.status === 'Nonexistent') return state;
      const { entryId, channel, day, amount, note } = event.data;
      const entries = new Map(state.spend.entries);
      entries.set(entryId, { channel, day, amount, note });
      const total = addSpend(state.spend.total, amount);
      return { ...state, spend: { ...state.spend, entries, total } };
    }
    case 'BudgetThresholdReached': {
      if (state.status === 'Nonexistent') return state;
      const reached = state.spend.thresholdsReached;
      if (reached.includes(event.data.threshold)) return state;
      const thresholdsReached = [...reached, event.data.threshold].sort((a, b) => a - b);
      return { ...state, spend: { ...state.spend, thresholdsReached } };
    }
    case 'CampaignContentApplied': {
      if (state.status === 'Nonexistent') return state;
      const { surface, content } = event.data;
      return { ...state, content: { ...state.content, [surface]: content } };
    }
    default: {
      const _exhaustive: never = event;
      void _exhaustive;
      return state;
    }
  }
}

function applyChanges(profile: CampaignProfile, changes: CampaignChanges): CampaignProfile {
  // Only keys present in the event change the profile; a stored event never holds `undefined`.
  return { ...profile, ...changes };
}

/** What every phase of a campaign carries into the next: its profile, spend and content. */
function carriedOver(state: ExistingCampaignState): Omit<Existing<never>, 'status'> {
  return { campaign: state.campaign, spend: state.spend, content: state.content };
}

/** A running campaign remembers its launch; the fallback only serves malformed streams. */
function launchedAtOf(state: ExistingCampaignState, fallback: string): string {
  return 'launchedAt' in state ? state.launchedAt : fallback;
}
