/**
 * The same server with everything on one thread (TOUCHLINE_PROJECTOR_THREAD=off,
 * TOUCHLINE_INGESTION_WORKER=off): the in-process projection manager, budget guard and
 * ingestion serve the same answers as the threaded default the other suites use.
 */
import { gql } from 'graphql-request';
import { ProjectionManager } from '../../src/infra/projections/projection-manager';
import { startTestServer, type TestServer, writeKeyAuthorization } from './harness';

describe('the server on one thread', () => {
  let touchline: TestServer;

  beforeAll(async () => {
    touchline = await startTestServer(undefined, {
      TOUCHLINE_PROJECTOR_THREAD: 'off',
      TOUCHLINE_INGESTION_WORKER: 'off',
    });
  });

  afterAll(async () => {
    await touchline?.stop();
  });

  it('runs the projections in process and answers commands, tracking and metrics', async () => {
    expect(touchline.server.manager).toBeInstanceOf(ProjectionManager);
    const api = touchline.client();
    await api.request(gql`
      mutation {
        createCampaign(input: { id: "solo", name: "Solo", channels: [DISPLAY] }) {
          revision
        }
      }
    `);
    const response = await fetch(touchline.url.replace(/\/graphql$/, '/v1/batch'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: await writeKeyAuthorization(touchline),
      },
      body: JSON.stringify({
        batch: [
          {
            type: 'track',
            userId: 'u',
            messageId: 's1',
            timestamp: '2026-11-20T10:00:00Z',
            event: 'Promotion Viewed',
            properties: { campaign_id: 'solo' },
          },
          {
            type: 'track',
            userId: 'u',
            messageId: 's2',
            timestamp: '2026-11-20T10:01:00Z',
            event: 'Promotion Clicked',
            properties: { campaign_id: 'solo' },
          },
        ],
      }),
    });
    const { position } = (await response.json()) as { position: string };
    const { campaignMetrics, campaign } = await api.request<{
      campaignMetrics: { totals: { impressions: number; clicks: number; ctr: number } };
      campaign: { status: string };
    }>(
      gql`
        query ($position: String) {
          campaign(id: "solo") {
            status
          }
          campaignMetrics(
            campaignId: "solo"
            from: "2026-11-20T00:00:00Z"
            to: "2026-11-21T00:00:00Z"
            granularity: TOTAL
            minPosition: $position
          ) {
            totals {
              impressions
              clicks
              ctr
            }
          }
        }
      `,
      { position },
    );
    expect(campaign.status).toBe('DRAFT');
    expect(campaignMetrics.totals).toEqual({ impressions: 1, clicks: 1, ctr: 1 });
  });
});
