/**
 * The Segment-compatible HTTP API against the embedded event store, through a real HTTP
 * server on a free port, talked to with fetch as an SDK would.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { RecordedEvent } from '../../src/domain/shared/events';
import { contactStreamId } from '../../src/domain/tracking/tracking.events';
import type { ApiKeyRole } from '../../src/domain/workspace';
import { AccessControl, actorOf } from '../../src/infra/access/access-control';
import { generateToken, parseToken } from '../../src/infra/access/api-key-token';
import { RateLimiter } from '../../src/infra/access/rate-limiter';
import { SqliteEventStore } from '../../src/infra/event-store/sqlite-event-store';
import { TrackingService } from '../../src/infra/ingestion/tracking-service';
import { createSegmentRouter } from '../../src/infra/ingestion/segment-router';
import { trackingEventId } from '../../src/infra/ingestion/tracking-event-id';
import { createLogger } from '../../src/infra/logger';

const NOW = new Date('2025-03-01T12:00:00.000Z');
const MAX_BATCH_BYTES = 64 * 1024;

/**
 * The keys live in a store of their own, so the tracking store holds only what the
 * endpoints appended.
 */
let keyStore: SqliteEventStore;
let accessControl: AccessControl;
/** ws1's ingest key (the write key an app holds), its other roles' keys, and ws2's ingest key. */
const KEYS = { app: '', owner: '', editor: '', viewer: '', otherWorkspace: '' };
let store: SqliteEventStore;
let server: http.Server;
let baseUrl: string;
let generatedIds = 0;

beforeAll(async () => {
  keyStore = SqliteEventStore.open({ path: ':memory:', synchronous: 'NORMAL' });
  accessControl = new AccessControl(keyStore, { cacheMs: 0 });
  const metadata = (workspaceId: string) => ({
    workspaceId,
    commandId: randomUUID(),
    now: NOW,
  });
  const issue = async (workspaceId: string, role: ApiKeyRole) =>
    (await accessControl.issueKey(metadata(workspaceId), { name: role, role, expiresAt: null }))
      .token;
  KEYS.owner = (await accessControl.createWorkspace(metadata('ws1'), 'ws1')).token;
  KEYS.app = await issue('ws1', 'ingest');
  KEYS.editor = await issue('ws1', 'editor');
  KEYS.viewer = await issue('ws1', 'viewer');
  await accessControl.createWorkspace(metadata('ws2'), 'ws2');
  KEYS.otherWorkspace = await issue('ws2', 'ingest');
});

afterAll(async () => {
  await keyStore.close();
});

beforeEach(async () => {
  store = SqliteEventStore.open({ path: ':memory:', synchronous: 'NORMAL' });
  const app = express();
  app.use(
    createSegmentRouter({
      tracking: new TrackingService({
        eventStore: store,
        clock: () => NOW,
        newId: () => `generated-${++generatedIds}`,
        logger: createLogger('silent'),
      }),
      access: {
        authenticate: (key) => accessControl.authenticate(key),
        limiter: new RateLimiter(0, 1),
      },
      maxBatchBytes: MAX_BATCH_BYTES,
      logger: createLogger('silent'),
    }),
  );
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await new Promise<void>((resolve, reject) =>
    server.close((error) => (error ? reject(error) : resolve())),
  );
  await store.close();
});

