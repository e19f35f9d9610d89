/**
 * Experiments end to end: an A/B test on a campaign's welcome email created and started over
 * GraphQL, 4,000 synthetic contacts assigned through `assignVariant`, their orders sent through
 * `/v1/batch` with a known true lift (10 % → 15 % conversion), and the results read back and
 * checked against the test's own counts and its own statistics (ANALYTICS.md, "Experiments":
 * Welch with Satterthwaite degrees of freedom, delta-method relative lift, Holm, chi-square
 * SRM, Gaussian chance to beat control), computed below without Touchline's code. Then live
 * results over graphql-ws, the winner served to everyone and applied to the campaign's
 * content, a second experiment with a new phase and a winner named after it stopped, the
 * planning calculator, and bad inputs that change nothing.
 */
import { gql } from 'graphql-request';
import { random } from '../support/traffic';
import {
  graphQLError,
  postBatch,
  startTestServer,
  takeUntil,
  type TestServer,
  until,
} from './harness';

const CAMPAIGN = 'spring-sale';
const EXPERIMENT = 'welcome-cta';
const SECOND = 'subject-line';
const CONTACTS = 4000;
/** The true conversion rates the synthetic traffic is drawn from. */
const TRUE_RATE: Record<string, number> = { control: 0.1, treatment: 0.15 };

const controlContent = { headline: 'Welcome!', cta: 'Shop now' };
const treatmentContent = { headline: 'Welcome! 10 % off today', cta: 'Claim my discount' };

const welcomeCta = {
  name: 'Welcome email CTA',
  hypothesis: 'A discount in the welcome email makes more first orders',
  campaignId: CAMPAIGN,
  surface: { kind: 'EMAIL', ref: 'welcome-email' },
  variants: [
    { key: 'control', name: 'Plain welcome', weight: 50, content: controlContent },
    { key: 'treatment', name: 'Discount', weight: 50, content: treatmentContent },
  ],
  primaryMetric: { key: 'ordered', name: 'Ordered', kind: 'CONVERSION', event: 'Order Completed' },
  secondaryMetrics: [
    {
      key: 'revenue',
      name: 'Revenue per contact',
      kind: 'VALUE',
      event: 'Order Completed',
      property: 'revenue',
    },
  ],
  method: 'SEQUENTIAL',
};

const subjectLine = {
  name: 'Subject line',
  hypothesis: 'A question in the subject line gets more orders',
  campaignId: CAMPAIGN,
  variants: [
    { key: 'statement', content: { subject: 'Our spring sale is on' } },
    { key: 'question', content: { subject: 'Ready for spring?' } },
  ],
  primaryMetric: { key: 'ordered', name: 'Ordered', kind: 'CONVERSION', event: 'Order Completed' },
};

interface CommandResult {
  key: string;
  revision: string;
  position: string;
  replayed: boolean;
}
interface Assignment {
  experimentKey: string;
  phase: number;
  variant: string;
  variantIndex: number;
  content: Record<string, unknown>;
  exposed: boolean;
  position: string | null;
}
interface Interval {
  lower: number;
  upper: number;
}
interface Comparison {
  absoluteLift: number | null;
  absoluteLiftInterval: Interval | null;
  relativeLift: number | null;
  relativeLiftInterval: Interval | null;
  pValue: number;
  adjustedPValue: number;
  chanceToBeatControl: number;
  risk: { chooseControl: number; chooseVariant: number } | null;
  credibleInterval: Interval | null;
  sequentialInterval: Interval | null;
  sequentialPValue: number;
  adjustedSequentialPValue: number;
  significant: boolean;
  noResult: string | null;
}
interface VariantResult {
  variant: string;
  units: number;
  total: number;
  mean: number;
  vsControl: Comparison | null;
}
interface Results {
  experimentKey: string;
  status: string;
  phase: number;
  method: string;
  variants: { variant: string; weight: number; units: number }[];
  enoughUnits: boolean;
  srm: {
    statistic: number;
    degreesOfFreedom: number;
    pValue: number;
    flagged: boolean;
    verdict: string;
  } | null;
  metrics: {
    key: string;
    name: string;
    role: string;
    kind: string;
    higherIsBetter: boolean;
    variants: VariantResult[];
  }[];
  autoStop: { winner: string; reason: string } | null;
}

