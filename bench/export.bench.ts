/**
 * Export (issue 8): `GET /v1/export/events` streams a log of at least a million tracked
 * events (days of generated traffic for 10,000 contacts) from the real server, as NDJSON
 * and then as CSV, read chunk by chunk by a client that keeps nothing but counts. In the
 * same run, the baseline: the same events read straight from the store with `readAll` in
 * pages of 1,000, without serialising them. Target: 1 M events under 60 s, with constant
 * memory (the heap grows by little next to the size of the output).
 *   npm run bench:export
 *   BENCH_LOG=/tmp/export-bench.sqlite npm run bench:export   (builds the log once, then reuses it)
 *
 * No setting pauses the projections: the server starts catching up on the whole log on its
 * projector thread, which competes with the export for the CPU (both baselines are given).
 */
// Before the filter's module, which loads type-graphql's decorators.
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEventFilter, storeFilter } from '../src/graphql/history/event-query';
import { benchConfig } from './support/bench-config';
import type { EventStore } from '../src/infra/event-store/event-store';
import { SqliteEventStore } from '../src/infra/event-store/sqlite-event-store';
import { EXPORT_PATH } from '../src/infra/export/export-router';
import { createLogger } from '../src/infra/logger';
import { startServer } from '../src/infra/server';
import { replayProjections } from '../src/infra/history/replay';
import { appendTrafficDays } from './support/traffic-log';
import { workspaceKey } from './support/workspace-key';

const workspaceId = 'bench';
const target = 1_000_000;
const READ_PAGE = 1_000;
const SAMPLE_MS = 250;
const TARGET_SECONDS = 60;
const MiB = 2 ** 20;

interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
}

interface Measure {
  readonly name: string;
  readonly events: number;
  readonly seconds: number;
  readonly bytes?: number;
  readonly memory?: { start: Memory; max: Memory; end: Memory };
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-export-'));
  // An export counts as an expensive request: no per-key limit on the bench's few, unless
  // the benchmark is given one.
  const config = benchConfig(dataDir, { TOUCHLINE_RATE_LIMIT_EXPENSIVE: '0' });
  if (config.eventStore.kind !== 'sqlite') throw new Error('the export bench needs the SQLite log');
  const logFile = config.eventStore.path;
  const reused = process.env.BENCH_LOG;
  const reuse = reused !== undefined && fs.existsSync(reused);
  if (reuse) fs.copyFileSync(reused, logFile);

  const eventStore = SqliteEventStore.open({ path: logFile });
  if (!reuse) await appendTrafficDays(eventStore, workspaceId, target);
  const events = Number(await eventStore.headPosition()); // positions start at 1
  console.log(
    `log: ${events.toLocaleString('en-US')} events${reuse ? ` (copied from ${reused})` : ''}`,
  );
  const quiet = await readAllPaged(eventStore, 'readAll, server not started');
  await measureAsOf(eventStore, BigInt(Math.floor(events / 2)));
  await eventStore.close();
  if (reused !== undefined && !reuse) fs.copyFileSync(logFile, reused);
  console.log(line(quiet, quiet));

  const server = await startServer(config, createLogger(config.logLevel));
  const results: Measure[] = [];
  try {
    const viewerKey = await workspaceKey(server, workspaceId, 'viewer');
    const baseline = await readAllPaged(server.eventStore, 'readAll, server running');
    console.log(line(baseline, baseline));
    results.push(baseline);
    const exportUrl = server.url.replace(/\/graphql$/, EXPORT_PATH);
    for (const format of ['ndjson', 'csv'] as const) {
      const measure = await exportOver(`${exportUrl}?format=${format}`, format, viewerKey);
      console.log(line(measure, baseline));
      results.push(measure);
    }
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  printSummary(quiet, results);
}

/**
 * What the first `asOf` question about the middle of the log costs: the replay of one
 * projection up to there into a throw-away store (later questions about that instant reuse it).
 */
async function measureAsOf(eventStore: EventStore, until: bigint): Promise<void> {
  for (const projection of ['campaign-metrics', 'contacts']) {
    let replayed: Awaited<ReturnType<typeof replayProjections>> | undefined;
    const seconds = await timed(async () => {
      replayed = await replayProjections({ eventStore, projections: [projection], until });
    });
    const applied = replayed?.eventsProcessed ?? 0;
    console.log(
      `asOf replay of ${projection} to position ${until.toLocaleString('en-US')}: ` +
        `${applied.toLocaleString('en-US')} events applied in ${seconds.toFixed(1)} s ` +
        `(${Math.round(applied / seconds).toLocaleString('en-US')} events/s)`,
    );
    await replayed?.close();
  }
}

/** The workspace's events as the export's filter reads them from the store, not serialised. */
async function readAllPaged(eventStore: EventStore, name: string): Promise<Measure> {
  const filter = storeFilter(parseEventFilter(workspaceId, {}));
  let events = 0;
  const seconds = await timed(async () => {
    let after = -1n;
    for (;;) {
      const page = await eventStore.readAll({ after, maxCount: READ_PAGE, filter });
      for (const event of page) if (event.metadata.workspaceId === workspaceId) events += 1;
      if (page.length < READ_PAGE) break;
      after = page[page.length - 1].position;
    }
  });
  return { name, events, seconds };
}

/** One export read chunk by chunk: bytes and newline-terminated lines counted, nothing kept. */
async function exportOver(url: string, format: 'ndjson' | 'csv', key: string): Promise<Measure> {
  const sampler = memorySampler();
  let bytes = 0;
  let lines = 0;
  const seconds = await timed(async () => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
    if (!response.ok || !response.body) {
      throw new Error(`export ${format}: HTTP ${response.status} ${await response.text()}`);
    }
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      for (let at = value.indexOf(10); at >= 0; at = value.indexOf(10, at + 1)) lines += 1;
    }
  });
  const memory = sampler.stop();
  // The CSV's first line is its header.
  const events = format === 'csv' ? lines - 1 : lines;
  return { name: `export ${format.toUpperCase()} over HTTP`, events, seconds, bytes, memory };
}

