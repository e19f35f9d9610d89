/**
 * `npm run bench:segments` — segments at scale (issue 6): 100,000 contacts, 50 dynamic
 * segments, and a live stream of 10,000 events/s. Does membership keep up?
 *
 * 1. Setup log: every contact identified (plan, country, score, signedUpAt, email) with about
 *    three track / page events over the previous 30 days, then 50 `SegmentCreated` whose trees
 *    use every kind of condition.
 * 2. Back-fill: the segments projection alone projects the setup, then clock ticks drive the
 *    back-fills (20,000 contacts per tick) until every segment has finished.
 * 3. Live stream: a worker thread (as ingestion runs beside the projector thread in the server)
 *    appends a paced live mix (70% track, 20% page, 10% identify) plus a tick a second, while
 *    the projection's lag is sampled every 250 ms.
 * 4. Backlog: 100,000 live-mix events appended while the projection is stopped, then the time
 *    it takes to catch up (its maximum sustainable rate).
 * The baseline, in the same run: phases 3 and 4 with the contacts projection alone (the profile
 * the segments projection builds too) over a copy of the same setup.
 *
 * Environment: BENCH_LOG=<file> keeps the setup log between runs (it is copied, never appended
 * to); BENCH_STATE=<dir> keeps the segments' log and read store as the back-fill left them
 * (copied too), so that a later run goes straight to phase 3 — for working on the live path,
 * within hours of the first run (the setup's windows are relative to when it was written);
 * BENCH_SECONDS (30), BENCH_RATE (10000), BENCH_CONTACTS (100000), BENCH_BACKLOG (100000);
 * BENCH_MONGO_URL=<url> puts both read models in MongoDB (the production read store; a
 * database of its own for the run, dropped at the end) instead of the embedded store, and
 * then BENCH_STATE does not apply.
 */
import { MongoClient } from 'mongodb';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { parseConditionTree } from '../src/domain/segment/condition-tree';
import type { SegmentClockTicked, SegmentCreated } from '../src/domain/segment/segment.events';
import { segmentClockStreamId, segmentStreamId } from '../src/domain/segment/segment.stream';
import { parseBatch } from '../src/domain/tracking/ingestion';
import { contactStreamId } from '../src/domain/tracking/tracking.events';
import { ExpectedRevision, type StreamWrite } from '../src/infra/event-store/event-store';
import { SqliteEventStore } from '../src/infra/event-store/sqlite-event-store';
import { trackingEventId } from '../src/infra/ingestion/tracking-event-id';
import { createLogger } from '../src/infra/logger';
import { ChangeFeed } from '../src/infra/projections/change-feed';
import { checkpointName, ProjectionManager } from '../src/infra/projections/projection-manager';
import { hasReached } from '../src/infra/projections/reaching';
import { EmbeddedReadStore } from '../src/infra/read-store/embedded-read-store';
import { MongoReadStore } from '../src/infra/read-store/mongo-read-store';
import { contactsProjection } from '../src/projections/contacts/contacts.projection';
import type { Projection } from '../src/projections/projection';
import type { ReadStore } from '../src/projections/read-store';
import {
  segmentCatalogCollection,
  segmentChangesCollection,
  segmentContactsCollection,
  type SegmentCatalogDocument,
} from '../src/projections/segments/segment-documents';
import { previewSegment } from '../src/projections/segments/segment-preview';
import type { SegmentCollection } from '../src/projections/segments/segment-query';
import { segmentsProjection } from '../src/projections/segments/segments.projection';
import { random } from '../test/support/traffic';
import { fmt, percentile } from './support/figures';
import { StoreTime, type StoreTimeFigures } from './support/store-time';

const WORKSPACE = 'bench';
const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 100_000);
const RATE = Number(process.env.BENCH_RATE ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 100_000);
const MONGO_URL = process.env.BENCH_MONGO_URL;
/** The paced stream appends every 50 ms (500 events at 10,000 events/s: one commit each). */
const INTERVAL_MS = 50;
const SAMPLE_MS = 250;
const BATCH_SIZE = 500;
/** "Lag bounded": the worst sampled lag, and the catch-up once the stream stops. */
const MAX_LAG_MS = 5_000;
const MAX_CATCH_UP_MS = 5_000;
const DAY = 24 * 60 * 60 * 1000;
const SETUP_SEED = 6;
const LIVE_SEED = 7;
const BACKLOG_SEED = 8;

/** A Segment call as the benchmark sends it; live calls carry no timestamp (event time = arrival). */
interface BenchMessage {
  readonly type: 'track' | 'page' | 'identify';
  readonly messageId: string;
  readonly userId: string;
  readonly timestamp?: string;
  readonly event?: string;
  readonly name?: string;
  readonly properties?: Record<string, unknown>;
  readonly traits?: Record<string, unknown>;
  readonly context?: Record<string, unknown>;
}

/** Where a projection's read model lives (plain data: it goes to the stream worker too). */
type ReadStoreSpec =
  | { readonly kind: 'embedded'; readonly path: string }
  | {
      readonly kind: 'mongo';
      readonly url: string;
      readonly database: string;
      readonly prefix: string;
    };

interface StreamPlan {
  readonly logPath: string;
  /** The read model whose checkpoint says how far the projection has got. */
  readonly readStore: ReadStoreSpec;
  readonly checkpoint: string;
  readonly eventTypes: readonly string[];
  readonly seed: number;
  readonly rate: number;
  readonly seconds: number;
}

/** One look at the projection, from the stream's thread (the projector's may be busy). */
interface Sample {
  /** ms since the stream started. */
  readonly at: number;
  readonly head: bigint;
  readonly position: bigint;
  /** Age of the oldest event the projection has still to apply (ProjectionManager's lagMs). */
  readonly lagMs: number;
}

interface StreamReport {
  readonly appended: number;
  readonly ticks: number;
  readonly seconds: number;
  /** How far the worst append started behind its schedule. */
  readonly maxBehindMs: number;
  readonly appendP50Ms: number;
  readonly appendP99Ms: number;
  readonly samples: readonly Sample[];
  /** From the last append until the projection had applied everything appended. */
  readonly catchUpMs: number;
}

