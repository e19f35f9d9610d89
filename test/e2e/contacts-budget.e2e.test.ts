/**
 * Contacts and budget control through the real server: an anonymous visitor who signs up and
 * orders is one contact; an overspending campaign is paused by the budget guard exactly
 * once, with its alerts pushed over graphql-ws, and stays so across a restart.
 */
import { gql } from 'graphql-request';
import {
  bearer,
  startTestServer,
  takeUntil,
  type TestServer,
  until,
  writeKeyAuthorization,
} from './harness';

async function post(
  touchline: TestServer,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(touchline.url.replace(/\/graphql$/, path), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('contacts and budget control end to end', () => {
  let touchline: TestServer;

  beforeAll(async () => {
    touchline = await startTestServer();
  });

  afterAll(async () => {
    await touchline?.stop();
  });

  it('joins an anonymous visit, a sign-up and an order into one contact with its timeline', async () => {
    const { body } = await post(
      touchline,
      '/v1/batch',
      {
        batch: [
          {
            type: 'page',
            anonymousId: 'anon-7',
            messageId: 'p-1',
            timestamp: '2026-11-20T09:00:00Z',
            context: {
              campaign: { source: 'google', medium: 'cpc', name: 'spring' },
              page: { url: 'https://shop.example/' },
            },
          },
          {
            type: 'identify',
            userId: 'ada',
            anonymousId: 'anon-7',
            messageId: 'i-1',
            timestamp: '2026-11-20T09:05:00Z',
            traits: { plan: 'pro', email: 'ada@example.com' },
          },
          {
            type: 'track',
            userId: 'ada',
            messageId: 'o-1',
            timestamp: '2026-11-20T09:10:00Z',
            event: 'Order Completed',
            properties: { order_id: 'A1', revenue: 49.9, currency: 'EUR' },
          },
          {
            type: 'track',
            userId: 'ada',
            messageId: 'o-2',
            timestamp: '2026-11-20T09:11:00Z',
            event: 'Order Completed',
            properties: { order_id: 'A1', revenue: 49.9, currency: 'EUR' },
          },
        ],
      },
      { authorization: await writeKeyAuthorization(touchline) },
    );
    expect(body).toMatchObject({ accepted: 4, rejected: [] });

    const api = touchline.client();
    const { contact } = await api.request<{ contact: Record<string, unknown> }>(
      gql`
        query ($position: String) {
          contact(id: "anon-7", minPosition: $position) {
            id
            userId
            anonymousIds
            traits
            conversions
            revenue {
              amount
              currency
            }
            firstTouch {
              channel
              source
              medium
              campaign
            }
            timeline(first: 10) {
              edges {
                node {
                  type
                  messageId
                }
              }
            }
          }
        }
      `,
      { position: body.position },
    );
    expect(contact).toMatchObject({
      id: 'ada',
      userId: 'ada',
      anonymousIds: ['anon-7'],
      traits: { plan: 'pro', email: 'ada@example.com' },
      conversions: 1,
      revenue: [{ amount: '49.90', currency: 'EUR' }],
      firstTouch: { channel: 'paid_search', source: 'google', medium: 'cpc', campaign: 'spring' },
    });
    const timeline = (contact.timeline as { edges: { node: { messageId: string } }[] }).edges;
    expect(timeline.map((edge) => edge.node.messageId)).toEqual(['o-2', 'o-1', 'i-1', 'p-1']);

    // The timeline is read from the identities' streams: pages follow the cursor, types filter.
    type TimelinePage = {
      contact: {
        timeline: {
          edges: { node: { messageId: string; identity: string } }[];
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
          totalCount: number;
        };
      };
    };
    const timelinePage = (variables: { after?: string; types?: string[] }) =>
      api.request<TimelinePage>(
        gql`
          query ($after: String, $types: [String!]) {
            contact(id: "ada") {
              timeline(first: 2, after: $after, types: $types) {
                edges {
                  node {
                    messageId
                    identity
                  }
                }
                pageInfo {
                  hasNextPage
                  endCursor
                }
                totalCount
              }
            }
          }
        `,
        variables,
      );
    const firstPage = (await timelinePage({})).contact.timeline;
    expect(firstPage).toMatchObject({ totalCount: 4, pageInfo: { hasNextPage: true } });
    expect(firstPage.edges.map((edge) => edge.node.messageId)).toEqual(['o-2', 'o-1']);
    const secondPage = (await timelinePage({ after: firstPage.pageInfo.endCursor ?? '' })).contact
      .timeline;
    expect(secondPage.pageInfo.hasNextPage).toBe(false);
    expect(secondPage.edges.map((edge) => edge.node)).toEqual([
      { messageId: 'i-1', identity: 'ada' },
      { messageId: 'p-1', identity: 'anon-7' },
    ]);
    const pages = (await timelinePage({ types: ['page', 'identify'] })).contact.timeline;
    expect(pages.totalCount).toBe(2);
    expect(pages.edges.map((edge) => edge.node.messageId)).toEqual(['i-1', 'p-1']);

    const found = await api.request<{
      contacts: { totalCount: number; edges: { node: { id: string } }[] };
    }>(gql`
      {
        contacts(traitFilter: [{ name: "plan", operator: eq, value: "pro" }]) {
          totalCount
          edges {
            node {
              id
            }
          }
        }
      }
    `);
    expect(found.contacts.edges.map((edge) => edge.node.id)).toEqual(['ada']);
  });

  it('pauses an overspending campaign once, pushing each threshold alert live', async () => {
    const api = touchline.client('budget');
    await api.request(gql`
      mutation {
        createCampaign(
          input: {
            id: "promo"
            name: "Promo"
            channels: [PAID_SEARCH]
            budget: { amount: "1000", currency: "USD" }
          }
        ) {
          revision
        }
        launchCampaign(id: "promo") {
          revision
        }
      }
    `);
    const listeners = touchline.server.changeFeed.subscriberCount;
    const alerts = touchline.subscriptions('budget').iterate<{
      campaignAlerts: { threshold: number; paused: boolean; spent: { amount: string } };
    }>({
      query:
        'subscription { campaignAlerts(campaignId: "promo") { threshold paused spent { amount } } }',
    });
    const arriving = takeUntil(alerts[Symbol.asyncIterator](), (messages) =>
      messages.some((message) => message.data?.campaignAlerts.threshold === 100),
    );
    await until(
      () => touchline.server.changeFeed.subscriberCount > listeners,
      'the alerts subscription',
    );

    const row = (day: string, amount: string) => ({
      campaignId: 'promo',
      channel: 'PAID_SEARCH',
      day,
      source: 'google-ads',
      impressions: 1000,
      clicks: 50,
      spend: { amount, currency: 'USD' },
    });
    const headers = { authorization: await bearer(touchline, 'budget', 'ingest') };
    expect(
      (await post(touchline, '/v1/ad-reports', [row('2026-11-18', '700')], headers)).status,
    ).toBe(200);
    expect(
      (await post(touchline, '/v1/ad-reports', [row('2026-11-19', '200')], headers)).status,
    ).toBe(200);
    expect(
      (await post(touchline, '/v1/ad-reports', [row('2026-11-20', '150')], headers)).status,
    ).toBe(200);

    const received = (await arriving).map((message) => message.data?.campaignAlerts);
    // The guard runs beside ingestion: an alert carries the spend it saw when it recorded the
    // threshold (900 after the second import, or already 1,050 if it caught up later), and
    // alerts that land in one projector batch all see the pause.
    expect(received.map((alert) => alert?.threshold)).toEqual([75, 90, 100]);
    expect(received[2]?.paused).toBe(true);
    for (const alert of received) {
      expect(Number(alert?.spent.amount)).toBeGreaterThanOrEqual(
        (1000 * (alert?.threshold ?? 0)) / 100,
      );
    }

    // More spend, a restated day and a restart never pause or alert twice.
    await post(
      touchline,
      '/v1/ad-reports',
      [row('2026-11-20', '180'), row('2026-11-21', '40')],
      headers,
    );
    const key = await touchline.key('budget');
    const dataDir = touchline.dataDir;
    await touchline.stop();
    touchline = await startTestServer(dataDir);
    const head = await touchline.server.eventStore.headPosition();
    await touchline.server.manager.waitForPosition(head, 5000);
    const events = await touchline.server.eventStore.readStream('campaign-budget:promo');
    const types = events.map((event) => event.type);
    expect(types.filter((type) => type === 'CampaignPaused')).toHaveLength(1);
    expect(types.filter((type) => type === 'BudgetThresholdReached')).toHaveLength(3);
    const paused = events.find((event) => event.type === 'CampaignPaused');
    expect(paused?.data).toMatchObject({ reason: 'budget exhausted' });

    const { campaign } = await touchline
      .clientWithKey(key)
      .request<{ campaign: Record<string, unknown> }>(gql`
        {
          campaign(id: "promo") {
            status
            pauseReason
            spent {
              amount
            }
            budgetThresholdsReached
          }
        }
      `);
    expect(campaign).toEqual({
      status: 'PAUSED',
      pauseReason: 'budget exhausted',
      spent: { amount: '1120.00' }, // 700 + 200 + 180 (the restated 150) + 40
      budgetThresholdsReached: [75, 90, 100],
    });
  });
});
