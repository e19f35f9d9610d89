/**
 * The attribution read model: journeys, null journeys, the daily sums kept by difference, and
 * the reports read from them; given tracked events, then documents and answers.
 */
import fc from 'fast-check';
import type { RecordedEvent } from '../../src/domain/shared/events';
import { MemoryReadModels } from '../../src/infra/projections/memory-read-models';
import {
  AttributionReports,
  splitRange,
  type AttributionQuery,
} from '../../src/projections/attribution/attribution-query';
import {
  attributionSettingsCollection,
  attributionSettingsProjection,
  type AttributionSettingsDocument,
} from '../../src/projections/attribution/attribution-settings.projection';
import {
  attributionCreditsCollection,
  attributionTotalsCollection,
  attributionJourneysCollection,
  attributionNullPathsCollection,
  attributionPathsCollection,
  attributionPinsCollection,
  createAttributionProjection,
  projectedSettings,
  type AttributionJourneyDocument,
  type AttributionPinDocument,
} from '../../src/projections/attribution/attribution.projection';
import { personJourneys } from '../../src/projections/attribution/journeys';
import { DAY_MS, type Touch } from '../../src/projections/attribution/models';
import type { Document } from '../../src/projections/read-store';

const workspaceId = 'acme';
const t0 = Date.parse('2026-03-01T00:00:00Z');
const iso = (time: number) => new Date(time).toISOString();

let sequence = 0;
function recorded(type: string, data: Record<string, unknown>): RecordedEvent {
  sequence += 1;
  const identity = (data.userId ?? data.anonymousId) as string;
  return {
    eventId: `e${sequence}`,
    type,
    data,
    metadata: { workspaceId, schemaVersion: 1 },
    streamId: `contact-${workspaceId}:${identity}`,
    revision: 0n,
    position: BigInt(sequence),
    recordedAt: new Date(t0),
  };
}

function call(identity: { userId?: string; anonymousId?: string }, time: number, id: string) {
  return {
    messageId: id,
    userId: identity.userId ?? null,
    anonymousId: identity.anonymousId ?? null,
    occurredAt: iso(time),
    receivedAt: iso(time),
    sentAt: null,
    originalTimestamp: null,
    campaign: null as Record<string, string | null> | null,
    context: {},
  };
}

const utm = {
  email: { source: 'newsletter', medium: 'email', name: 'spring' },
  paid: { source: 'google', medium: 'cpc', name: 'brand' },
  display: { source: 'dsp', medium: 'display', name: 'banners' },
} as const;

function visit(
  identity: { userId?: string; anonymousId?: string },
  time: number,
  id: string,
  via: keyof typeof utm | 'direct',
): RecordedEvent {
  return recorded('PageViewed', {
    ...call(identity, time, id),
    campaign: via === 'direct' ? null : { ...utm[via], term: null, content: null },
    name: null,
    properties: {},
    page: { url: 'https://shop.example/', referrer: null, path: '/', title: null, search: null },
  });
}

function order(
  identity: { userId?: string; anonymousId?: string },
  time: number,
  id: string,
  revenue: number,
  orderId: string | null = id,
): RecordedEvent {
  return recorded('EventTracked', {
    ...call(identity, time, id),
    event: 'Order Completed',
    properties: {
      ...(orderId !== null && { order_id: orderId }),
      revenue,
      currency: 'USD',
    },
  });
}

async function project(
  batches: readonly (readonly RecordedEvent[])[],
  settings?: { lookbackMs: number; halfLifeMs: number },
): Promise<MemoryReadModels> {
  const projection = createAttributionProjection(settings ? { settings } : {});
  const models = new MemoryReadModels();
  for (const batch of batches) await projection.project(batch, models);
  return models;
}

const reportsOf = (models: MemoryReadModels) =>
  new AttributionReports((name) => models.collection(name));

function query(from: number, to: number, now = to): AttributionQuery {
  return { workspaceId, range: { from, to }, grouping: 'channel', now };
}