// ---------------------------------------------------------------------------------------------
// The run

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-segments-'));
  const setupFile = process.env.BENCH_LOG ?? path.join(dir, 'setup.sqlite');
  if (fs.existsSync(setupFile)) {
    console.log(`setup: reusing ${setupFile}`);
  } else {
    const started = performance.now();
    const built = await buildSetup(setupFile);
    console.log(
      `setup: ${fmt(built)} contact events (${fmt(CONTACTS)} contacts) written in ${secs(performance.now() - started)} s`,
    );
  }
  const segmentsLog = copyLog(setupFile, path.join(dir, 'segments-events.sqlite'));
  const contactsLog = copyLog(setupFile, path.join(dir, 'contacts-events.sqlite'));

  // One database for the run: the two projections' collections apart by prefix.
  const database = `touchline_bench_segments_${Date.now()}`;
  const readStoreSpec = (name: string): ReadStoreSpec =>
    MONGO_URL
      ? { kind: 'mongo', url: MONGO_URL, database, prefix: `${name}_` }
      : { kind: 'embedded', path: path.join(dir, `${name}-read.sqlite`) };
  console.log(
    `read stores: ${MONGO_URL ? `MongoDB, database ${database}` : 'embedded (SQLite files)'}`,
  );
  try {
    console.log('\n## segments projection');
    const segments = await runSegments(segmentsLog, readStoreSpec('segments'));
    console.log('\n## baseline: contacts projection');
    const contacts = await runContacts(contactsLog, readStoreSpec('contacts'));
    printSummary(segments, contacts);
  } finally {
    if (MONGO_URL) await dropDatabase(MONGO_URL, database);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function openReadStore(spec: ReadStoreSpec): Promise<ReadStore> {
  return spec.kind === 'embedded'
    ? EmbeddedReadStore.open({ path: spec.path })
    : MongoReadStore.connect({
        url: spec.url,
        database: spec.database,
        collectionPrefix: spec.prefix,
      });
}

async function dropDatabase(url: string, database: string): Promise<void> {
  const client = new MongoClient(url);
  try {
    await client.db(database).dropDatabase();
  } finally {
    await client.close();
  }
}

interface SetupFigures {
  readonly events: number;
  readonly seconds: number;
  readonly rssMb: number;
}

interface LiveFigures {
  readonly stream: StreamReport;
  readonly streamed: number;
  /** Events the projection got through while the stream ran, per second. */
  readonly projectedRate: number;
  readonly lagP50: number;
  readonly lagP95: number;
  readonly lagMax: number;
  readonly catchUpMs: number;
  readonly bounded: boolean;
  readonly rssMb: number;
}

interface BacklogFigures {
  readonly events: number;
  readonly seconds: number;
  readonly rate: number;
  /** The projector's time in its read store's commits and reads while it caught up. */
  readonly store: StoreTimeFigures;
  readonly rssMb: number;
}

interface SegmentsFigures {
  /** Null when the setup and back-fill came from BENCH_STATE. */
  readonly setup: SetupFigures | null;
  readonly preview: PreviewFigures;
  readonly backfill: BackfillFigures | null;
  readonly live: LiveFigures;
  readonly backlog: BacklogFigures;
}

interface BackfillFigures {
  /** From appending the definitions until they are projected. */
  readonly definitionSeconds: number;
  /** From appending the definitions until every back-fill has finished. */
  readonly seconds: number;
  readonly ticks: number;
  readonly memberships: number;
  readonly evaluations: number;
  readonly rssMb: number;
}

interface ContactsFigures {
  readonly setup: SetupFigures;
  readonly live: LiveFigures;
  readonly backlog: BacklogFigures;
}

async function runSegments(logPath: string, spec: ReadStoreSpec): Promise<SegmentsFigures> {
  const state = process.env.BENCH_STATE;
  if (state && spec.kind !== 'embedded') {
    console.log('BENCH_STATE keeps the embedded store only: not used with BENCH_MONGO_URL');
  }
  const saved = state &&
    spec.kind === 'embedded' && {
      log: path.join(state, 'events.sqlite'),
      readStore: path.join(state, 'read.sqlite'),
      into: spec.path,
    };
  let built: { setup: SetupFigures; backfill: BackfillFigures } | null = null;
  if (saved && fs.existsSync(saved.readStore)) {
    console.log(`setup and back-fill: reusing ${state}`);
    copyLog(saved.log, logPath);
    copyLog(saved.readStore, saved.into);
  } else {
    built = await setUpSegments(logPath, spec);
    if (saved) {
      fs.mkdirSync(path.dirname(saved.log), { recursive: true });
      copyLog(logPath, saved.log);
      copyLog(saved.into, saved.readStore);
    }
  }
  const eventStore = SqliteEventStore.open({ path: logPath });
  const readStore = await openReadStore(spec);
  const manager = await startManager(eventStore, readStore, segmentsProjection);
  await reach(manager, await eventStore.headPosition());
  // The reopened store loads a collection from its file on first use; a projector that has
  // been running holds those it reads already, so they are loaded here, untimed. It only
  // writes the changes, which stay on disk.
  for (const logical of segmentsProjection.collections) {
    if (logical === segmentChangesCollection) continue;
    await readStore.collection(manager.collection(logical)).count({});
  }
  const preview = await timePreviews(readStore, manager);
  const { live, backlog } = await liveThenBacklog({
    projection: segmentsProjection,
    logPath,
    spec,
    eventStore,
    readStore,
    manager,
  });
  return { setup: built?.setup ?? null, backfill: built?.backfill ?? null, preview, live, backlog };
}

/** Phases 1 and 2: projects the setup, then the definitions and their back-fills; closes both. */
async function setUpSegments(
  logPath: string,
  spec: ReadStoreSpec,
): Promise<{ setup: SetupFigures; backfill: BackfillFigures }> {
  const eventStore = SqliteEventStore.open({ path: logPath });
  const readStore = await openReadStore(spec);
  const manager = await startManager(eventStore, readStore, segmentsProjection);
  const setup = await projectSetup(eventStore, manager);

  const catalog = () =>
    readStore
      .collection<SegmentCatalogDocument>(manager.collection(segmentCatalogCollection))
      .findOne({ _id: WORKSPACE });
  // The definitions come once the contacts are projected, so that each figure is its own.
  const started = performance.now();
  const defined = await eventStore.appendMany(definitionWrites(Date.now()));
  await reach(manager, defined[defined.length - 1].position);
  const definitionSeconds = (performance.now() - started) / 1000;
  console.log(
    `definitions: ${defined.length} segments projected (each drives a back-fill step) in ${secs(definitionSeconds * 1000)} s`,
  );
  let ticks = 0;
  let current = await catalog();
  while (current === null || current.segments.some((s) => s.backfill?.finishedAt === null)) {
    const [{ position }] = await eventStore.appendMany([tickWrite(Date.now())]);
    ticks += 1;
    if (!(await manager.waitForPosition(position, 600_000))) throw new Error('back-fill stalled');
    current = await catalog();
    if (ticks % 25 === 0) {
      const processed = current?.segments.reduce((n, s) => n + (s.backfill?.processed ?? 0), 0);
      console.log(
        `  back-fill: ${ticks} ticks, ${fmt(processed ?? 0)} contact evaluations, ${secs(performance.now() - started)} s`,
      );
    }
  }
  const backfillSeconds = (performance.now() - started) / 1000;
  const memberships = current.segments.reduce((n, s) => n + s.size, 0);
  const evaluations = current.segments.reduce((n, s) => n + (s.backfill?.processed ?? 0), 0);
  const backfill: BackfillFigures = {
    definitionSeconds,
    seconds: backfillSeconds,
    ticks,
    memberships,
    evaluations,
    rssMb: rssMb(),
  };
  console.log(
    `back-fill: all ${current.segments.length} segments finished after ${ticks} ticks in ${secs(backfillSeconds * 1000)} s (${fmt(evaluations)} contact evaluations in all; ${fmt(memberships)} memberships); RSS ${backfill.rssMb} MB`,
  );
  console.log(
    `  sizes: ${current.segments.map((s) => `${s.segmentId} ${fmt(s.size)}`).join(', ')}`,
  );
  await manager.stop();
  await readStore.close();
  await eventStore.close();
  return { setup, backfill };
}

interface PreviewFigures {
  /** Per tree: its label, the size it selects, the contacts evaluated, p50 and worst ms. */
  readonly trees: readonly {
    label: string;
    size: number;
    evaluated: number;
    p50Ms: number;
    maxMs: number;
  }[];
  /** Baseline: reading every profile of the workspace once, evaluating nothing (ms). */
  readonly readAllMs: number;
}

/**
 * `previewSegment` (the query behind GraphQL's previewSegment; target: 2 s for 100,000
 * contacts) timed 5 times for three unsaved trees, against reading every profile once.
 */
async function timePreviews(
  readStore: ReadStore,
  manager: ProjectionManager,
): Promise<PreviewFigures> {
  const collection: SegmentCollection = (logical) =>
    readStore.collection(manager.collection(logical));
  const trees: [string, unknown][] = [
    [
      'trait: plan in pro, team',
      { kind: 'trait', property: 'plan', operator: 'in', value: ['pro', 'team'] },
    ],
    [
      'behaviour: Product Viewed ≥ 2 in 7 days',
      {
        kind: 'performed',
        event: 'Product Viewed',
        count: { op: 'atLeast', value: 2 },
        window: { lastDays: 7 },
      },
    ],
    [
      'memberOf + revenue',
      {
        kind: 'and',
        conditions: [
          { kind: 'memberOf', segmentId: segmentId(1) },
          { kind: 'totalRevenue', currency: 'USD', op: 'gte', value: 20 },
        ],
      },
    ],
  ];
  const figures: PreviewFigures['trees'][number][] = [];
  for (const [label, input] of trees) {
    const tree = parseConditionTree(input);
    const times: number[] = [];
    let result = { size: 0, evaluated: 0 };
    for (let run = 0; run < 5; run += 1) {
      const started = performance.now();
      result = await previewSegment(collection, WORKSPACE, tree, Date.now(), { sampleSize: 20 });
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    figures.push({
      label,
      size: result.size,
      evaluated: result.evaluated,
      p50Ms: times[2],
      maxMs: times[4],
    });
    console.log(
      `preview (${label}): ${fmt(result.size)} of ${fmt(result.evaluated)} contacts; p50 ${fmt(times[2])} ms, worst ${fmt(times[4])} ms`,
    );
  }
  const started = performance.now();
  const all = await collection(segmentContactsCollection).find({ workspaceId: WORKSPACE });
  const readAllMs = performance.now() - started;
  console.log(
    `preview baseline: reading all ${fmt(all.length)} profiles once took ${fmt(readAllMs)} ms`,
  );
  return { trees: figures, readAllMs };
}

async function runContacts(logPath: string, spec: ReadStoreSpec): Promise<ContactsFigures> {
  const eventStore = SqliteEventStore.open({ path: logPath });
  const readStore = await openReadStore(spec);
  const manager = await startManager(eventStore, readStore, contactsProjection);
  const setup = await projectSetup(eventStore, manager);
  const { live, backlog } = await liveThenBacklog({
    projection: contactsProjection,
    logPath,
    spec,
    eventStore,
    readStore,
    manager,
  });
  return { setup, live, backlog };
}

/** Phases 3 and 4 for a running projection; closes both stores. */
async function liveThenBacklog(run: {
  readonly projection: Projection;
  readonly logPath: string;
  readonly spec: ReadStoreSpec;
  readonly eventStore: SqliteEventStore;
  readonly readStore: ReadStore;
  readonly manager: ProjectionManager;
}): Promise<{ live: LiveFigures; backlog: BacklogFigures }> {
  const { projection, eventStore, readStore } = run;
  const live = await runLive(
    {
      logPath: run.logPath,
      readStore: run.spec,
      checkpoint: checkpointName(projection.name, 1),
      eventTypes: projection.eventTypes,
    },
    eventStore,
    run.manager,
    projection.name,
  );
  await run.manager.stop();
  let restarted: ProjectionManager | undefined;
  const storeTime = new StoreTime();
  const backlog = await runBacklog(eventStore, storeTime, async () => {
    restarted = await startManager(eventStore, storeTime.watch(readStore), projection);
    return restarted;
  });
  await restarted?.stop();
  await readStore.close();
  await eventStore.close();
  return { live, backlog };
}

async function startManager(
  eventStore: SqliteEventStore,
  readStore: ReadStore,
  projection: Projection,
): Promise<ProjectionManager> {
  const manager = new ProjectionManager({
    eventStore,
    readStore,
    projections: [projection],
    changeFeed: new ChangeFeed(),
    batchSize: BATCH_SIZE,
    logger: createLogger('silent'),
  });
  await manager.start();
  return manager;
}

async function projectSetup(
  eventStore: SqliteEventStore,
  manager: ProjectionManager,
): Promise<SetupFigures> {
  const head = await eventStore.headPosition();
  const started = performance.now();
  await reach(manager, head);
  const setup = {
    events: Number(head),
    seconds: (performance.now() - started) / 1000,
    rssMb: rssMb(),
  };
  console.log(
    `setup projected: ${fmt(setup.events)} contact events in ${secs(setup.seconds * 1000)} s (${fmt(setup.events / setup.seconds)} events/s); RSS ${setup.rssMb} MB`,
  );
  return setup;
}

async function reach(manager: ProjectionManager, position: bigint): Promise<void> {
  if (!(await manager.waitForPosition(position, 3_600_000))) {
    throw new Error(`the projection did not reach ${position}`);
  }
}

/**
 * The paced stream, appended and watched from a worker thread: the projector's thread is the
 * one under test, and while it works through a batch it would take no sample.
 */
async function runLive(
  plan: Pick<StreamPlan, 'logPath' | 'readStore' | 'checkpoint' | 'eventTypes'>,
  eventStore: SqliteEventStore,
  manager: ProjectionManager,
  label: string,
): Promise<LiveFigures> {
  const report = await new Promise<StreamReport>((resolve, reject) => {
    const worker = new Worker(__filename, {
      workerData: { ...plan, seed: LIVE_SEED, rate: RATE, seconds: SECONDS } satisfies StreamPlan,
    });
    worker.once('message', (message: StreamReport) => {
      resolve(message);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
  await reach(manager, await eventStore.headPosition());

  const { samples } = report;
  const during = samples.filter((sample) => sample.at <= report.seconds * 1000);
  const lags = during.map((sample) => sample.lagMs);
  for (const sample of during.filter((_, i) => i % Math.round(5000 / SAMPLE_MS) === 0)) {
    console.log(
      `  t=${secs(sample.at).padStart(5)} s  head ${sample.head}  position ${sample.position}  behind ${fmt(Number(sample.head - sample.position))} events  lag ${fmt(sample.lagMs)} ms`,
    );
  }
  const first = during[0];
  const last = during[during.length - 1];
  const projectedRate =
    during.length < 2 ? 0 : Number(last.position - first.position) / ((last.at - first.at) / 1000);
  const lagMax = Math.max(0, ...lags);
  const figures: LiveFigures = {
    stream: report,
    streamed: report.appended,
    projectedRate,
    lagP50: percentile(lags, 50),
    lagP95: percentile(lags, 95),
    lagMax,
    catchUpMs: report.catchUpMs,
    bounded: lagMax < MAX_LAG_MS && report.catchUpMs < MAX_CATCH_UP_MS,
    rssMb: rssMb(),
  };
  console.log(
    `live (${label}): offered ${fmt(RATE)} events/s for ${SECONDS} s; appended ${fmt(report.appended)} events + ${report.ticks} ticks at ${fmt(report.appended / report.seconds)} events/s (append p50 ${report.appendP50Ms.toFixed(1)} ms, p99 ${report.appendP99Ms.toFixed(1)} ms, worst ${fmt(report.maxBehindMs)} ms behind schedule)`,
  );
  console.log(
    `live (${label}): projected ${fmt(projectedRate)} events/s while streaming; lag p50 ${fmt(figures.lagP50)} ms, p95 ${fmt(figures.lagP95)} ms, max ${fmt(lagMax)} ms over ${lags.length} samples; caught up ${fmt(report.catchUpMs)} ms after the stream stopped — ${figures.bounded ? 'bounded' : 'NOT bounded'}; RSS ${figures.rssMb} MB`,
  );
  return figures;
}

/** Appends a backlog while no projection runs, then times a fresh start catching up on it. */
async function runBacklog(
  eventStore: SqliteEventStore,
  storeTime: StoreTime,
  restart: () => Promise<ProjectionManager>,
): Promise<BacklogFigures> {
  const messages = liveMessages(BACKLOG_SEED, BACKLOG);
  for (let i = 0; i < messages.length; i += BATCH_SIZE) {
    await eventStore.appendMany(writesOf(messages.slice(i, i + BATCH_SIZE), new Date()));
  }
  const head = await eventStore.headPosition();
  const before = storeTime.snapshot();
  const started = performance.now();
  const manager = await restart();
  await reach(manager, head);
  const seconds = (performance.now() - started) / 1000;
  const store = storeTime.since(before);
  const figures = {
    events: BACKLOG,
    seconds,
    rate: BACKLOG / seconds,
    store,
    rssMb: rssMb(),
  };
  console.log(
    `backlog: ${fmt(BACKLOG)} live-mix events caught up in ${secs(seconds * 1000)} s = ${fmt(figures.rate)} events/s (maximum sustainable rate); RSS ${figures.rssMb} MB`,
  );
  console.log(
    `  in the read store: ${store.commits} commits ${secs(store.commitMs)} s, ${fmt(store.reads)} reads ${secs(store.readMs)} s (${fmt(storeShare(figures))} % of the catch-up); the store alone would allow ${fmt(storeCeiling(figures))} events/s`,
  );
  return figures;
}

// ---------------------------------------------------------------------------------------------
// The stream worker

async function appendPaced(plan: StreamPlan): Promise<void> {
  const eventStore = SqliteEventStore.open({ path: plan.logPath });
  const readStore = await openReadStore(plan.readStore);
  const progress = async () => ({
    position: (await readStore.getCheckpoint(plan.checkpoint))?.position ?? -1n,
    filter: { eventTypes: plan.eventTypes },
  });
  const perAppend = Math.round((plan.rate * INTERVAL_MS) / 1000);
  const appends = Math.round((plan.seconds * 1000) / INTERVAL_MS);
  const ticksEvery = Math.round(1000 / INTERVAL_MS);
  const messages = liveMessages(plan.seed, perAppend * appends);
  const appendMs: number[] = [];
  const samples: Sample[] = [];
  let appended = 0;
  let ticks = 0;
  let maxBehindMs = 0;
  let streaming = true;
  const started = performance.now();
  const sampler = (async () => {
    while (streaming) {
      const { position, filter } = await progress();
      const head = await eventStore.headPosition();
      const [next] = await eventStore.readAll({
        after: position >= 0n ? position : undefined,
        maxCount: 1,
        filter,
      });
      const lagMs = next ? Math.max(0, Date.now() - next.recordedAt.getTime()) : 0;
      samples.push({ at: performance.now() - started, head, position, lagMs });
      await sleep(SAMPLE_MS);
    }
  })();
  for (let i = 0; i < appends; i += 1) {
    const wait = started + i * INTERVAL_MS - performance.now();
    if (wait > 0) await sleep(wait);
    else {
      maxBehindMs = Math.max(maxBehindMs, -wait);
      // Behind schedule: still let the sampler's timer run between appends.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const sent = performance.now();
    const batch = messages.slice(i * perAppend, (i + 1) * perAppend);
    const writes = writesOf(batch, new Date());
    if (i % ticksEvery === 0) {
      writes.push(tickWrite(Date.now()));
      ticks += 1;
    }
    await eventStore.appendMany(writes);
    appendMs.push(performance.now() - sent);
    appended += batch.length;
  }
  const ended = performance.now();
  streaming = false;
  await sampler;
  const head = await eventStore.headPosition();
  while (!(await hasReached(eventStore, await progress(), head))) await sleep(20);
  const report: StreamReport = {
    appended,
    ticks,
    seconds: (ended - started) / 1000,
    maxBehindMs,
    appendP50Ms: percentile(appendMs, 50),
    appendP99Ms: percentile(appendMs, 99),
    samples,
    catchUpMs: performance.now() - ended,
  };
  await readStore.close();
  await eventStore.close();
  parentPort?.postMessage(report);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// The log

/** Segment calls as ingestion stores them: parsed, one write per message to its contact stream. */
function writesOf(messages: readonly BenchMessage[], receivedAt: Date): StreamWrite[] {
  const { accepted, rejected } = parseBatch(
    { batch: messages },
    { receivedAt, keepReceivedAt: false, newMessageId: () => randomUUID() },
  );
  if (rejected.length > 0) throw new Error(`rejected: ${JSON.stringify(rejected[0])}`);
  return accepted.map(({ event, streamIdentity }) => ({
    streamId: contactStreamId(WORKSPACE, streamIdentity),
    events: [
      {
        eventId: trackingEventId(WORKSPACE, event.data.messageId),
        type: event.type,
        data: event.data,
        metadata: { workspaceId: WORKSPACE, schemaVersion: 1 },
      },
    ],
    expected: ExpectedRevision.any,
  }));
}

function tickWrite(at: number): StreamWrite {
  const event: SegmentClockTicked = {
    type: 'SegmentClockTicked',
    data: { at: new Date(at).toISOString() },
  };
  return {
    streamId: segmentClockStreamId(WORKSPACE),
    events: [
      { eventId: randomUUID(), ...event, metadata: { workspaceId: WORKSPACE, schemaVersion: 1 } },
    ],
    expected: ExpectedRevision.any,
  };
}

async function buildSetup(file: string): Promise<number> {
  const eventStore = SqliteEventStore.open({ path: file });
  const messages = setupMessages(Date.now());
  for (let i = 0; i < messages.length; i += BATCH_SIZE) {
    await eventStore.appendMany(writesOf(messages.slice(i, i + BATCH_SIZE), new Date()));
  }
  await eventStore.close();
  return messages.length;
}

/** The 50 `SegmentCreated`, validated as the segment decider would. */
function definitionWrites(at: number): StreamWrite[] {
  const definitions = segmentTrees(at);
  const lookupSegment = (other: string) => {
    const found = definitions.find((definition) => definition.id === other);
    return found ? parseConditionTree(found.tree) : null;
  };
  return definitions.map(({ id, name, tree }) => {
    const event: SegmentCreated = {
      type: 'SegmentCreated',
      data: {
        segmentId: id,
        version: 1,
        definition: {
          name,
          description: null,
          kind: 'dynamic',
          conditions: parseConditionTree(tree, { segmentId: id, lookupSegment }),
        },
        createdAt: new Date(at).toISOString(),
      },
    };
    return {
      streamId: segmentStreamId(WORKSPACE, id),
      events: [
        { eventId: randomUUID(), ...event, metadata: { workspaceId: WORKSPACE, schemaVersion: 1 } },
      ],
      expected: ExpectedRevision.noStream,
    };
  });
}

/** Copies a closed log (its WAL folded in on close) so each projection gets its own. */
function copyLog(from: string, to: string): string {
  // A WAL left beside the target from an earlier copy would be replayed into this one.
  for (const suffix of ['-wal', '-shm']) fs.rmSync(`${to}${suffix}`, { force: true });
  fs.copyFileSync(from, to);
  if (fs.existsSync(`${from}-wal`)) fs.copyFileSync(`${from}-wal`, `${to}-wal`);
  return to;
}

// ---------------------------------------------------------------------------------------------
// Traffic

const plans = ['free', 'pro', 'team'] as const;
const countries = [
  'US',
  'GB',
  'DE',
  'FR',
  'ES',
  'IT',
  'NL',
  'SE',
  'DK',
  'NO',
  'PL',
  'PT',
  'IE',
  'CA',
  'AU',
  'BR',
  'MX',
  'JP',
  'IN',
  'ZA',
] as const;
const emailDomains = ['gmail.com', 'outlook.com', 'acme.io', 'globex.com', 'initech.co.uk'];
const categories = ['electronics', 'books', 'garden', 'toys', 'fashion', 'sports'];
const features = ['reports', 'exports', 'api', 'dashboards', 'alerts'];
const pages = [
  { name: 'Home', path: '/' },
  { name: 'Pricing', path: '/pricing' },
  { name: 'Docs', path: '/docs' },
  { name: 'Blog', path: '/blog/segments' },
  { name: 'Product', path: '/products/widget' },
];
/** The 15 track names, weighted towards browsing as real traffic is. */
const trackNames = [
  'Product Viewed',
  'Product Viewed',
  'Product Viewed',
  'Product Added',
  'Checkout Started',
  'Order Completed',
  'Signed Up',
  'Trial Started',
  'Email Opened',
  'Email Opened',
  'Email Link Clicked',
  'Feature Used',
  'Feature Used',
  'Subscription Upgraded',
  'Support Ticket Created',
  'Webinar Registered',
  'Promotion Viewed',
  'Promotion Clicked',
  'Invite Sent',
];

type Random = () => number;

function pick<T>(next: Random, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)];
}

function trackProperties(next: Random, name: string, id: string): Record<string, unknown> {
  const campaign = `camp-${1 + Math.floor(next() * 5)}`;
  switch (name) {
    case 'Product Viewed':
    case 'Product Added':
      return {
        product_id: `sku-${Math.floor(next() * 500)}`,
        category: pick(next, categories),
        price: Math.round(500 + next() * 49_500) / 100,
      };
    case 'Checkout Started':
      return { cart_value: Math.round(1000 + next() * 30_000) / 100, currency: 'USD' };
    case 'Order Completed':
      return {
        order_id: `order-${id}`,
        revenue: Math.round(1000 + next() * 29_000) / 100,
        currency: next() < 0.8 ? 'USD' : 'EUR',
      };
    case 'Email Opened':
    case 'Email Link Clicked':
      return { campaign_id: campaign, email_id: `${campaign}-newsletter` };
    case 'Promotion Viewed':
    case 'Promotion Clicked':
      return { campaign_id: campaign, promotion_id: `${campaign}-banner` };
    case 'Feature Used':
      return { feature: pick(next, features) };
    case 'Subscription Upgraded':
      return { from: 'free', to: pick(next, ['pro', 'team']) };
    case 'Trial Started':
      return { plan: pick(next, ['pro', 'team']) };
    case 'Signed Up':
      return { method: pick(next, ['email', 'google', 'github']) };
    case 'Support Ticket Created':
      return { priority: pick(next, ['low', 'normal', 'high']) };
    case 'Webinar Registered':
      return { webinar_id: `web-${Math.floor(next() * 10)}` };
    default:
      return { invitees: 1 + Math.floor(next() * 5) };
  }
}

function behaviour(
  next: Random,
  userId: string,
  messageId: string,
  timestamp: string | undefined,
  pageShare: number,
): BenchMessage {
  if (next() < pageShare) {
    const page = pick(next, pages);
    const url = `https://shop.example.com${page.path}`;
    return {
      type: 'page',
      messageId,
      userId,
      timestamp,
      name: page.name,
      properties: { path: page.path, url, title: `${page.name} — Shop` },
      context: { page: { path: page.path, url, title: `${page.name} — Shop` } },
    };
  }
  const event = pick(next, trackNames);
  return {
    type: 'track',
    messageId,
    userId,
    timestamp,
    event,
    properties: trackProperties(next, event, messageId),
  };
}

/** Every contact identified, then 1–5 (about 3) events over the 30 days before `builtAt`. */
function setupMessages(builtAt: number): BenchMessage[] {
  const next = random(SETUP_SEED);
  const messages: BenchMessage[] = [];
  for (let c = 0; c < CONTACTS; c += 1) {
    const userId = `user-${c}`;
    const count = 1 + Math.floor(next() * 5);
    const instants = Array.from(
      { length: count + 1 },
      () => builtAt - Math.floor(next() * 30 * DAY),
    );
    instants.sort((a, b) => a - b);
    messages.push({
      type: 'identify',
      messageId: `setup-${c}-0`,
      userId,
      timestamp: new Date(instants[0]).toISOString(),
      traits: {
        plan: pick(next, plans),
        country: pick(next, countries),
        score: Math.floor(next() * 101),
        signedUpAt: new Date(builtAt - Math.floor(next() * 365 * DAY)).toISOString(),
        email: `${userId}@${pick(next, emailDomains)}`,
        ...(next() < 0.4 ? { company: pick(next, ['Acme', 'Globex', 'Initech', 'Umbrella']) } : {}),
      },
    });
    for (let e = 1; e <= count; e += 1) {
      const at = new Date(instants[e]).toISOString();
      messages.push(behaviour(next, userId, `setup-${c}-${e}`, at, 0.25));
    }
  }
  return messages;
}

/** The live mix over the existing contacts: 70% track, 20% page, 10% identify (plan, score). */
function liveMessages(seed: number, count: number): BenchMessage[] {
  const next = random(seed);
  const messages: BenchMessage[] = [];
  for (let i = 0; i < count; i += 1) {
    const userId = `user-${Math.floor(next() * CONTACTS)}`;
    const messageId = `live-${seed}-${i}`;
    const roll = next();
    if (roll < 0.1) {
      messages.push({
        type: 'identify',
        messageId,
        userId,
        traits: { plan: pick(next, plans), score: Math.floor(next() * 101) },
      });
    } else {
      // Of the remaining 90%: 2/9 page views (20% of all), the rest track calls.
      messages.push(behaviour(next, userId, messageId, undefined, 2 / 9));
    }
  }
  return messages;
}

// ---------------------------------------------------------------------------------------------
// The 50 segments

interface BenchSegment {
  readonly id: string;
  readonly name: string;
  readonly tree: unknown;
}

/** Valid dynamic trees covering every condition kind and trait operator; ids in creation order. */
function segmentTrees(builtAt: number): BenchSegment[] {
  const trait = (property: string, operator: string, value?: unknown) => ({
    kind: 'trait',
    property,
    operator,
    ...(value === undefined ? {} : { value }),
  });
  const performed = (
    event: string,
    count: { op: string; value: number },
    window: unknown = null,
    filters: unknown[] = [],
  ) => ({ kind: 'performed', event, count, window, filters });
  const atLeast = (value: number) => ({ op: 'atLeast', value });
  const and = (...conditions: unknown[]) => ({ kind: 'and', conditions });
  const or = (...conditions: unknown[]) => ({ kind: 'or', conditions });
  const not = (condition: unknown) => ({ kind: 'not', condition });
  const memberOf = (n: number) => ({ kind: 'memberOf', segmentId: segmentId(n) });
  const since = new Date(builtAt - 14 * DAY).toISOString().slice(0, 10);

  const trees: [string, unknown][] = [
    ['Pro plan', trait('plan', 'eq', 'pro')],
    [
      'Paid in US or GB',
      and(trait('plan', 'in', ['pro', 'team']), trait('country', 'in', ['US', 'GB'])),
    ],
    ['High score', trait('score', 'gte', 80)],
    ['Free, low score', and(trait('plan', 'eq', 'free'), trait('score', 'lt', 20))],
    ['Middling score', trait('score', 'between', [40, 60])],
    ['Gmail users', trait('email', 'endsWith', '@gmail.com')],
    ['Work emails', and(trait('email', 'exists'), trait('email', 'notContains', 'gmail'))],
    ['Signed up this month', trait('signedUpAt', 'withinLastDays', 30)],
    [
      'Old paying accounts',
      and(trait('signedUpAt', 'moreThanDaysAgo', 180), trait('plan', 'neq', 'free')),
    ],
    ['Email ends in 7', trait('email', 'regex', '^user-[0-9]*7@')],
    [
      'D-countries, no company',
      and(trait('country', 'startsWith', 'D'), trait('company', 'notExists')),
    ],
    ['Upper-middle score', and(trait('score', 'gt', 50), trait('score', 'lte', 90))],
    [
      'Europe but Germany',
      and(
        trait('country', 'in', ['DE', 'FR', 'ES', 'IT', 'NL', 'SE', 'DK', 'PL']),
        trait('country', 'notIn', ['DE']),
      ),
    ],
    ['Browsed this week', performed('Product Viewed', atLeast(1), { lastDays: 7 })],
    [
      'Electronics shoppers',
      performed('Product Viewed', atLeast(2), { lastDays: 30 }, [
        { property: 'category', operator: 'eq', value: 'electronics' },
      ]),
    ],
    [
      'Viewed expensive items',
      performed('Product Viewed', atLeast(1), null, [
        { property: 'price', operator: 'gte', value: 300 },
      ]),
    ],
    ['Bought in the last two weeks', performed('Order Completed', atLeast(1), { since })],
    [
      'Exactly one order this month',
      performed('Order Completed', { op: 'exactly', value: 1 }, { lastDays: 30 }),
    ],
    [
      'Light readers',
      and(
        performed('$pageview', atLeast(1)),
        performed('$pageview', { op: 'atMost', value: 1 }, { lastDays: 30 }),
      ),
    ],
    [
      'Browsed, never bought',
      and(performed('Product Viewed', atLeast(1), { lastDays: 30 }), {
        kind: 'neverPerformed',
        event: 'Order Completed',
      }),
    ],
    [
      'Signed up, never upgraded',
      and(performed('Signed Up', atLeast(1)), {
        kind: 'neverPerformed',
        event: 'Subscription Upgraded',
        filters: [{ property: 'to', operator: 'in', value: ['pro', 'team'] }],
      }),
    ],
    ['New sign-ups', { kind: 'firstPerformedWithin', event: 'Signed Up', days: 7 }],
    [
      'First order in 14 days',
      { kind: 'firstPerformedWithin', event: 'Order Completed', days: 14 },
    ],
    ['High value (USD)', { kind: 'totalRevenue', currency: 'USD', op: 'gte', value: 100 }],
    ['EUR spenders', { kind: 'totalRevenue', currency: 'EUR', op: 'between', value: [10, 500] }],
    [
      'Low spend, still browsing',
      and(
        { kind: 'totalRevenue', currency: 'USD', op: 'lt', value: 50 },
        performed('Product Viewed', atLeast(1)),
      ),
    ],
    ['Repeat buyers', { kind: 'conversionCount', op: 'gte', value: 2 }],
    ['One conversion', { kind: 'conversionCount', op: 'between', value: [1, 1] }],
    ['Active this week', { kind: 'lastSeen', after: { daysAgo: 7 } }],
    ['Dormant two weeks', { kind: 'lastSeen', before: { daysAgo: 14 } }],
    ['Seen 3–30 days ago', { kind: 'lastSeen', after: { daysAgo: 30 }, before: { daysAgo: 3 } }],
    ['Pro with high score', and(memberOf(1), memberOf(3))],
    ['Pro, not repeat buyers', and(memberOf(1), not(memberOf(27)))],
    ['Valuable', or(memberOf(24), memberOf(27))],
    [
      'Power users outside the US',
      and(
        or(trait('plan', 'eq', 'team'), trait('score', 'gte', 90)),
        not(trait('country', 'in', ['US'])),
        performed('Feature Used', atLeast(2), { lastDays: 30 }),
      ),
    ],
    [
      'Happy paying customers',
      and(
        trait('email', 'contains', '.'),
        not(
          or(
            performed('Support Ticket Created', atLeast(1), { lastDays: 30 }),
            trait('plan', 'eq', 'free'),
          ),
        ),
      ),
    ],
    [
      'Campaign openers',
      performed('Email Opened', atLeast(1), { lastDays: 14 }, [
        { property: 'campaign_id', operator: 'startsWith', value: 'camp-' },
      ]),
    ],
    [
      'Engaged readers',
      and(
        performed('Email Link Clicked', atLeast(1), { lastDays: 30 }),
        performed('Email Opened', atLeast(1), { lastDays: 30 }),
      ),
    ],
    [
      'Cart abandoners',
      and(performed('Product Added', atLeast(1), { lastDays: 7 }), {
        kind: 'neverPerformed',
        event: 'Checkout Started',
      }),
    ],
    [
      'Trials not upgraded',
      and(
        { kind: 'firstPerformedWithin', event: 'Trial Started', days: 30 },
        { kind: 'neverPerformed', event: 'Subscription Upgraded' },
      ),
    ],
    [
      'Paid webinar guests',
      and(performed('Webinar Registered', atLeast(1)), trait('plan', 'in', ['pro', 'team'])),
    ],
    [
      'Pricing page visitors',
      performed('$pageview', atLeast(1), { lastDays: 30 }, [
        { property: '$path', operator: 'eq', value: '/pricing' },
      ]),
    ],
    ['Inviters', performed('Invite Sent', atLeast(1))],
    [
      'Promotion responders',
      or(
        performed('Promotion Clicked', atLeast(1), { lastDays: 30 }),
        and(performed('Promotion Viewed', atLeast(1), { lastDays: 30 }), trait('score', 'gte', 50)),
      ),
    ],
    [
      'Big USD orders',
      performed('Order Completed', atLeast(1), { lastDays: 30 }, [
        { property: 'revenue', operator: 'gt', value: 150 },
        { property: 'currency', operator: 'eq', value: 'USD' },
      ]),
    ],
    ['VIP', or(memberOf(24), and(memberOf(3), memberOf(29)))],
    ['VIP at risk', and(memberOf(46), memberOf(30))],
    [
      'Team accounts not using features',
      and(
        trait('plan', 'eq', 'team'),
        performed('Feature Used', { op: 'exactly', value: 0 }, { lastDays: 7 }),
      ),
    ],
    [
      'Active DE/FR regulars',
      and(
        trait('country', 'in', ['DE', 'FR']),
        { kind: 'lastSeen', after: { daysAgo: 10 } },
        trait('score', 'gt', 30),
      ),
    ],
    [
      'Mixed bag',
      or(
        and(trait('plan', 'eq', 'pro'), { kind: 'conversionCount', op: 'gt', value: 0 }),
        and(
          trait('plan', 'eq', 'team'),
          trait('company', 'exists'),
          not({ kind: 'totalRevenue', currency: 'USD', op: 'gte', value: 200 }),
        ),
        and(
          trait('email', 'endsWith', '.io'),
          performed('Signed Up', atLeast(1), { lastDays: 30 }),
        ),
      ),
    ],
  ];
  return trees.map(([name, tree], index) => ({ id: segmentId(index + 1), name, tree }));
}

function segmentId(n: number): string {
  return `seg-${String(n).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Report

function printSummary(segments: SegmentsFigures, contacts: ContactsFigures): void {
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  const lag = (live: LiveFigures) =>
    `${fmt(live.lagP50)} / ${fmt(live.lagP95)} / ${fmt(live.lagMax)} ms`;
  const s = segments;
  const c = contacts;
  const kept = '— (BENCH_STATE)';
  console.log('');
  console.log(
    `| measure (${fmt(CONTACTS)} contacts, 50 dynamic segments) | segments | contacts (baseline) | segments / contacts |`,
  );
  console.log('|---|---|---|---|');
  console.log(
    `| setup projected: ${fmt(c.setup.events)} contact events | ${s.setup ? `${secs(s.setup.seconds * 1000)} s (${fmt(s.setup.events / s.setup.seconds)} events/s)` : kept} | ${secs(c.setup.seconds * 1000)} s (${fmt(c.setup.events / c.setup.seconds)} events/s) | ${s.setup ? ratio(c.setup.seconds, s.setup.seconds) : ''} |`,
  );
  const b = s.backfill;
  console.log(
    `| 50 definitions projected (first back-fill steps) | ${b ? `${secs(b.definitionSeconds * 1000)} s` : kept} | — | |`,
  );
  console.log(
    `| all back-fills finished (from the definitions) | ${b ? `${secs(b.seconds * 1000)} s (${b.ticks} ticks; ${fmt(b.evaluations / b.seconds)} contact evaluations/s)` : kept} | — | |`,
  );
  console.log(`| memberships (sum of sizes) | ${b ? fmt(b.memberships) : kept} | — | |`);
  for (const tree of s.preview.trees) {
    console.log(
      `| preview "${tree.label}" (${fmt(tree.size)} of ${fmt(tree.evaluated)}) | p50 ${fmt(tree.p50Ms)} ms, worst ${fmt(tree.maxMs)} ms (target 2,000 ms) | — | ${ratio(tree.p50Ms, s.preview.readAllMs)} × reading every profile once (${fmt(s.preview.readAllMs)} ms) |`,
    );
  }
  console.log(`| live stream offered | ${fmt(RATE)} events/s × ${SECONDS} s | same | |`);
  console.log(
    `| live stream appended (achieved) | ${fmt(s.live.stream.appended / s.live.stream.seconds)} events/s | ${fmt(c.live.stream.appended / c.live.stream.seconds)} events/s | |`,
  );
  console.log(
    `| projected while streaming | ${fmt(s.live.projectedRate)} events/s | ${fmt(c.live.projectedRate)} events/s | ${ratio(s.live.projectedRate, c.live.projectedRate)} |`,
  );
  console.log(`| lag p50 / p95 / max | ${lag(s.live)} | ${lag(c.live)} | |`);
  console.log(
    `| caught up after the stream stopped | ${fmt(s.live.catchUpMs)} ms | ${fmt(c.live.catchUpMs)} ms | |`,
  );
  console.log(
    `| lag bounded (max < ${MAX_LAG_MS / 1000} s, caught up < ${MAX_CATCH_UP_MS / 1000} s) | ${s.live.bounded ? 'met' : 'MISSED'} | ${c.live.bounded ? 'met' : 'MISSED'} | |`,
  );
  console.log(
    `| backlog of ${fmt(BACKLOG)} live-mix events: maximum sustainable rate | ${fmt(s.backlog.rate)} events/s (${secs(s.backlog.seconds * 1000)} s) | ${fmt(c.backlog.rate)} events/s (${secs(c.backlog.seconds * 1000)} s) | ${ratio(s.backlog.rate, c.backlog.rate)} |`,
  );
  const inStore = (backlog: BacklogFigures) =>
    `${fmt(storeShare(backlog))} % (commits ${secs(backlog.store.commitMs)} s, reads ${secs(backlog.store.readMs)} s)`;
  console.log(
    `| backlog: time in the read store | ${inStore(s.backlog)} | ${inStore(c.backlog)} | |`,
  );
  console.log(
    `| backlog: the rate the read store alone would allow | ${fmt(storeCeiling(s.backlog))} events/s | ${fmt(storeCeiling(c.backlog))} events/s | ${ratio(storeCeiling(s.backlog), storeCeiling(c.backlog))} |`,
  );
  console.log(
    `| headroom over the offered rate (max rate / ${fmt(RATE)}) | ${ratio(s.backlog.rate, RATE)} | ${ratio(c.backlog.rate, RATE)} | |`,
  );
  console.log(
    `| RSS after setup / back-fill / live / backlog | ${s.setup?.rssMb ?? '—'} / ${b?.rssMb ?? '—'} / ${s.live.rssMb} / ${s.backlog.rssMb} MB | ${c.setup.rssMb} / — / ${c.live.rssMb} / ${c.backlog.rssMb} MB | |`,
  );
  console.log('');
  console.log(
    `Reproduce: npm run bench:segments  (BENCH_SECONDS=${SECONDS} BENCH_RATE=${RATE} BENCH_CONTACTS=${CONTACTS} BENCH_BACKLOG=${BACKLOG}; BENCH_LOG=<file> keeps the setup log, BENCH_STATE=<dir> the back-filled state)`,
  );
}

/** The share of the catch-up spent in the read store, in %. */
function storeShare(backlog: BacklogFigures): number {
  return (100 * (backlog.store.commitMs + backlog.store.readMs)) / (backlog.seconds * 1000);
}

/** Events per second if the projector did nothing but its store's work. */
function storeCeiling(backlog: BacklogFigures): number {
  return backlog.events / ((backlog.store.commitMs + backlog.store.readMs) / 1000);
}

function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 1024 / 1024);
}

function secs(ms: number): string {
  return (ms / 1000).toFixed(1);
}

// Last, so that every constant above is initialised before the run starts.
if (!isMainThread) {
  void appendPaced(workerData as StreamPlan).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
