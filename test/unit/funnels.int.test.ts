/**
 * The live funnel-results projection against an independent recomputation written from
 * ANALYTICS.md (not from Touchline's matching code), against the ad-hoc analysis over a real
 * SQLite log, and against itself under other arrival orders and batch splits.
 */
import fc from 'fast-check';
import type { FunnelDefinition } from '../../src/domain/funnel';
import type { RecordedEvent } from '../../src/domain/shared/events';
import {
  contactStreamId,
  type JsonObject,
  type TrackingEvent,
} from '../../src/domain/tracking/tracking.events';
import { analyseFunnel } from '../../src/infra/analyses/funnel-analysis';
import { ExpectedRevision } from '../../src/infra/event-store/event-store';
import { SqliteEventStore } from '../../src/infra/event-store/sqlite-event-store';
import { MemoryReadModels } from '../../src/infra/projections/memory-read-models';
import {
  createFunnelResultsProjection,
  funnelPeopleCollection,
  type FunnelPersonDocument,
} from '../../src/projections/funnels/funnels.projection';
import { funnelReport } from '../../src/projections/funnels/funnel-query';
import { random } from '../support/traffic';

const workspaceId = 'w';
const day = 24 * 60 * 60 * 1000;
const start = Date.parse('2026-03-01T00:00:00Z');
const names = ['$pageview', 'Product Viewed', 'Added to Cart', 'Order Completed', 'Other'];

interface Person {
  readonly anonymousId: string;
  /** Set when the person identifies (joining the anonymous history). */
  readonly userId: string | null;
}

interface Generated {
  readonly people: readonly Person[];
  /** In log order (not event-time order). */
  readonly events: readonly { type: TrackingEvent['type']; data: Record<string, unknown> }[];
  /** Behavioural events per person index, for the independent recomputation. */
  readonly byPerson: Map<number, Behaviour[]>;
}

interface Behaviour {
  readonly id: string;
  readonly time: number;
  readonly name: string;
  readonly category: string;
}

function generate(seed: number, peopleCount: number): Generated {
  const rand = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)] as T;
  const people: Person[] = [];
  const events: Generated['events'][number][] = [];
  const byPerson = new Map<number, Behaviour[]>();
  let message = 0;
  for (let index = 0; index < peopleCount; index += 1) {
    const person = { anonymousId: `anon-${index}`, userId: rand() < 0.4 ? `user-${index}` : null };
    people.push(person);
    const behaviour: Behaviour[] = [];
    const count = 1 + Math.floor(rand() * 12);
    let time = start + Math.floor(rand() * 20 * day);
    for (let n = 0; n < count; n += 1) {
      // Some events share an instant; gaps from seconds to days.
      time += rand() < 0.15 ? 0 : Math.floor(rand() ** 3 * 6 * day);
      const name = pick(names);
      const category = pick(['shoes', 'hats']);
      const id = `m${(message += 1)}`;
      // After identifying, some calls carry the userId (filed under the known identity).
      const known = person.userId !== null && rand() < 0.5;
      behaviour.push({ id, time, name, category });
      events.push(
        callEvent(id, time, name, category, known ? person.userId : null, person.anonymousId),
      );
    }
    byPerson.set(index, behaviour);
    if (person.userId !== null) {
      events.push({
        type: 'ContactIdentified',
        data: {
          ...common(`m${(message += 1)}`, start, person.userId, person.anonymousId),
          traits: {},
        },
      });
    }
  }
  // Arrival order has nothing to do with event time; identify calls land anywhere.
  for (let i = events.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rand() * (i + 1));
    [events[i], events[j]] = [
      events[j] as (typeof events)[number],
      events[i] as (typeof events)[number],
    ];
  }
  return { people, events, byPerson };
}

function common(messageId: string, time: number, userId: string | null, anonymousId: string) {
  const at = new Date(time).toISOString();
  return {
    messageId,
    userId,
    anonymousId,
    occurredAt: at,
    receivedAt: at,
    sentAt: null,
    originalTimestamp: null,
    campaign: null,
    page: null,
  };
}

