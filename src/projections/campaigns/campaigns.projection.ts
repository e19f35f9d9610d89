/**
 * The campaigns read model: one document per campaign, what lists and detail pages show.
 * Each document remembers the stream revision of the last event applied, so an event that
 * is delivered again (or late, behind a newer one) changes nothing.
 */
import {
  addSpend,
  campaignEventTypes,
  isCampaignEvent,
  thresholdsStillReached,
  type BudgetThreshold,
  type BudgetThresholdReached,
  type CampaignChannel,
  type CampaignContent,
  type CampaignCreated,
  type CampaignGoal,
  type CampaignUpdated,
} from '../../domain/campaign';
import type { RecordedEvent } from '../../domain/shared/events';
import type { Money } from '../../domain/shared/money';
import { documentProjection } from '../projection';

export const campaignsCollection = 'campaigns';

export const campaignReadStatuses = [
  'DRAFT',
  'SCHEDULED',
  'ACTIVE',
  'PAUSED',
  'COMPLETED',
  'ARCHIVED',
] as const;
export type CampaignReadStatus = (typeof campaignReadStatuses)[number];

/** A budget threshold the spend has reached, as the alert about it tells it. */
export interface BudgetAlert {
  readonly threshold: BudgetThreshold;
  readonly spent: Money;
  readonly budget: Money;
  readonly reachedAt: string;
}

export type CampaignDocument = {
  /** `${workspaceId}:${id}`: campaign ids are unique within a workspace only. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly status: CampaignReadStatus;
  readonly channels: readonly CampaignChannel[];
  readonly tags: readonly string[];
  readonly goal: CampaignGoal | null;
  readonly budget: Money | null;
  readonly startsAt: string | null;
  readonly endsAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly launchedAt: string | null;
  /** Set while the campaign is paused; cleared when it resumes. */
  readonly pausedAt: string | null;
  readonly pauseReason: string | null;
  readonly completedAt: string | null;
  readonly archivedAt: string | null;
  readonly duplicatedFrom: string | null;
  /**
   * Spend from ad reports and hand entries, in the budget's currency. Absent until the first
   * spend (documents written before spend existed have none either: read it as null).
   */
  readonly spent?: Money | null;
  /** Budget thresholds (75, 90, 100) reached for the current budget; absent means none. */
  readonly budgetThresholdsReached?: readonly BudgetThreshold[];
  /** The alert of each threshold in `budgetThresholdsReached`, ascending. */
  readonly budgetAlerts?: readonly BudgetAlert[];
  /** What the campaign shows, by surface (`CAMPAIGN`, `EMAIL:welcome-email`, …); `{}` for none. */
  readonly content: CampaignContent;
  /** Stream revision of the last event applied (a 64-bit number, as a string). */
  readonly revision: string;
  /** Log position of the last event applied (a 64-bit number, as a string). */
  readonly position: string;
};

export function campaignDocumentId(workspaceId: string, campaignId: string): string {
  return `${workspaceId}:${campaignId}`;
}

export function evolveCampaignDocument(
  document: CampaignDocument | null,
  recorded: RecordedEvent,
): CampaignDocument | null {
  const event = { type: recorded.type, data: recorded.data };
  if (!isCampaignEvent(event)) return document;
  if (document !== null && recorded.revision <= BigInt(document.revision)) return document;
  switch (event.type) {
    case 'CampaignCreated':
      return createdDocument(event.data, recorded);
    case 'CampaignUpdated':
      return document && updated(document, recorded, event.data);
    case 'CampaignScheduled': {
      const { schedule, scheduledAt } = event.data;
      const { startsAt, endsAt } = schedule;
      return (
        document &&
        amend(document, recorded, scheduledAt, { status: 'SCHEDULED', startsAt, endsAt })
      );
    }
    case 'CampaignLaunched': {
      const { launchedAt } = event.data;
      return document && amend(document, recorded, launchedAt, { status: 'ACTIVE', launchedAt });
    }
    case 'CampaignPaused': {
      const { pausedAt, reason } = event.data;
      return (
        document &&
        amend(document, recorded, pausedAt, { status: 'PAUSED', pausedAt, pauseReason: reason })
      );
    }
    case 'CampaignResumed':
      return (
        document &&
        amend(document, recorded, event.data.resumedAt, {
          status: 'ACTIVE',
          pausedAt: null,
          pauseReason: null,
        })
      );
    case 'CampaignCompleted': {
      const { completedAt } = event.data;
      return (
        document && amend(document, recorded, completedAt, { status: 'COMPLETED', completedAt })
      );
    }
    case 'CampaignArchived': {
      const { archivedAt } = event.data;
      return document && amend(document, recorded, archivedAt, { status: 'ARCHIVED', archivedAt });
    }
    case 'AdReportImported': {
      const { spend, previous } = event.data;
      return (
        document &&
        spendChanged(document, recorded, {
          spent: addSpend(document.spent ?? null, spend, previous?.spend ?? null),
        })
      );
    }
    case 'SpendRecorded':
      return (
        document &&
        spendChanged(document, recorded, {
          spent: addSpend(document.spent ?? null, event.data.amount),
        })
      );
    case 'BudgetThresholdReached':
      return document && spendChanged(document, recorded, withAlert(document, event.data));
    case 'CampaignContentApplied': {
      const { surface, content } = event.data;
      return (
        document &&
        amend(document, recorded, event.data.appliedAt, {
          content: { ...document.content, [surface]: content },
        })
      );
    }
    default: {
      const _exhaustive: never = event;
      void _exhaustive;
      return document;
    }
  }
}

