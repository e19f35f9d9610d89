/**
 * An analyst rebuilds a read model from the log over GraphQL and watches the progress over
 * graphql-ws; the rebuilt generation takes over with the same answers.
 */
import { gql } from 'graphql-request';
import { startTestServer, takeUntil, type TestServer, until } from './harness';

interface Progress {
  generation: number;
  eventsProcessed: number;
  position: string;
  targetPosition: string;
  done: boolean;
}

describe('rebuilding a projection', () => {
  let touchline: TestServer;

  beforeAll(async () => {
    touchline = await startTestServer();
  });

  afterAll(async () => {
    await touchline?.stop();
  });

  it('replays the log into a new generation, reports progress, and switches over', async () => {
    const api = touchline.client('rebuild');
    for (let index = 0; index < 30; index++) {
      await api.request(
        gql`
          mutation ($id: ID!) {
            createCampaign(input: { id: $id, name: "Campaign", channels: [EMAIL] }) {
              position
            }
          }
        `,
        { id: `c${index}` },
      );
      if (index % 3 === 0)
        await api.request(
          gql`
            mutation ($id: ID!) {
              launchCampaign(id: $id) {
                position
              }
            }
          `,
          { id: `c${index}` },
        );
    }
    const listQuery = gql`
      query ($at: String) {
        campaigns(first: 100, minPosition: $at) {
          totalCount
          edges {
            node {
              id
              status
              revision
              position
            }
          }
        }
      }
    `;
    const head = await touchline.server.eventStore.headPosition();
    // Read once the projection has applied every campaign written above.
    const before = await api.request<{ campaigns: unknown }>(listQuery, { at: head.toString() });

    const listeners = touchline.server.changeFeed.subscriberCount;
    const progress = touchline.subscriptions('rebuild').iterate<{ projectionProgress: Progress }>({
      query:
        'subscription { projectionProgress(name: "campaigns") { generation eventsProcessed position targetPosition done } }',
    });
    const iterator = progress[Symbol.asyncIterator]();
    // The first pull starts the subscription on the server.
    const reportsArriving = takeUntil(iterator, (messages) =>
      messages.some((message) => message.data?.projectionProgress.done),
    );
    await until(
      () => touchline.server.changeFeed.subscriberCount > listeners,
      'the progress subscription',
    );

    const started = await api.request<{ rebuildProjection: Progress }>(gql`
      mutation {
        rebuildProjection(name: "campaigns") {
          generation
          targetPosition
          done
        }
      }
    `);
    expect(started.rebuildProjection).toMatchObject({
      generation: 2,
      targetPosition: head.toString(),
    });

    const reports = (await reportsArriving).map(
      (message) => message.data?.projectionProgress as Progress,
    );
    const last = reports[reports.length - 1];
    expect(last).toMatchObject({
      generation: 2,
      done: true,
      position: head.toString(),
      eventsProcessed: 40,
    });
    expect(reports.every((report) => report.generation === 2)).toBe(true);

    const status = await api.request<{
      projections: { name: string; generation: number; state: string; position: string }[];
    }>(gql`
      {
        projections {
          name
          generation
          state
          position
        }
      }
    `);
    expect(status.projections.find((projection) => projection.name === 'campaigns')).toEqual({
      name: 'campaigns',
      generation: 2,
      state: 'running',
      position: head.toString(),
    });
    expect(await api.request(listQuery, { at: head.toString() })).toEqual(before);
    expect(await touchline.server.readStore.listCollections()).not.toContain('campaigns_g1');
  });

  it('refuses an unknown projection with NOT_FOUND', async () => {
    await expect(
      touchline.client().request(gql`
        mutation {
          rebuildProjection(name: "nope") {
            done
          }
        }
      `),
    ).rejects.toMatchObject({
      response: { errors: [{ extensions: { code: 'NOT_FOUND', field: 'name' } }] },
    });
  });
});
