/**
 * Attribution end to end: seeded Segment traffic (people visiting through several channels
 * over weeks, some ordering) sent through `/v1/batch`, then read back over GraphQL as model
 * reports, the models side by side, conversion paths, one conversion's journey, a report
 * recomputed from the log under a 7-day lookback, live updates over graphql-ws, and bad
 * inputs.
 *
 * Every expected figure is recomputed here from the generator's own choices and ANALYTICS.md
 * ("Attribution"), not by Touchline's code: each visit is its own session (visits are an hour
 * or more apart, their hits 2 minutes apart) and its channel is the kind the generator chose.
 */
import { gql } from 'graphql-request';
import { markovAttribution } from '../../src/projections/attribution/markov';
import type { PathCount } from '../../src/projections/attribution/paths';
import { random } from '../support/traffic';
import {
  graphQLError,
  postBatch,
  startTestServer,
  takeUntil,
  type TestServer,
  until,
} from './harness';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Midnight UTC 40 days ago: visits and orders happen on days 0 to 38 after it. */
const DAY_0 = Math.floor(Date.now() / DAY) * DAY - 40 * DAY;
const FROM = new Date(DAY_0).toISOString();
/** The end of today (UTC): a range that cuts no day of the traffic. */
const TO = new Date(DAY_0 + 41 * DAY - 1).toISOString();

type Kind = 'paid_search' | 'email' | 'display' | 'organic_search' | 'referral' | 'direct';
const kinds: readonly Kind[] = [
  'paid_search',
  'email',
  'display',
  'organic_search',
  'referral',
  'direct',
];

interface Visit {
  readonly at: number;
  readonly kind: Kind;
}
interface Order {
  readonly orderId: string;
  readonly userId: string;
  readonly at: number;
  readonly revenueMinor: number;
  readonly currency: 'USD' | 'EUR';
}
interface Person {
  readonly userId: string;
  readonly visits: Visit[];
  readonly orders: Order[];
}

/** What a visit of each kind sends: the UTM parameters or referrer that mean it. */
function arrival(kind: Kind): Record<string, unknown> {
  const url = 'https://shop.example.com/landing';
  switch (kind) {
    case 'paid_search':
      return { campaign: { source: 'google', medium: 'cpc', name: 'spring' }, page: { url } };
    case 'email':
      return { campaign: { source: 'newsletter', medium: 'email', name: 'weekly' }, page: { url } };
    case 'display':
      return {
        campaign: { source: 'adnetwork', medium: 'display', name: 'spring' },
        page: { url },
      };
    case 'organic_search':
      return { page: { url, referrer: 'https://www.google.com/search?q=shop' } };
    case 'referral':
      return { page: { url, referrer: 'https://blog.example.org/post' } };
    case 'direct':
      return { page: { url } };
  }
}

/**
 * People with 1 to 5 visits on days 0 to 38 (whole hours 08:00–20:00, never two in the same
 * hour); about 60 % order 5 minutes after one of their visits, some twice.
 */
function generate(seed: number, count: number): { people: Person[]; messages: unknown[] } {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const people: Person[] = [];
  const messages: unknown[] = [];
  for (let p = 0; p < count; p++) {
    const userId = `person-${seed}-${p}`;
    const slots = new Set<number>();
    const visitCount = 1 + Math.floor(next() * 5);
    while (slots.size < visitCount) {
      slots.add(DAY_0 + Math.floor(next() * 39) * DAY + (8 + Math.floor(next() * 13)) * HOUR);
    }
    const visits = [...slots].sort((a, b) => a - b).map((at) => ({ at, kind: pick(kinds) }));
    visits.forEach((visit, v) => {
      const hits = 1 + Math.floor(next() * 2);
      for (let h = 0; h < hits; h++) {
        messages.push({
          type: 'page',
          userId,
          messageId: `${userId}-visit-${v}-${h}`,
          timestamp: new Date(visit.at + h * 2 * MINUTE).toISOString(),
          name: 'Landing',
          context:
            h === 0 ? arrival(visit.kind) : { page: { url: 'https://shop.example.com/next' } },
        });
      }
    });
    const orders: Order[] = [];
    // A phone order, at a half hour no visit starts at: its journey is whatever visits the
    // lookback reaches, possibly none.
    if (next() < 0.25) {
      const at = DAY_0 + Math.floor(next() * 39) * DAY + (8 + Math.floor(next() * 13)) * HOUR;
      orders.push(order(userId, `${userId}-phone`, at + 30 * MINUTE, next));
    }
    const orderCount = next() < 0.6 ? (next() < 0.2 ? 2 : 1) : 0;
    const orderVisits = new Set<number>();
    for (let o = 0; o < orderCount; o++) orderVisits.add(Math.floor(next() * visits.length));
    for (const v of orderVisits) {
      orders.push(order(userId, `${userId}-order-${v}`, visits[v].at + 5 * MINUTE, next));
    }
    messages.push(...orders.map(orderMessage));
    people.push({ userId, visits, orders });
  }
  return { people, messages };
}

