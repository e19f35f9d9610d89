/**
 * `npm run bench` — scale-out: Touchline as separate processes on one data directory (the
 * embedded stores), started with `touchline serve --role api|projector` as in production.
 *
 * 1. Ingestion throughput: the same traffic (10,000 contacts, batches of 500) posted to
 *    /v1/batch through 1 API process, then through 2 (a fresh data directory each, one
 *    projector process beside them, the same number of requests in flight in total).
 *    Reports events/s accepted for each and the ratio.
 * 2. Subscription delivery across instances: a `campaignMetricsUpdated` subscriber on API B;
 *    one `Promotion Viewed` at a time posted to API A; the time from A's acknowledgement to
 *    B's message (through the projector process's commit, the read store's commit notice,
 *    and B's read of the fresh totals). Reports p50 / p99.
 */
import { HttpPoster } from './support/http-poster';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  runTouchline,
  startTouchline,
  type TouchlineProcess,
} from '../test/support/touchline-process';
import { batchBodies } from './support/traffic-log';
import { fmt, percentile } from './support/figures';

const BATCH_SIZE = 500;
const CONTACTS = 10_000;
/** Requests in flight at once in total, whatever the number of API processes. */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const LATENCY_SAMPLES = 200;

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

async function main(): Promise<void> {
  const { bodies, messages } = batchBodies({
    seed: 1,
    day: '2026-11-20T00:00:00.000Z',
    contacts: CONTACTS,
    batchSize: BATCH_SIZE,
  });
  console.log(
    `traffic: ${messages} messages in ${bodies.length} batches of ${BATCH_SIZE}, ${CONCURRENCY} requests in flight`,
  );

  // The API processes alone first: what a second one adds to ingestion itself.
  const alone = {
    one: await withCluster(1, (cluster) => ingest(cluster, bodies), { projector: false }),
    two: await withCluster(2, (cluster) => ingest(cluster, bodies), { projector: false }),
  };
  console.log(
    `without a projector: 1 API process ${fmt(alone.one)}, 2 API processes ${fmt(alone.two)} events/s accepted`,
  );
  const one = await withCluster(1, (cluster) => ingest(cluster, bodies));
  console.log(`1 API process: ${fmt(one)} events/s accepted`);
  let latencies: number[] = [];
  const two = await withCluster(2, async (cluster) => {
    const rate = await ingest(cluster, bodies);
    // Measured on a quiet system: every projection has applied the traffic.
    await caughtUp(cluster);
    latencies = await deliveryLatencies(cluster);
    return rate;
  });
  console.log(`2 API processes: ${fmt(two)} events/s accepted`);

  console.log('');
  console.log('| measure | value |');
  console.log('|---|---|');
  console.log(`| accepted, 1 API process, no projector (baseline) | ${fmt(alone.one)} events/s |`);
  console.log(`| accepted, 2 API processes, no projector | ${fmt(alone.two)} events/s |`);
  console.log(`| 2 / 1, no projector | ${(alone.two / alone.one).toFixed(2)} |`);
  console.log(`| accepted, 1 API process + 1 projector (baseline) | ${fmt(one)} events/s |`);
  console.log(`| accepted, 2 API processes + 1 projector | ${fmt(two)} events/s |`);
  console.log(`| 2 / 1, with the projector | ${(two / one).toFixed(2)} |`);
  console.log(
    `| subscription delivery A → B, p50 | ${percentile(latencies, 50).toFixed(1)} ms (${latencies.length} samples) |`,
  );
  console.log(`| subscription delivery A → B, p99 | ${percentile(latencies, 99).toFixed(1)} ms |`);
  console.log(`| cores on this machine | ${os.cpus().length} |`);
}

interface Cluster {
  readonly apis: readonly string[];
  readonly ownerKey: string;
}

