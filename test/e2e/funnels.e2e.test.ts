/**
 * Funnels end to end: a shop's checkout funnel saved over GraphQL, fed Segment traffic through
 * `/v1/batch`, and read back as the live report, the ad-hoc analysis of the same definition,
 * the people at each step, the daily trend and the live updates over graphql-ws; then a new
 * version of the definition recomputed from the log, and bad inputs that change nothing.
 *
 * Every expected number below is worked out by hand from ANALYTICS.md ("Funnels") for the
 * people described in `shoppers`, not by Touchline's code.
 */
import { gql } from 'graphql-request';
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
/** Midnight UTC five days ago: the traffic happens on day 0, 1 and 2 after it. */
const DAY_0 = Math.floor(Date.now() / DAY) * DAY - 5 * DAY;

/** The ISO time `day` days after DAY_0 at `time` (hh:mm, UTC). */
function at(day: number, time: string): string {
  const [hours, minutes] = time.split(':').map(Number);
  return new Date(DAY_0 + day * DAY + hours * HOUR + minutes * MINUTE).toISOString();
}

type Identity = { anonymousId: string } | { userId: string };

function page(messageId: string, who: Identity, timestamp: string, source?: string) {
  return {
    type: 'page',
    ...who,
    messageId,
    timestamp,
    context: {
      ...(source && { campaign: { source, medium: 'cpc', name: 'spring' } }),
      page: { url: 'https://shop.example/' },
    },
  };
}

function productViewed(messageId: string, who: Identity, timestamp: string, category: string) {
  return {
    type: 'track',
    ...who,
    messageId,
    timestamp,
    event: 'Product Viewed',
    properties: { category },
  };
}

function orderCompleted(messageId: string, who: Identity, timestamp: string) {
  return {
    type: 'track',
    ...who,
    messageId,
    timestamp,
    event: 'Order Completed',
    properties: { order_id: `order-${messageId}`, revenue: 80, currency: 'EUR' },
  };
}

/**
 * Six people (window 1 day; step 1 `$pageview`, 2 `Product Viewed` of shoes, 3 `Order
 * Completed`; breakdown by the UTM source of step 1):
 * - a-1 (google): page d0 09:00, shoes 09:10, order 09:40 → converts; gaps 600 s, 1800 s.
 * - a-2 (newsletter): page d0 10:00, hats 10:05, order 10:30 → step 1 only (wrong category).
 * - a-3 (google): page d0 11:00, hats 11:10, shoes 11:20 → step 2; gap 1200 s.
 * - a-4 (no UTM): page d0 12:00, shoes 13:00, order d1 14:00 → step 2 (the order comes 26 h
 *   after step 1, outside the 1-day window); gap 3600 s.
 * - a-5 (newsletter) browses anonymously at d1 08:00, is identified as user-5 at 08:05, then as
 *   user-5 views shoes 08:15 and orders 08:45 → one person, user-5, converts; gaps 900 s, 1800 s.
 * - a-6 (google): shoes d1 09:00 and order 09:10 before any page, page d2 10:00 → step 1 only.
 */