const COMMAND_FIELDS = 'key revision position replayed';
const RESULTS_FIELDS = `
  experimentKey status phase method enoughUnits
  variants { variant weight units }
  srm { statistic degreesOfFreedom pValue flagged verdict }
  metrics {
    key name role kind higherIsBetter
    variants {
      variant units total mean
      vsControl {
        absoluteLift absoluteLiftInterval { lower upper }
        relativeLift relativeLiftInterval { lower upper }
        pValue adjustedPValue chanceToBeatControl
        risk { chooseControl chooseVariant }
        credibleInterval { lower upper }
        sequentialInterval { lower upper }
        sequentialPValue adjustedSequentialPValue significant noResult
      }
    }
  }
  autoStop { winner reason }
`;
const CREATE_CAMPAIGN = gql`
  mutation CreateCampaign($input: CreateCampaignInput!) {
    createCampaign(input: $input) {
      campaignId
      position
    }
  }
`;
const ARCHIVE_CAMPAIGN = gql`
  mutation ArchiveCampaign($id: ID!) {
    archiveCampaign(id: $id) {
      position
    }
  }
`;
const CAMPAIGN_CONTENT = gql`
  query Campaign($id: ID!) {
    campaign(id: $id) {
      content
    }
  }
`;
const CREATE = gql`
  mutation Create($key: ID!, $input: ExperimentInput!, $commandId: String) {
    createExperiment(key: $key, input: $input, commandId: $commandId) { ${COMMAND_FIELDS} }
  }
`;
const UPDATE = gql`
  mutation Update($key: ID!, $input: ExperimentInput!, $expectedRevision: String) {
    updateExperiment(key: $key, input: $input, expectedRevision: $expectedRevision) { ${COMMAND_FIELDS} }
  }
`;
const START = gql`
  mutation Start($key: ID!, $expectedRevision: String) {
    startExperiment(key: $key, expectedRevision: $expectedRevision) { ${COMMAND_FIELDS} }
  }
`;
const CHANGE_WEIGHTS = gql`
  mutation ChangeWeights($key: ID!, $weights: [Float!]!) {
    changeExperimentWeights(key: $key, weights: $weights) { ${COMMAND_FIELDS} }
  }
`;
const STOP = gql`
  mutation Stop($key: ID!, $winner: String, $note: String) {
    stopExperiment(key: $key, winner: $winner, note: $note) { ${COMMAND_FIELDS} }
  }
`;
const DECLARE = gql`
  mutation Declare($key: ID!, $variant: String!, $note: String) {
    declareWinner(key: $key, variant: $variant, note: $note) { ${COMMAND_FIELDS} }
  }
`;
const APPLY = gql`
  mutation Apply($key: ID!) {
    applyWinner(key: $key) { ${COMMAND_FIELDS} }
  }
`;
const ASSIGN = gql`
  mutation Assign($key: ID!, $contactId: String!) {
    assignVariant(experimentKey: $key, contactId: $contactId) {
      experimentKey
      phase
      variant
      variantIndex
      content
      exposed
      position
    }
  }
`;
const EXPERIMENT_QUERY = gql`
  query Experiment($key: ID!, $minPosition: String) {
    experiment(key: $key, minPosition: $minPosition) {
      key
      status
      currentPhase
      appliedVariant
      stoppedAt
      phases {
        phase
        weights
        startedAt
      }
      decision {
        winner
        note
        decidedBy
        reason
      }
      definition {
        name
        campaignId
        contentSurface
        method
        correction
        minSamplePerVariant
        autoStop
        surface {
          kind
          ref
        }
        variants {
          key
          name
          weight
          content
        }
        primaryMetric {
          key
          kind
          event
          property
          higherIsBetter
        }
        secondaryMetrics {
          key
          kind
          event
          property
        }
      }
    }
  }
`;
const LIST = gql`
  query List(
    $status: ExperimentStatus
    $campaignId: ID
    $first: Int
    $after: String
    $minPosition: String
  ) {
    experiments(
      status: $status
      campaignId: $campaignId
      first: $first
      after: $after
      minPosition: $minPosition
    ) {
      nodes {
        key
        status
      }
      pageInfo {
        hasNextPage
        endCursor
      }
      totalCount
    }
  }
`;
const RESULTS = gql`
  query Results($key: ID!, $phase: Int, $minPosition: String) {
    experimentResults(key: $key, phase: $phase, minPosition: $minPosition) { ${RESULTS_FIELDS} }
  }
`;
const PLAN = gql`
  query Plan(
    $baselineRate: Float
    $baselineMean: Float
    $variance: Float
    $relativeLift: Float!
    $unitsPerVariant: Int
  ) {
    experimentPlan(
      baselineRate: $baselineRate
      baselineMean: $baselineMean
      variance: $variance
      relativeLift: $relativeLift
      unitsPerVariant: $unitsPerVariant
    ) {
      kind
      relativeLift
      alpha
      power
      sampleSizePerVariant
      unitsPerVariant
      powerAtUnits
    }
  }
`;

// ---------------------------------------------------------------------------------------------
// The statistics, written out from the textbook formulas (not Touchline's code).

