import { campaignEventTypes, type CampaignEvent } from '../../src/domain/campaign';
import type { RecordedEvent } from '../../src/domain/shared/events';
import type { ProjectionSession } from '../../src/projections/projection';
import type { Document } from '../../src/projections/read-store';
import {
  campaignsProjection,
  evolveCampaignDocument,
  type CampaignDocument,
} from '../../src/projections/campaigns/campaigns.projection';

const campaignId = 'spring-sale';

/** Records events the way a store would: stream revisions from 0, log positions growing. */
function recorded(
  events: readonly CampaignEvent[],
  { workspaceId = 'acme', firstPosition = 100n } = {},
): RecordedEvent[] {
  return events.map((event, index) => ({
    eventId: `event-${workspaceId}-${index}`,
    type: event.type,
    data: event.data,
    metadata: { workspaceId, schemaVersion: 1 },
    streamId: `campaign-${workspaceId}:${campaignId}`,
    revision: BigInt(index),
    position: firstPosition + BigInt(index) * 10n,
    recordedAt: new Date('2025-03-01T00:00:00Z'),
  }));
}

const history: CampaignEvent[] = [
  {
    type: 'CampaignCreated',
    data: {
      campaignId,
      name: 'Spring sale',
      description: 'Twenty percent off',
      channels: ['EMAIL'],
      goal: { metric: 'SIGNUPS', target: 300 },
      budget: { amountMinor: 150050, currency: 'USD' },
      schedule: { startsAt: null, endsAt: null },
      tags: ['spring'],
      duplicatedFrom: 'winter-sale',
      createdAt: '2025-02-01T09:00:00.000Z',
    },
  },
  {
    type: 'CampaignUpdated',
    data: {
      campaignId,
      changes: { name: 'Big spring sale', budget: null, channels: ['EMAIL', 'DISPLAY'] },
      updatedAt: '2025-02-02T09:00:00.000Z',
    },
  },
  {
    type: 'CampaignScheduled',
    data: {
      campaignId,
      schedule: { startsAt: '2025-04-01T00:00:00.000Z', endsAt: '2025-04-30T00:00:00.000Z' },
      scheduledAt: '2025-02-03T09:00:00.000Z',
    },
  },
  { type: 'CampaignLaunched', data: { campaignId, launchedAt: '2025-04-01T00:00:00.000Z' } },
  {
    type: 'CampaignPaused',
    data: { campaignId, reason: 'creative review', pausedAt: '2025-04-02T00:00:00.000Z' },
  },
  { type: 'CampaignResumed', data: { campaignId, resumedAt: '2025-04-03T00:00:00.000Z' } },
  { type: 'CampaignCompleted', data: { campaignId, completedAt: '2025-04-30T00:00:00.000Z' } },
  { type: 'CampaignArchived', data: { campaignId, archivedAt: '2025-05-01T00:00:00.000Z' } },
];

function fold(events: readonly RecordedEvent[]): CampaignDocument | null {
  return events.reduce<CampaignDocument | null>(evolveCampaignDocument, null);
}

/** A Map-backed session that hands back the stored objects, as a batch's reads would. */
class InMemorySession implements ProjectionSession {
  readonly documents = new Map<string, Document>();
  writes = 0;

  async get<T extends Document>(collection: string, id: string): Promise<T | null> {
    return (this.documents.get(`${collection}/${id}`) as T | undefined) ?? null;
  }

  async getMany<T extends Document>(
    collection: string,
    ids: readonly string[],
  ): Promise<(T | null)[]> {
    return Promise.all(ids.map((id) => this.get<T>(collection, id)));
  }

  put(collection: string, document: Document): void {
    this.writes += 1;
    this.documents.set(`${collection}/${document._id}`, document);
  }

  delete(collection: string, id: string): void {
    this.writes += 1;
    this.documents.delete(`${collection}/${id}`);
  }

  update(): void {
    throw new Error('a document projection evolves whole documents and never sends operators');
  }
}

