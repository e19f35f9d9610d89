/**
 * A day of generated Segment traffic posted through /v1/batch, with client retries (the
 * same messageId twice) and re-sent orders (the same order_id under a new messageId). The
 * campaign metrics Touchline reports over GraphQL are compared with figures this test
 * recomputes from the generator's own record of what happened — not from Touchline's code.
 */
import { gql } from 'graphql-request';
import { type GeneratedMessage, generateTraffic, toBatches } from '../support/traffic';
import {
  graphQLError,
  startTestServer,
  take,
  type TestServer,
  until,
  writeKeyAuthorization,
} from './harness';

const DAY = '2026-11-20T00:00:00.000Z';
const NEXT_DAY = '2026-11-21T00:00:00.000Z';

interface Totals {
  impressions: number;
  clicks: number;
  sends: number;
  deliveries: number;
  opens: number;
  uniqueOpens: number;
  uniqueClicks: number;
  unsubscribes: number;
  conversions: number;
  revenue: { amountMinor: string; currency: string }[];
}

const METRICS = gql`
  query ($id: ID!, $from: DateTime!, $to: DateTime!, $minPosition: String) {
    campaignMetrics(
      campaignId: $id
      from: $from
      to: $to
      granularity: TOTAL
      minPosition: $minPosition
    ) {
      totals {
        impressions
        clicks
        sends
        deliveries
        opens
        uniqueOpens
        uniqueClicks
        unsubscribes
        conversions
        revenue {
          amountMinor
          currency
        }
      }
      byChannel {
        channel
        metrics {
          conversions
        }
      }
    }
  }
`;

function expectedTotals(
  messages: readonly GeneratedMessage[],
  campaignId: string,
  orders: ReturnType<typeof generateTraffic>['orders'],
) {
  const mine = messages.filter((message) => message.properties?.campaign_id === campaignId);
  const count = (event: string) => mine.filter((message) => message.event === event).length;
  const pairs = (event: string) =>
    new Set(
      mine
        .filter((message) => message.event === event)
        .map((message) => `${message.userId}|${String(message.properties?.email_id)}`),
    ).size;
  const credited = orders.filter((order) => order.campaignId === campaignId);
  const revenue = credited.reduce((sum, order) => sum + order.revenueMinor, 0);
  return {
    totals: {
      impressions: count('Promotion Viewed'),
      clicks: count('Promotion Clicked'),
      sends: count('Email Sent'),
      deliveries: count('Email Delivered'),
      opens: count('Email Opened'),
      uniqueOpens: pairs('Email Opened'),
      uniqueClicks: pairs('Email Link Clicked'),
      unsubscribes: count('Unsubscribed'),
      conversions: credited.length,
      revenue: revenue > 0 ? [{ amountMinor: String(revenue), currency: 'USD' }] : [],
    },
    conversionsByChannel: credited.reduce<Record<string, number>>((byChannel, order) => {
      byChannel[order.channel as string] = (byChannel[order.channel as string] ?? 0) + 1;
      return byChannel;
    }, {}),
  };
}