const ann = { userId: 'ann' };

describe('journeys of one person', () => {
  const touch = (days: number, channel: string): Touch => ({
    at: t0 + days * DAY_MS,
    channel,
    campaign: null,
    source: null,
    medium: null,
  });

  it('takes the sessions inside the lookback, both ends included, and reuses them', () => {
    const touches = [touch(0, 'email'), touch(10, 'display'), touch(30, 'direct')];
    const settings = { lookbackMs: 30 * DAY_MS, halfLifeMs: 7 * DAY_MS };
    const conversion = (days: number, key: string) => ({
      key,
      orderId: key,
      messageId: key,
      at: t0 + days * DAY_MS,
      revenueMinor: 100,
      currency: 'USD',
    });
    const { conversions, nulls } = personJourneys(
      touches,
      [conversion(40, 'b'), conversion(30, 'a')],
      settings,
    );
    expect(conversions.map(({ conversion: c }) => c.key)).toEqual(['a', 'b']);
    expect(conversions[0].touches.map(({ channel }) => channel)).toEqual([
      'email',
      'display',
      'direct',
    ]);
    expect(conversions[1].touches.map(({ channel }) => channel)).toEqual(['display', 'direct']);
    expect(nulls).toEqual([]);
  });

  it('gathers unclaimed sessions into null journeys of one lookback each', () => {
    const touches = [touch(0, 'email'), touch(20, 'display'), touch(31, 'direct')];
    const { nulls } = personJourneys(touches, [], { lookbackMs: 30 * DAY_MS, halfLifeMs: DAY_MS });
    expect(nulls.map((journey) => journey.touches.map(({ channel }) => channel))).toEqual([
      ['email', 'display'],
      ['direct'],
    ]);
    expect(nulls.map(({ expiresAt }) => expiresAt)).toEqual([t0 + 50 * DAY_MS, t0 + 61 * DAY_MS]);
  });
});