function order(userId: string, orderId: string, at: number, next: () => number): Order {
  return {
    orderId,
    userId,
    at,
    revenueMinor: 500 + Math.floor(next() * 20_000),
    currency: next() < 0.2 ? 'EUR' : 'USD',
  };
}

function orderMessage(order: Order) {
  return {
    type: 'track',
    userId: order.userId,
    messageId: `${order.orderId}-message`,
    timestamp: new Date(order.at).toISOString(),
    event: 'Order Completed',
    properties: {
      order_id: order.orderId,
      revenue: order.revenueMinor / 100,
      currency: order.currency,
    },
  };
}

type RuleModel = 'LINEAR' | 'LAST_TOUCH' | 'POSITION_BASED' | 'TIME_DECAY' | 'FIRST_TOUCH';

/** ANALYTICS.md's shares of n touches `ages` ms before the conversion. */
function shares(model: RuleModel, ages: readonly number[], halfLifeMs: number): number[] {
  const n = ages.length;
  switch (model) {
    case 'FIRST_TOUCH':
      return ages.map((_, i) => (i === 0 ? 1 : 0));
    case 'LAST_TOUCH':
      return ages.map((_, i) => (i === n - 1 ? 1 : 0));
    case 'LINEAR':
      return ages.map(() => 1 / n);
    case 'POSITION_BASED':
      if (n <= 2) return ages.map(() => 1 / n);
      return ages.map((_, i) => (i === 0 || i === n - 1 ? 0.4 : 0.2 / (n - 2)));
    case 'TIME_DECAY': {
      const weights = ages.map((age) => 2 ** (-age / halfLifeMs));
      const sum = weights.reduce((a, b) => a + b, 0);
      return weights.map((weight) => weight / sum);
    }
  }
}

interface Expected {
  credits: Map<string, { conversions: number; revenue: Record<string, number> }>;
  total: number;
  unattributed: number;
}

/** Each order's journey: the visits that started in [order − lookback, order]. */
function journey(person: Person, order: Order, lookbackMs: number): Visit[] {
  return person.visits.filter((visit) => visit.at >= order.at - lookbackMs && visit.at <= order.at);
}

function expectedCredits(
  people: readonly Person[],
  model: RuleModel,
  lookbackMs: number,
  halfLifeMs: number,
  range = { from: DAY_0, to: Date.parse(TO) },
): Expected {
  const credits: Expected['credits'] = new Map();
  let total = 0;
  let unattributed = 0;
  for (const person of people) {
    for (const order of person.orders) {
      if (order.at < range.from || order.at > range.to) continue;
      total += 1;
      const touches = journey(person, order, lookbackMs);
      if (touches.length === 0) {
        unattributed += 1;
        continue;
      }
      const split = shares(
        model,
        touches.map((touch) => order.at - touch.at),
        halfLifeMs,
      );
      touches.forEach((touch, i) => {
        const row = credits.get(touch.kind) ?? { conversions: 0, revenue: {} };
        row.conversions += split[i];
        row.revenue[order.currency] =
          (row.revenue[order.currency] ?? 0) + split[i] * order.revenueMinor;
        credits.set(touch.kind, row);
      });
    }
  }
  return { credits, total, unattributed };
}

interface ExpectedPaths {
  /** Collapsed paths `a > b` with their counts. */
  converting: Map<string, number>;
  nonConverting: Map<string, number>;
  touches: number;
  timeMs: number;
  conversions: number;
}