function memorySampler(): { stop(): { start: Memory; max: Memory; end: Memory } } {
  const sample = (): Memory => {
    const { rss, heapUsed } = process.memoryUsage();
    return { rss, heapUsed };
  };
  const start = sample();
  let max = start;
  const timer = setInterval(() => {
    const now = sample();
    max = { rss: Math.max(max.rss, now.rss), heapUsed: Math.max(max.heapUsed, now.heapUsed) };
  }, SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      const end = sample();
      max = { rss: Math.max(max.rss, end.rss), heapUsed: Math.max(max.heapUsed, end.heapUsed) };
      return { start, max, end };
    },
  };
}

function line(measure: Measure, baseline: Measure): string {
  const parts = [
    `${measure.name}: ${count(measure.events)} events in ${measure.seconds.toFixed(2)} s`,
    `${count(measure.events / measure.seconds)} events/s`,
  ];
  if (measure.bytes !== undefined) {
    parts.push(
      `${mib(measure.bytes)} MiB, ${(measure.bytes / MiB / measure.seconds).toFixed(1)} MiB/s`,
    );
  }
  if (measure !== baseline) parts.push(`${ratio(measure, baseline)} × the baseline's time`);
  if (measure.memory) {
    const { start, max, end } = measure.memory;
    parts.push(
      `RSS ${mib(start.rss)}/${mib(max.rss)}/${mib(end.rss)} MiB, heap ${mib(start.heapUsed)}/${mib(max.heapUsed)}/${mib(end.heapUsed)} MiB (start/max/end)`,
    );
  }
  return parts.join(', ');
}

function printSummary(quiet: Measure, results: Measure[]): void {
  const baseline = results[0];
  console.log('');
  console.log(
    '| measure | events | s | events/s | MiB/s | time ÷ baseline | RSS start / max / end (MiB) | heap start / max / end (MiB) | heap growth ÷ output | 1 M under 60 s |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const measure of [quiet, ...results]) {
    const { memory, bytes } = measure;
    const perMillion = (measure.seconds * 1e6) / measure.events;
    const cells = [
      measure.name,
      count(measure.events),
      measure.seconds.toFixed(2),
      count(measure.events / measure.seconds),
      bytes === undefined ? '' : (bytes / MiB / measure.seconds).toFixed(1),
      measure === baseline ? 'baseline' : ratio(measure, baseline),
      memory ? `${mib(memory.start.rss)} / ${mib(memory.max.rss)} / ${mib(memory.end.rss)}` : '',
      memory
        ? `${mib(memory.start.heapUsed)} / ${mib(memory.max.heapUsed)} / ${mib(memory.end.heapUsed)}`
        : '',
      memory && bytes
        ? `${mib(memory.max.heapUsed - memory.start.heapUsed)} MiB of ${mib(bytes)} MiB (${(((memory.max.heapUsed - memory.start.heapUsed) / bytes) * 100).toFixed(1)} %)`
        : '',
      memory
        ? `${perMillion.toFixed(1)} s per 1 M: ${perMillion < TARGET_SECONDS ? 'met' : 'MISSED'}`
        : '',
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
  console.log('');
  console.log(
    'Reproduce: `npm run bench:export` (or `BENCH_LOG=/tmp/export-bench.sqlite npm run bench:export` to build the log once and reuse it)',
  );
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function ratio(measure: Measure, baseline: Measure): string {
  return (measure.seconds / measure.events / (baseline.seconds / baseline.events)).toFixed(2);
}

function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