describe('campaignsProjection', () => {
  it('declares its collection, events and indexes', () => {
    expect(campaignsProjection).toMatchObject({
      name: 'campaigns',
      version: 2,
      collections: ['campaigns'],
      eventTypes: campaignEventTypes,
      indexes: {
        campaigns: [
          ['workspaceId', 'status'],
          ['workspaceId', 'createdAt'],
        ],
      },
    });
  });

  it('given CampaignCreated, then a draft document keyed by workspace and campaign', () => {
    expect(fold(recorded(history.slice(0, 1)))).toEqual({
      _id: 'acme:spring-sale',
      workspaceId: 'acme',
      id: campaignId,
      name: 'Spring sale',
      description: 'Twenty percent off',
      status: 'DRAFT',
      channels: ['EMAIL'],
      tags: ['spring'],
      goal: { metric: 'SIGNUPS', target: 300 },
      budget: { amountMinor: 150050, currency: 'USD' },
      startsAt: null,
      endsAt: null,
      createdAt: '2025-02-01T09:00:00.000Z',
      updatedAt: '2025-02-01T09:00:00.000Z',
      launchedAt: null,
      pausedAt: null,
      pauseReason: null,
      completedAt: null,
      archivedAt: null,
      duplicatedFrom: 'winter-sale',
      content: {},
      revision: '0',
      position: '100',
    });
  });

  it.each([
    [2, { name: 'Big spring sale', budget: null, channels: ['EMAIL', 'DISPLAY'], status: 'DRAFT' }],
    [
      3,
      {
        status: 'SCHEDULED',
        startsAt: '2025-04-01T00:00:00.000Z',
        endsAt: '2025-04-30T00:00:00.000Z',
        updatedAt: '2025-02-03T09:00:00.000Z',
      },
    ],
    [4, { status: 'ACTIVE', launchedAt: '2025-04-01T00:00:00.000Z' }],
    [5, { status: 'PAUSED', pausedAt: '2025-04-02T00:00:00.000Z', pauseReason: 'creative review' }],
    [
      6,
      {
        status: 'ACTIVE',
        pausedAt: null,
        pauseReason: null,
        updatedAt: '2025-04-03T00:00:00.000Z',
      },
    ],
    [7, { status: 'COMPLETED', completedAt: '2025-04-30T00:00:00.000Z' }],
    [
      8,
      {
        status: 'ARCHIVED',
        archivedAt: '2025-05-01T00:00:00.000Z',
        launchedAt: '2025-04-01T00:00:00.000Z',
        revision: '7',
        position: '170',
      },
    ],
  ])('given the first %i events, then the document shows %o', (count, expected) => {
    expect(fold(recorded(history.slice(0, count)))).toMatchObject(expected);
  });

  it('given CampaignContentApplied, then the content shows per surface and a later one replaces it', () => {
    const contentApplied = (surface: string, subject: string): CampaignEvent => ({
      type: 'CampaignContentApplied',
      data: {
        campaignId,
        surface,
        content: { subject },
        source: { experimentId: 'subject-line', variant: 'short' },
        appliedAt: `2025-04-0${subject.length}T00:00:00.000Z`,
      },
    });
    const events = recorded([
      ...history.slice(0, 4),
      contentApplied('EMAIL:welcome', 'Hi'),
      contentApplied('CAMPAIGN', 'Hello'),
      contentApplied('EMAIL:welcome', 'Hey you'),
    ]);
    expect(fold(events)).toMatchObject({
      status: 'ACTIVE',
      content: { 'EMAIL:welcome': { subject: 'Hey you' }, CAMPAIGN: { subject: 'Hello' } },
      updatedAt: '2025-04-07T00:00:00.000Z',
      revision: '6',
    });
    const document = fold(events);
    expect(evolveCampaignDocument(document, events[5])).toBe(document);
  });

  it('given the same event twice, then the second application returns the same object', () => {
    const events = recorded(history.slice(0, 3));
    const document = fold(events);
    expect(evolveCampaignDocument(document, events[2])).toBe(document);
  });

  it('given an older revision after a newer one, then it is ignored', () => {
    const events = recorded(history.slice(0, 5));
    const paused = fold(events);
    expect(evolveCampaignDocument(paused, events[3])).toBe(paused);
    expect(evolveCampaignDocument(paused, events[0])).toBe(paused);
    expect(paused).toMatchObject({ status: 'PAUSED', revision: '4' });
  });

  it('given a later event for a campaign it never saw created, then no document appears', () => {
    const [, launched] = recorded(history.slice(0, 2));
    expect(evolveCampaignDocument(null, launched)).toBeNull();
  });

  it('ignores an event that is not a campaign event', () => {
    const [created] = recorded(history.slice(0, 1));
    const foreign: RecordedEvent = { ...created, type: 'ContactCreated' };
    const document = fold([created]);
    expect(evolveCampaignDocument(document, foreign)).toBe(document);
  });

  describe('through a projection session', () => {
    it('given a batch, then one document per workspace and campaign', async () => {
      const session = new InMemorySession();
      await campaignsProjection.project(
        [
          ...recorded(history.slice(0, 4)),
          ...recorded(history.slice(0, 1), { workspaceId: 'globex', firstPosition: 500n }),
        ],
        session,
      );
      expect([...session.documents.keys()].sort()).toEqual([
        'campaigns/acme:spring-sale',
        'campaigns/globex:spring-sale',
      ]);
      expect(await session.get('campaigns', 'acme:spring-sale')).toMatchObject({
        status: 'ACTIVE',
      });
      expect(await session.get('campaigns', 'globex:spring-sale')).toMatchObject({
        status: 'DRAFT',
        workspaceId: 'globex',
      });
    });

    it('given a batch applied twice, then the second pass writes nothing', async () => {
      const session = new InMemorySession();
      const events = recorded(history);
      await campaignsProjection.project(events, session);
      const afterFirstPass = await session.get('campaigns', 'acme:spring-sale');
      const writesAfterFirstPass = session.writes;

      await campaignsProjection.project(events, session);

      expect(session.writes).toBe(writesAfterFirstPass);
      expect(await session.get('campaigns', 'acme:spring-sale')).toBe(afterFirstPass);
    });
  });
});
