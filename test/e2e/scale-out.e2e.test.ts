/**
 * Scaled out on one data directory: two API processes and two projector workers, each a
 * `touchline serve` child process. Tracking traffic comes in through both APIs at once; the
 * worker that runs campaign-metrics is killed (SIGKILL) while it projects, and ingestion goes
 * on. The other worker takes its leases over from the checkpoints: every event counts exactly
 * once, and a subscriber on each API sees the updates of both workers, up to the final totals.
 */
import fs from 'node:fs';
import { gql, GraphQLClient } from 'graphql-request';
import type { FormattedExecutionResult } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { runTouchline, startTouchline, type TouchlineProcess } from '../support/touchline-process';
import { takeUntil, temporaryDataDir } from './harness';

const WORKSPACE = 'scale-out';
const CAMPAIGN = 'winter-sale';
const BATCHES = 40;
const BATCH_SIZE = 250;
/** Each API gets two lanes of batches posted one after another: four requests in flight. */
const LANES_PER_API = 2;
const CAMPAIGN_METRICS = 'campaign-metrics';

interface Api {
  readonly url: string;
  /** `Bearer <owner key>`, for GraphQL and the tracking endpoints. */
  readonly authorization: string;
  readonly graphql: GraphQLClient;
  readonly subscriptions: Client;
}

interface ProjectionRow {
  readonly name: string;
  readonly state: string;
  readonly worker: string | null;
  readonly position: string;
  readonly headPosition: string;
}

interface Totals {
  readonly clicks: number;
  readonly impressions: number;
}

type MetricsPush = FormattedExecutionResult<
  {
    readonly campaignMetricsUpdated: { readonly campaignId: string; readonly metrics: Totals };
  },
  unknown
>;

/** The totals a push carries; a push with errors fails the test with them. */
function pushedTotals(push: MetricsPush): Totals {
  if (!push.data) throw new Error(`the subscription answered ${JSON.stringify(push)}`);
  return push.data.campaignMetricsUpdated.metrics;
}

/** Every event counts: even indexes are impressions, odd ones clicks, half and half. */
const expected: Totals = {
  clicks: (BATCHES * BATCH_SIZE) / 2,
  impressions: (BATCHES * BATCH_SIZE) / 2,
};

function trackingBatch(batch: number): unknown[] {
  return Array.from({ length: BATCH_SIZE }, (_, index) => ({
    type: 'track',
    messageId: `batch-${batch}-event-${index}`,
    userId: `visitor-${(batch * BATCH_SIZE + index) % 500}`,
    timestamp: '2026-11-20T10:00:00Z',
    event: index % 2 === 0 ? 'Promotion Viewed' : 'Promotion Clicked',
    properties: { campaign_id: CAMPAIGN, channel: 'display' },
  }));
}

/** Asks `probe` every 50 ms until it answers a value; fails after a bound with `seen()`. */
async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  seen: () => unknown,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await probe();
    if (answer !== undefined) return answer;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(seen())}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The worker id is `<host>:<pid>:<random>`. */
function pidOfWorker(workerId: string): number {
  const match = /:(\d+):[^:]+$/.exec(workerId);
  if (!match) throw new Error(`not a worker id: ${workerId}`);
  return Number(match[1]);
}

