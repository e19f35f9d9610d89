import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { campaignDecider, campaignStreamId } from '../../src/domain/campaign';
import { AccessControl } from '../../src/infra/access/access-control';
import { requireKey } from '../../src/infra/access/http-access';
import { RateLimiter } from '../../src/infra/access/rate-limiter';
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

const unauthenticated = (reason: string) => ({ code: 'UNAUTHENTICATED', reason });
const forbidden = { code: 'FORBIDDEN', reason: 'ROLE_NOT_ALLOWED' };

describe('POST /v1/ad-reports', () => {
  let eventStore: SqliteEventStore;
  let commands: CommandHandler;
  let server: http.Server;
  let url: string;
  let ids = 0;
  let ingestKey: string;
  let viewerKey: string;

  beforeEach(async () => {
    eventStore = SqliteEventStore.open({ path: ':memory:', synchronous: 'NORMAL' });
    commands = new CommandHandler(eventStore);
    const accessControl = new AccessControl(eventStore, { cacheMs: 0 });
    const metadata = (commandId: string) => ({
      workspaceId,
      commandId,
      now: new Date('2025-03-01T00:00:00Z'),
    });
    await accessControl.createWorkspace(metadata('create-workspace'), 'Acme');
    const issue = async (role: 'ingest' | 'viewer') =>
      (
        await accessControl.issueKey(metadata(`issue-${role}-key`), {
          name: `${role} key`,
          role,
          expiresAt: null,
        })
      ).token;
    ingestKey = await issue('ingest');
    viewerKey = await issue('viewer');
    const app = express();
    app.use(
      createAdReportRouter({
        commands,
        requireKey: requireKey(accessControl, 'ingest', { limiter: new RateLimiter(0, 1) }),
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
        authorization: `Bearer ${ingestKey}`,
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
    ['an invalid Idempotency-Key', [row()], { 'idempotency-key': 'a b' }, 'BAD_USER_INPUT'],
  ])('given %s, then 400', async (_, body, headers, code) => {
    const response = await post(body, headers);
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].extensions.code).toBe(code);
  });

  it.each<[string, () => string, number, { code: string; reason: string }]>([
    ['no key (an empty Authorization header)', () => '', 401, unauthenticated('MISSING_KEY')],
    ['a malformed key', () => 'Bearer not-a-key', 401, unauthenticated('INVALID_KEY')],
    ['a viewer key', () => `Bearer ${viewerKey}`, 403, forbidden],
  ])('given %s, then refused, importing nothing', async (_, authorization, status, extensions) => {
    const response = await post([row()], { authorization: authorization() });

    expect(response.status).toBe(status);
    expect((await response.json()).errors[0].extensions).toEqual(extensions);
    expect(await spent()).toBeNull();
  });
});