const shoppers = [
  page('a1-page', { anonymousId: 'a-1' }, at(0, '09:00'), 'google'),
  productViewed('a1-shoes', { anonymousId: 'a-1' }, at(0, '09:10'), 'shoes'),
  orderCompleted('a1-order', { anonymousId: 'a-1' }, at(0, '09:40')),
  page('a2-page', { anonymousId: 'a-2' }, at(0, '10:00'), 'newsletter'),
  productViewed('a2-hats', { anonymousId: 'a-2' }, at(0, '10:05'), 'hats'),
  orderCompleted('a2-order', { anonymousId: 'a-2' }, at(0, '10:30')),
  page('a3-page', { anonymousId: 'a-3' }, at(0, '11:00'), 'google'),
  productViewed('a3-hats', { anonymousId: 'a-3' }, at(0, '11:10'), 'hats'),
  productViewed('a3-shoes', { anonymousId: 'a-3' }, at(0, '11:20'), 'shoes'),
  page('a4-page', { anonymousId: 'a-4' }, at(0, '12:00')),
  productViewed('a4-shoes', { anonymousId: 'a-4' }, at(0, '13:00'), 'shoes'),
  orderCompleted('a4-order', { anonymousId: 'a-4' }, at(1, '14:00')),
  page('a5-page', { anonymousId: 'a-5' }, at(1, '08:00'), 'newsletter'),
  {
    type: 'identify',
    userId: 'user-5',
    anonymousId: 'a-5',
    messageId: 'u5-identify',
    timestamp: at(1, '08:05'),
    traits: { plan: 'pro' },
  },
  productViewed('u5-shoes', { userId: 'user-5' }, at(1, '08:15'), 'shoes'),
  orderCompleted('u5-order', { userId: 'user-5' }, at(1, '08:45')),
  productViewed('a6-shoes', { anonymousId: 'a-6' }, at(1, '09:00'), 'shoes'),
  orderCompleted('a6-order', { anonymousId: 'a-6' }, at(1, '09:10')),
  page('a6-page', { anonymousId: 'a-6' }, at(2, '10:00'), 'google'),
];

const checkout = {
  name: 'Shoe checkout',
  steps: [
    { event: '$pageview' },
    {
      event: 'Product Viewed',
      filters: [{ property: 'category', operator: 'EQ', value: 'shoes' }],
    },
    { event: 'Order Completed' },
  ],
  order: 'ORDERED',
  window: { value: 1, unit: 'DAY' },
  breakdown: { property: '$utm_source', attribution: 'FIRST_STEP' },
};

interface Times {
  count: number;
  meanSeconds: number | null;
  medianSeconds: number | null;
}
interface StepReport {
  step: number;
  count: number;
  conversionFromStart: number | null;
  conversionFromPrevious: number | null;
  dropOff: number;
  dropOffRate: number | null;
  timeFromPrevious: Times | null;
}
interface Report {
  funnelId: string | null;
  version: number | null;
  recomputing: boolean;
  entered: number;
  converted: number;
  excluded: number;
  conversionRate: number | null;
  steps: StepReport[];
  timeToConvert: Times & { histogram: { fromSeconds: number; toSeconds: number; count: number }[] };
  breakdown: { value: string | null; steps: StepReport[] }[];
}
interface CommandResult {
  funnelId: string;
  revision: string;
  position: string;
  replayed: boolean;
}