function callEvent(
  id: string,
  time: number,
  name: string,
  category: string,
  userId: string | null,
  anonymousId: string,
): Generated['events'][number] {
  const properties: JsonObject = { category };
  if (name === '$pageview') {
    return {
      type: 'PageViewed',
      data: { ...common(id, time, userId, anonymousId), name: null, properties },
    };
  }
  return {
    type: 'EventTracked',
    data: { ...common(id, time, userId, anonymousId), event: name, properties },
  };
}

function recorded(events: Generated['events']): RecordedEvent[] {
  return events.map((event, index) => ({
    eventId: `e${index}`,
    type: event.type,
    data: event.data,
    metadata: { workspaceId, schemaVersion: 1 },
    streamId: contactStreamId(workspaceId, (event.data.userId ?? event.data.anonymousId) as string),
    revision: 0n,
    position: BigInt(index),
    recordedAt: new Date(start),
  }));
}

function definition(order: FunnelDefinition['order'], windowDays = 7): FunnelDefinition {
  return {
    name: 'checkout',
    steps: [
      { event: '$pageview', filters: [] },
      {
        event: 'Product Viewed',
        filters: [{ property: 'category', operator: 'eq', value: 'shoes', caseSensitive: true }],
      },
      { event: 'Added to Cart', filters: [] },
      { event: 'Order Completed', filters: [] },
    ],
    order,
    windowSeconds: (windowDays * day) / 1000,
    exclusions: [],
    breakdown: null,
    campaignId: null,
  };
}

/** Runs the live projection over the events in batches of the given sizes. */
async function live(
  funnel: FunnelDefinition,
  events: readonly RecordedEvent[],
  batchSizes: () => number = () => 100,
): Promise<FunnelPersonDocument[]> {
  const projection = createFunnelResultsProjection(async () => [
    { workspaceId, funnelId: 'f', version: 1, definition: funnel },
  ]);
  const models = new MemoryReadModels();
  for (let at = 0; at < events.length; ) {
    const size = Math.max(1, batchSizes());
    await projection.project(events.slice(at, at + size), models);
    at += size;
  }
  return models.documents<FunnelPersonDocument>(funnelPeopleCollection);
}

/**
 * ANALYTICS.md, read naively: a person's events sorted by time (steps in step order at one
 * instant); every step-1 event starts an attempt; ordered: each next step is the first later
 * matching event inside the window (end included); strict: the very next event must be the
 * next step; the attempt that got furthest counts, then the one that reached it first, then
 * the latest step-1 time.
 */