const collapse = (visits: readonly Visit[]) =>
  visits.map(({ kind }) => kind).filter((kind, i, all) => i === 0 || all[i - 1] !== kind);

/**
 * The converting journeys of the orders in [FROM, TO] and the null journeys counted by `now`
 * (ANALYTICS.md, and the README's rule where it is silent): unclaimed visits, oldest first,
 * one null journey per lookback from its first visit, counted by the hour it expires in (its
 * last visit + lookback) once that hour is over.
 */
function expectedPaths(people: readonly Person[], now: number, lookbackMs = 30 * DAY) {
  const paths: ExpectedPaths = {
    converting: new Map(),
    nonConverting: new Map(),
    touches: 0,
    timeMs: 0,
    conversions: 0,
  };
  const count = (map: Map<string, number>, visits: readonly Visit[]) => {
    const key = collapse(visits).join(' > ');
    map.set(key, (map.get(key) ?? 0) + 1);
  };
  const hourOver = Math.floor(now / HOUR) * HOUR;
  for (const person of people) {
    const claimed = new Set<Visit>();
    for (const order of person.orders) {
      const visits = journey(person, order, lookbackMs);
      visits.forEach((visit) => claimed.add(visit));
      if (visits.length === 0) continue;
      paths.conversions += 1;
      paths.touches += visits.length;
      paths.timeMs += order.at - visits[0].at;
      count(paths.converting, visits);
    }
    let current: Visit[] = [];
    const close = () => {
      const expiresAt = current.length > 0 ? current[current.length - 1].at + lookbackMs : 0;
      if (current.length > 0 && expiresAt < hourOver && expiresAt >= DAY_0) {
        count(paths.nonConverting, current);
      }
      current = [];
    };
    for (const visit of person.visits) {
      if (claimed.has(visit)) continue;
      if (current.length > 0 && visit.at - current[0].at > lookbackMs) close();
      current.push(visit);
    }
    close();
  }
  return paths;
}

/** Shapley by channel sets: each converting journey's conversion split evenly over its channels. */
function expectedShapley(paths: ExpectedPaths): Map<string, number> {
  const values = new Map<string, number>();
  for (const [key, count] of paths.converting) {
    const channels = new Set(key.split(' > '));
    for (const channel of channels) {
      values.set(channel, (values.get(channel) ?? 0) + count / channels.size);
    }
  }
  return values;
}

/** The path counts as the Markov solver takes them. */
function pathCounts(paths: ExpectedPaths): PathCount[] {
  const counts = new Map<string, { conversions: number; nulls: number }>();
  for (const [map, field] of [
    [paths.converting, 'conversions'],
    [paths.nonConverting, 'nulls'],
  ] as const) {
    for (const [key, count] of map) {
      const row = counts.get(key) ?? { conversions: 0, nulls: 0 };
      row[field] += count;
      counts.set(key, row);
    }
  }
  return [...counts].map(([key, row]) => ({ path: key.split(' > '), ...row }));
}

interface Revenue {
  currency: string;
  amount: number;
  amountMinor: number;
}
interface Report {
  model: string;
  groupBy: string;
  lookbackDays: number;
  halfLifeDays: number;
  recomputed: boolean;
  credits: {
    key: string;
    conversions: number;
    share: number;
    removalEffect: number | null;
    revenue: Revenue[];
  }[];
  total: { conversions: number; revenue: Revenue[] };
  unattributed: { conversions: number; revenue: Revenue[] };
  conversionProbability: number | null;
}

const REPORT_FIELDS = `
  model groupBy lookbackDays halfLifeDays recomputed conversionProbability
  credits { key conversions share removalEffect revenue { currency amount amountMinor } }
  total { conversions revenue { currency amount amountMinor } }
  unattributed { conversions revenue { currency amount amountMinor } }
`;
const ATTRIBUTION = gql`
  query Attribution(
    $model: AttributionModel!
    $from: DateTime!
    $to: DateTime!
    $groupBy: AttributionGroupBy
    $lookbackDays: Int
    $halfLifeDays: Float
    $markovOrder: Int
    $minPosition: String
  ) {
    attribution(
      model: $model
      from: $from
      to: $to
      groupBy: $groupBy
      lookbackDays: $lookbackDays
      halfLifeDays: $halfLifeDays
      markovOrder: $markovOrder
      minPosition: $minPosition
    ) {
      ${REPORT_FIELDS}
    }
  }
`;

