/**
 * A server with the `api` role runs no projection: it follows the projector workers through
 * the read store. Without one it says so (projections `unassigned`, a rebuild refused with a
 * reason); once a projector worker starts on the same stores, the API answers from what it
 * projects, including the writes it took before the worker existed.
 */
import { gql } from 'graphql-request';
import { loadConfig } from '../../src/infra/config';
import { createLogger } from '../../src/infra/logger';
import {
  type RunningProjectorProcess,
  startProjectorProcess,
} from '../../src/infra/projector-process';
import { graphQLError, startTestServer, temporaryDataDir, type TestServer } from './harness';

interface Status {
  name: string;
  state: string;
  worker: string | null;
}

describe('an API process without projections of its own', () => {
  const dataDir = temporaryDataDir();
  let touchline: TestServer;
  let projector: RunningProjectorProcess | null = null;

  beforeAll(async () => {
    touchline = await startTestServer(dataDir, { TOUCHLINE_ROLE: 'api' });
  });

  afterAll(async () => {
    await touchline?.stop();
    await projector?.stop();
  });

  const statuses = async () =>
    (
      await touchline.client().request<{ projections: Status[] }>(gql`
        {
          projections {
            name
            state
            worker
          }
        }
      `)
    ).projections;

  it('reports every projection unassigned and refuses a rebuild while no projector runs', async () => {
    const before = await statuses();
    expect(before.length).toBeGreaterThan(0);
    for (const status of before)
      expect(status).toMatchObject({ state: 'unassigned', worker: null });

    const refused = await graphQLError(
      touchline.client().request(gql`
        mutation {
          rebuildProjection(name: "campaigns") {
            generation
          }
        }
      `),
    );
    expect(refused).toMatchObject({ code: 'CONFLICT', reason: 'NO_PROJECTOR', field: 'name' });
    expect(refused.message).toMatch(/no projector worker runs it/);
  });

  it('answers from what a projector worker started later projects, and passes a rebuild on to it', async () => {
    // A write taken while nothing projects...
    const { createCampaign } = await touchline.client().request<{
      createCampaign: { position: string };
    }>(gql`
      mutation {
        createCampaign(input: { id: "early", name: "Early bird" }) {
          position
        }
      }
    `);

    // ...is read once a worker runs, waiting on the position the API returned.
    const config = loadConfig({
      NODE_ENV: 'test',
      TOUCHLINE_DATA_DIR: dataDir,
      TOUCHLINE_ROLE: 'projector',
    });
    projector = await startProjectorProcess(config, createLogger('silent'));
    const { campaign } = await touchline.client().request<{ campaign: { name: string } | null }>(
      gql`
        query ($position: String!) {
          campaign(id: "early", minPosition: $position) {
            name
          }
        }
      `,
      { position: createCampaign.position },
    );
    expect(campaign).toEqual({ name: 'Early bird' });
    for (const status of await statuses()) {
      expect(status).toMatchObject({ state: 'running', worker: projector.workerId });
    }

    // A rebuild asked of the API is started by the worker, which the API then reports.
    const { rebuildProjection } = await touchline.client().request<{
      rebuildProjection: { generation: number };
    }>(gql`
      mutation {
        rebuildProjection(name: "campaigns") {
          generation
        }
      }
    `);
    expect(rebuildProjection.generation).toBe(2);
  });
});