describe('the attribution projection', () => {
  it("explains one conversion: ANALYTICS.md's time-decay worked example", async () => {
    const conversionAt = t0 + 40 * DAY_MS;
    const events = [38, 33, 26, 8, 0].map((daysBefore, i) =>
      visit(ann, conversionAt - daysBefore * DAY_MS, `v${i}`, i % 2 === 0 ? 'email' : 'paid'),
    );
    events.push(order(ann, conversionAt, 'o1', 12_000));
    const models = await project([events], { lookbackMs: 40 * DAY_MS, halfLifeMs: 7 * DAY_MS });
    const [journey] = models.documents<AttributionJourneyDocument>(attributionJourneysCollection);
    expect(journey.conversionId).toBe('o1');
    const revenue = journey.shares!.time_decay.map((share) => share * 12_000);
    [175.2, 287.44, 574.88, 3417.04, 7545.45].forEach((expected, i) =>
      expect(revenue[i]).toBeCloseTo(expected, 1),
    );
    expect(journey.shares!.position_based.map((share) => share * 12_000)).toEqual([
      4800, 800, 800, 800, 4800,
    ]);
  });

  it('counts an order id once and reports a conversion without touches as unattributed', async () => {
    const models = await project([
      [
        order(ann, t0 + DAY_MS, 'm1', 10, 'o1'),
        order(ann, t0 + DAY_MS + 5, 'm2', 10, 'o1'),
        order({ userId: 'bob' }, t0 + DAY_MS, 'm3', 7, null),
      ],
    ]);
    const report = await reportsOf(models).report('linear', query(t0, t0 + 2 * DAY_MS - 1));
    expect(report.total).toEqual({ conversions: 2, revenue: { USD: 1700 } });
    expect(report.unattributed).toEqual({ conversions: 2, revenue: { USD: 1700 } });
    expect(report.credits).toEqual([]);
  });

  it('joins an anonymous visitor to the known person, the sessions before the join included', async () => {
    const anonymous = { anonymousId: 'a-1' };
    const models = await project([
      [visit(anonymous, t0, 'v1', 'email')],
      [visit(ann, t0 + DAY_MS, 'v2', 'paid')],
      [
        recorded('ContactIdentified', {
          ...call({ userId: 'ann', anonymousId: 'a-1' }, t0 + 2 * DAY_MS, 'i1'),
          traits: {},
        }),
        order(ann, t0 + 2 * DAY_MS, 'o1', 50),
      ],
    ]);
    const report = await reportsOf(models).report('linear', query(t0, t0 + 3 * DAY_MS - 1));
    expect(report.credits.map(({ key, conversions }) => [key, conversions])).toEqual([
      ['email', 0.5],
      ['paid_search', 0.5],
    ]);
  });

  it('counts a null journey once the hour its lookback expires in is over', async () => {
    const models = await project([
      [visit(ann, t0, 'v1', 'email'), visit(ann, t0 + DAY_MS, 'v2', 'display')],
    ]);
    const expiry = t0 + 31 * DAY_MS;
    const reports = reportsOf(models);
    const before = await reports.paths(query(t0, t0 + 60 * DAY_MS, expiry - 1), 10);
    expect(before.nulls).toBe(0);
    const midHour = await reports.paths(query(t0, t0 + 60 * DAY_MS, expiry + 3_600_000 - 1), 10);
    expect(midHour.nulls).toBe(0);
    const after = await reports.paths(query(t0, t0 + 60 * DAY_MS, expiry + 3_600_000), 10);
    expect(after.nonConverting).toEqual([
      { path: ['email', 'display'], key: 'email > display', count: 1, revenue: {} },
    ]);
  });

  it('turns a pending null journey into a converting one when the conversion comes in time', async () => {
    const models = await project([
      [visit(ann, t0, 'v1', 'email')],
      [order(ann, t0 + 10 * DAY_MS, 'o1', 20)],
    ]);
    expect(models.documents(attributionTotalsCollection)).toEqual([
      expect.objectContaining({ bucket: '2026-03-11', conversions: 1, nulls: 0 }),
      expect.objectContaining({ bucket: '2026-03-11T00', conversions: 1, nulls: 0 }),
    ]);
    expect(models.documents(attributionNullPathsCollection)).toEqual([]);
    expect(models.documents<Document & { entries: unknown[] }>(attributionPathsCollection)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          entries: [expect.objectContaining({ key: '["email"]', conversions: 1 })],
        }),
      ]),
    );
  });

  it('gives the same read model whatever the order and batching of the events', async () => {
    const events = [
      visit(ann, t0, 'v1', 'email'),
      visit(ann, t0 + 2 * DAY_MS, 'v2', 'paid'),
      visit({ anonymousId: 'x' }, t0 + 3 * DAY_MS, 'v3', 'display'),
      recorded('ContactAliased', {
        ...call({ userId: 'ann' }, t0 + 4 * DAY_MS, 'al'),
        previousId: 'x',
      }),
      order(ann, t0 + 5 * DAY_MS, 'o1', 30),
      visit({ userId: 'bob' }, t0 + DAY_MS, 'v4', 'direct'),
      visit({ userId: 'bob' }, t0 + 40 * DAY_MS, 'v5', 'email'),
      order({ userId: 'bob' }, t0 + 41 * DAY_MS, 'o2', 99),
      order(ann, t0 + 45 * DAY_MS, 'o3', 15),
      visit(ann, t0 + 44 * DAY_MS, 'v6', 'direct'),
    ];
    const aliasIndex = 3;
    const sums = (models: MemoryReadModels) =>
      [
        attributionCreditsCollection,
        attributionPathsCollection,
        attributionNullPathsCollection,
        attributionTotalsCollection,
      ].map((collection) =>
        models
          .documents(collection)
          .map((document) => JSON.stringify(rounded(document)))
          .sort(),
      );
    const expected = sums(await project([events]));
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(
          events.map((_, i) => i),
          { minLength: events.length, maxLength: events.length },
        ),
        fc.integer({ min: 1, max: events.length }),
        async (order, batchSize) => {
          // The alias goes first: a join moves the events filed before it, so this gives the
          // same people as the log's order, and everything else comes in any order.
          const shuffled = order.filter((i) => i !== aliasIndex).map((i) => events[i]);
          shuffled.splice(0, 0, events[aliasIndex]);
          const batches: RecordedEvent[][] = [];
          for (let i = 0; i < shuffled.length; i += batchSize) {
            batches.push(shuffled.slice(i, i + batchSize));
          }
          expect(sums(await project(batches))).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('settings per workspace', () => {
  /** The same event, filed under another workspace. */
  const inWorkspace = (other: string, event: RecordedEvent): RecordedEvent => ({
    ...event,
    metadata: { ...event.metadata, workspaceId: other },
    streamId: event.streamId.replace(`contact-${workspaceId}:`, `contact-${other}:`),
  });
  // A visit 10 days before the order, and one 2 days before it.
  const history = [
    visit(ann, t0, 'v1', 'email'),
    visit(ann, t0 + 8 * DAY_MS, 'v2', 'paid'),
    order(ann, t0 + 10 * DAY_MS, 'o1', 100),
  ];
  const week = { lookbackMs: 7 * DAY_MS, halfLifeMs: 2 * DAY_MS };

  it('computes each workspace with the settings its generation pinned', async () => {
    let reads = 0;
    const projection = createAttributionProjection({
      settingsSource: async () => {
        reads += 1;
        return { short: week };
      },
    });
    const models = new MemoryReadModels();
    await projection.project(
      history.map((event) => inWorkspace('short', event)),
      models,
    );
    await projection.project(history, models);

    // Pinned at the first batch, and kept: a later batch does not read the source again.
    expect(reads).toBe(1);
    expect(models.documents<AttributionPinDocument>(attributionPinsCollection)).toEqual([
      { _id: 'settings', workspaces: [{ workspaceId: 'short', ...week }] },
    ]);
    const journeys = models.documents<AttributionJourneyDocument>(attributionJourneysCollection);
    const channelsOf = (workspace: string) =>
      journeys
        .filter((journey) => journey.workspaceId === workspace && journey.kind === 'conversion')
        .map((journey) => journey.touches.map(({ channel }) => channel));
    // 7 days of lookback leave the email visit out; the default 30 take it in.
    expect(channelsOf('short')).toEqual([['paid_search']]);
    expect(channelsOf(workspaceId)).toEqual([['email', 'paid_search']]);

    const collection = (name: string) => models.collection<AttributionPinDocument>(name);
    expect(await projectedSettings(collection, 'short')).toEqual(week);
    expect(await projectedSettings(collection, workspaceId)).toEqual({
      lookbackMs: 30 * DAY_MS,
      halfLifeMs: 7 * DAY_MS,
    });
  });

  it('has no projected settings before its first batch', async () => {
    const models = new MemoryReadModels();
    const collection = (name: string) => models.collection<AttributionPinDocument>(name);
    expect(await projectedSettings(collection, workspaceId)).toBeNull();
  });

  it('keeps one settings document per workspace, a repeat changing nothing', async () => {
    const configured = (position: bigint, lookbackDays: number): RecordedEvent => ({
      eventId: `s${position}`,
      type: 'AttributionConfigured',
      data: { lookbackDays, halfLifeDays: 2, configuredAt: iso(t0) },
      metadata: { workspaceId, schemaVersion: 1 },
      streamId: `attribution-settings-${workspaceId}`,
      revision: position - 1n,
      position,
      recordedAt: new Date(t0),
    });
    const models = new MemoryReadModels();
    const events = [configured(1n, 7), configured(2n, 14)];
    await attributionSettingsProjection.project(events, models);
    const expected: AttributionSettingsDocument[] = [
      {
        _id: workspaceId,
        workspaceId,
        lookbackDays: 14,
        halfLifeDays: 2,
        version: 2,
        configuredAt: iso(t0),
        position: '2',
      },
    ];
    expect(models.documents(attributionSettingsCollection)).toEqual(expected);
    await attributionSettingsProjection.project(events, models);
    expect(models.documents(attributionSettingsCollection)).toEqual(expected);
  });
});

/** Numbers to 9 decimals, so sums built in another order compare equal. */
function rounded(value: unknown): unknown {
  if (typeof value === 'number') return Math.round(value * 1e9) / 1e9 + 0;
  if (Array.isArray(value)) return value.map(rounded);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)]));
  }
  return value;
}

