/**
 * `npm run bench` — ingestion: a day of realistic Segment traffic (10,000 contacts, mixed
 * event types) posted to /v1/batch in batches of 500 over HTTP on loopback, against the
 * raw rate of inserting the same rows straight into SQLite in the same run. The baseline and
 * the server take turns for BENCH_ROUNDS rounds (default 5), each server on a fresh data
 * directory: this machine's speed drifts by ±15 % between minutes, which one pair of runs
 * would mistake for a difference. Each server round is compared with the mean of the
 * baselines just before and just after it, and the ratio reported is the rounds' median.
 *
 * Reports: events/s accepted (durably appended), events/s projected into the campaign
 * metrics, the ratio to the raw insert rate (target ≥ 0.5), and the projector's lag while
 * traffic arrives at a steady 20,000 events/s (target: bounded, caught up soon after).
 * The load generator runs in a worker thread so it does not share the server's event loop.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { parseBatch } from '../src/domain/tracking/ingestion';
import { contactStreamId } from '../src/domain/tracking/tracking.events';
import { benchConfig } from './support/bench-config';
import { SqliteEventStore } from '../src/infra/event-store/sqlite-event-store';
import { trackingEventId } from '../src/infra/ingestion/tracking-event-id';
import { createLogger } from '../src/infra/logger';
import { type RunningServer, startServer } from '../src/infra/server';
import { workspaceKey } from './support/workspace-key';
import { fmt, percentile } from './support/figures';
import { HttpPoster } from './support/http-poster';
import { batchBodies } from './support/traffic-log';

const BATCH_SIZE = 500;
const CONTACTS = 10_000;
const PACED_RATE = 20_000;
const PACED_SECONDS = 10;
/** Server runs, each between two baseline runs. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Requests in flight at once, as from many SDK clients posting batches in parallel. */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

interface LoadPlan {
  readonly url: string;
  /** The Authorization header of every batch: an ingest key, as Segment SDKs send it. */
  readonly authorization: string;
  readonly bodies: readonly string[];
  readonly concurrency: number;
  /** Batches per second; 0 = as fast as the server answers. */
  readonly batchesPerSecond: number;
}

interface LoadReport {
  readonly seconds: number;
  readonly accepted: number;
  readonly failures: number;
  readonly latenciesMs: number[];
}