describe('two API processes and two projector workers on one data directory', () => {
  const dataDir = temporaryDataDir();
  const processes: TouchlineProcess[] = [];
  let projectors: TouchlineProcess[];
  let apis: Api[];

  beforeAll(async () => {
    const init = await runTouchline(['init', '-w', WORKSPACE], { TOUCHLINE_DATA_DIR: dataDir });
    const ownerKey = init.stdout.split('\n').find((line) => line.startsWith('tl.'));
    if (init.code !== 0 || !ownerKey) {
      throw new Error(`touchline init failed (${init.code}): ${init.stdout}${init.stderr}`);
    }
    const env = {
      NODE_ENV: 'test',
      TOUCHLINE_DATA_DIR: dataDir,
      TOUCHLINE_LOG_LEVEL: 'info',
      TOUCHLINE_LEASE_TTL_MS: '1500',
      TOUCHLINE_RATE_LIMIT_INGEST: '0',
      TOUCHLINE_HOST: '127.0.0.1',
      TOUCHLINE_PORT: '0',
    };
    const serve = (name: string, role: 'api' | 'projector') => {
      const started = startTouchline(name, ['serve', '--role', role], env);
      processes.push(started);
      return started;
    };
    projectors = [serve('projector-1', 'projector'), serve('projector-2', 'projector')];
    const apiProcesses = [serve('api-A', 'api'), serve('api-B', 'api')];
    const ready = (process: TouchlineProcess, msg: string) =>
      process.waitForLog((line) => line.msg === msg, `"${msg}"`, 20_000);
    const [listening] = await Promise.all([
      Promise.all(apiProcesses.map((api) => ready(api, 'touchline is listening'))),
      Promise.all(projectors.map((projector) => ready(projector, 'projector worker started'))),
    ]);
    const authorization = `Bearer ${ownerKey}`;
    apis = listening.map((line) => {
      const url = line.url as string;
      return {
        url,
        authorization,
        graphql: new GraphQLClient(url, { headers: { authorization } }),
        subscriptions: createClient({
          url: url.replace(/^http/, 'ws'),
          webSocketImpl: WebSocket,
          connectionParams: { authorization },
          retryAttempts: 0,
          lazy: false,
        }),
      };
    });
  }, 30_000);

  afterAll(async () => {
    await Promise.all((apis ?? []).map((api) => api.subscriptions.dispose()));
    await Promise.all(processes.map((child) => child.stop()));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 20_000);

  async function projections(api: Api): Promise<ProjectionRow[]> {
    const answer = await api.graphql.request<{ projections: ProjectionRow[] }>(gql`
      {
        projections {
          name
          state
          worker
          position
          headPosition
        }
      }
    `);
    return answer.projections;
  }

  async function campaignTotals(api: Api, minPosition: string): Promise<Totals> {
    const answer = await api.graphql.request<{ campaignMetrics: { totals: Totals } }>(
      gql`
        query ($campaignId: ID!, $minPosition: String) {
          campaignMetrics(
            campaignId: $campaignId
            from: "2026-11-01T00:00:00Z"
            to: "2026-12-01T00:00:00Z"
            granularity: TOTAL
            minPosition: $minPosition
          ) {
            totals {
              clicks
              impressions
            }
          }
        }
      `,
      { campaignId: CAMPAIGN, minPosition },
    );
    return answer.campaignMetrics.totals;
  }

  /** Posts one Segment `/v1/batch` with the owner key; answers the position of its last event. */
  async function postBatch(api: Api, batch: readonly unknown[]): Promise<bigint> {
    const response = await fetch(api.url.replace(/\/graphql$/, '/v1/batch'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: api.authorization,
      },
      body: JSON.stringify({ batch }),
    });
    const body = (await response.json()) as { accepted: number; position: string | null };
    if (response.status !== 200 || body.accepted !== batch.length || body.position === null) {
      throw new Error(`/v1/batch answered ${response.status}: ${JSON.stringify(body)}`);
    }
    return BigInt(body.position);
  }

  it('projects every event exactly once through a projector crash, and pushes the updates to each API', async () => {
    const [apiA, apiB] = apis as [Api, Api];
    let lastStatus: ProjectionRow[] = [];
    const status = async () => (lastStatus = await projections(apiA));

    // Given a campaign, with both workers sharing the projections.
    const created = await apiA.graphql.request<{ createCampaign: { position: string } }>(
      gql`
        mutation ($id: ID!) {
          createCampaign(input: { id: $id, name: "Winter sale", channels: [DISPLAY] }) {
            position
          }
        }
      `,
      { id: CAMPAIGN },
    );
    const beforeIngestion = BigInt(created.createCampaign.position);
    // And a subscriber on each API, opened early: graphql-ws does not acknowledge a subscribe,
    // and the wait below gives each API time to register it.
    const pushes = apis.map((api) => {
      const updates = api.subscriptions.iterate<NonNullable<MetricsPush['data']>>({
        query: `subscription ($id: ID!) {
          campaignMetricsUpdated(campaignId: $id) { campaignId metrics { clicks impressions } }
        }`,
        variables: { id: CAMPAIGN },
      });
      return updates[Symbol.asyncIterator]();
    });

    const workerIds = projectors.map((projector) => {
      const started = projector.logLines.find((line) => line.msg === 'projector worker started');
      return started?.worker as string;
    });
    await eventually(
      async () => {
        const rows = await status();
        const workers = new Set(rows.map((row) => row.worker));
        return rows.every((row) => row.state === 'running') &&
          workerIds.every((id) => workers.has(id))
          ? rows
          : undefined;
      },
      'both workers to run projections',
      () => lastStatus,
      10_000,
    );

    // When traffic comes in through both APIs, and the worker running campaign-metrics is
    // killed once it has committed a batch of it and each subscriber has had an update; half of
    // each lane's batches are posted only after the kill.
    const crash = (async () => {
      const running = await eventually(
        async () =>
          (await status()).find(
            (row) => row.name === CAMPAIGN_METRICS && BigInt(row.position) > beforeIngestion,
          ),
        'campaign-metrics to commit a batch of the traffic',
        () => lastStatus,
        10_000,
      );
      const firstPushes = await Promise.all(
        pushes.map((iterator) => takeUntil(iterator, (values) => values.length > 0, 10_000)),
      );
      const victim = projectors.find(
        (projector) => projector.pid === pidOfWorker(running.worker as string),
      );
      if (!victim) throw new Error(`no projector process runs ${running.worker}`);
      await victim.kill();
      return { victim, firstPushes, positionAtKill: BigInt(running.position) };
    })();
    const lane = async (api: Api, batches: readonly number[]) => {
      const positions: bigint[] = [];
      for (const [index, batch] of batches.entries()) {
        if (index === Math.floor(batches.length / 2)) await crash;
        positions.push(await postBatch(api, trackingBatch(batch)));
      }
      return positions;
    };
    const lanes = Array.from({ length: 2 * LANES_PER_API }, (_, laneIndex) =>
      lane(
        laneIndex < LANES_PER_API ? apiA : apiB,
        Array.from({ length: BATCHES }, (_, batch) => batch).filter(
          (batch) => batch % (2 * LANES_PER_API) === laneIndex,
        ),
      ),
    );
    const [{ victim, firstPushes, positionAtKill }, ...positions] = await Promise.all([
      crash,
      ...lanes,
    ]);
    const lastPosition = positions
      .flat()
      .reduce((max, position) => (position > max ? position : max));
    const survivor = projectors.find((projector) => projector !== victim) as TouchlineProcess;
    const survivorId = workerIds[projectors.indexOf(survivor)];

    // Then the survivor runs every projection, up to the last event ingested.
    await eventually(
      async () => {
        const rows = await status();
        const metrics = rows.find((row) => row.name === CAMPAIGN_METRICS);
        return rows.every((row) => row.state === 'running' && row.worker === survivorId) &&
          metrics &&
          BigInt(metrics.position) >= lastPosition
          ? rows
          : undefined;
      },
      'the surviving worker to run every projection up to the last event',
      () => lastStatus,
      20_000,
    );
    expect(positionAtKill).toBeLessThan(lastPosition);
    const job = `projection:${CAMPAIGN_METRICS}`;
    const victimTokens = victim.logLines
      .filter((line) => line.msg === 'lease taken' && line.job === job)
      .map((line) => line.token as number);
    expect(victimTokens.length).toBeGreaterThan(0);
    await survivor.waitForLog(
      (line) =>
        line.msg === 'lease taken' &&
        line.job === job &&
        (line.token as number) > Math.max(...victimTokens),
      `"lease taken" for ${job} with a token above ${Math.max(...victimTokens)}`,
      5000,
    );

    // And every event counts exactly once, on either API.
    const minPosition = lastPosition.toString();
    expect(await campaignTotals(apiA, minPosition)).toEqual(expected);
    expect(await campaignTotals(apiB, minPosition)).toEqual(expected);

    // And each subscriber saw the totals grow, never past the truth, up to the final ones.
    const reachedTotals = (values: readonly MetricsPush[]) => {
      const last = values.length > 0 ? pushedTotals(values.at(-1) as MetricsPush) : undefined;
      return last?.clicks === expected.clicks && last.impressions === expected.impressions;
    };
    const received = await Promise.all(
      pushes.map(async (iterator, index) => [
        ...(firstPushes[index] ?? []),
        ...(await takeUntil(iterator, reachedTotals, 10_000)),
      ]),
    );
    for (const values of received) {
      const seen = values.map(pushedTotals);
      expect(seen.length).toBeGreaterThan(1);
      expect(seen.at(-1)).toEqual(expected);
      for (const [index, totals] of seen.entries()) {
        const previous = seen[index - 1] ?? { clicks: 0, impressions: 0 };
        expect(totals.clicks).toBeGreaterThanOrEqual(previous.clicks);
        expect(totals.impressions).toBeGreaterThanOrEqual(previous.impressions);
        expect(totals.clicks).toBeLessThanOrEqual(expected.clicks);
        expect(totals.impressions).toBeLessThanOrEqual(expected.impressions);
      }
    }

    // And a batch sent again (same messageIds) through the other API changes nothing.
    const resent = await postBatch(apiB, trackingBatch(0));
    expect(resent).toBeLessThanOrEqual(lastPosition);
    expect(await campaignTotals(apiB, minPosition)).toEqual(expected);
    expect((await status()).every((row) => BigInt(row.headPosition) === lastPosition)).toBe(true);
  }, 70_000);
});
