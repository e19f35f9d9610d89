/**
 * The campaigns read model: one document per campaign, what lists and detail pages show.
 * Each document remembers the stream revision of the last event applied, so an event that
 * is delivered again (or late, behind a newer one) changes nothing.
 */
import {
  campaignEventTypes,
  isCampaignEvent,
  type CampaignChannel,
  type CampaignCreated,
  type CampaignGoal,
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
      return document && amend(document, recorded, event.data.updatedAt, event.data.changes);
    case 'CampaignScheduled': {
      const { startsAt, endsAt, scheduledAt } = event.data;
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
    default: {
      const _exhaustive: never = event;
      void _exhaustive;
      return document;
    }
  }
}

export const campaignsProjection = documentProjection<CampaignDocument>({
  name: 'campaigns',
  version: 1,
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

function appliedAt(recorded: RecordedEvent): Pick<CampaignDocument, 'revision' | 'position'> {
  return { revision: recorded.revision.toString(), position: recorded.position.toString() };
}
