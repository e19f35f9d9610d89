import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { campaignDecider, campaignStreamId } from '../../src/domain/campaign';
import { CommandHandler } from '../../src/infra/commands/command-handler';
import { SqliteEventStore } from '../../src/infra/event-store/sqlite-event-store';
import { AD_REPORTS_PATH, createAdReportRouter } from '../../src/infra/ingestion/ad-report-router';
import { createLogger } from '../../src/infra/logger';

const workspaceId = 'acme';
const campaignId = 'spring-sale';

const row = (overrides: Record<string, unknown> = {}) => ({
  campaignId,
  channel: 'PAID_SEARCH',
  day: '2025-03-01',
  source: 'google-ads',
  impressions: 1000,
  clicks: 25,
  spend: { amount: '120.50', currency: 'USD' },
  ...overrides,
});

describe('POST /v1/ad-reports', () => {
  let eventStore: SqliteEventStore;
  let commands: CommandHandler;
  let server: http.Server;
  let url: string;
  let ids = 0;

  beforeEach(async () => {
    eventStore = SqliteEventStore.open({ path: ':memory:', synchronous: 'NORMAL' });
    commands = new CommandHandler(eventStore);
    const app = express();
    app.use(
      createAdReportRouter({
        commands,
        resolveWorkspace: (header) => {
          if (header === undefined) return 'default';
          if (!/^[A-Za-z0-9_-]{1,64}$/.test(header)) throw new Error('not a workspace id');
          return header;
        },
        maxBodyBytes: 1_000_000,
        clock: () => new Date('2025-03-02T00:00:00Z'),
        newId: () => `id-${(ids += 1)}`,
        logger: createLogger('silent'),
      }),
    );
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${AD_REPORTS_PATH}`;
    await commands.handle(campaignDecider, campaignStreamId(workspaceId, campaignId), {
      type: 'CreateCampaign',
      data: { campaignId, name: 'Spring sale', budget: { amount: '1000', currency: 'USD' } },
      metadata: { workspaceId, commandId: 'create', now: new Date('2025-03-01T00:00:00Z') },
    });
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await eventStore.close();
  });

  function post(body: unknown, headers: Record<string, string> = {}) {
    return fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-touchline-workspace': workspaceId,
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  async function spent(): Promise<unknown> {
    const { state } = await commands.load(
      campaignDecider,
      campaignStreamId(workspaceId, campaignId),
    );
    return state.status === 'Nonexistent' ? null : state.spend.total;
  }

  it('given valid and invalid rows, then each valid row is imported and each invalid one named with its field', async () => {
    const response = await post([
      row(),
      row({ channel: 'RADIO' }),
      row({ source: 'meta-ads', spend: { amount: '10', currency: 'EUR' } }),
      row({ day: '2025-02-30' }),
      row({ impressions: '1000' }),
      'not a row',
      row({ campaignId: 'unknown' }),
      row({ source: 'meta-ads', spend: { amount: '79.50', currency: 'usd' } }),
    ]);

    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ imported: 2, unchanged: 0, rejected: 6 });
    expect(
      body.results.map(
        (result: { index: number; status: string; error?: { field?: string; reason: string } }) => [
          result.index,
          result.status,
          result.error?.field,
          result.error?.reason,
        ],
      ),
    ).toEqual([
      [0, 'imported', undefined, undefined],
      [1, 'rejected', 'channel', 'UNKNOWN_CHANNEL'],
      [2, 'rejected', 'spend.currency', 'CURRENCY_MISMATCH'],
      [3, 'rejected', 'day', 'INVALID_DATE'],
      [4, 'rejected', 'impressions', 'INVALID_TYPE'],
      [5, 'rejected', 'row', 'INVALID_ROW'],
      [6, 'rejected', 'id', 'NOT_FOUND'],
      [7, 'imported', undefined, undefined],
    ]);
    expect(body.results[1].error.code).toBe('BAD_USER_INPUT');
    expect(body.position).toBe(body.results[7].position);
    expect(await spent()).toEqual({ amountMinor: 20000, currency: 'USD' });
  });

  it('given rows already imported, when sent again, then unchanged; a restated row replaces the old one', async () => {
    await post([row()]);
    const again = await (
      await post([row(), row({ spend: { amount: '150', currency: 'USD' } })])
    ).json();
    expect(again.results.map((result: { status: string }) => result.status)).toEqual([
      'unchanged',
      'imported',
    ]);
    expect(await spent()).toEqual({ amountMinor: 15000, currency: 'USD' });
  });

  it('given an Idempotency-Key, then a retried request reuses its command ids', async () => {
    const first = await (await post([row()], { 'idempotency-key': 'upload-7' })).json();
    await post([row({ spend: { amount: '300', currency: 'USD' } })]);
    const retry = await (await post([row()], { 'idempotency-key': 'upload-7' })).json();

    // the retry is recognised as the first request: the later restatement stands
    expect(retry.results[0]).toEqual(first.results[0]);
    expect(await spent()).toEqual({ amountMinor: 30000, currency: 'USD' });
  });

  it.each<[string, unknown, Record<string, string>, string]>([
    ['a body that is not an array', { rows: [] }, {}, 'BAD_REQUEST'],
    ['a body that is not JSON', '[{', {}, 'BAD_REQUEST'],
    ['too many rows', Array.from({ length: 1001 }, () => row()), {}, 'BAD_REQUEST'],
    ['an invalid workspace', [row()], { 'x-touchline-workspace': 'a b' }, 'BAD_USER_INPUT'],
    ['an invalid Idempotency-Key', [row()], { 'idempotency-key': 'a b' }, 'BAD_USER_INPUT'],
  ])('given %s, then 400', async (_, body, headers, code) => {
    const response = await post(body, headers);
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].extensions.code).toBe(code);
  });
});