function expectReport(report: Report, expected: Expected): void {
  expect(report.total.conversions).toBe(expected.total);
  expect(report.unattributed.conversions).toBe(expected.unattributed);
  const keys = [...expected.credits.keys()].sort();
  expect(report.credits.map(({ key }) => key).sort()).toEqual(keys);
  for (const credit of report.credits) {
    const want = expected.credits.get(credit.key)!;
    expect(credit.conversions).toBeCloseTo(want.conversions, 9);
    for (const [currency, amountMinor] of Object.entries(want.revenue)) {
      const got = credit.revenue.find((revenue) => revenue.currency === currency);
      expect(got?.amountMinor ?? 0).toBeCloseTo(amountMinor, 6);
      expect(got?.amount ?? 0).toBeCloseTo(amountMinor / 100, 8);
    }
  }
  const attributed = expected.total - expected.unattributed;
  const shareSum = report.credits.reduce((sum, { share }) => sum + share, 0);
  expect(shareSum).toBeCloseTo(1, 9);
  const creditSum = report.credits.reduce((sum, { conversions }) => sum + conversions, 0);
  expect(creditSum).toBeCloseTo(attributed, 9);
}

describe('attribution end to end', () => {
  let touchline: TestServer;
  const { people, messages } = generate(7, 60);
  let seen = '0';

  beforeAll(async () => {
    touchline = await startTestServer();
    for (let i = 0; i < messages.length; i += 200) {
      seen = await track(messages.slice(i, i + 200));
    }
  });

  afterAll(async () => {
    await touchline?.stop();
  });

  const api = () => touchline.client('default');

  async function track(batch: unknown[]): Promise<string> {
    const body = await postBatch(touchline, batch);
    expect(body.accepted).toBe(batch.length);
    return body.position;
  }

  async function attribution(variables: Record<string, unknown>): Promise<Report> {
    const { attribution: report } = await api().request<{ attribution: Report }>(ATTRIBUTION, {
      from: FROM,
      to: TO,
      minPosition: seen,
      ...variables,
    });
    return report;
  }

  it('the traffic has what the checks need', () => {
    const orders = people.flatMap((person) => person.orders);
    const journeys = people.flatMap((person) =>
      person.orders.map((order) => journey(person, order, 30 * DAY)),
    );
    expect(orders.length).toBeGreaterThan(20);
    expect(journeys.some((touches) => touches.length >= 3)).toBe(true);
    expect(orders.some((order) => order.currency === 'EUR')).toBe(true);
  });

  it.each<RuleModel>(['LINEAR', 'LAST_TOUCH', 'POSITION_BASED', 'TIME_DECAY', 'FIRST_TOUCH'])(
    '%s by channel matches an independent recomputation',
    async (model) => {
      const report = await attribution({ model });
      expect(report).toMatchObject({
        model,
        groupBy: 'CHANNEL',
        lookbackDays: 30,
        halfLifeDays: 7,
        recomputed: false,
        conversionProbability: null,
      });
      expect(report.credits.every(({ removalEffect }) => removalEffect === null)).toBe(true);
      expectReport(report, expectedCredits(people, model, 30 * DAY, 7 * DAY));
    },
  );

  it('a range that cuts days counts the conversions inside it only', async () => {
    const range = {
      from: DAY_0 + 10 * DAY + 10 * HOUR + 3 * MINUTE,
      to: DAY_0 + 30 * DAY + 14 * HOUR,
    };
    for (const model of ['LINEAR', 'TIME_DECAY'] as const) {
      const report = await attribution({
        model,
        from: new Date(range.from).toISOString(),
        to: new Date(range.to).toISOString(),
      });
      const expected = expectedCredits(people, model, 30 * DAY, 7 * DAY, range);
      expect(expected.total).toBeLessThan(expectedCredits(people, model, 30 * DAY, 7 * DAY).total);
      expectReport(report, expected);
    }
  });

  it('MARKOV and SHAPLEY credit exactly the attributed conversions', async () => {
    const expected = expectedCredits(people, 'LINEAR', 30 * DAY, 7 * DAY);
    const attributed = expected.total - expected.unattributed;
    const channels = [...expected.credits.keys()].sort();
    for (const model of ['MARKOV', 'SHAPLEY']) {
      const report = await attribution({ model });
      const sum = report.credits.reduce((total, { conversions }) => total + conversions, 0);
      expect(sum).toBeCloseTo(attributed, 6);
      expect(report.total.conversions).toBe(expected.total);
      // Every channel of a converting journey gets credit (a channel seen only on
      // non-converting journeys may be listed with none).
      const credited = report.credits.filter(({ conversions }) => conversions > 1e-9);
      expect(credited.map(({ key }) => key).sort()).toEqual(channels);
      const byKey = new Map(report.credits.map(({ key, conversions }) => [key, conversions]));
      const paths = expectedPaths(people, Date.now());
      if (model === 'SHAPLEY') {
        // Shapley values from the channel sets of the converting journeys, computed here.
        for (const [channel, value] of expectedShapley(paths)) {
          expect(byKey.get(channel)).toBeCloseTo(value, 9);
        }
      } else {
        // The chain solved (by the unit-tested solver) from path counts computed here: the
        // read model's paths, nulls included, are what the live answer was solved from.
        const solved = markovAttribution(pathCounts(paths));
        expect(report.conversionProbability).toBeCloseTo(solved.conversionProbability, 9);
        for (const { channel, conversions, removalEffect } of solved.channels) {
          expect(byKey.get(channel) ?? 0).toBeCloseTo(conversions, 9);
          expect(report.credits.find(({ key }) => key === channel)?.removalEffect ?? 0).toBeCloseTo(
            removalEffect,
            9,
          );
        }
      }
    }
  });

  it('compares every model side by side', async () => {
    const { compareAttributionModels } = await api().request<{
      compareAttributionModels: { keys: string[]; models: Report[] };
    }>(
      gql`
        query Compare($from: DateTime!, $to: DateTime!, $minPosition: String) {
          compareAttributionModels(from: $from, to: $to, minPosition: $minPosition) {
            keys
            models { ${REPORT_FIELDS} }
          }
        }
      `,
      { from: FROM, to: TO, minPosition: seen },
    );
    expect(compareAttributionModels.models.map(({ model }) => model)).toEqual([
      'FIRST_TOUCH',
      'LAST_TOUCH',
      'LAST_NON_DIRECT',
      'LINEAR',
      'POSITION_BASED',
      'TIME_DECAY',
      'MARKOV',
      'SHAPLEY',
    ]);
    const linear = compareAttributionModels.models.find(({ model }) => model === 'LINEAR')!;
    expectReport(linear, expectedCredits(people, 'LINEAR', 30 * DAY, 7 * DAY));
    expect([...compareAttributionModels.keys].sort()).toEqual(
      [...expectedCredits(people, 'LINEAR', 30 * DAY, 7 * DAY).credits.keys()].sort(),
    );
  });

  it('a 7-day lookback and 3-day half-life is recomputed from the log', async () => {
    for (const model of ['LINEAR', 'TIME_DECAY'] as const) {
      const report = await attribution({ model, lookbackDays: 7, halfLifeDays: 3 });
      expect(report).toMatchObject({ recomputed: true, lookbackDays: 7, halfLifeDays: 3 });
      expectReport(report, expectedCredits(people, model, 7 * DAY, 3 * DAY));
    }
    const thirty = expectedCredits(people, 'LINEAR', 30 * DAY, 7 * DAY);
    const seven = expectedCredits(people, 'LINEAR', 7 * DAY, 3 * DAY);
    // The window matters for this traffic: more orders lose their every touch in 7 days.
    expect(thirty.unattributed).toBeGreaterThan(0);
    expect(seven.unattributed).toBeGreaterThan(thirty.unattributed);
  });

  it('lists the converting and non-converting paths', async () => {
    const { converting, nonConverting, touches, timeMs, conversions } = expectedPaths(
      people,
      Date.now(),
    );
    const { conversionPaths } = await api().request<{
      conversionPaths: {
        recomputed: boolean;
        lookbackDays: number;
        converting: { path: string[]; key: string; count: number }[];
        nonConverting: { path: string[]; key: string; count: number }[];
        conversions: number;
        nulls: number;
        averagePathLength: number;
        averageTimeToConversionSeconds: number;
        unattributed: { conversions: number };
      };
    }>(
      gql`
        query Paths($from: DateTime!, $to: DateTime!, $minPosition: String) {
          conversionPaths(from: $from, to: $to, limit: 100, minPosition: $minPosition) {
            recomputed
            lookbackDays
            converting {
              path
              key
              count
            }
            nonConverting {
              path
              key
              count
            }
            conversions
            nulls
            averagePathLength
            averageTimeToConversionSeconds
            unattributed {
              conversions
            }
          }
        }
      `,
      { from: FROM, to: TO, minPosition: seen },
    );
    const rows = (map: Map<string, number>) =>
      Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : 1)));
    const got = (list: { key: string; count: number }[]) =>
      rows(new Map(list.map(({ key, count }) => [key, count])));
    expect(conversionPaths.recomputed).toBe(false);
    expect(conversionPaths.lookbackDays).toBe(30);
    expect(nonConverting.size).toBeGreaterThan(0);
    expect(got(conversionPaths.converting)).toEqual(rows(converting));
    expect(got(conversionPaths.nonConverting)).toEqual(rows(nonConverting));
    expect(conversionPaths.converting.every(({ path, key }) => path.join(' > ') === key)).toBe(
      true,
    );
    expect(conversionPaths.conversions).toBe(conversions);
    expect(conversionPaths.nulls).toBe([...nonConverting.values()].reduce((a, b) => a + b, 0));
    expect(conversionPaths.averagePathLength).toBeCloseTo(touches / conversions, 9);
    expect(conversionPaths.averageTimeToConversionSeconds).toBeCloseTo(
      timeMs / conversions / 1000,
      6,
    );
    expect(conversionPaths.unattributed.conversions).toBe(
      expectedCredits(people, 'LINEAR', 30 * DAY, 7 * DAY).unattributed,
    );
  });

  it("explains one conversion's journey, touch by touch", async () => {
    const person = people.find((candidate) =>
      candidate.orders.some((order) => journey(candidate, order, 30 * DAY).length >= 3),
    )!;
    const order = person.orders.find((o) => journey(person, o, 30 * DAY).length >= 3)!;
    const visits = journey(person, order, 30 * DAY);
    const JOURNEY = gql`
      query Journey($id: String!, $minPosition: String) {
        conversionJourney(conversionId: $id, minPosition: $minPosition) {
          conversion {
            id
            orderId
            occurredAt
            revenue {
              currency
              amount
              amountMinor
            }
          }
          touches {
            at
            channel
            source
            medium
            campaign
            shares {
              model
              share
              revenue {
                currency
                amountMinor
              }
            }
          }
        }
      }
    `;
    type Journey = {
      conversion: { id: string; orderId: string; occurredAt: string; revenue: Revenue[] };
      touches: {
        at: string;
        channel: string;
        source: string | null;
        medium: string | null;
        shares: { model: string; share: number; revenue: { amountMinor: number }[] }[];
      }[];
    } | null;
    const { conversionJourney } = await api().request<{ conversionJourney: Journey }>(JOURNEY, {
      id: order.orderId,
      minPosition: seen,
    });
    expect(conversionJourney!.conversion).toEqual({
      id: order.orderId,
      orderId: order.orderId,
      occurredAt: new Date(order.at).toISOString(),
      revenue: [
        {
          currency: order.currency,
          amount: order.revenueMinor / 100,
          amountMinor: order.revenueMinor,
        },
      ],
    });
    expect(conversionJourney!.touches.map(({ at, channel }) => ({ at, channel }))).toEqual(
      visits.map((visit) => ({ at: new Date(visit.at).toISOString(), channel: visit.kind })),
    );
    const ages = visits.map((visit) => order.at - visit.at);
    for (const model of ['LINEAR', 'LAST_TOUCH', 'POSITION_BASED', 'TIME_DECAY'] as const) {
      const want = shares(model, ages, 7 * DAY);
      conversionJourney!.touches.forEach((touch, i) => {
        const share = touch.shares.find((candidate) => candidate.model === model)!;
        expect(share.share).toBeCloseTo(want[i], 12);
        const amountMinor = share.revenue[0]?.amountMinor ?? 0;
        expect(amountMinor).toBeCloseTo(want[i] * order.revenueMinor, 6);
      });
    }
    const unknown = await api().request<{ conversionJourney: Journey }>(JOURNEY, {
      id: 'no-such-order',
    });
    expect(unknown.conversionJourney).toBeNull();
  });

  it.each([
    [{ model: 'LINEAR', markovOrder: 4 }, 'markovOrder', 'INVALID_ORDER'],
    [{ model: 'MARKOV', markovOrder: 0 }, 'markovOrder', 'INVALID_ORDER'],
    [{ model: 'LINEAR', lookbackDays: 0 }, 'lookbackDays', 'INVALID_LOOKBACK'],
    [{ model: 'LINEAR', lookbackDays: 366 }, 'lookbackDays', 'INVALID_LOOKBACK'],
    [{ model: 'LINEAR', halfLifeDays: 0 }, 'halfLifeDays', 'INVALID_HALF_LIFE'],
    [{ model: 'LINEAR', halfLifeDays: -2.5 }, 'halfLifeDays', 'INVALID_HALF_LIFE'],
    [{ model: 'LINEAR', from: TO, to: FROM }, 'to', 'INVALID_RANGE'],
  ])('refuses %j on %s with %s', async (variables, field, reason) => {
    const error = await graphQLError(
      api().request(ATTRIBUTION, { from: FROM, to: TO, ...variables }),
    );
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field, reason });
  });

  it('refuses an unknown model and a path limit out of 1..100', async () => {
    const unknownModel = await graphQLError(
      api().request(ATTRIBUTION, { model: 'LAST_CLICK', from: FROM, to: TO }),
    );
    expect(unknownModel.message).toMatch(/LAST_CLICK/);
    expect(unknownModel.code).toBe('BAD_USER_INPUT');
    const PATHS = gql`
      query Paths($from: DateTime!, $to: DateTime!, $limit: Int) {
        conversionPaths(from: $from, to: $to, limit: $limit) {
          conversions
        }
      }
    `;
    for (const limit of [0, 101]) {
      const error = await graphQLError(api().request(PATHS, { from: FROM, to: TO, limit }));
      expect(error).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'limit',
        reason: 'INVALID_LIMIT',
      });
    }
  });

  it('refuses a subscription with a reversed range', async () => {
    const updates = touchline.subscriptions('default').iterate({
      query: `subscription { attributionUpdated(model: LINEAR, from: "${TO}", to: "${FROM}") { model } }`,
    });
    const first = await updates.next();
    expect(first.value).toMatchObject({
      errors: [{ extensions: { code: 'BAD_USER_INPUT', field: 'to', reason: 'INVALID_RANGE' } }],
    });
    await updates.return?.();
  });

  it('pushes a fresh report over graphql-ws after a new order', async () => {
    const before = await attribution({ model: 'LINEAR' });
    const listeners = touchline.server.changeFeed.subscriberCount;
    const updates = touchline.subscriptions('default').iterate<{ attributionUpdated: Report }>({
      query: `subscription Updated($from: DateTime!, $to: DateTime!) {
        attributionUpdated(model: LINEAR, from: $from, to: $to) { ${REPORT_FIELDS} }
      }`,
      variables: { from: FROM, to: TO },
    });
    const arriving = takeUntil(updates[Symbol.asyncIterator](), (values) =>
      values.some(
        (value) =>
          value.data?.attributionUpdated.total.conversions === before.total.conversions + 1,
      ),
    );
    await until(
      () => touchline.server.changeFeed.subscriberCount > listeners,
      'the attribution subscription',
    );
    // A new person's one email visit, then an order 5 minutes later.
    const at = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    const order: Order = {
      orderId: 'live-order',
      userId: 'live-person',
      at: at + 5 * MINUTE,
      revenueMinor: 4_200,
      currency: 'USD',
    };
    seen = await track([
      {
        type: 'page',
        userId: order.userId,
        messageId: 'live-visit',
        timestamp: new Date(at).toISOString(),
        context: arrival('email'),
      },
      orderMessage(order),
    ]);
    const values = await arriving;
    const pushed = values.at(-1)!.data!.attributionUpdated;
    expect(pushed.model).toBe('LINEAR');
    const email = (report: Report) =>
      report.credits.find(({ key }) => key === 'email')?.conversions ?? 0;
    expect(email(pushed)).toBeCloseTo(email(before) + 1, 9);
    await updates.return?.();
  });
});
