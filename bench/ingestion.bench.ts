/**
 * `npm run bench` — ingestion: a day of realistic Segment traffic (10,000 contacts, mixed
 * event types) posted to /v1/batch in batches of 500 over HTTP on loopback, against the
 * raw rate of inserting the same rows straight into SQLite in the same run.
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
import { startServer } from '../src/infra/server';
import { generateTraffic, toBatches } from '../test/support/traffic';
import { workspaceKey } from './support/workspace-key';
import { fmt, percentile } from './support/figures';

const BATCH_SIZE = 500;
const CONTACTS = 10_000;
const PACED_RATE = 20_000;
const PACED_SECONDS = 10;
/** Requests in flight at once, as from many SDK clients posting batches in parallel. */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

interface LoadPlan {
  readonly url: string;
  /** The Authorization header of every batch: an ingest key, as Segment SDKs send it. */
  readonly authorization: string;
  readonly bodies: string[];
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
  const day = generateTraffic({
    seed: 1,
    contacts: CONTACTS,
    day: '2026-11-20T00:00:00.000Z',
    retryShare: 0,
    orderResendShare: 0,
  });
  const bodies = toBatches(day.messages, BATCH_SIZE).map((batch) => JSON.stringify(batch));
  const events = day.messages.length;
  console.log(
    `traffic: ${events} messages from ${CONTACTS} contacts in ${bodies.length} batches of ${BATCH_SIZE}`,
  );

  const raw = await rawInsertRate(bodies);
  console.log(`raw SQLite insert of the same rows: ${fmt(raw)} events/s`);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-bench-'));
  // The bench sends one key's traffic as fast as the server takes it: no per-key limit,
  // unless the benchmark is given one.
  const config = benchConfig(dataDir, { TOUCHLINE_RATE_LIMIT_INGEST: '0' });
  const server = await startServer(config, createLogger('silent'));
  const ingestUrl = server.url.replace(/\/graphql$/, '/v1/batch');
  try {
    const ingestKey = await workspaceKey(server, 'bench', 'ingest');
    const authorization = `Basic ${Buffer.from(`${ingestKey}:`).toString('base64')}`;
    const started = Date.now();
    const load = await runLoad({
      url: ingestUrl,
      authorization,
      bodies,
      concurrency: CONCURRENCY,
      batchesPerSecond: 0,
    });
    const head = await server.eventStore.headPosition();
    await server.manager.waitForPosition(head, 600_000, ['campaign-metrics']);
    const projectedSeconds = (Date.now() - started) / 1000;
    const acceptedRate = load.accepted / load.seconds;
    console.log(
      `accepted over HTTP: ${fmt(acceptedRate)} events/s (${load.accepted} in ${load.seconds.toFixed(2)} s, ${load.failures} failed batches; batch p50 ${percentile(load.latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(load.latenciesMs, 99).toFixed(1)} ms)`,
    );
    console.log(
      `projected into campaign metrics: ${fmt(load.accepted / projectedSeconds)} events/s (caught up ${projectedSeconds.toFixed(2)} s after the first batch)`,
    );
    // The paced phase starts from a quiet system: every projection caught up.
    await server.manager.waitForPosition(head, 600_000);
    console.log(
      `all projections caught up ${((Date.now() - started) / 1000).toFixed(2)} s after the first batch`,
    );

    const paced = generateTraffic({
      seed: 2,
      contacts: CONTACTS,
      day: '2026-11-21T00:00:00.000Z',
      retryShare: 0,
      orderResendShare: 0,
    });
    const pacedBodies = toBatches(paced.messages, BATCH_SIZE)
      .slice(0, (PACED_RATE * PACED_SECONDS) / BATCH_SIZE)
      .map((batch) => JSON.stringify(batch));
    const lag = await measureLag(server, {
      url: ingestUrl,
      authorization,
      bodies: pacedBodies,
      // Enough senders that a slow answer never holds back the schedule.
      concurrency: 32,
      batchesPerSecond: PACED_RATE / BATCH_SIZE,
    });

    const ratio = acceptedRate / raw;
    console.log('');
    console.log('| measure | value | target |');
    console.log('|---|---|---|');
    console.log(`| raw SQLite insert (baseline) | ${fmt(raw)} events/s | |`);
    console.log(`| accepted over HTTP (durably appended) | ${fmt(acceptedRate)} events/s | |`);
    console.log(
      `| accepted / raw | ${ratio.toFixed(2)} | ≥ 0.50 ${ratio >= 0.5 ? 'met' : 'MISSED'} |`,
    );
    console.log(
      `| projected into campaign metrics | ${fmt(load.accepted / projectedSeconds)} events/s | |`,
    );
    console.log(`| paced load sent | ${fmt(lag.sentRate)} events/s | ${fmt(PACED_RATE)} |`);
    console.log(`| metrics lag while paced: max | ${lag.maxLagMs} ms | bounded |`);
    console.log(
      `| caught up after the paced load ended | ${lag.catchUpMs} ms | bounded ${lag.catchUpMs <= 5000 && lag.maxLagMs <= 10_000 ? 'met' : 'MISSED'} |`,
    );
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
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

async function measureLag(server: Awaited<ReturnType<typeof startServer>>, plan: LoadPlan) {
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
  const latenciesMs: number[] = [];
  let accepted = 0;
  let failures = 0;
  let nextBatch = 0;
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const index = nextBatch++;
      if (index >= plan.bodies.length) return;
      if (plan.batchesPerSecond > 0) {
        const due = started + (index * 1000) / plan.batchesPerSecond;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      const sent = performance.now();
      const response = await fetch(plan.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: plan.bodies[index],
      });
      const result = (await response.json()) as { accepted?: number };
      latenciesMs.push(performance.now() - sent);
      if (response.ok) accepted += result.accepted ?? 0;
      else failures += 1;
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
  return { seconds: (performance.now() - started) / 1000, accepted, failures, latenciesMs };
}