function basic(key: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` };
}

interface Posted {
  readonly status: number;
  readonly body: {
    success?: boolean;
    accepted?: number;
    rejected?: Array<{
      index: number;
      messageId: string | null;
      field: string;
      reason: string;
      message: string;
    }>;
    position?: string | null;
    errors?: Array<{ message: string; extensions: Record<string, unknown> }>;
  };
}

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = basic(KEYS.app),
): Promise<Posted> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Posted['body'] };
}

function stream(workspaceId: string, identity: string): Promise<RecordedEvent[]> {
  return store.readStream(contactStreamId(workspaceId, identity));
}

describe('single-message endpoints', () => {
  it.each([
    ['track', 'EventTracked', { userId: 'u1', event: 'Signed Up', properties: { plan: 'pro' } }],
    ['identify', 'ContactIdentified', { userId: 'u1', traits: { email: 'a@example.com' } }],
    ['page', 'PageViewed', { anonymousId: 'anon-1', name: 'Pricing' }],
    ['screen', 'PageViewed', { userId: 'u1', name: 'Home' }],
    ['alias', 'ContactAliased', { userId: 'u1', previousId: 'anon-1' }],
  ])('/v1/%s stores one %s in the contact stream', async (type, eventType, message) => {
    const identity = 'userId' in message ? message.userId : message.anonymousId;

    const { status, body } = await post(`/v1/${type}`, { ...message, messageId: `m-${type}` });

    const stored = await stream('ws1', identity);
    expect(status).toBe(200);
    expect(stored.map((event) => event.type)).toEqual([eventType]);
    expect(stored[0]?.eventId).toBe(trackingEventId('ws1', `m-${type}`));
    expect(stored[0]?.metadata).toEqual({
      workspaceId: 'ws1',
      schemaVersion: 1,
      messageId: `m-${type}`,
      source: 'segment',
      actor: actorOf(parseToken(KEYS.app)?.keyId ?? ''),
    });
    expect(stored[0]?.data).toEqual(
      expect.objectContaining({ messageId: `m-${type}`, receivedAt: NOW.toISOString() }),
    );
    expect(body).toEqual({
      success: true,
      accepted: 1,
      rejected: [],
      position: stored[0]?.position.toString(),
    });
  });

  it('reads the endpoint, not the message, for the call type', async () => {
    await post('/v1/track', { type: 'page', userId: 'u1', event: 'Clicked', messageId: 'm1' });

    expect((await stream('ws1', 'u1')).map((event) => event.type)).toEqual(['EventTracked']);
  });

  it('answers an invalid message with 400 BAD_USER_INPUT naming the field, storing nothing', async () => {
    const { status, body } = await post('/v1/track', { userId: 'u1', event: '' });

    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'event',
      reason: 'MISSING_EVENT',
    });
    expect(await store.headPosition()).toBe(-1n);
  });

  it('gives a message without a messageId a generated one', async () => {
    const before = generatedIds;

    await post('/v1/track', { userId: 'u1', event: 'Signed Up' });

    const [stored] = await stream('ws1', 'u1');
    expect(stored?.metadata.messageId).toBe(`generated-${before + 1}`);
  });
});

describe('authentication', () => {
  const message = { userId: 'u1', event: 'Signed Up', messageId: 'm-auth' };
  const unknownKey = generateToken('ws1').token;

  it('accepts the write key as the Basic auth user, as a Bearer token and in the body', async () => {
    const viaBasic = await post('/v1/track', { ...message, messageId: 'm-basic' });
    const viaBearer = await post(
      '/v1/track',
      { ...message, messageId: 'm-bearer' },
      { authorization: `Bearer ${KEYS.app}` },
    );
    const viaBody = await post(
      '/v1/track',
      { ...message, messageId: 'm-body', writeKey: KEYS.app },
      {},
    );

    expect([viaBasic.status, viaBearer.status, viaBody.status]).toEqual([200, 200, 200]);
    const stored = await stream('ws1', 'u1');
    expect(stored.map((event) => event.metadata.messageId)).toEqual([
      'm-basic',
      'm-bearer',
      'm-body',
    ]);
    expect(JSON.stringify(stored.map((event) => event.data))).not.toContain(KEYS.app);
  });

  it("stores in the key's own workspace", async () => {
    await post('/v1/track', message, basic(KEYS.otherWorkspace));

    expect(await stream('ws1', 'u1')).toEqual([]);
    expect(await stream('ws2', 'u1')).toHaveLength(1);
  });

  it.each<[string, () => Record<string, string>, string]>([
    ['a malformed Basic key', () => basic('wk_nope'), 'INVALID_KEY'],
    ['a malformed Bearer key', () => ({ authorization: 'Bearer wk_nope' }), 'INVALID_KEY'],
    ['a well-formed key its workspace does not know', () => basic(unknownKey), 'INVALID_KEY'],
    ['another auth scheme', () => ({ authorization: `Token ${KEYS.app}` }), 'INVALID_KEY'],
    ['no key at all', () => ({}), 'MISSING_KEY'],
  ])('refuses %s with 401 UNAUTHENTICATED, storing nothing', async (_, headers, reason) => {
    const single = await post('/v1/track', message, headers());
    const batch = await post('/v1/batch', { batch: [{ ...message, type: 'track' }] }, headers());

    for (const { status, body } of [single, batch]) {
      expect(status).toBe(401);
      expect(body.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED', reason });
    }
    expect(await store.headPosition()).toBe(-1n);
  });

  it('refuses a key whose role may not ingest with 403 FORBIDDEN, storing nothing', async () => {
    const single = await post('/v1/track', message, basic(KEYS.viewer));
    const batch = await post(
      '/v1/batch',
      { batch: [{ ...message, type: 'track' }] },
      { authorization: `Bearer ${KEYS.viewer}` },
    );

    for (const { status, body } of [single, batch]) {
      expect(status).toBe(403);
      expect(body.errors?.[0]?.extensions).toEqual({
        code: 'FORBIDDEN',
        reason: 'ROLE_NOT_ALLOWED',
      });
    }
    expect(await store.headPosition()).toBe(-1n);
  });

  it('refuses an unknown key in the body, and a bad header key even beside a good body key', async () => {
    const bodyKey = await post('/v1/track', { ...message, writeKey: 'wk_nope' }, {});
    const badHeader = await post('/v1/track', { ...message, writeKey: KEYS.app }, basic('wk_nope'));

    expect([bodyKey.status, badHeader.status]).toEqual([401, 401]);
    expect(await store.headPosition()).toBe(-1n);
  });
});

describe('/v1/batch', () => {
  it('stores the good messages, reports the bad ones by index, in one append', async () => {
    const { status, body } = await post('/v1/batch', {
      writeKey: KEYS.app,
      batch: [
        { type: 'track', userId: 'u1', event: 'Signed Up', messageId: 'b0' },
        { type: 'track', userId: 'u1', messageId: 'b1' },
        { type: 'page', anonymousId: 'anon-2', name: 'Home', messageId: 'b2' },
        { type: 'dance', userId: 'u1', messageId: 'b3' },
        { type: 'identify', userId: 'u2', traits: { plan: 'pro' }, messageId: 'b4' },
      ],
    });

    expect(status).toBe(200);
    expect(body.accepted).toBe(3);
    expect(body.rejected).toEqual([
      expect.objectContaining({
        index: 1,
        messageId: 'b1',
        field: 'event',
        reason: 'MISSING_EVENT',
      }),
      expect.objectContaining({ index: 3, messageId: 'b3', field: 'type', reason: 'INVALID_TYPE' }),
    ]);
    const log = await store.readAll();
    expect(log.map((event) => [event.streamId, event.type])).toEqual([
      [contactStreamId('ws1', 'u1'), 'EventTracked'],
      [contactStreamId('ws1', 'anon-2'), 'PageViewed'],
      [contactStreamId('ws1', 'u2'), 'ContactIdentified'],
    ]);
    expect(body.position).toBe(log[2]?.position.toString());
  });

  it('answers 200 with accepted 0 when every message is rejected', async () => {
    const { status, body } = await post('/v1/batch', {
      batch: [{ type: 'track', event: 'No Id' }, 'not a message'],
    });

    expect(status).toBe(200);
    expect(body).toEqual(expect.objectContaining({ success: true, accepted: 0, position: null }));
    expect(body.rejected?.map((rejected) => rejected.index)).toEqual([0, 1]);
    expect(await store.headPosition()).toBe(-1n);
  });

  it('answers 400 BAD_USER_INPUT for a body without a batch array', async () => {
    const { status, body } = await post('/v1/batch', { messages: [] });

    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'batch',
      reason: 'INVALID_BATCH',
    });
  });

  it('stores a messageId once however often it is sent, answering the same position', async () => {
    const batch = {
      batch: [
        { type: 'track', userId: 'u1', event: 'Order Completed', messageId: 'once' },
        { type: 'track', userId: 'u1', event: 'Order Completed', messageId: 'once' },
      ],
    };

    const first = await post('/v1/batch', batch);
    const headAfterFirst = await store.headPosition();
    const second = await post('/v1/batch', batch);
    const single = await post('/v1/track', batch.batch[0]);

    expect(first.body.accepted).toBe(2);
    expect(second.body).toEqual(first.body);
    expect(single.body.position).toBe(first.body.position);
    expect(await store.headPosition()).toBe(headAfterFirst);
    expect(await stream('ws1', 'u1')).toHaveLength(1);
  });

  it('refuses a messageId already stored for another person, storing the rest', async () => {
    await post('/v1/track', { userId: 'u1', event: 'Signed Up', messageId: 'taken' });

    const { body } = await post('/v1/batch', {
      batch: [
        { type: 'track', userId: 'u2', event: 'Signed Up', messageId: 'taken' },
        { type: 'track', userId: 'u2', event: 'Logged In', messageId: 'fresh' },
      ],
    });

    expect(body.accepted).toBe(1);
    expect(body.rejected).toEqual([
      expect.objectContaining({ index: 0, field: 'messageId', reason: 'DUPLICATE_MESSAGE_ID' }),
    ]);
    expect((await stream('ws2', 'u2')).length + (await stream('ws1', 'u2')).length).toBe(1);
  });

  it('reads a text/plain body as JSON, as browser SDKs send it', async () => {
    const { status } = await post(
      '/v1/batch',
      { batch: [{ type: 'track', userId: 'u1', event: 'Signed Up' }] },
      { ...basic(KEYS.app), 'content-type': 'text/plain' },
    );

    expect(status).toBe(200);
    expect(await stream('ws1', 'u1')).toHaveLength(1);
  });
});

describe('bodies that cannot be read', () => {
  it.each(['/v1/track', '/v1/batch'])(
    'answers %s with 400 BAD_REQUEST for non-JSON',
    async (path) => {
      const broken = await post(path, '{"userId": "u1", ');
      const empty = await post(path, '');

      for (const { status, body } of [broken, empty]) {
        expect(status).toBe(400);
        expect(body.errors?.[0]?.extensions).toEqual({ code: 'BAD_REQUEST' });
      }
    },
  );

  it('answers 413 PAYLOAD_TOO_LARGE for a message over 32 KiB or a batch over the limit', async () => {
    const properties = { blob: 'x'.repeat(33 * 1024) };
    const single = await post('/v1/track', { userId: 'u1', event: 'Big', properties });
    const batch = await post('/v1/batch', {
      batch: [0, 1, 2].map((n) => ({
        type: 'track',
        userId: 'u1',
        event: 'Medium',
        properties: { blob: 'y'.repeat(30 * 1024), n },
      })),
    });

    for (const { status, body } of [single, batch]) {
      expect(status).toBe(413);
      expect(body.errors?.[0]?.extensions).toEqual({ code: 'PAYLOAD_TOO_LARGE' });
    }
    expect(await store.headPosition()).toBe(-1n);
  });
});

describe('/v1/import', () => {
  const archived = {
    type: 'track',
    userId: 'u1',
    event: 'Signed Up',
    receivedAt: '2024-06-01T10:00:00.000Z',
    timestamp: '2024-06-01T09:59:58.000Z',
  };

  it.each(['owner', 'editor'] as const)(
    'keeps the archived receivedAt for an %s key, which may import',
    async (role) => {
      const { status } = await post(
        '/v1/import',
        { batch: [{ ...archived, messageId: 'i1' }] },
        basic(KEYS[role]),
      );

      const [stored] = await stream('ws1', 'u1');
      expect(status).toBe(200);
      expect(stored?.data).toEqual(
        expect.objectContaining({
          receivedAt: archived.receivedAt,
          occurredAt: archived.timestamp,
        }),
      );
    },
  );

  it('stamps the arrival time for an ingest key (a write key browsers hold), and on /v1/batch', async () => {
    await post('/v1/import', { batch: [{ ...archived, messageId: 'i1' }] }, basic(KEYS.app));
    await post('/v1/batch', { batch: [{ ...archived, messageId: 'i2' }] }, basic(KEYS.owner));

    const stored = await stream('ws1', 'u1');
    expect(stored.map((event) => (event.data as { receivedAt: string }).receivedAt)).toEqual([
      NOW.toISOString(),
      NOW.toISOString(),
    ]);
  });
  it('answers browser preflights and lets any origin post, as Segment does', async () => {
    const preflight = await fetch(`${baseUrl}/v1/batch`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
  });
});
