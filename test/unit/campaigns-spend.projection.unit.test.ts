import type { CampaignEvent } from '../../src/domain/campaign';
import type { RecordedEvent } from '../../src/domain/shared/events';
import type { Money } from '../../src/domain/shared/money';
import {
  type CampaignDocument,
  evolveCampaignDocument,
} from '../../src/projections/campaigns/campaigns.projection';

const campaignId = 'spring-sale';
const usd = (major: number): Money => ({ amountMinor: major * 100, currency: 'USD' });

const created: CampaignEvent = {
  type: 'CampaignCreated',
  data: {
    campaignId,
    name: 'Spring sale',
    description: '',
    channels: ['PAID_SEARCH'],
    goal: null,
    budget: usd(1000),
    schedule: { startsAt: null, endsAt: null },
    tags: [],
    duplicatedFrom: null,
    createdAt: '2025-03-01T00:00:00.000Z',
  },
};
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
const spent = (major: number): CampaignEvent => ({
  type: 'SpendRecorded',
  data: {
    campaignId,
    channel: 'DISPLAY',
    day: '2025-03-02',
    amount: usd(major),
    entryId: `entry-${major}`,
    note: null,
    recordedAt: '2025-03-03T00:00:00.000Z',
  },
});
const reached = (threshold: 75 | 90 | 100, spentMajor: number): CampaignEvent => ({
  type: 'BudgetThresholdReached',
  data: {
    campaignId,
    threshold,
    spent: usd(spentMajor),
    budget: usd(1000),
    reachedAt: `2025-03-0${threshold === 75 ? 4 : 5}T00:00:00.000Z`,
  },
});
const budgetSetTo = (major: number): CampaignEvent => ({
  type: 'CampaignUpdated',
  data: { campaignId, changes: { budget: usd(major) }, updatedAt: '2025-03-06T00:00:00.000Z' },
});

function recorded(events: readonly CampaignEvent[]): RecordedEvent[] {
  return events.map((event, index) => ({
    eventId: `event-${index}`,
    type: event.type,
    data: event.data,
    metadata: { workspaceId: 'acme', schemaVersion: 1 },
    streamId: `campaign-acme:${campaignId}`,
    revision: BigInt(index),
    position: BigInt(100 + index),
    recordedAt: new Date('2025-03-01T00:00:00Z'),
  }));
}

function fold(events: readonly CampaignEvent[]): CampaignDocument | null {
  return recorded(events).reduce<CampaignDocument | null>(evolveCampaignDocument, null);
}

describe('campaigns projection: spend and budget alerts', () => {
  it('given no spend, then the document has none (read as null and no thresholds)', () => {
    const document = fold([created]);
    expect(document?.spent ?? null).toBeNull();
    expect(document?.budgetThresholdsReached ?? []).toEqual([]);
  });

  it('given ad reports, restatements and hand entries, then spent is their sum and updatedAt stays', () => {
    const document = fold([created, reported(400), reported(450, 400), spent(100)]);
    expect(document).toMatchObject({
      spent: usd(550),
      updatedAt: '2025-03-01T00:00:00.000Z',
      revision: '3',
      position: '103',
    });
  });

  it('given thresholds reached, then they and their alerts are listed in ascending order', () => {
    const document = fold([created, spent(950), reached(90, 950), reached(75, 950)]);
    expect(document?.budgetThresholdsReached).toEqual([75, 90]);
    expect(document?.budgetAlerts).toEqual([
      { threshold: 75, spent: usd(950), budget: usd(1000), reachedAt: '2025-03-04T00:00:00.000Z' },
      { threshold: 90, spent: usd(950), budget: usd(1000), reachedAt: '2025-03-05T00:00:00.000Z' },
    ]);
  });

  it('given a raised budget, then the thresholds the spend no longer reaches are armed again', () => {
    const document = fold([
      created,
      spent(950),
      reached(75, 950),
      reached(90, 950),
      budgetSetTo(1200),
    ]);
    expect(document).toMatchObject({ budget: usd(1200), budgetThresholdsReached: [75] });
    expect(document?.budgetAlerts?.map((alert) => alert.threshold)).toEqual([75]);
  });

  it('given a spend event applied twice, then the second application returns the same object', () => {
    const events = recorded([created, spent(100)]);
    const document = events.reduce<CampaignDocument | null>(evolveCampaignDocument, null);
    expect(evolveCampaignDocument(document, events[1])).toBe(document);
  });
});
