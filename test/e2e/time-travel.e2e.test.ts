/**
 * `asOf` through the real server: the live answers of campaign metrics, a funnel, a segment
 * and attribution are recorded at an instant, the history then moves on (more traffic, a new
 * funnel version, a changed segment), and the same questions asked `asOf` that instant must
 * give the recorded answers again, replayed from the log.
 */
import { gql } from 'graphql-request';
import { generateTraffic, toBatches } from '../support/traffic';
import { graphQLError, postBatch, startTestServer, type TestServer } from './harness';

const DAY = '2026-11-20T00:00:00.000Z';
const NEXT_DAY = '2026-11-21T00:00:00.000Z';

const traffic = generateTraffic({ seed: 11, contacts: 60, day: DAY, campaigns: 2 });
const half = Math.floor(traffic.messages.length / 2);
const [campaignId] = traffic.campaigns;

const checkout = {
  name: 'Visit to order',
  steps: [{ event: '$pageview' }, { event: 'Order Completed' }],
  order: 'ORDERED',
  window: { value: 1, unit: 'DAY' },
};

const QUESTIONS = gql`
  query ($campaignId: ID!, $funnelId: ID!, $segmentId: ID!, $asOf: DateTime, $minPosition: String) {
    campaignMetrics(
      campaignId: $campaignId
      from: "${DAY}"
      to: "${NEXT_DAY}"
      granularity: HOUR
      asOf: $asOf
      minPosition: $minPosition
    ) {
      totals { impressions clicks sends opens uniqueOpens conversions revenue { amount currency } }
      points { bucketStart metrics { clicks conversions } }
      byChannel { channel metrics { clicks conversions } }
    }
    topCampaigns(metric: CONVERSIONS, from: "${DAY}", to: "${NEXT_DAY}", asOf: $asOf, minPosition: $minPosition) {
      campaignId
      metrics { conversions }
    }
    funnelReport(funnelId: $funnelId, asOf: $asOf, minPosition: $minPosition) {
      version
      entered
      converted
      steps { step count }
    }
    segment(id: $segmentId, asOf: $asOf, minPosition: $minPosition) {
      version
      size
    }
    segmentMembers(segmentId: $segmentId, first: 100, asOf: $asOf, minPosition: $minPosition) {
      nodes { contactId enteredAt }
    }
    live: attribution(model: LINEAR, from: "${DAY}", to: "${NEXT_DAY}", asOf: $asOf, minPosition: $minPosition) {
      recomputed
      credits { key conversions share }
    }
    markov: attribution(model: MARKOV, from: "${DAY}", to: "${NEXT_DAY}", asOf: $asOf, minPosition: $minPosition) {
      credits { key conversions removalEffect }
    }
    recomputed: attribution(model: TIME_DECAY, from: "${DAY}", to: "${NEXT_DAY}", lookbackDays: 2, halfLifeDays: 1, asOf: $asOf, minPosition: $minPosition) {
      recomputed
      credits { key conversions share }
    }
  }
`;

interface Answers {
  campaignMetrics: unknown;
  topCampaigns: unknown;
  funnelReport: { version: number; entered: number };
  segment: { version: number; size: number };
  segmentMembers: { nodes: unknown[] };
  live: { recomputed: boolean; credits: unknown[] };
  markov: unknown;
  recomputed: { recomputed: boolean; credits: unknown[] };
}

