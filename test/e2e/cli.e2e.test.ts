/**
 * The command line against the embedded stores of a data directory that a real server
 * filled: `status` (beside the running server too), `export`, `replay` (a rebuild that takes
 * over, and a replay up to an instant), and refused input. The commands run in this process
 * with captured output; one smoke test runs the `touchline` program as a child process.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gql } from 'graphql-request';
import { campaignMetricsProjection } from '../../src/projections/campaign-metrics/campaign-metrics.projection';
import type { Document } from '../../src/projections/read-store';
import { type CliContext, EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../../src/infra/cli/cli-context';
import { runExport, type ExportOptions } from '../../src/infra/cli/commands/export';
import { runReplay, type ReplayOptions } from '../../src/infra/cli/commands/replay';
import { runStatus } from '../../src/infra/cli/commands/status';
import { readRegistry } from '../../src/infra/cli/projection-status';
import { loadConfig } from '../../src/infra/config';
import { ExpectedRevision } from '../../src/infra/event-store/event-store';
import { csvColumns } from '../../src/infra/export/event-export';
import { physicalName } from '../../src/infra/projections/projection-manager';
import { openEventStore, openReadStore } from '../../src/infra/stores';
import { type Run, runCli } from '../support/cli-run';
import { runTouchline } from '../support/touchline-process';
import { startTestServer, temporaryDataDir, type TestServer } from './harness';

interface StatusJson {
  headPosition: string | null;
  projections: {
    name: string;
    version: number;
    generation: number;
    state: string;
    position: string | null;
    headPosition: string | null;
    eventsBehind: number;
    eventsBehindExact: boolean;
    lagMs: number;
    rebuild: unknown;
  }[];
}

describe('the touchline command line', () => {
  const dataDir = temporaryDataDir();
  const config = loadConfig({ NODE_ENV: 'test', TOUCHLINE_DATA_DIR: dataDir });
  let touchline: TestServer | null = null;
  let head: bigint;

  const run = (command: (context: CliContext) => Promise<number>, now = Date.now) =>
    runCli(config, command, now);

  const exportEvents = (options: ExportOptions) => run((context) => runExport(options, context));
  const replay = (options: ReplayOptions) => run((context) => runReplay(options, context));
  const status = () => run((context) => runStatus({ json: true }, context));

  /** Every document of campaign-metrics' serving generation, by collection. */
  async function campaignMetrics(): Promise<{ generation: number; documents: Document[][] }> {
    const readStore = await openReadStore(config.readStore);
    try {
      const generation =
        (await readRegistry(readStore)).get(campaignMetricsProjection.name)?.generation ?? 1;
      const documents = await Promise.all(
        campaignMetricsProjection.collections.map((logical) =>
          readStore.collection(physicalName(logical, generation)).find({}, { sort: { _id: 1 } }),
        ),
      );
      return { generation, documents };
    } finally {
      await readStore.close();
    }
  }

  beforeAll(async () => {
    touchline = await startTestServer(dataDir);
    const { services, manager } = touchline.server;
    const api = touchline.client();
    for (const id of ['spring-sale', 'autumn-sale']) {
      await api.request(
        gql`
          mutation ($id: ID!) {
            createCampaign(input: { id: $id, name: "Sale", channels: [EMAIL] }) {
              position
            }
          }
        `,
        { id },
      );
    }
    const messages = Array.from({ length: 40 }, (_, index) => [
      {
        type: 'page',
        anonymousId: `anon-${index}`,
        messageId: `page-${index}`,
        timestamp: '2026-11-20T09:00:00Z',
        context: {
          campaign: { source: 'google', medium: 'cpc', name: 'spring-sale' },
          page: { url: 'https://shop.example/' },
        },
        properties: { campaign_id: 'spring-sale' },
      },
      {
        type: 'track',
        anonymousId: `anon-${index}`,
        messageId: `order-${index}`,
        timestamp: '2026-11-21T09:00:00Z',
        event: 'Order Completed',
        properties: { order_id: `A${index}`, revenue: 20, currency: 'EUR' },
      },
    ]).flat();
    const outcome = await services.tracking.ingest(config.defaultWorkspaceId, messages);
    expect(outcome.accepted).toBe(messages.length);
    head = await touchline.server.eventStore.headPosition();
    expect(await manager.waitForPosition(head, 10_000)).toBe(true);
  });

  afterAll(async () => {
    await touchline?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  describe('beside a running server', () => {
    it('status reads every projection position from the stores the server writes', async () => {
      const { code, stdout } = await status();
      expect(code).toBe(EXIT_OK);
      const report = JSON.parse(stdout) as StatusJson;
      expect(report.headPosition).toBe(head.toString());
      const names = report.projections.map((projection) => projection.name);
      expect(names).toEqual(expect.arrayContaining(['campaigns', 'contacts', 'campaign-metrics']));
      for (const projection of report.projections) {
        expect(projection).toMatchObject({
          generation: 1,
          state: 'caught up',
          headPosition: head.toString(),
          eventsBehind: 0,
          eventsBehindExact: true,
          lagMs: 0,
          rebuild: null,
          // the server's projector thread holds every projection's lease
          worker: expect.stringContaining(`:${process.pid}:`),
        });
      }
      const contacts = report.projections.find((projection) => projection.name === 'contacts');
      expect(contacts?.position).toBe(head.toString());
    });

    it('replay refuses to rebuild while the server has the embedded stores open', async () => {
      const { code, stderr } = await replay({ projection: 'campaign-metrics' });
      expect(code).toBe(EXIT_FAILED);
      expect(stderr).toMatch(/open in another process/);
    });
  });

  describe('once the server has stopped', () => {
    beforeAll(async () => {
      await touchline?.stop();
      touchline = null;
    });

    it('export streams the matching events as NDJSON, one parsable line each', async () => {
      const { code, stdout, stderr } = await exportEvents({ type: ['EventTracked'] });
      expect(code).toBe(EXIT_OK);
      const lines = stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(40);
      const records = lines.map((line) => JSON.parse(line) as { type: string; position: string });
      expect(records.every((record) => record.type === 'EventTracked')).toBe(true);
      const positions = records.map((record) => BigInt(record.position));
      expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
      expect(stderr).toMatch(/export .*100%.*40 events/);
    });

    it('export filters as the HTTP export does: category, event time, contact', async () => {
      const campaigns = await exportEvents({ category: 'campaign' });
      expect(campaigns.stdout.trimEnd().split('\n')).toHaveLength(2);
      const pages = await exportEvents({
        from: '2026-11-20T00:00:00Z',
        to: '2026-11-21T00:00:00Z',
        category: 'contact',
      });
      expect(pages.stdout.trimEnd().split('\n')).toHaveLength(40);
      const contact = await exportEvents({ contact: 'anon-7', type: ['PageViewed,EventTracked'] });
      const streams = contact.stdout
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as { streamId: string }).streamId);
      expect(streams).toEqual(['contact-default:anon-7', 'contact-default:anon-7']);
    });

    it('export writes CSV with its header to a file', async () => {
      const out = path.join(dataDir, 'events.csv');
      const { code, stdout } = await exportEvents({
        format: 'csv',
        out,
        type: ['EventTracked'],
      });
      expect(code).toBe(EXIT_OK);
      expect(stdout).toBe('');
      const lines = fs.readFileSync(out, 'utf8').trimEnd().split('\r\n');
      expect(lines[0]).toBe(csvColumns.join(','));
      expect(lines).toHaveLength(41);
    });

    it('replay rebuilds campaign-metrics into the next generation, with the same read model', async () => {
      const before = await campaignMetrics();
      expect(before.documents.flat().length).toBeGreaterThan(0);
      const { code, stderr } = await replay({ projection: 'campaign-metrics' });
      expect(code).toBe(EXIT_OK);
      expect(stderr).toMatch(/campaign-metrics \[#+\]\s+100%/);
      const after = await campaignMetrics();
      expect(after.generation).toBe(before.generation + 1);
      expect(after.documents).toEqual(before.documents);
      const report = JSON.parse((await status()).stdout) as StatusJson;
      expect(report.projections.find((p) => p.name === 'campaign-metrics')).toMatchObject({
        generation: after.generation,
        state: 'caught up',
        position: head.toString(),
      });
    });

    it('replay --until writes the read model as it was at that instant as NDJSON', async () => {
      const all = await replay({ projection: 'campaigns', until: '2100-01-01T00:00:00Z' });
      expect(all.code).toBe(EXIT_OK);
      const documents = all.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { collection: string; document: Document });
      const ids = documents
        .filter(({ collection }) => collection === 'campaigns')
        .map(({ document }) => document._id);
      expect(ids).toEqual(['default:autumn-sale', 'default:spring-sale']);
      const none = await replay({ projection: 'campaigns', until: '2000-01-01' });
      expect(none).toMatchObject({ code: EXIT_OK, stdout: '' });
    });

    it.each<[string, () => Promise<Run>, RegExp]>([
      ['an unknown projection', () => replay({ projection: 'nope' }), /campaign-metrics/],
      [
        'an unparseable --until',
        () => replay({ projection: 'campaigns', until: 'yesterday' }),
        /--until must be an ISO-8601/,
      ],
      ['--out without --until', () => replay({ projection: 'campaigns', out: 'x' }), /--until/],
      ['an unknown format', () => exportEvents({ format: 'xml' }), /ndjson or csv/],
      ['an unparseable date', () => exportEvents({ from: '20/11/2026' }), /--from must be/],
      [
        'a range that ends before it starts',
        () => exportEvents({ from: '2026-11-21', to: '2026-11-20' }),
        /--to must not be before --from/,
      ],
      ['an unknown category', () => exportEvents({ category: 'nope' }), /category must be/],
    ])('refuses %s with exit code 2, writing nothing', async (_, command, message) => {
      const { code, stdout, stderr } = await command();
      expect(code).toBe(EXIT_USAGE);
      expect(stdout).toBe('');
      expect(stderr).toMatch(message);
    });

    it('refuses a bad date before creating the --out file', async () => {
      const out = path.join(dataDir, 'never.ndjson');
      const { code } = await exportEvents({ out, recordedTo: 'soon' });
      expect(code).toBe(EXIT_USAGE);
      expect(fs.existsSync(out)).toBe(false);
    });

    it('runs as a program: status --json, and exit code 2 for a refused argument', async () => {
      const program = (args: string[]) => runTouchline(args, { TOUCHLINE_DATA_DIR: dataDir });
      const [statusRun, refused] = await Promise.all([
        program(['status', '--json']),
        program(['replay', '--projection', 'nope']),
      ]);
      expect(statusRun.code).toBe(0);
      expect((JSON.parse(statusRun.stdout) as StatusJson).headPosition).toBe(head.toString());
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/there is no projection named "nope"/);
    });

    it('status counts the events a stopped projection has still to apply, and their age', async () => {
      const eventStore = await openEventStore(config.eventStore);
      try {
        await eventStore.append(
          'contact-default:late-comer',
          [
            {
              eventId: randomUUID(),
              type: 'EventTracked',
              data: { messageId: 'late', anonymousId: 'late-comer', name: 'Order Completed' },
              metadata: { workspaceId: 'default', schemaVersion: 1 },
            },
          ],
          ExpectedRevision.any,
        );
      } finally {
        await eventStore.close();
      }
      const minuteLater = Date.now() + 60_000;
      const { stdout } = await run(
        (context) => runStatus({ json: true }, context),
        () => minuteLater,
      );
      const report = JSON.parse(stdout) as StatusJson;
      const byName = new Map(report.projections.map((projection) => [projection.name, projection]));
      expect(report.headPosition).toBe((head + 1n).toString());
      expect(byName.get('campaign-metrics')).toMatchObject({ state: 'behind', eventsBehind: 1 });
      expect(byName.get('campaign-metrics')?.lagMs).toBeGreaterThanOrEqual(59_000);
      expect(byName.get('campaigns')).toMatchObject({
        state: 'caught up',
        eventsBehind: 0,
        lagMs: 0,
      });
    });
  });
});