function expectedReached(funnel: FunnelDefinition, behaviour: readonly Behaviour[]): number {
  const matches = (event: Behaviour, step: number) => {
    const definition = funnel.steps[step];
    if (definition === undefined || event.name !== definition.event) return false;
    return step !== 1 || event.category === 'shoes';
  };
  const rank = (event: Behaviour) => {
    for (let step = 0; step < funnel.steps.length; step += 1) if (matches(event, step)) return step;
    return 99;
  };
  const sorted = [...behaviour].sort(
    (a, b) => a.time - b.time || rank(a) - rank(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const windowMs = funnel.windowSeconds * 1000;
  let best = 0;
  sorted.forEach((first, index) => {
    if (!matches(first, 0)) return;
    let reached = 1;
    for (let next = index + 1; next < sorted.length && reached < funnel.steps.length; next += 1) {
      const event = sorted[next] as Behaviour;
      if (event.time > first.time + windowMs) break;
      if (matches(event, reached)) reached += 1;
      else if (funnel.order === 'strict') break;
    }
    best = Math.max(best, reached);
  });
  return best;
}

function personKey(person: Person): string {
  return person.userId ?? person.anonymousId;
}

describe('funnel-results projection', () => {
  const generated = generate(7, 300);
  const events = recorded(generated.events);

  it.each(['ordered', 'strict'] as const)(
    'agrees with an independent recomputation from ANALYTICS.md (%s)',
    async (order) => {
      const funnel = definition(order);
      const documents = await live(funnel, events);
      const reachedByPerson = new Map(documents.map((doc) => [doc.personId, doc.reached]));
      generated.people.forEach((person, index) => {
        const expected = expectedReached(funnel, generated.byPerson.get(index) ?? []);
        expect([personKey(person), reachedByPerson.get(personKey(person)) ?? 0]).toEqual([
          personKey(person),
          expected,
        ]);
      });
      // Every person is one document: the identified ones under their userId only.
      const ids = documents.map((doc) => doc.personId);
      expect(new Set(ids).size).toBe(ids.length);
      for (const person of generated.people) {
        if (person.userId !== null) expect(ids).not.toContain(person.anonymousId);
      }
    },
  );

  it('gives the same people and report whatever the arrival order and batch split', async () => {
    const funnel = definition('unordered', 3);
    const reference = await live(funnel, events);
    const summary = (documents: readonly FunnelPersonDocument[]) =>
      [...documents]
        .map(({ personId, reached, stepTimes, excluded, cohortDays }) => ({
          personId,
          reached,
          stepTimes,
          excluded,
          cohortDays,
        }))
        .sort((a, b) => (a.personId < b.personId ? -1 : 1));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), async (seed) => {
        const rand = random(seed);
        // Shuffle behavioural events among themselves, keeping each identify where it was,
        // so identities are joined at the same points of the log.
        const shuffled = [...events];
        const behavioural = shuffled
          .map((event, index) => ({ event, index }))
          .filter(({ event }) => event.type !== 'ContactIdentified');
        const order = behavioural.map(({ event }) => event);
        for (let i = order.length - 1; i > 0; i -= 1) {
          const j = Math.floor(rand() * (i + 1));
          [order[i], order[j]] = [order[j] as RecordedEvent, order[i] as RecordedEvent];
        }
        behavioural.forEach(({ index }, n) => (shuffled[index] = order[n] as RecordedEvent));
        const documents = await live(
          funnel,
          shuffled.map((event, position) => ({ ...event, position: BigInt(position) })),
          () => 1 + Math.floor(rand() * 300),
        );
        expect(summary(documents)).toEqual(summary(reference));
      }),
      { numRuns: 8 },
    );
  });

  it('gives the same report as the ad-hoc analysis over the log', async () => {
    const eventStore = SqliteEventStore.open({ path: ':memory:' });
    try {
      await eventStore.appendMany(
        events.map((event) => ({
          streamId: event.streamId,
          events: [
            {
              eventId: event.eventId,
              type: event.type,
              data: event.data,
              metadata: event.metadata,
            },
          ],
          expected: ExpectedRevision.any,
        })),
      );
      for (const order of ['ordered', 'strict', 'unordered'] as const) {
        const funnel = {
          ...definition(order),
          breakdown: { property: 'category', attribution: 'last_step' as const },
        };
        const liveReport = funnelReport(funnel, await live(funnel, events), { range: null });
        const adHoc = await analyseFunnel(eventStore, workspaceId, funnel, null, { pageSize: 97 });
        expect(funnelReport(funnel, adHoc, { range: null })).toEqual(liveReport);
        expect(liveReport.entered).toBeGreaterThan(0);

        const range = { from: start + 5 * day, to: start + 12 * day };
        const liveRanged = funnelReport(funnel, await live(funnel, events), { range });
        const adHocRanged = await analyseFunnel(eventStore, workspaceId, funnel, range);
        expect(funnelReport(funnel, adHocRanged, { range: null })).toEqual(liveRanged);
        expect(liveRanged.entered).toBeLessThan(liveReport.entered);
      }
    } finally {
      await eventStore.close();
    }
  });

  it('changes nothing when a batch is applied twice', async () => {
    const funnel = definition('ordered');
    const projection = createFunnelResultsProjection(async () => [
      { workspaceId, funnelId: 'f', version: 1, definition: funnel },
    ]);
    const models = new MemoryReadModels();
    await projection.project(events, models);
    const once = models.documents(funnelPeopleCollection);
    await projection.project(events, models);
    expect(models.documents(funnelPeopleCollection)).toEqual(once);
  });
});
