/**
 * Projection throughput: the same day of traffic appended to a fresh log, then each
 * projection alone catches up from the start; prints events/s per projection.
 *   npm run bench:projections [-- <projection name>]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseBatch } from '../src/domain/tracking/ingestion';
import { contactStreamId } from '../src/domain/tracking/tracking.events';
import { SqliteEventStore } from '../src/infra/event-store/sqlite-event-store';
import { ExpectedRevision } from '../src/infra/event-store/event-store';
import { trackingEventId } from '../src/infra/ingestion/tracking-event-id';
import { createLogger } from '../src/infra/logger';
import { ChangeFeed } from '../src/infra/projections/change-feed';
import { ProjectionManager } from '../src/infra/projections/projection-manager';
import { EmbeddedReadStore } from '../src/infra/read-store/embedded-read-store';
import { createProjections } from '../src/infra/projections/catalog';
import { generateTraffic, toBatches } from '../test/support/traffic';

async function main(): Promise<void> {
  const only = process.argv[2];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-projections-'));
  // BENCH_LOG=<file> keeps the generated log between runs (e.g. to profile projection only).
  const logFile = process.env.BENCH_LOG ?? path.join(dir, 'events.sqlite');
  const reuse = fs.existsSync(logFile);
  const eventStore = SqliteEventStore.open({ path: logFile });
  const traffic = generateTraffic({ seed: 3, contacts: 10_000, day: '2026-11-20T00:00:00.000Z' });
  for (const { batch } of reuse ? [] : toBatches(traffic.messages, 500)) {
    const { accepted } = parseBatch(
      { batch },
      {
        receivedAt: new Date('2026-11-21T00:00:00Z'),
        keepReceivedAt: false,
        newMessageId: () => 'x',
      },
    );
    await eventStore.appendMany(
      accepted.map(({ event, streamIdentity }) => ({
        streamId: contactStreamId('bench', streamIdentity),
        events: [
          {
            eventId: trackingEventId('bench', event.data.messageId),
            type: event.type,
            data: event.data,
            metadata: { workspaceId: 'bench', schemaVersion: 1 },
          },
        ],
        expected: ExpectedRevision.any,
      })),
    );
  }
  const head = await eventStore.headPosition();
  console.log(`log: ${head} events`);
  // No funnels are defined in this log: the funnel-results projection only resolves people.
  for (const projection of createProjections({ funnelDefinitions: async () => [] })) {
    if (only && projection.name !== only) continue;
    const readStore = EmbeddedReadStore.open({ path: path.join(dir, `${projection.name}.sqlite`) });
    const manager = new ProjectionManager({
      eventStore,
      readStore,
      projections: [projection],
      changeFeed: new ChangeFeed(),
      batchSize: 500,
      logger: createLogger('silent'),
    });
    const started = process.hrtime.bigint();
    await manager.start();
    await manager.waitForPosition(head, 600_000);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const [status] = await manager.status();
    console.log(
      `${projection.name}: ${Math.round(Number(head) / seconds).toLocaleString('en-US')} events/s of log (${seconds.toFixed(2)} s, ${status.position} reached)`,
    );
    await manager.stop();
    await readStore.close();
  }
  await eventStore.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