describe('a day of tracking traffic', () => {
  let touchline: TestServer;
  let authorization: string;

  beforeAll(async () => {
    touchline = await startTestServer();
    authorization = await writeKeyAuthorization(touchline);
  });

  afterAll(async () => {
    await touchline?.stop();
  });

  it('yields the campaign metrics an independent recomputation gives, counting retries and re-sent orders once', async () => {
    const traffic = generateTraffic({
      seed: 42,
      contacts: 400,
      day: DAY,
      retryShare: 0.05,
      orderResendShare: 0.3,
    });
    const ingest = touchline.url.replace(/\/graphql$/, '/v1/batch');
    let accepted = 0;
    let position = '0';
    for (const body of toBatches(traffic.messages, 500)) {
      const response = await fetch(ingest, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
      const result = (await response.json()) as {
        accepted: number;
        rejected: unknown[];
        position: string;
      };
      expect(result.rejected).toEqual([]);
      accepted += result.accepted;
      position = result.position;
    }
    expect(accepted).toBe(traffic.messages.length);
    const stored = await touchline.server.eventStore.readAll({
      filter: { streamPrefixes: ['contact-default:'] },
    });
    expect(stored).toHaveLength(new Set(traffic.messages.map((message) => message.messageId)).size);

    const api = touchline.client();
    for (const campaignId of traffic.campaigns) {
      const { campaignMetrics } = await api.request<{
        campaignMetrics: {
          totals: Totals;
          byChannel: { channel: string; metrics: { conversions: number } }[];
        };
      }>(METRICS, { id: campaignId, from: DAY, to: NEXT_DAY, minPosition: position });
      const expected = expectedTotals(traffic.distinct, campaignId, traffic.orders);
      expect({ campaignId, ...campaignMetrics.totals }).toEqual({ campaignId, ...expected.totals });
      const conversionsByChannel = Object.fromEntries(
        campaignMetrics.byChannel
          .filter((entry) => entry.metrics.conversions > 0)
          .map((entry) => [entry.channel, entry.metrics.conversions]),
      );
      expect({ campaignId, conversionsByChannel }).toEqual({
        campaignId,
        conversionsByChannel: expected.conversionsByChannel,
      });
    }
    // The day holds conversions for several campaigns and some for none (organic, referral).
    expect(traffic.orders.some((order) => order.campaignId === null)).toBe(true);
    expect(new Set(traffic.orders.map((order) => order.campaignId)).size).toBeGreaterThan(3);
  });

  it('reports a bad message of a batch by index and stores the good ones', async () => {
    const ingest = touchline.url.replace(/\/graphql$/, '/v1/batch');
    const response = await fetch(ingest, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({
        batch: [
          {
            type: 'track',
            userId: 'u-ok',
            messageId: 'm-ok',
            event: 'Signed Up',
            timestamp: '2026-11-20T10:00:00Z',
          },
          { type: 'track', messageId: 'm-no-id', event: 'Signed Up' },
          {
            type: 'track',
            userId: 'u-old',
            messageId: 'm-old',
            event: 'Signed Up',
            timestamp: '1999-12-31T23:59:59Z',
          },
          {
            type: 'track',
            userId: 'u-neg',
            messageId: 'm-neg',
            event: 'Order Completed',
            properties: { revenue: -5 },
          },
        ],
      }),
    });
    expect(response.status).toBe(200);
    const result = (await response.json()) as {
      accepted: number;
      rejected: { index: number; reason: string }[];
    };
    expect(result.accepted).toBe(1);
    expect(result.rejected.map(({ index, reason }) => [index, reason])).toEqual([
      [1, 'MISSING_ID'],
      [2, 'TIMESTAMP_TOO_OLD'],
      [3, 'NEGATIVE_REVENUE'],
    ]);
    expect(await touchline.server.eventStore.readStream('contact-default:u-neg')).toEqual([]);

    // Answers that cross the ingestion worker thread keep their code, field and reason.
    const single = await fetch(ingest.replace('/v1/batch', '/v1/track'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ event: 'Signed Up', messageId: 'lonely' }),
    });
    expect(single.status).toBe(400);
    expect(await single.json()).toMatchObject({
      errors: [{ extensions: { code: 'BAD_USER_INPUT', field: 'userId', reason: 'MISSING_ID' } }],
    });
    const notJson = await fetch(ingest, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: '{"batch": [',
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({
      errors: [{ extensions: { code: 'BAD_REQUEST' } }],
    });

    const wrongKey = await fetch(ingest, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from('nope:').toString('base64')}`,
      },
      body: JSON.stringify({ batch: [] }),
    });
    expect(wrongKey.status).toBe(401);
  });

  it('takes tracking calls from apps through the trackEvents mutation', async () => {
    const result = await touchline
      .client()
      .request<{ trackEvents: { accepted: number; position: string } }>(gql`
        mutation {
          trackEvents(
            events: [{ type: TRACK, userId: "app-user", messageId: "app-1", event: "Signed Up" }]
          ) {
            accepted
            position
          }
        }
      `);
    expect(result.trackEvents.accepted).toBe(1);
    const [event] = await touchline.server.eventStore.readStream('contact-default:app-user');
    expect(event).toMatchObject({
      type: 'EventTracked',
      data: { event: 'Signed Up', messageId: 'app-1' },
    });
    expect(event.position.toString()).toBe(result.trackEvents.position);
  });

  it('compares campaigns, ranks them, draws hourly series and pushes fresh totals live', async () => {
    const api = touchline.client('live-metrics');
    const viewed = (messageId: string, campaignId: string, at: string): GeneratedMessage => ({
      type: 'track',
      messageId,
      userId: `viewer-${messageId}`,
      timestamp: at,
      event: 'Promotion Viewed',
      properties: { campaign_id: campaignId },
    });
    const ingest = async (batch: GeneratedMessage[]) => {
      const result = await api.request<{ trackEvents: { position: string } }>(
        gql`
          mutation ($events: [TrackInput!]!) {
            trackEvents(events: $events) {
              position
            }
          }
        `,
        {
          events: batch.map((message) => ({
            type: 'TRACK',
            userId: message.userId,
            messageId: message.messageId,
            event: message.event,
            timestamp: message.timestamp,
            properties: message.properties,
          })),
        },
      );
      return result.trackEvents.position;
    };
    const position = await ingest([
      viewed('v1', 'alpha', '2026-11-20T10:05:00Z'),
      viewed('v2', 'alpha', '2026-11-20T10:45:00Z'),
      viewed('v3', 'alpha', '2026-11-20T12:00:00Z'),
      viewed('v4', 'beta', '2026-11-20T10:10:00Z'),
    ]);
    const range = { from: '2026-11-20T00:00:00Z', to: '2026-11-21T00:00:00Z' };

    const hourly = await api.request<{
      campaignMetrics: { points: { bucketStart: string; metrics: { impressions: number } }[] };
    }>(
      gql`
        query ($from: DateTime!, $to: DateTime!, $position: String) {
          campaignMetrics(
            campaignId: "alpha"
            from: $from
            to: $to
            granularity: HOUR
            minPosition: $position
          ) {
            points {
              bucketStart
              metrics {
                impressions
              }
            }
          }
        }
      `,
      { ...range, position },
    );
    expect(hourly.campaignMetrics.points).toHaveLength(24);
    expect(hourly.campaignMetrics.points.filter((point) => point.metrics.impressions > 0)).toEqual([
      { bucketStart: '2026-11-20T10:00:00.000Z', metrics: { impressions: 2 } },
      { bucketStart: '2026-11-20T12:00:00.000Z', metrics: { impressions: 1 } },
    ]);

    const ranked = await api.request<{
      compareCampaigns: { campaignId: string; metrics: { impressions: number } }[];
      topCampaigns: { campaignId: string; metrics: { impressions: number } }[];
    }>(
      gql`
        query ($from: DateTime!, $to: DateTime!) {
          compareCampaigns(campaignIds: ["beta", "alpha", "gamma"], from: $from, to: $to) {
            campaignId
            metrics {
              impressions
            }
          }
          topCampaigns(metric: IMPRESSIONS, from: $from, to: $to, first: 1) {
            campaignId
            metrics {
              impressions
            }
          }
        }
      `,
      range,
    );
    expect(ranked.compareCampaigns).toEqual([
      { campaignId: 'beta', metrics: { impressions: 1 } },
      { campaignId: 'alpha', metrics: { impressions: 3 } },
      { campaignId: 'gamma', metrics: { impressions: 0 } },
    ]);
    expect(ranked.topCampaigns).toEqual([{ campaignId: 'alpha', metrics: { impressions: 3 } }]);

    const reversed = await graphQLError(
      api.request(gql`
        {
          campaignMetrics(
            campaignId: "alpha"
            from: "2026-11-21T00:00:00Z"
            to: "2026-11-20T00:00:00Z"
            granularity: DAY
          ) {
            campaignId
          }
        }
      `),
    );
    expect(reversed).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'to',
      reason: 'REVERSED_RANGE',
    });

    const listeners = touchline.server.changeFeed.subscriberCount;
    const updates = touchline.subscriptions('live-metrics').iterate<{
      campaignMetricsUpdated: { campaignId: string; metrics: { impressions: number } };
    }>({
      query:
        'subscription { campaignMetricsUpdated(campaignId: "alpha") { campaignId metrics { impressions } } }',
    });
    const pushed = take(updates[Symbol.asyncIterator](), 1);
    await until(
      () => touchline.server.changeFeed.subscriberCount > listeners,
      'the metrics subscription',
    );
    await ingest([
      viewed('v5', 'beta', '2026-11-20T13:00:00Z'),
      viewed('v6', 'alpha', '2026-11-20T13:30:00Z'),
    ]);
    expect((await pushed).map((message) => message.data?.campaignMetricsUpdated)).toEqual([
      { campaignId: 'alpha', metrics: { impressions: 4 } },
    ]);
  });
});