/** ln Γ(x), Lanczos (g = 7, n = 9). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = c[0];
  for (let i = 1; i < 9; i++) sum += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The regularized incomplete beta I_x(a, b) by its continued fraction (modified Lentz). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  const tiny = 1e-300;
  let f = 1;
  let c = 1;
  let d = 0;
  for (let i = 0; i <= 400; i++) {
    const m = Math.floor(i / 2);
    const numerator =
      i === 0
        ? 1
        : i % 2 === 0
          ? (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
          : -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + numerator * d;
    d = Math.abs(d) < tiny ? tiny : d;
    d = 1 / d;
    c = 1 + numerator / c;
    c = Math.abs(c) < tiny ? tiny : c;
    f *= c * d;
    if (Math.abs(1 - c * d) < 1e-15) break;
  }
  return (front * (f - 1)) / a;
}

/** Two-sided tail of Student's t: P(|T_ν| > |t|). */
function twoSidedT(t: number, df: number): number {
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** The t quantile q with P(|T_ν| > q) = tail, by bisection. */
function tQuantile(tail: number, df: number): number {
  let low = 0;
  let high = 100;
  for (let i = 0; i < 200; i++) {
    const middle = (low + high) / 2;
    if (twoSidedT(middle, df) > tail) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/** Φ via erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

interface Arm {
  n: number;
  mean: number;
  variance: number;
}

/** A conversion arm: variance p(1 − p), as GrowthBook's proportion statistic. */
function conversionArm(n: number, conversions: number): Arm {
  const p = conversions / n;
  return { n, mean: p, variance: p * (1 - p) };
}

/** A value arm from its values: sample variance with n − 1. */
function valueArm(values: readonly number[]): Arm {
  const n = values.length;
  const mean = values.reduce((sum, value) => sum + value, 0) / n;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1);
  return { n, mean, variance };
}

/** Welch's test of the relative lift with the delta-method variance. */
function welchRelative(a: Arm, b: Arm) {
  const lift = (b.mean - a.mean) / Math.abs(a.mean);
  const variance =
    b.variance / (b.n * a.mean ** 2) + (a.variance * b.mean ** 2) / (a.n * a.mean ** 4);
  const se = Math.sqrt(variance);
  const ea = a.variance / a.n;
  const eb = b.variance / b.n;
  const df = (ea + eb) ** 2 / (ea ** 2 / (a.n - 1) + eb ** 2 / (b.n - 1));
  const half = tQuantile(0.05, df) * se;
  return {
    lift,
    se,
    df,
    pValue: twoSidedT(lift / se, df),
    interval: { lower: lift - half, upper: lift + half },
  };
}

// ---------------------------------------------------------------------------------------------

describe('experiments end to end', () => {
  let touchline: TestServer;
  /** Each synthetic contact's variant, as assignVariant answered. */
  const assigned = new Map<string, Assignment>();
  /** Each contact's orders counted by the experiment (after exposure), in revenue. */
  const orders = new Map<string, number[]>();
  let seen = '0';

  beforeAll(async () => {
    touchline = await startTestServer();
  });

  afterAll(async () => {
    await touchline?.stop();
  });

  const api = () => touchline.client('default');

  function later(...positions: (string | null)[]): string {
    return positions.reduce<string>(
      (max, position) => (position !== null && BigInt(position) > BigInt(max) ? position : max),
      '0',
    );
  }

  async function track(batch: unknown[]): Promise<string> {
    const body = await postBatch(touchline, batch);
    expect(body).toMatchObject({ accepted: batch.length, rejected: [] });
    return body.position;
  }

  function order(contactId: string, messageId: string, at: number, revenue: number) {
    return {
      type: 'track',
      userId: contactId,
      messageId,
      timestamp: new Date(at).toISOString(),
      event: 'Order Completed',
      properties: { order_id: `order-${messageId}`, revenue, currency: 'USD' },
    };
  }

  async function command(document: string, variables: Record<string, unknown>) {
    const data = await api().request<Record<string, CommandResult>>(document, variables);
    const result = Object.values(data)[0] as CommandResult;
    seen = later(seen, result.position);
    return result;
  }

  async function assign(key: string, contactId: string): Promise<Assignment> {
    const data = await api().request<{ assignVariant: Assignment }>(ASSIGN, { key, contactId });
    return data.assignVariant;
  }

  async function results(key = EXPERIMENT, phase?: number): Promise<Results> {
    const data = await api().request<{ experimentResults: Results }>(RESULTS, {
      key,
      phase,
      minPosition: seen,
    });
    return data.experimentResults;
  }

  /**
   * Reads until `holds`: what a process manager or the auto-stop policy does follows a
   * projector batch, with no log position to wait on. One request after another, bounded.
   */
  async function eventually<T>(
    read: () => Promise<T>,
    holds: (value: T) => boolean,
    what: string,
  ): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const value = await read();
      if (holds(value)) return value;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; last read: ${JSON.stringify(value)}`);
      }
    }
  }

  async function campaignContent(): Promise<Record<string, unknown>> {
    const data = await api().request<{ campaign: { content: Record<string, unknown> } }>(
      CAMPAIGN_CONTENT,
      { id: CAMPAIGN },
    );
    return data.campaign.content;
  }

  /** What the test itself counts per variant: units, conversions, revenue per unit. */
  function truth() {
    const arms = new Map<string, { units: number; conversions: number; revenue: number[] }>();
    for (const variant of ['control', 'treatment']) {
      arms.set(variant, { units: 0, conversions: 0, revenue: [] });
    }
    for (const [contactId, assignment] of assigned) {
      const arm = arms.get(assignment.variant)!;
      const counted = orders.get(contactId) ?? [];
      arm.units += 1;
      if (counted.length > 0) arm.conversions += 1;
      arm.revenue.push(counted.reduce((sum, revenue) => sum + revenue, 0));
    }
    return arms;
  }

  it('creates, lists and starts an experiment on a campaign', async () => {
    const campaign = await api().request<{ createCampaign: { position: string } }>(
      CREATE_CAMPAIGN,
      { input: { id: CAMPAIGN, name: 'Spring sale', channels: ['EMAIL'] } },
    );
    seen = later(seen, campaign.createCampaign.position);

    const created = await command(CREATE, {
      key: EXPERIMENT,
      input: welcomeCta,
      commandId: 'create-welcome-cta',
    });
    expect(created).toMatchObject({ key: EXPERIMENT, revision: '0', replayed: false });
    // A retried create (same commandId) is its first result again.
    expect(
      await command(CREATE, {
        key: EXPERIMENT,
        input: welcomeCta,
        commandId: 'create-welcome-cta',
      }),
    ).toEqual({ ...created, replayed: true });

    // A draft can still be edited: a longer hypothesis, guarded by the revision.
    const edited = await command(UPDATE, {
      key: EXPERIMENT,
      input: { ...welcomeCta, hypothesis: `${welcomeCta.hypothesis} within 7 days` },
      expectedRevision: '0',
    });
    expect(edited.revision).toBe('1');
    await command(CREATE, { key: SECOND, input: subjectLine });

    const started = await command(START, { key: EXPERIMENT, expectedRevision: '1' });
    expect(started.revision).toBe('2');

    const { experiment } = await api().request<{ experiment: Record<string, unknown> }>(
      EXPERIMENT_QUERY,
      { key: EXPERIMENT, minPosition: seen },
    );
    expect(experiment).toMatchObject({
      key: EXPERIMENT,
      status: 'RUNNING',
      currentPhase: 1,
      appliedVariant: null,
      stoppedAt: null,
      decision: null,
      phases: [{ phase: 1, weights: [50, 50] }],
      definition: {
        name: 'Welcome email CTA',
        campaignId: CAMPAIGN,
        contentSurface: 'EMAIL:welcome-email',
        surface: { kind: 'EMAIL', ref: 'welcome-email' },
        method: 'SEQUENTIAL',
        correction: 'HOLM',
        minSamplePerVariant: 100,
        autoStop: false,
        variants: [
          { key: 'control', name: 'Plain welcome', weight: 50, content: controlContent },
          { key: 'treatment', name: 'Discount', weight: 50, content: treatmentContent },
        ],
        primaryMetric: {
          key: 'ordered',
          kind: 'CONVERSION',
          event: 'Order Completed',
          property: null,
          higherIsBetter: true,
        },
        secondaryMetrics: [{ key: 'revenue', kind: 'VALUE', property: 'revenue' }],
      },
    });

    // Newest first, filtered by status and campaign, a page at a time.
    const all = await api().request<{
      experiments: { nodes: { key: string }[]; totalCount: number };
    }>(LIST, { campaignId: CAMPAIGN, minPosition: seen });
    expect(all.experiments).toMatchObject({
      nodes: [
        { key: SECOND, status: 'DRAFT' },
        { key: EXPERIMENT, status: 'RUNNING' },
      ],
      totalCount: 2,
    });
    const firstPage = await api().request<{
      experiments: {
        nodes: { key: string }[];
        pageInfo: { hasNextPage: boolean; endCursor: string };
      };
    }>(LIST, { first: 1 });
    expect(firstPage.experiments).toMatchObject({
      nodes: [{ key: SECOND }],
      pageInfo: { hasNextPage: true },
    });
    const secondPage = await api().request<{
      experiments: { nodes: { key: string }[]; pageInfo: { hasNextPage: boolean } };
    }>(LIST, { first: 1, after: firstPage.experiments.pageInfo.endCursor });
    expect(secondPage.experiments).toMatchObject({
      nodes: [{ key: EXPERIMENT }],
      pageInfo: { hasNextPage: false },
    });
    const running = await api().request<{ experiments: { nodes: { key: string }[] } }>(LIST, {
      status: 'RUNNING',
    });
    expect(running.experiments.nodes.map((node) => node.key)).toEqual([EXPERIMENT]);
    const elsewhere = await api().request<{ experiments: { totalCount: number } }>(LIST, {
      campaignId: 'another-campaign',
    });
    expect(elsewhere.experiments.totalCount).toBe(0);
  });

  it('measures the known lift of 4,000 synthetic contacts as the test computes it', async () => {
    const startedAt = Date.now();
    // Given 4,000 contacts assigned, 16 requests at a time …
    const contacts = Array.from({ length: CONTACTS }, (_, index) => `shopper-${index}`);
    for (let index = 0; index < contacts.length; index += 16) {
      const chunk = contacts.slice(index, index + 16);
      const answers = await Promise.all(chunk.map((contactId) => assign(EXPERIMENT, contactId)));
      chunk.forEach((contactId, offset) => assigned.set(contactId, answers[offset] as Assignment));
    }
    const assignedAt = Date.now();
    for (const answer of assigned.values()) {
      expect(answer).toMatchObject({ experimentKey: EXPERIMENT, phase: 1, exposed: true });
      expect(answer.content).toEqual(
        answer.variant === 'control' ? controlContent : treatmentContent,
      );
      expect(answer.variantIndex).toBe(answer.variant === 'control' ? 0 : 1);
    }
    seen = later(seen, ...[...assigned.values()].map((answer) => answer.position));

    // … who order with probability 10 % (control) or 15 % (treatment), some twice; and 50
    // who ordered an hour before the experiment started, which must not count. The seed fixes
    // the sample (and the hash fixes the split), so the checks below are exact, not flaky.
    const next = random(7);
    const messages: unknown[] = [];
    for (const [contactId, { variant }] of assigned) {
      if (next() >= (TRUE_RATE[variant] as number)) continue;
      const revenues = [20 + Math.round(next() * 18_000) / 100];
      if (next() < 0.1) revenues.push(10 + Math.round(next() * 5_000) / 100);
      orders.set(contactId, revenues);
      revenues.forEach((revenue, index) =>
        messages.push(order(contactId, `${contactId}-order-${index}`, assignedAt + index, revenue)),
      );
    }
    for (const contactId of contacts.slice(0, 50)) {
      messages.push(order(contactId, `${contactId}-early`, startedAt - 3_600_000, 99));
    }
    for (let index = 0; index < messages.length; index += 250) {
      seen = later(seen, await track(messages.slice(index, index + 250)));
    }

    // Then the results count what the test counted …
    const measured = await results();
    const arms = truth();
    const control = arms.get('control')!;
    const treatment = arms.get('treatment')!;
    expect(control.units + treatment.units).toBe(CONTACTS);
    expect(measured).toMatchObject({
      experimentKey: EXPERIMENT,
      status: 'RUNNING',
      phase: 1,
      method: 'SEQUENTIAL',
      enoughUnits: true,
      variants: [
        { variant: 'control', weight: 50, units: control.units },
        { variant: 'treatment', weight: 50, units: treatment.units },
      ],
    });
    // … about half each (the hash splits evenly), with no sample ratio mismatch: the
    // chi-square statistic and its p-value (1 degree of freedom: 2·(1 − Φ(√χ²))).
    expect(Math.abs(control.units - CONTACTS / 2)).toBeLessThan(150);
    const chiSquare =
      ((control.units - CONTACTS / 2) ** 2 + (treatment.units - CONTACTS / 2) ** 2) /
      (CONTACTS / 2);
    expect(measured.srm).toMatchObject({
      degreesOfFreedom: 1,
      flagged: false,
      verdict: 'CONSISTENT',
    });
    expect(measured.srm?.statistic).toBeCloseTo(chiSquare, 9);
    expect(measured.srm?.pValue).toBeCloseTo(2 * (1 - normalCdf(Math.sqrt(chiSquare))), 6);

    const [ordered, revenue] = measured.metrics;
    expect(ordered).toMatchObject({
      key: 'ordered',
      name: 'Ordered',
      role: 'PRIMARY',
      kind: 'CONVERSION',
      higherIsBetter: true,
    });
    expect(revenue).toMatchObject({ key: 'revenue', role: 'SECONDARY', kind: 'VALUE' });

    // The conversion rates are the test's own counts.
    const [orderedControl, orderedTreatment] = ordered!.variants;
    expect(orderedControl).toMatchObject({
      variant: 'control',
      units: control.units,
      total: control.conversions,
      vsControl: null,
    });
    expect(orderedTreatment).toMatchObject({
      variant: 'treatment',
      units: treatment.units,
      total: treatment.conversions,
    });
    const rateA = control.conversions / control.units;
    const rateB = treatment.conversions / treatment.units;
    expect(orderedControl!.mean).toBeCloseTo(rateA, 12);
    expect(orderedTreatment!.mean).toBeCloseTo(rateB, 12);

    // The lift against the control, by Welch on the delta-method relative lift.
    const conversion = welchRelative(
      conversionArm(control.units, control.conversions),
      conversionArm(treatment.units, treatment.conversions),
    );
    const vs = orderedTreatment!.vsControl!;
    expect(vs.noResult).toBeNull();
    expect(vs.absoluteLift).toBeCloseTo(rateB - rateA, 12);
    expect(vs.relativeLift).toBeCloseTo((rateB - rateA) / rateA, 12);
    expect(vs.relativeLift).toBeCloseTo(conversion.lift, 12);
    expect(vs.pValue / conversion.pValue).toBeCloseTo(1, 4);
    expect(vs.relativeLiftInterval!.lower).toBeCloseTo(conversion.interval.lower, 6);
    expect(vs.relativeLiftInterval!.upper).toBeCloseTo(conversion.interval.upper, 6);
    // The true lift is +50 %: the interval holds it and excludes no effect.
    expect(vs.relativeLiftInterval!.lower).toBeGreaterThan(0);
    expect(vs.relativeLiftInterval!.lower).toBeLessThan(0.5);
    expect(vs.relativeLiftInterval!.upper).toBeGreaterThan(0.5);
    // Bayesian, flat prior: P(lift > 0) = Φ(lift / se), the credible interval lift ± 1.96 se.
    expect(vs.chanceToBeatControl).toBeCloseTo(normalCdf(conversion.lift / conversion.se), 6);
    expect(vs.credibleInterval!.lower).toBeCloseTo(conversion.lift - 1.959964 * conversion.se, 5);
    // The always-valid interval is wider than the fixed-sample one, and still excludes 0.
    expect(vs.sequentialInterval!.lower).toBeLessThan(vs.relativeLiftInterval!.lower);
    expect(vs.sequentialInterval!.upper).toBeGreaterThan(vs.relativeLiftInterval!.upper);
    expect(vs.sequentialInterval!.lower).toBeGreaterThan(0);
    expect(vs.significant).toBe(true);
    expect(vs.risk!.chooseControl).toBeGreaterThan(vs.risk!.chooseVariant);

    // Revenue per contact: the sum of each contact's counted orders (0 for none).
    const [revenueControl, revenueTreatment] = revenue!.variants;
    const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
    expect(revenueControl!.total).toBeCloseTo(sum(control.revenue), 6);
    expect(revenueTreatment!.total).toBeCloseTo(sum(treatment.revenue), 6);
    expect(revenueTreatment!.mean).toBeCloseTo(sum(treatment.revenue) / treatment.units, 9);
    const value = welchRelative(valueArm(control.revenue), valueArm(treatment.revenue));
    expect(revenueTreatment!.vsControl!.relativeLift).toBeCloseTo(value.lift, 9);
    expect(revenueTreatment!.vsControl!.pValue / value.pValue).toBeCloseTo(1, 4);

    // Holm over the two comparisons (ordered, revenue): the smaller p doubled, the larger at
    // least that.
    const [low, high] = [conversion.pValue, value.pValue].sort((a, b) => a - b) as [number, number];
    const holm = new Map([
      [low, Math.min(1, 2 * low)],
      [high, Math.max(Math.min(1, 2 * low), high)],
    ]);
    expect(vs.adjustedPValue / holm.get(conversion.pValue)!).toBeCloseTo(1, 4);
    expect(revenueTreatment!.vsControl!.adjustedPValue / holm.get(value.pValue)!).toBeCloseTo(1, 4);

    // The auto-stop policy would stop it now for the treatment (the experiment lets no policy
    // stop it, so it keeps running).
    expect(measured.autoStop).toMatchObject({ winner: 'treatment' });
  }, 40_000);

  it('gives a contact the same variant every time and counts it once', async () => {
    const before = await results();
    const sample = [...assigned.keys()].filter((_, index) => index % 400 === 7);
    for (const contactId of sample) {
      const again = await assign(EXPERIMENT, contactId);
      // The same variant, and the same exposure event (its position) as the first time.
      expect(again).toEqual(assigned.get(contactId));
    }
    const after = await results();
    expect(after.variants).toEqual(before.variants);
    expect(after.metrics).toEqual(before.metrics);
  });

  it('pushes fresh results over graphql-ws after a batch of orders', async () => {
    const before = await results();
    const controlTotal = before.metrics[0]!.variants[0]!.total;
    const listeners = touchline.server.changeFeed.subscriberCount;
    const updates = touchline
      .subscriptions('default')
      .iterate<{ experimentResultsUpdated: Results }>({
        query: `subscription ($key: ID!) { experimentResultsUpdated(experimentKey: $key) { ${RESULTS_FIELDS} } }`,
        variables: { key: EXPERIMENT },
      });
    const arriving = takeUntil(updates[Symbol.asyncIterator](), (messages) =>
      messages.some(
        (message) =>
          message.data?.experimentResultsUpdated.metrics[0]!.variants[0]!.total ===
          controlTotal + 2,
      ),
    );
    await until(
      () => touchline.server.changeFeed.subscriberCount > listeners,
      'the results subscription',
    );

    // Two control contacts who had not ordered order now.
    const buyers = [...assigned]
      .filter(([contactId, { variant }]) => variant === 'control' && !orders.has(contactId))
      .slice(0, 2)
      .map(([contactId]) => contactId);
    const now = Date.now();
    for (const contactId of buyers) orders.set(contactId, [42]);
    seen = later(
      seen,
      await track(buyers.map((contactId) => order(contactId, `${contactId}-late`, now, 42))),
    );

    const pushed = (await arriving).at(-1)!.data!.experimentResultsUpdated;
    expect(pushed.metrics[0]!.variants[0]).toMatchObject({
      variant: 'control',
      units: before.variants[0]!.units,
      total: controlTotal + 2,
    });
    expect(pushed).toEqual(await results());
  });

  it('plans the sample size and the power of a test', async () => {
    // 10 % → 15 %: n = (z₀.₉₇₅ + z₀.₈)²·(p₁q₁ + p₂q₂)/Δ² = 2.801585²·0.2175/0.05² → 683.
    const z = 1.959964 + 0.841621;
    const conversion = await api().request<{ experimentPlan: Record<string, unknown> }>(PLAN, {
      baselineRate: 0.1,
      relativeLift: 0.5,
      unitsPerVariant: 2000,
    });
    expect(conversion.experimentPlan).toMatchObject({
      kind: 'CONVERSION',
      relativeLift: 0.5,
      alpha: 0.05,
      power: 0.8,
      sampleSizePerVariant: Math.ceil((z * z * 0.2175) / 0.05 ** 2),
      unitsPerVariant: 2000,
    });
    // With 2,000 a variant: Φ(0.05/√(0.2175/2000) − 1.96) (the other tail is negligible).
    expect(conversion.experimentPlan.powerAtUnits).toBeCloseTo(
      normalCdf(0.05 / Math.sqrt(0.2175 / 2000) - 1.959964),
      5,
    );
    // A mean of 50 with variance 400, +5 %: n = z²·2·400/2.5².
    const mean = await api().request<{ experimentPlan: Record<string, unknown> }>(PLAN, {
      baselineMean: 50,
      variance: 400,
      relativeLift: 0.05,
    });
    expect(mean.experimentPlan).toMatchObject({
      kind: 'VALUE',
      sampleSizePerVariant: Math.ceil((z * z * 800) / 2.5 ** 2),
      unitsPerVariant: null,
      powerAtUnits: null,
    });
  });

  it('stops with a winner, serves it to everyone and puts its content on the campaign', async () => {
    const before = await results();
    const declared = await command(DECLARE, {
      key: EXPERIMENT,
      variant: 'treatment',
      note: 'significant at the sequential boundary',
    });
    expect(declared.revision).toBe('3');

    // Everyone now sees the winner, without an exposure: a contact who had the control, and
    // a new one.
    const controlContact = [...assigned].find(([, { variant }]) => variant === 'control')![0];
    for (const contactId of [controlContact, 'newcomer-1']) {
      expect(await assign(EXPERIMENT, contactId)).toEqual({
        experimentKey: EXPERIMENT,
        phase: 1,
        variant: 'treatment',
        variantIndex: 1,
        content: treatmentContent,
        exposed: false,
        position: null,
      });
    }
    const stopped = await results();
    expect(stopped).toMatchObject({ status: 'STOPPED', variants: before.variants, autoStop: null });
    const { experiment } = await api().request<{ experiment: Record<string, unknown> }>(
      EXPERIMENT_QUERY,
      { key: EXPERIMENT, minPosition: seen },
    );
    expect(experiment).toMatchObject({
      status: 'STOPPED',
      decision: {
        winner: 'treatment',
        note: 'significant at the sequential boundary',
        decidedBy: 'MANUAL',
        reason: null,
      },
      appliedVariant: null,
    });
    expect(experiment.stoppedAt).toEqual(expect.any(String));

    await command(APPLY, { key: EXPERIMENT });
    const content = await eventually(
      campaignContent,
      (current) => 'EMAIL:welcome-email' in current,
      "the winner's content on the campaign",
    );
    expect(content).toEqual({ 'EMAIL:welcome-email': treatmentContent });
    const applied = await api().request<{ experiment: Record<string, unknown> }>(EXPERIMENT_QUERY, {
      key: EXPERIMENT,
      minPosition: seen,
    });
    expect(applied.experiment).toMatchObject({
      status: 'WINNER_APPLIED',
      appliedVariant: 'treatment',
    });
  });

  it('analyses phases apart, serves the control once stopped without a winner, and applies a winner named later', async () => {
    await command(START, { key: SECOND });
    const phase1 = await Promise.all(
      ['reader-1', 'reader-2', 'reader-3'].map((contactId) => assign(SECOND, contactId)),
    );
    // New weights start phase 2: its units are counted apart from phase 1's.
    const changed = await command(CHANGE_WEIGHTS, { key: SECOND, weights: [20, 80] });
    expect(changed.replayed).toBe(false);
    const phase2 = await Promise.all(
      ['reader-1', 'reader-4'].map((contactId) => assign(SECOND, contactId)),
    );
    expect(phase2.map((answer) => answer.phase)).toEqual([2, 2]);
    seen = later(
      seen,
      ...phase1.map((answer) => answer.position),
      ...phase2.map((a) => a.position),
    );
    const first = await results(SECOND, 1);
    const second = await results(SECOND);
    expect(first.variants.map((variant) => variant.weight)).toEqual([50, 50]);
    expect(first.variants.reduce((sum, variant) => sum + variant.units, 0)).toBe(3);
    expect(second).toMatchObject({ phase: 2, method: 'FREQUENTIST', enoughUnits: false });
    expect(second.variants.map((variant) => variant.weight)).toEqual([20, 80]);
    expect(second.variants.reduce((sum, variant) => sum + variant.units, 0)).toBe(2);
    // Two units are too few for any statistic: no result, never NaN.
    const noResult = second.metrics[0]!.variants[1]!.vsControl!;
    expect(noResult).toMatchObject({
      absoluteLift: null,
      relativeLift: null,
      relativeLiftInterval: null,
      pValue: 1,
      chanceToBeatControl: 0.5,
      risk: null,
      significant: false,
      noResult: 'too-few-units',
    });
    expect(second.srm?.verdict).toBe('TOO_FEW_UNITS');

    await command(STOP, { key: SECOND, note: 'inconclusive' });
    expect(await assign(SECOND, 'reader-4')).toMatchObject({
      phase: 2,
      variant: 'statement',
      variantIndex: 0,
      content: { subject: 'Our spring sale is on' },
      exposed: false,
      position: null,
    });
    expect(await graphQLError(api().request(APPLY, { key: SECOND }))).toMatchObject({
      code: 'CONFLICT',
      reason: 'NO_WINNER',
    });
    expect(
      await graphQLError(api().request(CHANGE_WEIGHTS, { key: SECOND, weights: [50, 50] })),
    ).toMatchObject({ code: 'CONFLICT', reason: 'ILLEGAL_TRANSITION' });

    // A winner named afterwards can be applied; the first experiment's content stays.
    await command(DECLARE, { key: SECOND, variant: 'question' });
    expect(await assign(SECOND, 'reader-4')).toMatchObject({ variant: 'question', exposed: false });
    await command(APPLY, { key: SECOND });
    const content = await eventually(
      campaignContent,
      (current) => 'CAMPAIGN' in current,
      "the second winner's content on the campaign",
    );
    expect(content).toEqual({
      'EMAIL:welcome-email': treatmentContent,
      CAMPAIGN: { subject: 'Ready for spring?' },
    });
  });

  it('lets the auto-stop policy stop an experiment whose always-valid interval excludes 0', async () => {
    await command(CREATE, {
      key: 'exit-offer',
      input: {
        ...welcomeCta,
        name: 'Exit offer',
        surface: { kind: 'CTA', ref: 'exit-popup' },
        secondaryMetrics: [],
        minSamplePerVariant: 20,
        autoStop: true,
      },
    });
    await command(START, { key: 'exit-offer' });
    const visitors = Array.from({ length: 400 }, (_, index) => `visitor-${index}`);
    const answers: Assignment[] = [];
    for (let index = 0; index < visitors.length; index += 16) {
      const chunk = visitors.slice(index, index + 16);
      answers.push(...(await Promise.all(chunk.map((visitor) => assign('exit-offer', visitor)))));
    }
    // 1 in 2 of the control orders, 19 in 20 of the treatment: a lift of about +90 %, some
    // 6 standard errors, beyond the always-valid boundary (about 4 at 400 units).
    const now = Date.now();
    const buying = visitors.filter((_, index) =>
      answers[index]!.variant === 'control' ? index % 2 === 0 : index % 20 !== 0,
    );
    seen = later(
      seen,
      ...answers.map((answer) => answer.position),
      await track(buying.map((visitor) => order(visitor, `${visitor}-exit`, now, 30))),
    );

    // The policy stops it through the command path, after the projector's batch.
    const experiment = await eventually(
      async () =>
        (
          await api().request<{ experiment: { status: string } }>(EXPERIMENT_QUERY, {
            key: 'exit-offer',
            minPosition: seen,
          })
        ).experiment,
      (current) => current.status !== 'RUNNING',
      'the auto-stop',
    );
    expect(experiment).toMatchObject({
      status: 'STOPPED',
      decision: {
        winner: 'treatment',
        decidedBy: 'AUTO',
        note: 'stopped by the auto-stop policy',
        reason: expect.stringContaining('always-valid interval of ordered excludes 0'),
      },
    });
    expect((await results('exit-offer')).autoStop).toBeNull();
  });

  it('refuses bad inputs with a code, the field and a reason, and changes nothing', async () => {
    const before = await api().request<{ experiments: { totalCount: number } }>(LIST, {
      minPosition: seen,
    });
    const create = (key: string, input: unknown) =>
      graphQLError(api().request(CREATE, { key, input }));

    expect(
      await create('bad-weights', {
        ...welcomeCta,
        variants: [
          { key: 'control', weight: 60 },
          { key: 'treatment', weight: 50 },
        ],
      }),
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'variants', reason: 'WEIGHTS_NOT_100' });
    expect(
      await create('one-variant', { ...welcomeCta, variants: [{ key: 'control' }] }),
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'variants', reason: 'TOO_FEW_VARIANTS' });
    expect(
      await create('no-campaign', { ...welcomeCta, campaignId: 'no-such-campaign' }),
    ).toMatchObject({ code: 'NOT_FOUND', field: 'campaignId', reason: 'NOT_FOUND' });
    expect(
      await create('no-property', {
        ...welcomeCta,
        secondaryMetrics: [
          { key: 'revenue', name: 'Revenue', kind: 'VALUE', event: 'Order Completed' },
        ],
      }),
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'secondaryMetrics.0.property',
      reason: 'MISSING_PROPERTY',
    });
    expect(await create('Not A Slug', welcomeCta)).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'INVALID_KEY',
    });
    expect(await create(EXPERIMENT, welcomeCta)).toMatchObject({
      code: 'CONFLICT',
      reason: 'ALREADY_EXISTS',
    });

    // A draft is not running: it assigns nobody and has no results.
    await command(CREATE, { key: 'draft-only', input: subjectLine });
    expect(
      await graphQLError(api().request(ASSIGN, { key: 'draft-only', contactId: 'reader-1' })),
    ).toMatchObject({ code: 'CONFLICT', field: 'experimentKey', reason: 'NOT_RUNNING' });
    expect(
      await graphQLError(api().request(RESULTS, { key: 'draft-only', minPosition: seen })),
    ).toMatchObject({ code: 'CONFLICT', field: 'key', reason: 'NOT_STARTED' });
    expect(
      await graphQLError(api().request(ASSIGN, { key: 'no-such-test', contactId: 'reader-1' })),
    ).toMatchObject({ code: 'NOT_FOUND', field: 'experimentKey' });
    expect(await graphQLError(api().request(RESULTS, { key: 'no-such-test' }))).toMatchObject({
      code: 'NOT_FOUND',
      field: 'key',
    });
    for (const contactId of ['', 'x'.repeat(201)]) {
      expect(await graphQLError(api().request(ASSIGN, { key: SECOND, contactId }))).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'contactId',
        reason: 'INVALID_CONTACT_ID',
      });
    }

    // Weights: one per variant, summing to 100, on a running experiment only.
    await command(START, { key: 'draft-only' });
    // Nobody exposed yet: zero units everywhere, no result, and no NaN.
    const empty = await results('draft-only');
    expect(empty).toMatchObject({
      phase: 1,
      enoughUnits: false,
      variants: [{ units: 0 }, { units: 0 }],
      srm: { statistic: 0, pValue: 1, flagged: false, verdict: 'TOO_FEW_UNITS' },
    });
    expect(empty.metrics[0]!.variants).toMatchObject([
      { units: 0, total: 0, mean: 0, vsControl: null },
      { units: 0, total: 0, mean: 0, vsControl: { pValue: 1, noResult: 'too-few-units' } },
    ]);
    expect(
      await graphQLError(api().request(CHANGE_WEIGHTS, { key: 'draft-only', weights: [70, 20] })),
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'weights', reason: 'WEIGHTS_NOT_100' });
    expect(
      await graphQLError(api().request(CHANGE_WEIGHTS, { key: 'draft-only', weights: [100] })),
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'weights', reason: 'WEIGHT_COUNT_MISMATCH' });
    expect(
      await graphQLError(api().request(UPDATE, { key: 'draft-only', input: subjectLine })),
    ).toMatchObject({ code: 'CONFLICT', reason: 'ILLEGAL_TRANSITION' });
    expect(
      await graphQLError(
        api().request(RESULTS, { key: 'draft-only', phase: 2, minPosition: seen }),
      ),
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'phase', reason: 'INVALID_PHASE' });
    expect(
      await graphQLError(api().request(STOP, { key: 'draft-only', winner: 'nobody' })),
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'winner', reason: 'UNKNOWN_VARIANT' });
    expect(await graphQLError(api().request(APPLY, { key: 'draft-only' }))).toMatchObject({
      code: 'CONFLICT',
      reason: 'NO_WINNER',
    });
    expect(
      await graphQLError(api().request(START, { key: 'draft-only', expectedRevision: '0' })),
    ).toMatchObject({ code: 'CONFLICT', field: 'expectedRevision' });

    // The planning calculator: one kind of baseline, a lift it can detect.
    expect(
      await graphQLError(
        api().request(PLAN, { baselineRate: 0.1, baselineMean: 3, relativeLift: 0.1 }),
      ),
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'baselineRate',
      reason: 'AMBIGUOUS_BASELINE',
    });
    expect(await graphQLError(api().request(PLAN, { relativeLift: 0.1 }))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'baselineRate',
    });
    expect(
      await graphQLError(api().request(PLAN, { baselineRate: 0.8, relativeLift: 0.5 })),
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'relativeLift' });

    // A winner is not put on a campaign that shows nothing any more.
    await api().request(CREATE_CAMPAIGN, { input: { id: 'winter-sale', name: 'Winter sale' } });
    await command(CREATE, {
      key: 'too-late',
      input: { ...subjectLine, campaignId: 'winter-sale' },
    });
    await command(START, { key: 'too-late' });
    await command(DECLARE, { key: 'too-late', variant: 'question' });
    await api().request(ARCHIVE_CAMPAIGN, { id: 'winter-sale' });
    expect(await graphQLError(api().request(APPLY, { key: 'too-late' }))).toMatchObject({
      code: 'CONFLICT',
      field: 'key',
      reason: 'CAMPAIGN_CLOSED',
    });

    // Nothing was created but the drafts above.
    const after = await api().request<{
      experiments: { totalCount: number };
      stopped: { nodes: { key: string; status: string }[] };
    }>(
      gql`
        query After($minPosition: String) {
          experiments(minPosition: $minPosition) {
            totalCount
          }
          stopped: experiments(status: STOPPED, minPosition: $minPosition) {
            nodes {
              key
              status
            }
          }
        }
      `,
      { minPosition: seen },
    );
    expect(after.experiments.totalCount).toBe(before.experiments.totalCount + 2);
    expect(after.stopped.nodes.map((node) => node.key)).toEqual(['too-late', 'exit-offer']);
  });
});