const STEP_FIELDS = `
  step count conversionFromStart conversionFromPrevious dropOff dropOffRate
  timeFromPrevious { count meanSeconds medianSeconds }
`;
const REPORT_FIELDS = `
  funnelId version recomputing entered converted excluded conversionRate
  steps { ${STEP_FIELDS} }
  timeToConvert { count meanSeconds medianSeconds histogram { fromSeconds toSeconds count } }
  breakdown { value steps { ${STEP_FIELDS} } }
`;
const CREATE = gql`
  mutation Create($id: ID, $input: FunnelInput!, $commandId: String) {
    createFunnel(id: $id, input: $input, commandId: $commandId) {
      funnelId
      revision
      position
      replayed
    }
  }
`;
const UPDATE = gql`
  mutation Update($id: ID!, $input: FunnelInput!, $expectedRevision: String) {
    updateFunnel(id: $id, input: $input, expectedRevision: $expectedRevision) {
      funnelId
      revision
      position
      replayed
    }
  }
`;
const ARCHIVE = gql`
  mutation Archive($id: ID!) {
    archiveFunnel(id: $id) {
      funnelId
      revision
      position
      replayed
    }
  }
`;
const REPORT = gql`
  query Report(
    $id: ID!
    $from: DateTime
    $to: DateTime
    $breakdownValue: String
    $minPosition: String
  ) {
    funnelReport(
      funnelId: $id
      from: $from
      to: $to
      breakdownValue: $breakdownValue
      minPosition: $minPosition
    ) { ${REPORT_FIELDS} }
  }
`;
const ANALYSIS = gql`
  query Analysis($definition: FunnelInput!, $from: DateTime, $to: DateTime, $breakdownValue: String) {
    funnelAnalysis(definition: $definition, from: $from, to: $to, breakdownValue: $breakdownValue) {
      ${REPORT_FIELDS}
    }
  }
`;
const PEOPLE = gql`
  query People(
    $id: ID!
    $step: Int!
    $status: FunnelPeopleStatus!
    $first: Int
    $after: String
    $minPosition: String
  ) {
    funnelPeople(
      funnelId: $id
      step: $step
      status: $status
      first: $first
      after: $after
      minPosition: $minPosition
    ) {
      contactIds
      pageInfo {
        hasNextPage
        endCursor
      }
      totalCount
    }
  }
`;
const TREND = gql`
  query Trend($id: ID!, $interval: TrendInterval!, $from: DateTime!, $to: DateTime!) {
    funnelTrend(funnelId: $id, interval: $interval, from: $from, to: $to) {
      periodStart
      entered
      converted
      conversionRate
    }
  }
`;
const FUNNEL = gql`
  query Funnel($id: ID!, $minPosition: String) {
    funnel(id: $id, minPosition: $minPosition) {
      id
      version
      status
      definition {
        name
        order
        windowSeconds
        steps {
          step
          event
          filters {
            property
            operator
            value
            caseSensitive
          }
        }
        breakdown {
          property
          attribution
        }
      }
    }
  }
`;

/**
 * The expected step rows from hand-counted facts: how many people reached each step, and the
 * seconds each of them took from the previous step (ANALYTICS.md: rates from step 1 and from
 * the previous step, drop-off, mean and median time; step 1 is its own previous step).
 */
function expectedSteps(counts: number[], gaps: number[][]): StepReport[] {
  return counts.map((count, index) => {
    const previous = index === 0 ? count : counts[index - 1];
    const sorted = [...(gaps[index - 1] ?? [])].sort((a, b) => a - b);
    const middle = sorted.length / 2;
    return {
      step: index + 1,
      count,
      conversionFromStart: count / counts[0],
      conversionFromPrevious: count / previous,
      dropOff: previous - count,
      dropOffRate: (previous - count) / previous,
      timeFromPrevious:
        index === 0
          ? null
          : sorted.length === 0
            ? { count: 0, meanSeconds: null, medianSeconds: null }
            : {
                count: sorted.length,
                meanSeconds: sorted.reduce((sum, gap) => sum + gap, 0) / sorted.length,
                medianSeconds:
                  sorted.length % 2 === 1
                    ? sorted[Math.floor(middle)]
                    : (sorted[middle - 1] + sorted[middle]) / 2,
              },
    };
  });
}

/** The report without what says which saved funnel and version it is. */
function numbersOf(report: Report): Omit<Report, 'funnelId' | 'version' | 'recomputing'> {
  const { funnelId: _funnelId, version: _version, recomputing: _recomputing, ...numbers } = report;
  return numbers;
}