describe('asOf: answers as they were at a past instant', () => {
  let touchline: TestServer;
  let funnelId: string;
  let segmentId: string;

  beforeAll(async () => {
    touchline = await startTestServer();
  });
  afterAll(() => touchline.stop());

  const api = () => touchline.client();

  async function post(messages: typeof traffic.messages): Promise<string> {
    let position = '-1';
    for (const { batch } of toBatches(messages, 200)) {
      position = (await postBatch(touchline, batch)).position;
    }
    return position;
  }

  function ask(variables: { asOf?: string; minPosition?: string }): Promise<Answers> {
    return api().request<Answers>(QUESTIONS, { campaignId, funnelId, segmentId, ...variables });
  }

  /** An instant after everything recorded so far and before anything recorded next. */
  function instantBetween(): string {
    const instant = Date.now();
    while (Date.now() <= instant) {
      // the next record time is a later millisecond
    }
    return new Date(instant).toISOString();
  }

  it('gives the answers recorded live at that instant, after history moved on', async () => {
    const before = instantBetween();
    const created = await api().request<{ createFunnel: { funnelId: string } }>(
      gql`
        mutation ($input: FunnelInput!) {
          createFunnel(input: $input) {
            funnelId
          }
        }
      `,
      { input: checkout },
    );
    funnelId = created.createFunnel.funnelId;
    const segment = await api().request<{ createSegment: { segmentId: string } }>(
      gql`
        mutation ($input: CreateSegmentInput!) {
          createSegment(input: $input) {
            segmentId
          }
        }
      `,
      {
        input: {
          name: 'Buyers',
          conditions: { kind: 'conversionCount', op: 'gte', value: 1 },
        },
      },
    );
    segmentId = segment.createSegment.segmentId;

    const firstHalf = await post(traffic.messages.slice(0, half));
    const recorded = await ask({ minPosition: firstHalf });
    const instant = instantBetween();
    expect(recorded.funnelReport.entered).toBeGreaterThan(0);
    expect(recorded.segment.size).toBeGreaterThan(0);
    expect(recorded.live).toMatchObject({ recomputed: false });
    expect(recorded.live.credits.length).toBeGreaterThan(0);
    expect(recorded.recomputed).toMatchObject({ recomputed: true });

    // History moves on: the rest of the day, a second funnel version, a changed segment.
    await api().request(
      gql`
        mutation ($id: ID!, $input: FunnelInput!) {
          updateFunnel(id: $id, input: $input) {
            position
          }
        }
      `,
      { id: funnelId, input: { ...checkout, window: { value: 1, unit: 'HOUR' } } },
    );
    await api().request(
      gql`
        mutation ($id: ID!, $input: SegmentInput!) {
          updateSegment(id: $id, input: $input) {
            position
          }
        }
      `,
      {
        id: segmentId,
        input: {
          name: 'Repeat buyers',
          conditions: { kind: 'conversionCount', op: 'gte', value: 2 },
        },
      },
    );
    const secondHalf = await post(traffic.messages.slice(half));
    const now = await ask({ minPosition: secondHalf });
    expect(now.segment.version).toBe(2);
    expect(now.campaignMetrics).not.toEqual(recorded.campaignMetrics);
    expect(now.live).not.toEqual(recorded.live);
    expect(now.recomputed).not.toEqual(recorded.recomputed);

    expect(await ask({ asOf: instant })).toEqual(recorded);
    // Asked again: the same answer (from the replay kept for that instant).
    expect(await ask({ asOf: instant })).toEqual(recorded);
    // Before anything was recorded, nothing was known.
    const empty = await api().request<{ segment: unknown; topCampaigns: unknown[] }>(
      gql`
        query ($segmentId: ID!, $asOf: DateTime) {
          segment(id: $segmentId, asOf: $asOf) {
            size
          }
          topCampaigns(metric: CONVERSIONS, from: "${DAY}", to: "${NEXT_DAY}", asOf: $asOf) {
            campaignId
          }
        }
      `,
      { segmentId, asOf: before },
    );
    expect(empty).toEqual({ segment: null, topCampaigns: [] });
  });

  it('refuses an instant in the future', async () => {
    const refused = await graphQLError(
      api().request(
        gql`
          query ($asOf: DateTime) {
            topCampaigns(metric: CLICKS, from: "${DAY}", to: "${NEXT_DAY}", asOf: $asOf) {
              campaignId
            }
          }
        `,
        { asOf: new Date(Date.now() + 3_600_000).toISOString() },
      ),
    );
    expect(refused).toMatchObject({ code: 'BAD_USER_INPUT', field: 'asOf', reason: 'IN_FUTURE' });
  });
});
