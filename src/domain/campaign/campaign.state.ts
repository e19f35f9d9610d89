/**
 * A campaign's state is the phase of its life it is in; each phase carries what the
 * decisions in that phase need. `evolve` folds the stream's events into it.
 */
import type { Money } from '../shared/money';
import type {
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

export type NonexistentCampaign = { readonly status: 'Nonexistent' };
export type DraftCampaign = { readonly status: 'Draft'; readonly campaign: CampaignProfile };
export type ScheduledCampaign = {
  readonly status: 'Scheduled';
  readonly campaign: CampaignProfile;
};
export type ActiveCampaign = {
  readonly status: 'Active';
  readonly campaign: CampaignProfile;
  readonly launchedAt: string;
};
export type PausedCampaign = {
  readonly status: 'Paused';
  readonly campaign: CampaignProfile;
  readonly launchedAt: string;
  readonly pausedAt: string;
  readonly pauseReason: string;
};
export type CompletedCampaign = {
  readonly status: 'Completed';
  readonly campaign: CampaignProfile;
  readonly completedAt: string;
};
export type ArchivedCampaign = {
  readonly status: 'Archived';
  readonly campaign: CampaignProfile;
  readonly archivedAt: string;
};

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
      return { status: 'Draft', campaign: { ...event.data } };
    case 'CampaignUpdated':
      if (state.status === 'Nonexistent') return state;
      return { ...state, campaign: applyChanges(state.campaign, event.data.changes) };
    case 'CampaignScheduled': {
      if (state.status === 'Nonexistent') return state;
      const schedule = { startsAt: event.data.startsAt, endsAt: event.data.endsAt };
      return { status: 'Scheduled', campaign: { ...state.campaign, schedule } };
    }
    case 'CampaignLaunched':
      if (state.status === 'Nonexistent') return state;
      return { status: 'Active', campaign: state.campaign, launchedAt: event.data.launchedAt };
    case 'CampaignPaused':
      if (state.status === 'Nonexistent') return state;
      return {
        status: 'Paused',
        campaign: state.campaign,
        launchedAt: launchedAtOf(state, event.data.pausedAt),
        pausedAt: event.data.pausedAt,
        pauseReason: event.data.reason,
      };
    case 'CampaignResumed':
      if (state.status === 'Nonexistent') return state;
      return {
        status: 'Active',
        campaign: state.campaign,
        launchedAt: launchedAtOf(state, event.data.resumedAt),
      };
    case 'CampaignCompleted':
      if (state.status === 'Nonexistent') return state;
      return { status: 'Completed', campaign: state.campaign, completedAt: event.data.completedAt };
    case 'CampaignArchived':
      if (state.status === 'Nonexistent') return state;
      return { status: 'Archived', campaign: state.campaign, archivedAt: event.data.archivedAt };
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

/** A running campaign remembers its launch; the fallback only serves malformed streams. */
function launchedAtOf(state: ExistingCampaignState, fallback: string): string {
  return 'launchedAt' in state ? state.launchedAt : fallback;
}
