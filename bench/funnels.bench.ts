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
import { parseBatch } from '../src/domain/tracking/ingestion';
import {
  contactStreamId,
  contactStreamPrefix,
  trackingEventTypes,
} from '../src/domain/tracking/tracking.events';
import { analyseFunnel } from '../src/infra/analyses/funnel-analysis';
import { ExpectedRevision } from '../src/infra/event-store/event-store';
import { SqliteEventStore } from '../src/infra/event-store/sqlite-event-store';
import { trackingEventId } from '../src/infra/ingestion/tracking-event-id';
import { funnelReport } from '../src/projections/funnels/funnel-query';
import { generateTraffic, toBatches } from '../test/support/traffic';

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
  let day = 0;
  while (!reuse && (await eventStore.headPosition()) + 1n < BigInt(target)) {
    const date = new Date(Date.parse('2026-10-01T00:00:00Z') + day * 86_400_000);
    const traffic = generateTraffic({ seed: 11 + day, contacts: 10_000, day: date.toISOString() });
    for (const { batch } of toBatches(traffic.messages, 500)) {
      const { accepted } = parseBatch(
        { batch },
        { receivedAt: date, keepReceivedAt: false, newMessageId: () => 'x' },
      );
      await eventStore.appendMany(
        accepted.map(({ event, streamIdentity }) => ({
          streamId: contactStreamId(workspaceId, streamIdentity),
          events: [
            {
              eventId: trackingEventId(workspaceId, event.data.messageId),
              type: event.type,
              data: event.data,
              metadata: { workspaceId, schemaVersion: 1 },
            },
          ],
          expected: ExpectedRevision.any,
        })),
      );
    }
    day += 1;
  }
  const events = Number((await eventStore.headPosition()) + 1n);
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