describe('reports over a range', () => {
  it('splits a range into whole days, whole hours and cut hours', () => {
    const day = (n: number) => t0 + n * DAY_MS;
    const hour = 3_600_000;
    expect(splitRange({ from: day(0), to: day(3) - 1 })).toEqual({
      days: ['2026-03-01', '2026-03-02', '2026-03-03'],
      hours: [],
      cuts: [],
    });
    expect(splitRange({ from: day(1) - 2 * hour + 5, to: day(2) + hour })).toEqual({
      days: ['2026-03-02'],
      hours: ['2026-03-01T23', '2026-03-03T00'],
      cuts: [
        { hour: '2026-03-01T22', from: day(1) - 2 * hour + 5, to: day(1) - hour - 1 },
        { hour: '2026-03-03T01', from: day(2) + hour, to: day(2) + hour },
      ],
    });
    expect(splitRange({ from: day(0) + 5, to: day(0) + 10 })).toEqual({
      days: [],
      hours: [],
      cuts: [{ hour: '2026-03-01T00', from: day(0) + 5, to: day(0) + 10 }],
    });
    expect(splitRange({ from: day(1), to: day(0) })).toEqual({ days: [], hours: [], cuts: [] });
  });

  it('answers a cut range from the journeys exactly as a whole-day one from the sums', async () => {
    const events: RecordedEvent[] = [];
    const vias = ['email', 'paid', 'display', 'direct'] as const;
    for (let person = 0; person < 30; person++) {
      const who = { userId: `p${person}` };
      const start = t0 + ((person * 7) % 20) * DAY_MS + person * 3_600_000;
      for (let v = 0; v < 1 + (person % 4); v++) {
        events.push(visit(who, start + v * DAY_MS, `v${person}-${v}`, vias[(person + v) % 4]));
      }
      if (person % 3 !== 0) events.push(order(who, start + 5 * DAY_MS, `o${person}`, 10 + person));
    }
    const models = await project([events]);
    const reports = reportsOf(models);
    const journeys = models.documents<AttributionJourneyDocument>(attributionJourneysCollection);
    const from = t0 + 3 * DAY_MS + 7 * 3_600_000;
    const to = t0 + 22 * DAY_MS + 5 * 3_600_000;
    const inRange = journeys.filter((j) => j.kind === 'conversion' && j.at >= from && j.at <= to);
    for (const report of await reports.compare(query(from, to))) {
      expect(report.total.conversions).toBe(inRange.length);
      const credited = report.credits.reduce((sum, { conversions }) => sum + conversions, 0);
      expect(credited + report.unattributed.conversions).toBeCloseTo(inRange.length, 9);
      if (report.model !== 'linear') continue;
      const expected = new Map<string, number>();
      for (const journey of inRange) {
        journey.touches.forEach((touch) =>
          expected.set(
            touch.channel,
            (expected.get(touch.channel) ?? 0) + 1 / journey.touches.length,
          ),
        );
      }
      for (const { key, conversions } of report.credits) {
        expect(conversions).toBeCloseTo(expected.get(key)!, 9);
      }
    }
  });
});