export const campaignsProjection = documentProjection<CampaignDocument>({
  name: 'campaigns',
  live: true,
  // 2: documents carry `content` (CampaignContentApplied).
  version: 2,
  collection: campaignsCollection,
  eventTypes: campaignEventTypes,
  indexes: [
    ['workspaceId', 'status'],
    ['workspaceId', 'createdAt'],
  ],
  documentId: (recorded) => {
    const event = { type: recorded.type, data: recorded.data };
    return isCampaignEvent(event)
      ? campaignDocumentId(recorded.metadata.workspaceId, event.data.campaignId)
      : null;
  },
  evolve: evolveCampaignDocument,
});

function createdDocument(data: CampaignCreated['data'], recorded: RecordedEvent): CampaignDocument {
  const { workspaceId } = recorded.metadata;
  return {
    _id: campaignDocumentId(workspaceId, data.campaignId),
    workspaceId,
    id: data.campaignId,
    name: data.name,
    description: data.description,
    status: 'DRAFT',
    channels: data.channels,
    tags: data.tags,
    goal: data.goal,
    budget: data.budget,
    startsAt: data.schedule.startsAt,
    endsAt: data.schedule.endsAt,
    createdAt: data.createdAt,
    updatedAt: data.createdAt,
    launchedAt: null,
    pausedAt: null,
    pauseReason: null,
    completedAt: null,
    archivedAt: null,
    duplicatedFrom: data.duplicatedFrom,
    content: {},
    ...appliedAt(recorded),
  };
}

/** The document after one more event: its fields, when it happened, and how far it has read. */
function amend(
  document: CampaignDocument,
  recorded: RecordedEvent,
  updatedAt: string,
  fields: Partial<CampaignDocument>,
): CampaignDocument {
  return { ...document, ...fields, updatedAt, ...appliedAt(recorded) };
}

/** A budget change re-arms the thresholds the spend no longer reaches (see the domain rule). */
function updated(
  document: CampaignDocument,
  recorded: RecordedEvent,
  { changes, updatedAt }: CampaignUpdated['data'],
): CampaignDocument {
  if (changes.budget === undefined || document.budgetAlerts === undefined) {
    return amend(document, recorded, updatedAt, changes);
  }
  const still = thresholdsStillReached(
    document.budgetThresholdsReached ?? [],
    document.spent ?? null,
    changes.budget,
  );
  return amend(document, recorded, updatedAt, {
    ...changes,
    budgetThresholdsReached: still,
    budgetAlerts: document.budgetAlerts.filter((alert) => still.includes(alert.threshold)),
  });
}

function withAlert(
  document: CampaignDocument,
  alert: BudgetThresholdReached['data'],
): Pick<CampaignDocument, 'budgetThresholdsReached' | 'budgetAlerts'> {
  const { threshold, spent, budget, reachedAt } = alert;
  const others = (document.budgetAlerts ?? []).filter((each) => each.threshold !== threshold);
  const budgetAlerts = [...others, { threshold, spent, budget, reachedAt }].sort(
    (a, b) => a.threshold - b.threshold,
  );
  return {
    budgetThresholdsReached: budgetAlerts.map((each) => each.threshold),
    budgetAlerts,
  };
}

/** Spend is not an edit of the campaign: `updatedAt` stays, the applied revision moves on. */
function spendChanged(
  document: CampaignDocument,
  recorded: RecordedEvent,
  fields: Partial<CampaignDocument>,
): CampaignDocument {
  return { ...document, ...fields, ...appliedAt(recorded) };
}

function appliedAt(recorded: RecordedEvent): Pick<CampaignDocument, 'revision' | 'position'> {
  return { revision: recorded.revision.toString(), position: recorded.position.toString() };
}