describe('funnels end to end', () => {
  const funnelId = 'shoe-checkout';
  let touchline: TestServer;
  /** The log position of the latest write the reads must see. */
  let seen = '0';

  beforeAll(async () => {
    touchline = await startTestServer();
  });

  afterAll(async () => {
    await touchline?.stop();
  });

  const api = () => touchline.client('default');

  async function track(batch: unknown[]): Promise<string> {
    const body = await postBatch(touchline, batch);
    expect(body).toMatchObject({ accepted: batch.length, rejected: [] });
    return body.position;
  }

  function later(...positions: string[]): string {
    return positions.reduce((max, position) => (BigInt(position) > BigInt(max) ? position : max));
  }

  async function report(variables: Record<string, unknown> = {}): Promise<Report> {
    const data = await api().request<{ funnelReport: Report }>(REPORT, {
      id: funnelId,
      minPosition: seen,
      ...variables,
    });
    return data.funnelReport;
  }

  /**
   * Reads the report until it shows what `holds` waits for: a recompute switching over has no
   * log position to wait on, so this polls (one request after another, bounded).
   */
  async function reportOnce(holds: (report: Report) => boolean, what: string): Promise<Report> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const current = await report();
      if (holds(current)) return current;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; last report: ${JSON.stringify(current)}`);
      }
    }
  }

  async function people(step: number, status: 'REACHED' | 'DROPPED', first = 100, after?: string) {
    const data = await api().request<{
      funnelPeople: {
        contactIds: string[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        totalCount: number;
      };
    }>(PEOPLE, { id: funnelId, step, status, first, after, minPosition: seen });
    return data.funnelPeople;
  }

  it('reports the step counts, rates, times, breakdown, people and trend of a saved funnel', async () => {
    // Given a saved checkout funnel (a retried create stores nothing twice) …
    const created = await api().request<{ createFunnel: CommandResult }>(CREATE, {
      id: funnelId,
      input: checkout,
      commandId: 'create-shoe-checkout',
    });
    expect(created.createFunnel).toMatchObject({ funnelId, revision: '0', replayed: false });
    const retried = await api().request<{ createFunnel: CommandResult }>(CREATE, {
      id: funnelId,
      input: checkout,
      commandId: 'create-shoe-checkout',
    });
    expect(retried.createFunnel).toEqual({ ...created.createFunnel, replayed: true });

    // … when the shoppers' traffic arrives …
    seen = later(created.createFunnel.position, await track(shoppers));

    // … then, once the projector computes version 1, the live report counts what ANALYTICS.md
    // says, person by person.
    const live = await reportOnce(
      (current) => current.version === 1 && !current.recomputing,
      'version 1 to be computed',
    );
    expect(live).toMatchObject({
      funnelId,
      version: 1,
      recomputing: false,
      // a-1 … a-6 and user-5 (a-5 joined) did step 1; a-1, a-3, a-4, user-5 step 2; a-1, user-5 step 3.
      entered: 6,
      converted: 2,
      excluded: 0,
      conversionRate: 2 / 6,
    });
    expect(live.steps).toEqual(
      expectedSteps(
        [6, 4, 2],
        [
          [600, 1200, 3600, 900],
          [1800, 1800],
        ],
      ),
    );
    // Spelled out: step 2 has mean (600 + 1200 + 3600 + 900) / 4 and median (900 + 1200) / 2.
    expect(live.steps[1]).toMatchObject({
      conversionFromStart: 4 / 6,
      dropOff: 2,
      timeFromPrevious: { count: 4, meanSeconds: 1575, medianSeconds: 1050 },
    });
    expect(live.steps[2]).toMatchObject({ conversionFromPrevious: 0.5, dropOffRate: 0.5 });
    // a-1 took 2400 s from step 1 to 3, user-5 2700 s: Sturges gives 2 bins of 150 s from 2400.
    expect(live.timeToConvert).toEqual({
      count: 2,
      meanSeconds: 2550,
      medianSeconds: 2550,
      histogram: [
        { fromSeconds: 2400, toSeconds: 2550, count: 1 },
        { fromSeconds: 2550, toSeconds: 2700, count: 1 },
      ],
    });
    // First touch: google a-1, a-3, a-6; newsletter a-2, user-5; none a-4.
    expect(live.breakdown).toEqual([
      { value: 'google', steps: expectedSteps([3, 2, 1], [[600, 1200], [1800]]) },
      { value: 'newsletter', steps: expectedSteps([2, 1, 1], [[900], [1800]]) },
      { value: null, steps: expectedSteps([1, 1, 0], [[3600], []]) },
    ]);

    // The same definition as an ad-hoc analysis of the log gives the same numbers.
    const analysis = await api().request<{ funnelAnalysis: Report }>(ANALYSIS, {
      definition: checkout,
    });
    expect(analysis.funnelAnalysis).toMatchObject({
      funnelId: null,
      version: null,
      recomputing: false,
    });
    expect(numbersOf(analysis.funnelAnalysis)).toEqual(numbersOf(live));

    // Only attempts starting from d0 10:30 to d1 12:00: a-3 (step 2), a-4 (step 2), user-5 (3).
    const ranged = { from: at(0, '10:30'), to: at(1, '12:00') };
    const inRange = await report(ranged);
    expect(inRange).toMatchObject({ entered: 3, converted: 1, conversionRate: 1 / 3 });
    expect(inRange.steps).toEqual(expectedSteps([3, 3, 1], [[1200, 3600, 900], [1800]]));
    const analysedInRange = await api().request<{ funnelAnalysis: Report }>(ANALYSIS, {
      definition: checkout,
      ...ranged,
    });
    expect(numbersOf(analysedInRange.funnelAnalysis)).toEqual(numbersOf(inRange));

    // Only the people who came from google.
    const google = await report({ breakdownValue: 'google' });
    expect(google).toMatchObject({ entered: 3, converted: 1, conversionRate: 1 / 3 });
    expect(google.steps).toEqual(expectedSteps([3, 2, 1], [[600, 1200], [1800]]));
    expect(google.breakdown.map((group) => group.value)).toEqual(['google']);
    const analysedGoogle = await api().request<{ funnelAnalysis: Report }>(ANALYSIS, {
      definition: checkout,
      breakdownValue: 'google',
    });
    expect(numbersOf(analysedGoogle.funnelAnalysis)).toEqual(numbersOf(google));

    // The people at each step; the identified shopper under their userId.
    expect((await people(1, 'REACHED')).contactIds).toEqual([
      'a-1',
      'a-2',
      'a-3',
      'a-4',
      'a-6',
      'user-5',
    ]);
    expect((await people(1, 'DROPPED')).contactIds).toEqual(['a-2', 'a-6']);
    expect((await people(2, 'DROPPED')).contactIds).toEqual(['a-3', 'a-4']);
    expect((await people(3, 'DROPPED')).contactIds).toEqual([]);
    const firstPage = await people(3, 'REACHED', 1);
    expect(firstPage).toMatchObject({
      contactIds: ['a-1'],
      totalCount: 2,
      pageInfo: { hasNextPage: true },
    });
    const secondPage = await people(3, 'REACHED', 1, firstPage.pageInfo.endCursor ?? undefined);
    expect(secondPage).toMatchObject({
      contactIds: ['user-5'],
      totalCount: 2,
      pageInfo: { hasNextPage: false },
    });
    const pairs = await people(2, 'REACHED', 2);
    expect(pairs).toMatchObject({ contactIds: ['a-1', 'a-3'], pageInfo: { hasNextPage: true } });
    expect(
      (await people(2, 'REACHED', 2, pairs.pageInfo.endCursor ?? undefined)).contactIds,
    ).toEqual(['a-4', 'user-5']);

    // The trend per day of step 1, from the day before the traffic to the day after it.
    const trend = await api().request<{ funnelTrend: unknown[] }>(TREND, {
      id: funnelId,
      interval: 'DAY',
      from: at(-1, '00:00'),
      to: at(3, '00:00'),
    });
    expect(trend.funnelTrend).toEqual([
      { periodStart: at(-1, '00:00'), entered: 0, converted: 0, conversionRate: 0 },
      { periodStart: at(0, '00:00'), entered: 4, converted: 1, conversionRate: 0.25 },
      { periodStart: at(1, '00:00'), entered: 1, converted: 1, conversionRate: 1 },
      { periodStart: at(2, '00:00'), entered: 1, converted: 0, conversionRate: 0 },
      { periodStart: at(3, '00:00'), entered: 0, converted: 0, conversionRate: 0 },
    ]);
  });

  it('pushes the new report over graphql-ws when one more shopper converts', async () => {
    const listeners = touchline.server.changeFeed.subscriberCount;
    const updates = touchline.subscriptions('default').iterate<{ funnelUpdated: Report }>({
      query: `subscription ($id: ID!) { funnelUpdated(funnelId: $id) { ${REPORT_FIELDS} } }`,
      variables: { id: funnelId },
    });
    const arriving = takeUntil(updates[Symbol.asyncIterator](), (messages) =>
      messages.some((message) => message.data?.funnelUpdated.converted === 3),
    );
    await until(
      () => touchline.server.changeFeed.subscriberCount > listeners,
      'the funnel subscription',
    );

    // a-3 orders 30 minutes after viewing shoes, inside the window.
    seen = later(
      seen,
      await track([orderCompleted('a3-order', { anonymousId: 'a-3' }, at(0, '11:50'))]),
    );

    const pushed = (await arriving).at(-1)?.data?.funnelUpdated as Report;
    expect(pushed).toMatchObject({
      funnelId,
      version: 1,
      recomputing: false,
      entered: 6,
      converted: 3,
      conversionRate: 0.5,
    });
    expect(pushed.steps).toEqual(
      expectedSteps(
        [6, 4, 3],
        [
          [600, 1200, 3600, 900],
          [1800, 1800, 1800],
        ],
      ),
    );
    // a-3 took 1200 s + 1800 s: times 2400, 2700, 3000.
    expect(pushed.timeToConvert).toMatchObject({
      count: 3,
      meanSeconds: 2700,
      medianSeconds: 2700,
    });
    expect(pushed.breakdown[0]).toEqual({
      value: 'google',
      steps: expectedSteps(
        [3, 2, 2],
        [
          [600, 1200],
          [1800, 1800],
        ],
      ),
    });
    expect(pushed).toEqual(await report());
  });

  it('recomputes a new version of the definition from the log, then serves it', async () => {
    const monthLong = { ...checkout, window: { value: 30, unit: 'DAY' } };
    const updated = await api().request<{ updateFunnel: CommandResult }>(UPDATE, {
      id: funnelId,
      input: monthLong,
      expectedRevision: '0',
    });
    expect(updated.updateFunnel).toMatchObject({ funnelId, revision: '1', replayed: false });
    seen = later(seen, updated.updateFunnel.position);

    const stored = await api().request<{ funnel: { version: number; definition: unknown } }>(
      FUNNEL,
      { id: funnelId, minPosition: seen },
    );
    expect(stored.funnel).toMatchObject({
      version: 2,
      status: 'ACTIVE',
      definition: { windowSeconds: 30 * 86_400, order: 'ORDERED' },
    });

    // Until the recompute catches up, version 1 keeps serving with its numbers.
    const meanwhile = await report();
    if (meanwhile.recomputing) {
      expect(meanwhile).toMatchObject({ version: 1, entered: 6, converted: 3 });
    }

    const recomputed = await reportOnce(
      (current) => current.version === 2 && !current.recomputing,
      'version 2 to take over',
    );
    // a-4's order 26 h after step 1 now lies inside the window: 25 h after step 2.
    expect(recomputed).toMatchObject({ entered: 6, converted: 4, conversionRate: 4 / 6 });
    expect(recomputed.steps).toEqual(
      expectedSteps(
        [6, 4, 4],
        [
          [600, 1200, 3600, 900],
          [1800, 1800, 90_000, 1800],
        ],
      ),
    );
    // 2400, 2700, 3000 and a-4's 93,600 s.
    expect(recomputed.timeToConvert).toMatchObject({
      count: 4,
      meanSeconds: 25_425,
      medianSeconds: 2850,
    });
    expect(recomputed.breakdown.at(-1)).toEqual({
      value: null,
      steps: expectedSteps([1, 1, 1], [[3600], [90_000]]),
    });
    expect(numbersOf(recomputed)).toEqual(
      numbersOf(
        (await api().request<{ funnelAnalysis: Report }>(ANALYSIS, { definition: monthLong }))
          .funnelAnalysis,
      ),
    );
    expect((await people(2, 'DROPPED')).contactIds).toEqual([]);
  });

  it('refuses bad inputs with a code, a field and a reason, and changes nothing', async () => {
    const before = await report();
    const oneStep = { ...checkout, steps: [{ event: '$pageview' }] };
    const cases: [() => Promise<unknown>, Record<string, unknown>][] = [
      [
        () => api().request(CREATE, { input: oneStep }),
        { code: 'BAD_USER_INPUT', field: 'steps', reason: 'TOO_FEW_STEPS' },
      ],
      [
        () => api().request(ANALYSIS, { definition: oneStep }),
        { code: 'BAD_USER_INPUT', field: 'steps', reason: 'TOO_FEW_STEPS' },
      ],
      [
        () => api().request(CREATE, { input: { ...checkout, window: { value: 0, unit: 'DAY' } } }),
        { code: 'BAD_USER_INPUT', field: 'windowSeconds', reason: 'INVALID_WINDOW' },
      ],
      [
        () =>
          api().request(CREATE, {
            input: {
              ...checkout,
              exclusions: [
                {
                  event: 'Product Viewed',
                  filters: [{ property: 'category', operator: 'EQ', value: 'shoes' }],
                  fromStep: 1,
                  toStep: 3,
                },
              ],
            },
          }),
        { code: 'BAD_USER_INPUT', field: 'exclusions.0.event', reason: 'EXCLUSION_EQUALS_STEP' },
      ],
      [
        () =>
          api().request(CREATE, {
            input: {
              ...checkout,
              steps: [
                checkout.steps[0],
                {
                  event: 'Product Viewed',
                  filters: [{ property: 'price', operator: 'BETWEEN', value: [10] }],
                },
              ],
            },
          }),
        { code: 'BAD_USER_INPUT', field: 'steps.1.filters.0.value', reason: 'INVALID_VALUE' },
      ],
      [
        () =>
          api().request(ANALYSIS, {
            definition: {
              ...checkout,
              steps: [
                checkout.steps[0],
                { event: 'Product Viewed', filters: [{ property: 'a..b', operator: 'EXISTS' }] },
              ],
            },
          }),
        { code: 'BAD_USER_INPUT', field: 'steps.1.filters.0.property', reason: 'INVALID_PROPERTY' },
      ],
      [
        () => api().request(UPDATE, { id: funnelId, input: checkout, expectedRevision: '0' }),
        { code: 'CONFLICT', field: 'expectedRevision', reason: 'REVISION_MISMATCH' },
      ],
      [
        () => api().request(REPORT, { id: 'no-such-funnel' }),
        { code: 'NOT_FOUND', field: 'funnelId' },
      ],
      [
        () =>
          api().request(TREND, {
            id: funnelId,
            interval: 'DAY',
            from: at(2, '00:00'),
            to: at(1, '00:00'),
          }),
        { code: 'BAD_USER_INPUT', field: 'to', reason: 'REVERSED_RANGE' },
      ],
      [
        () =>
          api().request(TREND, {
            id: funnelId,
            interval: 'DAY',
            from: '2020-01-01T00:00:00.000Z',
            to: '2022-12-31T00:00:00.000Z',
          }),
        { code: 'BAD_USER_INPUT', field: 'to', reason: 'RANGE_TOO_LONG' },
      ],
      [
        // 1000 days after a midnight is the 1001st day.
        () =>
          api().request(TREND, {
            id: funnelId,
            interval: 'DAY',
            from: '2020-01-01T00:00:00.000Z',
            to: '2022-09-27T00:00:00.000Z',
          }),
        { code: 'BAD_USER_INPUT', field: 'to', reason: 'RANGE_TOO_LONG' },
      ],
      [
        () => api().request(PEOPLE, { id: funnelId, step: 0, status: 'REACHED' }),
        { code: 'BAD_USER_INPUT', field: 'step', reason: 'INVALID_STEP' },
      ],
      [
        () => api().request(PEOPLE, { id: funnelId, step: 4, status: 'DROPPED' }),
        { code: 'BAD_USER_INPUT', field: 'step', reason: 'INVALID_STEP' },
      ],
    ];
    for (const [call, expected] of cases) {
      expect(await graphQLError(call())).toMatchObject(expected);
    }
    // The longest trend: 1000 days, the first from midnight to the last one's end.
    const longest = await api().request<{ funnelTrend: unknown[] }>(TREND, {
      id: funnelId,
      interval: 'DAY',
      from: '2020-01-01T00:00:00.000Z',
      to: '2022-09-26T23:59:59.999Z',
    });
    expect(longest.funnelTrend).toHaveLength(1000);

    // An archived funnel takes no new version.
    const retired = 'retired-checkout';
    await api().request(CREATE, { id: retired, input: checkout });
    const archived = await api().request<{ archiveFunnel: CommandResult }>(ARCHIVE, {
      id: retired,
    });
    seen = later(seen, archived.archiveFunnel.position);
    expect(
      await graphQLError(
        api().request(UPDATE, { id: retired, input: { ...checkout, name: 'Again' } }),
      ),
    ).toMatchObject({ code: 'CONFLICT', reason: 'ILLEGAL_TRANSITION' });
    const stored = await api().request<{ funnel: { status: string; version: number } }>(FUNNEL, {
      id: retired,
      minPosition: seen,
    });
    expect(stored.funnel).toMatchObject({ status: 'ARCHIVED', version: 1 });
    const listed = await api().request<{
      funnels: { nodes: { id: string; version: number; status: string }[]; totalCount: number };
    }>(gql`
      query {
        funnels(status: ACTIVE) {
          totalCount
          nodes {
            id
            version
            status
          }
        }
      }
    `);
    expect(listed.funnels).toEqual({
      totalCount: 1,
      nodes: [{ id: funnelId, version: 2, status: 'ACTIVE' }],
    });

    // The saved funnel is still version 2 and reports what it did.
    expect(
      (await api().request<{ funnel: { version: number } }>(FUNNEL, { id: funnelId })).funnel,
    ).toMatchObject({ version: 2, definition: { windowSeconds: 30 * 86_400 } });
    expect(await report()).toEqual(before);
  });
});

describe('a funnel on a log without traffic', () => {
  let touchline: TestServer;
  beforeAll(async () => {
    touchline = await startTestServer();
  });
  afterAll(async () => {
    await touchline.stop();
  });

  it('reports version 1, empty and not recomputing, before any event arrives', async () => {
    const api = touchline.client('default');
    const { createFunnel } = await api.request<{ createFunnel: { position: string } }>(gql`
      mutation {
        createFunnel(
          id: "quiet"
          input: { name: "quiet", steps: [{ event: "$pageview" }, { event: "B" }] }
        ) {
          position
        }
      }
    `);
    const { funnelReport } = await api.request<{ funnelReport: unknown }>(
      gql`
        query ($at: String) {
          funnelReport(funnelId: "quiet", minPosition: $at) {
            version
            recomputing
            entered
          }
        }
      `,
      { at: createFunnel.position },
    );
    expect(funnelReport).toEqual({ version: 1, recomputing: false, entered: 0 });
  });
});