/** `apiCount` API processes and (unless told not to) a projector process on a fresh data directory. */
async function withCluster<T>(
  apiCount: number,
  work: (cluster: Cluster) => Promise<T>,
  options: { readonly projector: boolean } = { projector: true },
): Promise<T> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-scale-'));
  // TOUCHLINE_* settings given to the benchmark reach the processes (the launcher passes
  // its own environment on); these are the cluster's own.
  const env = {
    TOUCHLINE_DATA_DIR: dataDir,
    TOUCHLINE_HOST: '127.0.0.1',
    TOUCHLINE_PORT: '0',
    TOUCHLINE_LOG_LEVEL: 'info',
    TOUCHLINE_RATE_LIMIT_INGEST: '0',
  };
  const processes: TouchlineProcess[] = [];
  try {
    const init = await runTouchline(['init', '--workspace', 'bench'], env);
    const ownerKey = /^tl\.\S+$/m.exec(init.stdout)?.[0];
    if (!ownerKey) throw new Error(`touchline init printed no key:\n${init.stdout}${init.stderr}`);
    if (options.projector) {
      const projector = startTouchline('projector', ['serve', '--role', 'projector'], env);
      processes.push(projector);
      await projector.waitForLog(
        (line) => line.msg === 'projector worker started',
        'its start',
        60_000,
      );
    }
    const apis: string[] = [];
    for (let i = 0; i < apiCount; i++) {
      const api = startTouchline(`api ${i + 1}`, ['serve', '--role', 'api'], env);
      processes.push(api);
      const listening = await api.waitForLog(
        (line) => line.msg === 'touchline is listening',
        'its start',
        60_000,
      );
      apis.push(String(listening.url));
    }
    return await work({ apis, ownerKey });
  } finally {
    await Promise.all(processes.map((child) => child.stop(10_000)));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Posts every batch, spread round robin over the API processes; answers events/s accepted. */
async function ingest(cluster: Cluster, bodies: readonly string[]): Promise<number> {
  const urls = cluster.apis.map((api) => api.replace(/\/graphql$/, '/v1/batch'));
  const authorization = `Bearer ${cluster.ownerKey}`;
  let next = 0;
  let accepted = 0;
  const poster = new HttpPoster(CONCURRENCY);
  const started = performance.now();
  const sender = async () => {
    while (next < bodies.length) {
      const index = next++;
      const response = await poster.post(
        urls[index % urls.length] as string,
        bodies[index] as string,
        {
          authorization,
        },
      );
      if (response.status !== 200) throw new Error(`batch ${index}: HTTP ${response.status}`);
      accepted += (response.body as { accepted: number }).accepted;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, sender));
  poster.close();
  return accepted / ((performance.now() - started) / 1000);
}

/**
 * Milliseconds from API A's acknowledgement of a tracked event to the fresh campaign totals
 * arriving at a subscriber on API B, one event at a time, once ingestion has been projected.
 */
async function deliveryLatencies(cluster: Cluster): Promise<number[]> {
  const [a, b] = cluster.apis;
  const campaignId = 'latency-probe';
  const client = createClient({
    url: b.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${cluster.ownerKey}` },
  });
  const arrivals: number[] = [];
  let arrived: (() => void) | null = null;
  const stop = client.subscribe(
    {
      query: `subscription { campaignMetricsUpdated(campaignId: "${campaignId}") { campaignId } }`,
    },
    {
      next: () => {
        arrivals.push(performance.now());
        arrived?.();
      },
      error: (error) => console.error('subscription failed', error),
      complete: () => undefined,
    },
  );
  try {
    // The subscription is live once a probe reaches it (a subscribe is not acknowledged).
    const track = (id: string) =>
      fetch(a.replace(/\/graphql$/, '/v1/track'), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${cluster.ownerKey}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          type: 'track',
          userId: `probe-${id}`,
          messageId: `probe-${id}`,
          event: 'Promotion Viewed',
          properties: { campaign_id: campaignId, promotion_id: 'probe' },
        }),
      }).then((response) => {
        if (!response.ok) throw new Error(`track: HTTP ${response.status}`);
      });
    await waitFor(
      () => arrivals.length > 0,
      async (attempt) => track(`warm-${attempt}`),
    );
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const before = arrivals.length;
      const message = new Promise<void>((resolve) => {
        arrived = () => {
          if (arrivals.length > before) resolve();
        };
      });
      await track(`sample-${i}`);
      const acknowledged = performance.now();
      await withTimeout(message, 10_000, `update ${i} on API B`);
      latencies.push(arrivals[arrivals.length - 1] - acknowledged);
    }
    return latencies;
  } finally {
    stop();
    await client.dispose();
  }
}

/** Resolves once no projection has an event left to apply (asked of the first API). */
async function caughtUp(cluster: Cluster): Promise<void> {
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline) {
    const response = await fetch(cluster.apis[0], {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.ownerKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ projections { lagMs } }' }),
    });
    const answer = (await response.json()) as { data?: { projections: { lagMs: number }[] } };
    if (answer.data?.projections.every((projection) => projection.lagMs === 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the projections did not catch up in 10 minutes');
}

/** Calls `poke` every 200 ms until `done`, for at most 30 s. */
async function waitFor(
  done: () => boolean,
  poke: (attempt: number) => Promise<void>,
): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    if (done()) return;
    await poke(attempt);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (!done()) throw new Error('the subscriber on API B heard nothing in 30 s');
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