if (!isMainThread) {
  void generateLoad(workerData as LoadPlan).then((report) => parentPort?.postMessage(report));
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

async function main(): Promise<void> {
  const { bodies, messages } = batchBodies({
    seed: 1,
    day: '2026-11-20T00:00:00.000Z',
    contacts: CONTACTS,
    batchSize: BATCH_SIZE,
  });
  console.log(
    `traffic: ${messages} messages from ${CONTACTS} contacts in ${bodies.length} batches of ${BATCH_SIZE}`,
  );

  // The machine's speed drifts from minute to minute (a shared VM): the baseline and the
  // server take turns, and the medians are compared.
  const rounds: Round[] = [];
  let server: RunningServer | undefined;
  let authorization = '';
  const dataDirs: string[] = [];
  try {
    for (let index = 0; index < ROUNDS; index++) {
      await server?.stop();
      const raw = await rawInsertRate(bodies);
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-bench-'));
      dataDirs.push(dataDir);
      // The bench sends one key's traffic as fast as the server takes it: no per-key limit,
      // unless the benchmark is given one.
      server = await startServer(
        benchConfig(dataDir, { TOUCHLINE_RATE_LIMIT_INGEST: '0' }),
        createLogger('silent'),
      );
      const ingestKey = await workspaceKey(server, 'bench', 'ingest');
      authorization = `Basic ${Buffer.from(`${ingestKey}:`).toString('base64')}`;
      const round = await acceptDay(server, authorization, bodies, raw);
      rounds.push(round);
    }
    if (!server) throw new Error('no rounds were run');
    // The baseline after the last round (its server idle, every projection caught up).
    const rawAfter = await rawInsertRate(bodies);
    rounds.forEach((round, index) => {
      const after = rounds[index + 1]?.rawBefore ?? rawAfter;
      round.raw = (round.rawBefore + after) / 2;
      console.log(
        `round ${index + 1}: raw ${fmt(round.rawBefore)} before and ${fmt(after)} after, accepted ${fmt(round.accepted)} events/s (${(round.accepted / round.raw).toFixed(2)} × their mean; batch p50 ${round.p50Ms.toFixed(1)} ms, p99 ${round.p99Ms.toFixed(1)} ms), projected into campaign metrics ${fmt(round.projected)} events/s, all projections caught up after ${round.allCaughtUpSeconds.toFixed(1)} s`,
      );
    });

    const pacedBodies = batchBodies({
      seed: 2,
      day: '2026-11-21T00:00:00.000Z',
      contacts: CONTACTS,
      batchSize: BATCH_SIZE,
    }).bodies.slice(0, (PACED_RATE * PACED_SECONDS) / BATCH_SIZE);
    const ingestUrl = server.url.replace(/\/graphql$/, '/v1/batch');
    const lag = await measureLag(server, {
      url: ingestUrl,
      authorization,
      bodies: pacedBodies,
      // Enough senders that a slow answer never holds back the schedule.
      concurrency: 32,
      batchesPerSecond: PACED_RATE / BATCH_SIZE,
    });

    const raw = median(rounds.map((round) => round.raw));
    const accepted = median(rounds.map((round) => round.accepted));
    const ratios = rounds.map((round) => round.accepted / round.raw);
    const ratio = median(ratios);
    console.log('');
    console.log(`| measure (median of ${rounds.length} rounds) | value | target |`);
    console.log('|---|---|---|');
    console.log(`| raw SQLite insert (baseline) | ${fmt(raw)} events/s | |`);
    console.log(`| accepted over HTTP (durably appended) | ${fmt(accepted)} events/s | |`);
    console.log(
      `| accepted / raw (median of the rounds) | ${ratio.toFixed(2)} (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')}) | ≥ 0.50 ${ratio >= 0.5 ? 'met' : 'MISSED'} |`,
    );
    console.log(
      `| projected into campaign metrics | ${fmt(median(rounds.map((round) => round.projected)))} events/s | |`,
    );
    console.log(
      `| all projections caught up after the first batch | ${median(rounds.map((round) => round.allCaughtUpSeconds)).toFixed(1)} s | |`,
    );
    console.log(`| paced load sent | ${fmt(lag.sentRate)} events/s | ${fmt(PACED_RATE)} |`);
    console.log(`| metrics lag while paced: max | ${lag.maxLagMs} ms | bounded |`);
    console.log(
      `| caught up after the paced load ended | ${lag.catchUpMs} ms | bounded ${lag.catchUpMs <= 5000 && lag.maxLagMs <= 10_000 ? 'met' : 'MISSED'} |`,
    );
  } finally {
    await server?.stop();
    for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface Round {
  /** Events/s of the baseline just before the server's turn. */
  readonly rawBefore: number;
  /** The mean of the baselines just before and just after the server's turn. */
  raw: number;
  readonly accepted: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Events/s from the first batch to campaign metrics holding the last. */
  readonly projected: number;
  readonly allCaughtUpSeconds: number;
}

/** Posts the day as fast as the server answers, then waits for the projections. */
async function acceptDay(
  server: RunningServer,
  authorization: string,
  bodies: readonly string[],
  raw: number,
): Promise<Round> {
  const started = Date.now();
  const load = await runLoad({
    url: server.url.replace(/\/graphql$/, '/v1/batch'),
    authorization,
    bodies,
    concurrency: CONCURRENCY,
    batchesPerSecond: 0,
  });
  if (load.failures > 0) throw new Error(`${load.failures} batches failed`);
  const head = await server.eventStore.headPosition();
  await server.manager.waitForPosition(head, 600_000, ['campaign-metrics']);
  const projectedSeconds = (Date.now() - started) / 1000;
  // The next round, or the paced phase, starts from a quiet system: every projection caught up.
  await server.manager.waitForPosition(head, 600_000);
  return {
    rawBefore: raw,
    raw,
    accepted: load.accepted / load.seconds,
    p50Ms: percentile(load.latenciesMs, 50),
    p99Ms: percentile(load.latenciesMs, 99),
    projected: load.accepted / projectedSeconds,
    allCaughtUpSeconds: (Date.now() - started) / 1000,
  };
}

function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * The baseline: the rows Touchline would store for the same messages (stream, revision,
 * event id, type, JSON data and metadata), inserted with prepared statements in one
 * transaction per batch into a table with the event store's own schema and settings.
 */
async function rawInsertRate(bodies: readonly string[]): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-raw-'));
  const file = path.join(dir, 'raw.sqlite');
  await SqliteEventStore.open({ path: file }).close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const revisions = new Map<string, number>();
  const batches = bodies.map((body) =>
    parseBatch(JSON.parse(body), {
      receivedAt: new Date(),
      keepReceivedAt: false,
      newMessageId: () => 'unused',
    }).accepted.map(({ event, streamIdentity }) => {
      const streamId = contactStreamId('bench', streamIdentity);
      const revision = revisions.get(streamId) ?? 0;
      revisions.set(streamId, revision + 1);
      return {
        stream: streamId,
        revision,
        id: trackingEventId('bench', event.data.messageId),
        type: event.type,
        data: JSON.stringify(event.data),
        metadata: JSON.stringify({
          workspaceId: 'bench',
          schemaVersion: 1,
          messageId: event.data.messageId,
        }),
      };
    }),
  );
  const insert = db.prepare(
    'INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const insertBatch = db.transaction((rows: (typeof batches)[number]) => {
    for (const row of rows)
      insert.run(row.stream, row.revision, row.id, row.type, row.data, row.metadata, Date.now());
  });
  const started = process.hrtime.bigint();
  let count = 0;
  for (const rows of batches) {
    insertBatch(rows);
    count += rows.length;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return count / seconds;
}

async function measureLag(server: RunningServer, plan: LoadPlan) {
  let maxLagMs = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const status = (await server.manager.status()).find((s) => s.name === 'campaign-metrics');
      // lagMs: age of the oldest event the metrics still have to apply (positions would
      // overstate it: the log also holds events the metrics do not read).
      if (status && status.lagMs > maxLagMs) maxLagMs = status.lagMs;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  const load = await runLoad(plan);
  const ended = Date.now();
  const head = await server.eventStore.headPosition();
  await server.manager.waitForPosition(head, 600_000, ['campaign-metrics']);
  const catchUpMs = Date.now() - ended;
  sampling = false;
  await sampler;
  return {
    sentRate: load.accepted / load.seconds,
    maxLagMs,
    catchUpMs,
  };
}

function runLoad(plan: LoadPlan): Promise<LoadReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(__filename, { workerData: plan });
    worker.once('message', (report: LoadReport) => {
      resolve(report);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

async function generateLoad(plan: LoadPlan): Promise<LoadReport> {
  const { authorization } = plan;
  const bodies = plan.bodies.map((body) => Buffer.from(body));
  const poster = new HttpPoster(plan.concurrency);
  const latenciesMs: number[] = [];
  let accepted = 0;
  let failures = 0;
  let nextBatch = 0;
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const index = nextBatch++;
      if (index >= bodies.length) return;
      if (plan.batchesPerSecond > 0) {
        const due = started + (index * 1000) / plan.batchesPerSecond;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      const sent = performance.now();
      const response = await poster.post(plan.url, bodies[index] as Buffer, { authorization });
      latenciesMs.push(performance.now() - sent);
      if (response.status === 200) accepted += (response.body as { accepted: number }).accepted;
      else failures += 1;
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
  poster.close();
  return { seconds: (performance.now() - started) / 1000, accepted, failures, latenciesMs };
}
