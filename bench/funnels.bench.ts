/**
 * Ad-hoc funnel over history: at least a million tracked events (days of generated traffic
 * for 10,000 contacts) appended to a fresh log, then `analyseFunnel` computes a 4-step
 * funnel straight from the log. In the same run, the baseline: reading the same events from
 * the log without doing anything with them. Target (issue 4): under 30 s for 1 M events.
 *   npm run bench:funnels
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FunnelDefinition } from '../src/domain/funnel';
import { contactStreamPrefix, trackingEventTypes } from '../src/domain/tracking/tracking.events';
import { analyseFunnel } from '../src/infra/analyses/funnel-analysis';
import { SqliteEventStore } from '../src/infra/event-store/sqlite-event-store';
import { funnelReport } from '../src/projections/funnels/funnel-query';
import { appendTrafficDays } from './support/traffic-log';

const workspaceId = 'bench';
const target = 1_000_000;

const funnel: FunnelDefinition = {
  name: 'email to order',
  steps: [
    { event: 'Email Delivered', filters: [] },
    { event: 'Email Opened', filters: [] },
    { event: '$pageview', filters: [] },
    { event: 'Order Completed', filters: [] },
  ],
  order: 'ordered',
  windowSeconds: 7 * 24 * 60 * 60,
  exclusions: [],
  breakdown: { property: 'campaign_id', attribution: 'first_step' },
  campaignId: null,
};

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-funnels-'));
  const logFile = process.env.BENCH_LOG ?? path.join(dir, 'events.sqlite');
  const reuse = fs.existsSync(logFile);
  const eventStore = SqliteEventStore.open({ path: logFile });
  if (!reuse) await appendTrafficDays(eventStore, workspaceId, target);
  const events = Number(await eventStore.headPosition());
  console.log(
    `log: ${events.toLocaleString('en-US')} events${reuse ? ` (reused ${logFile})` : ''}`,
  );

  const readSeconds = await timed(async () => {
    const filter = {
      eventTypes: trackingEventTypes,
      streamPrefixes: [`${contactStreamPrefix}${workspaceId}:`],
    };
    let after = -1n;
    for (;;) {
      const page = await eventStore.readAll({ after, maxCount: 5_000, filter });
      if (page.length === 0) break;
      after = page[page.length - 1].position;
    }
  });
  console.log(`baseline, reading the log: ${rate(events, readSeconds)}`);

  for (const order of ['ordered', 'strict', 'unordered'] as const) {
    const definition = { ...funnel, order };
    let entered = 0;
    let converted = 0;
    const seconds = await timed(async () => {
      const people = await analyseFunnel(eventStore, workspaceId, definition, null);
      ({ entered, converted } = funnelReport(definition, people, { range: null }));
    });
    console.log(
      `ad-hoc funnel (${order}): ${rate(events, seconds)}, ${(seconds / readSeconds).toFixed(2)} × the read; ${entered.toLocaleString('en-US')} entered, ${converted.toLocaleString('en-US')} converted; heap ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MiB`,
    );
  }
  await eventStore.close();
  if (!process.env.BENCH_LOG) fs.rmSync(dir, { recursive: true, force: true });
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function rate(events: number, seconds: number): string {
  return `${seconds.toFixed(2)} s, ${Math.round(events / seconds).toLocaleString('en-US')} events/s`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
