/**
 * API keys end to end, on the real server: authentication on every entry point (GraphQL over
 * HTTP and WebSocket, the tracking endpoints, the export), what each role may do, keys that
 * stop working (revoked, expired) and the connections they close, per-key rate limits, and
 * secrets that never reach the disk or the logs.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { ApiKeyRole } from '../../src/domain/workspace';
import { generateToken, parseToken } from '../../src/infra/access/api-key-token';
import { loadConfig } from '../../src/infra/config';
import { createLogger } from '../../src/infra/logger';
import { type RunningServer, startServer } from '../../src/infra/server';
import {
  basicAuthorization,
  graphQLError,
  startTestServer,
  take,
  temporaryDataDir,
  type TestServer,
  until,
} from './harness';

interface GraphQLAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly data?: Record<string, unknown> | null;
  readonly errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** One GraphQL request over HTTP with this Authorization header (or none). */
async function graphql(
  url: string,
  authorization: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GraphQLAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization !== undefined && { authorization }),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLAnswer, 'status' | 'headers'>;
  return { status: response.status, headers: response.headers, ...body };
}

/** A Segment `/v1/batch` of `count` track calls with this Authorization header. */
async function postBatch(
  url: string,
  authorization: string | undefined,
  count = 1,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const batch = Array.from({ length: count }, (_, index) => ({
    type: 'track',
    event: 'Signed Up',
    userId: `user-${index}`,
    messageId: randomUUID(),
  }));
  const response = await fetch(url.replace(/\/graphql$/, '/v1/batch'), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization !== undefined && { authorization }),
    },
    body: JSON.stringify({ batch }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

function exportEvents(
  url: string,
  authorization: string | undefined,
  parameters = 'format=ndjson',
): Promise<Response> {
  return fetch(url.replace(/\/graphql$/, `/v1/export/events?${parameters}`), {
    headers: authorization === undefined ? {} : { authorization },
  });
}

const bearerOf = (key: string) => `Bearer ${key}`;
const keyIdOf = (key: string) => parseToken(key)?.keyId ?? 'not a key';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The code a graphql-ws client's socket closes with, once it does. */
function closeCodeOf(client: Client): () => number | undefined {
  let code: number | undefined;
  client.on('closed', (event) => {
    code = (event as { code?: number }).code;
  });
  return () => code;
}

/**
 * A graphql-ws client that connects at once with this key (or none), for sockets the server
 * is expected to close: the close is read from `closed`, not reported on the console.
 */
function connect(
  url: string,
  key: string | undefined,
  clients: Client[],
  connectionParams: Record<string, unknown> = key === undefined
    ? {}
    : { authorization: `Bearer ${key}` },
) {
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
  });
  clients.push(client);
  return { client, closeCode: closeCodeOf(client) };
}

const ME = 'query { me { workspaceId keyId role } }';
const CREATE_CAMPAIGN = `mutation Create($input: CreateCampaignInput!) {
  createCampaign(input: $input) { campaignId position }
}`;
const TRACK = `mutation { trackEvents(events: [{ type: TRACK, event: "Signed Up", userId: "u-1" }]) { accepted } }`;
const API_KEYS = `query Keys($includeRevoked: Boolean! = false) {
  apiKeys(includeRevoked: $includeRevoked) { id name role status createdAt createdBy expiresAt revokedAt }
}`;
const CREATE_KEY = `mutation CreateKey($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { revision position key { id name role status createdBy expiresAt } secret }
}`;
const REVOKE_KEY = `mutation Revoke($id: ID!) {
  revokeApiKey(id: $id) { key { id status revokedAt } }
}`;
const REBUILD = 'mutation { rebuildProjection(name: "no-such-projection") { done } }';
const FUNNEL_ANALYSIS = `query {
  funnelAnalysis(definition: { steps: [{ event: "Signed Up" }, { event: "Order Completed" }] }) { entered }
}`;

interface ApiKeyView {
  id: string;
  name: string;
  role: string;
  status: string;
  createdBy: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

describe('API keys and roles', () => {
  let touchline: TestServer;
  const sockets: Client[] = [];

  beforeAll(async () => {
    touchline = await startTestServer();
  });

  afterAll(async () => {
    await Promise.all(sockets.map((client) => client.dispose()));
    await touchline?.stop();
  });

  /** A new key of the default workspace, created by its owner through createApiKey. */
  async function createKey(
    role: ApiKeyRole,
    options: { name?: string; expiresAt?: Date } = {},
  ): Promise<{ secret: string; key: ApiKeyView; answer: GraphQLAnswer }> {
    const answer = await graphql(touchline.url, bearerOf(await touchline.key()), CREATE_KEY, {
      input: {
        name: options.name ?? `${role} key`,
        role: role.toUpperCase(),
        expiresAt: options.expiresAt?.toISOString() ?? null,
      },
    });
    expect(answer.errors).toBeUndefined();
    const created = answer.data?.createApiKey as { secret: string; key: ApiKeyView };
    return { ...created, answer };
  }

  describe('authentication', () => {
    it('answers a request without a key with 401 MISSING_KEY and a WWW-Authenticate header', async () => {
      const answer = await graphql(touchline.url, undefined, ME);
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
      expect(answer.errors).toEqual([
        expect.objectContaining({
          extensions: { code: 'UNAUTHENTICATED', reason: 'MISSING_KEY' },
        }),
      ]);
      expect(answer.data).toBeUndefined();
    });

    it('answers a malformed or unknown key with 401 INVALID_KEY', async () => {
      const owner = await touchline.key();
      const { workspaceId, keyId } = parseToken(owner) ?? { workspaceId: '', keyId: '' };
      const otherSecret = generateToken(workspaceId).secret;
      const candidates = [
        'Bearer nonsense',
        `Bearer ${owner}x`,
        // Well formed, but no workspace has this key.
        bearerOf(generateToken('default').token),
        bearerOf(generateToken('no-such-workspace').token),
        // The owner key's id with another secret.
        bearerOf(
          ['tl', Buffer.from(workspaceId).toString('base64url'), keyId, otherSecret].join('.'),
        ),
        // Another scheme: a credential Touchline cannot use is an invalid one.
        `Token ${owner}`,
      ];
      for (const authorization of candidates) {
        const answer = await graphql(touchline.url, authorization, ME);
        expect({
          authorization,
          status: answer.status,
          extensions: answer.errors?.[0]?.extensions,
        }).toEqual({
          authorization,
          status: 401,
          extensions: {
            code: 'UNAUTHENTICATED',
            reason: 'INVALID_KEY',
          },
        });
        expect(answer.headers.get('www-authenticate')).not.toBeNull();
      }
    });

    it('tells the caller who it is', async () => {
      const viewer = await touchline.key('default', 'viewer');
      const answer = await graphql(touchline.url, bearerOf(viewer), ME);
      expect(answer).toMatchObject({
        status: 200,
        data: { me: { workspaceId: 'default', keyId: keyIdOf(viewer), role: 'VIEWER' } },
      });
    });
  });

  describe('what each role may do over HTTP', () => {
    type Outcome = 'OK' | 'FORBIDDEN' | 'NOT_FOUND';
    const operations: Record<string, [string, Record<string, unknown>?]> = {
      query: [ME],
      createCampaign: [CREATE_CAMPAIGN, { input: { name: 'Role matrix' } }],
      trackEvents: [TRACK],
      apiKeys: [API_KEYS],
      createApiKey: [CREATE_KEY, { input: { name: 'made in the matrix', role: 'VIEWER' } }],
      rebuildProjection: [REBUILD],
    };
    const expected: Record<ApiKeyRole, Record<keyof typeof operations, Outcome>> = {
      owner: {
        query: 'OK',
        createCampaign: 'OK',
        trackEvents: 'OK',
        apiKeys: 'OK',
        createApiKey: 'OK',
        // Allowed: the projection it names does not exist.
        rebuildProjection: 'NOT_FOUND',
      },
      editor: {
        query: 'OK',
        createCampaign: 'OK',
        trackEvents: 'OK',
        apiKeys: 'FORBIDDEN',
        createApiKey: 'FORBIDDEN',
        rebuildProjection: 'FORBIDDEN',
      },
      viewer: {
        query: 'OK',
        createCampaign: 'FORBIDDEN',
        trackEvents: 'FORBIDDEN',
        apiKeys: 'FORBIDDEN',
        createApiKey: 'FORBIDDEN',
        rebuildProjection: 'FORBIDDEN',
      },
      ingest: {
        query: 'FORBIDDEN',
        createCampaign: 'FORBIDDEN',
        trackEvents: 'OK',
        apiKeys: 'FORBIDDEN',
        createApiKey: 'FORBIDDEN',
        rebuildProjection: 'FORBIDDEN',
      },
    };

    it.each(Object.keys(expected) as ApiKeyRole[])('a %s key', async (role) => {
      const authorization = bearerOf(await touchline.key('default', role));
      const outcomes: Record<string, Outcome> = {};
      for (const [name, [query, variables]] of Object.entries(operations)) {
        const answer = await graphql(touchline.url, authorization, query, variables);
        const code = answer.errors?.[0]?.extensions?.code as Outcome | undefined;
        outcomes[name] = code ?? 'OK';
        if (code === 'FORBIDDEN') {
          // A refusal names the field, runs nothing, and is an HTTP 403.
          const field = name === 'query' ? 'me' : name;
          expect({ name, status: answer.status, data: answer.data }).toEqual({
            name,
            status: 403,
            data: undefined,
          });
          expect(answer.errors?.[0]?.extensions).toMatchObject({
            reason: 'ROLE_NOT_ALLOWED',
            field,
          });
        }
      }
      expect(outcomes).toEqual(expected[role]);
    });

    it('lets an operation through only when the role may use every field it selects', async () => {
      const viewer = bearerOf(await touchline.key('default', 'viewer'));
      const mixed = await graphql(
        touchline.url,
        viewer,
        'query { me { role } ...Keys } fragment Keys on Query { apiKeys { id } }',
      );
      expect(mixed.status).toBe(403);
      expect(mixed.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', field: 'apiKeys' });
    });

    it('lets ingest, editor and owner keys, and not a viewer key, post to /v1/batch', async () => {
      for (const role of ['ingest', 'editor', 'owner'] as const) {
        const key = await touchline.key('default', role);
        const answer = await postBatch(touchline.url, basicAuthorization(key), 2);
        expect({ role, status: answer.status, accepted: answer.body.accepted }).toEqual({
          role,
          status: 200,
          accepted: 2,
        });
      }
      const viewer = await touchline.key('default', 'viewer');
      for (const authorization of [basicAuthorization(viewer), bearerOf(viewer)]) {
        const refused = await postBatch(touchline.url, authorization);
        expect(refused.status).toBe(403);
        expect(refused.body).toEqual({
          errors: [
            expect.objectContaining({
              extensions: { code: 'FORBIDDEN', reason: 'ROLE_NOT_ALLOWED' },
            }),
          ],
        });
      }
      const anonymous = await postBatch(touchline.url, undefined);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic/);
    });

    it('lets a key that may read export the events, and no other', async () => {
      const anonymous = await exportEvents(touchline.url, undefined);
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toMatchObject({
        errors: [{ extensions: { code: 'UNAUTHENTICATED', reason: 'MISSING_KEY' } }],
      });
      const ingest = await exportEvents(
        touchline.url,
        bearerOf(await touchline.key('default', 'ingest')),
      );
      expect(ingest.status).toBe(403);
      expect(await ingest.json()).toMatchObject({
        errors: [{ extensions: { code: 'FORBIDDEN' } }],
      });
      const viewer = await exportEvents(
        touchline.url,
        bearerOf(await touchline.key('default', 'viewer')),
      );
      expect(viewer.status).toBe(200);
      await viewer.text();
    });
  });

  describe('keys made through GraphQL', () => {
    it('shows a new key’s secret once, stores only its hash, and lists it without it', async () => {
      const owner = await touchline.key();
      const { secret, key, answer } = await createKey('editor', { name: 'ci pipeline' });
      const parsed = parseToken(secret);
      expect(parsed).toEqual({ workspaceId: 'default', keyId: key.id, secret: expect.any(String) });
      expect(key).toMatchObject({
        name: 'ci pipeline',
        role: 'EDITOR',
        status: 'ACTIVE',
        createdBy: `key:${keyIdOf(owner)}`,
        expiresAt: null,
      });
      expect((await graphql(touchline.url, bearerOf(secret), ME)).data).toEqual({
        me: { workspaceId: 'default', keyId: key.id, role: 'EDITOR' },
      });
      expect(answer.data?.createApiKey).toMatchObject({ revision: expect.any(String) });

      // The listing: the key, who created it, and no secret anywhere in the answer.
      const listing = await graphql(touchline.url, bearerOf(owner), API_KEYS);
      const keys = listing.data?.apiKeys as ApiKeyView[];
      expect(keys.find((candidate) => candidate.id === key.id)).toEqual({
        id: key.id,
        name: 'ci pipeline',
        role: 'EDITOR',
        status: 'ACTIVE',
        createdAt: expect.any(String),
        createdBy: `key:${keyIdOf(owner)}`,
        expiresAt: null,
        revokedAt: null,
      });
      expect(JSON.stringify(listing)).not.toContain(parsed?.secret);
      // The first key names what created the workspace (the harness's actor `test`).
      expect(keys.find((candidate) => candidate.id === keyIdOf(owner))?.createdBy).toBe('test');

      // On disk: the hash of the secret, never the secret.
      const secretPart = parsed?.secret ?? '';
      const files = fs
        .readdirSync(touchline.dataDir)
        .map((name) => path.join(touchline.dataDir, name));
      expect(files.map((file) => path.basename(file))).toEqual(
        expect.arrayContaining(['events.sqlite', 'events.sqlite-wal']),
      );
      const bytes = Buffer.concat(
        files.filter((file) => fs.statSync(file).isFile()).map((file) => fs.readFileSync(file)),
      );
      expect(bytes.includes(sha256(secretPart))).toBe(true);
      expect(bytes.includes(secretPart)).toBe(false);
      expect(bytes.includes(secret)).toBe(false);
    });

    it('keeps the key events (their hashes) out of the events query and the export', async () => {
      const { secret } = await createKey('viewer', { name: 'hidden hash' });
      const hash = sha256(parseToken(secret)?.secret ?? '');
      const viewer = bearerOf(await touchline.key('default', 'viewer'));
      for (const filter of [{}, { types: ['ApiKeyIssued', 'WorkspaceCreated'] }]) {
        const events = await graphql(
          touchline.url,
          viewer,
          'query Events($filter: EventFilterInput) { events(filter: $filter, first: 500) { nodes { type data } } }',
          { filter },
        );
        expect(events.errors).toBeUndefined();
        const types = (events.data?.events as { nodes: { type: string }[] }).nodes.map(
          (node) => node.type,
        );
        expect(types).not.toContain('ApiKeyIssued');
        expect(JSON.stringify(events)).not.toContain(hash);
      }
      const exported = await exportEvents(touchline.url, viewer);
      expect(exported.status).toBe(200);
      const text = await exported.text();
      expect(text).not.toContain('ApiKeyIssued');
      expect(text).not.toContain(hash);
    });

    it('refuses an unknown role and an expiry in the past as input errors', async () => {
      const owner = bearerOf(await touchline.key());
      const past = await graphql(touchline.url, owner, CREATE_KEY, {
        input: { name: 'late', role: 'VIEWER', expiresAt: '2020-01-01T00:00:00.000Z' },
      });
      expect(past.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: 'IN_PAST',
        field: 'expiresAt',
      });
      const role = await graphql(touchline.url, owner, CREATE_KEY, {
        input: { name: 'odd', role: 'ADMIN' },
      });
      expect(role.status).toBe(400);
    });

    it('records the key that issued a command as the actor of its events', async () => {
      const editor = await touchline.key('default', 'editor');
      const created = await graphql(touchline.url, bearerOf(editor), CREATE_CAMPAIGN, {
        input: { id: 'actor-check', name: 'Actor check' },
      });
      expect(created.errors).toBeUndefined();
      const events = await graphql(
        touchline.url,
        bearerOf(await touchline.key('default', 'viewer')),
        `
          query {
            events(filter: { campaignId: "actor-check", types: ["CampaignCreated"] }) {
              nodes {
                type
                streamId
                actor
                metadata
              }
            }
          }
        `,
      );
      const nodes = (events.data?.events as { nodes: Record<string, unknown>[] }).nodes;
      expect(nodes).toEqual([
        expect.objectContaining({
          type: 'CampaignCreated',
          actor: `key:${keyIdOf(editor)}`,
          metadata: expect.objectContaining({
            actor: `key:${keyIdOf(editor)}`,
            workspaceId: 'default',
          }),
        }),
      ]);
      const [stored] = await touchline.server.eventStore.readStream(nodes[0]?.streamId as string);
      expect(stored?.metadata.actor).toBe(`key:${keyIdOf(editor)}`);
    });

    it('refuses to revoke the last working owner key (LAST_OWNER_KEY)', async () => {
      const owner = await touchline.key('lonely', 'owner');
      await touchline.key('lonely', 'editor');
      const refused = await graphQLError(
        touchline.client('lonely').request(REVOKE_KEY, { id: keyIdOf(owner) }),
      );
      expect(refused).toMatchObject({ code: 'CONFLICT', reason: 'LAST_OWNER_KEY' });
      expect((await graphql(touchline.url, bearerOf(owner), ME)).status).toBe(200);

      // With a second owner key, the first may go.
      const second = await graphql(touchline.url, bearerOf(owner), CREATE_KEY, {
        input: { name: 'second owner', role: 'OWNER' },
      });
      const secondKey = (second.data?.createApiKey as { secret: string }).secret;
      const revoked = await graphql(touchline.url, bearerOf(secondKey), REVOKE_KEY, {
        id: keyIdOf(owner),
      });
      expect(revoked.data).toMatchObject({
        revokeApiKey: { key: { id: keyIdOf(owner), status: 'REVOKED' } },
      });
      const again = await graphQLError(
        touchline.clientWithKey(secondKey).request(REVOKE_KEY, { id: keyIdOf(secondKey) }),
      );
      expect(again).toMatchObject({ code: 'CONFLICT', reason: 'LAST_OWNER_KEY' });
    });

    it('answers NOT_FOUND for a key the workspace does not have', async () => {
      const refused = await graphQLError(
        touchline.client().request(REVOKE_KEY, { id: 'ffffffffffffffff' }),
      );
      expect(refused.code).toBe('NOT_FOUND');
    });
  });

  describe('a key that stops working', () => {
    it('is refused at once once revoked, and its subscription socket is closed with 4401', async () => {
      const { secret, key } = await createKey('viewer', { name: 'to revoke' });
      const { client: ws, closeCode } = connect(touchline.url, secret, sockets);
      const listeners = touchline.server.changeFeed.subscriberCount;
      const changes = ws.iterate<{ campaignChanged: { id: string } }>({
        query: 'subscription { campaignChanged(id: "revocation") { id } }',
      });
      await until(
        () => touchline.server.changeFeed.subscriberCount > listeners,
        'the subscription to be live',
      );
      await touchline.client('default', 'editor').request(CREATE_CAMPAIGN, {
        input: { id: 'revocation', name: 'Revocation' },
      });
      const [pushed] = await take(changes[Symbol.asyncIterator](), 1);
      expect(pushed?.data?.campaignChanged).toEqual({ id: 'revocation' });
      expect((await graphql(touchline.url, bearerOf(secret), ME)).status).toBe(200);

      const revoked = await graphql(touchline.url, bearerOf(await touchline.key()), REVOKE_KEY, {
        id: key.id,
      });
      expect(revoked.data).toMatchObject({
        revokeApiKey: { key: { id: key.id, status: 'REVOKED', revokedAt: expect.any(String) } },
      });
      const refused = await graphql(touchline.url, bearerOf(secret), ME);
      expect(refused.status).toBe(401);
      expect(refused.errors?.[0]?.extensions).toEqual({
        code: 'UNAUTHENTICATED',
        reason: 'REVOKED_KEY',
      });
      // Well before the periodic sweep (every second): the revocation itself closes it.
      await until(() => closeCode() !== undefined, 'the socket to close', 500);
      expect(closeCode()).toBe(4401);

      // Revoking it again changes nothing; a new connection with it is refused.
      const again = await graphql(touchline.url, bearerOf(await touchline.key()), REVOKE_KEY, {
        id: key.id,
      });
      expect(again.data).toMatchObject({ revokeApiKey: { key: { status: 'REVOKED' } } });
      const { closeCode: laterCode } = connect(touchline.url, secret, sockets);
      await until(() => laterCode() !== undefined, 'the new socket to close');
      expect(laterCode()).toBe(4401);
      const listing = await graphql(touchline.url, bearerOf(await touchline.key()), API_KEYS, {
        includeRevoked: true,
      });
      expect(listing.data?.apiKeys).toContainEqual(
        expect.objectContaining({ id: key.id, status: 'REVOKED' }),
      );
      const active = await graphql(touchline.url, bearerOf(await touchline.key()), API_KEYS);
      expect((active.data?.apiKeys as ApiKeyView[]).map((k) => k.id)).not.toContain(key.id);
    });

    it('stops working at its expiry, and its socket is closed by the sweep', async () => {
      const expiresAt = new Date(Date.now() + 1500);
      const { secret, key } = await createKey('viewer', { name: 'short-lived', expiresAt });
      expect(key.expiresAt).toBe(expiresAt.toISOString());
      expect((await graphql(touchline.url, bearerOf(secret), ME)).status).toBe(200);
      const { client: ws, closeCode } = connect(touchline.url, secret, sockets);
      let connected = false;
      ws.on('connected', () => {
        connected = true;
      });
      await until(() => connected, 'the socket to connect');

      await until(() => Date.now() > expiresAt.getTime(), 'the key’s expiry', 3000);
      const refused = await graphql(touchline.url, bearerOf(secret), ME);
      expect(refused.status).toBe(401);
      expect(refused.errors?.[0]?.extensions).toEqual({
        code: 'UNAUTHENTICATED',
        reason: 'EXPIRED_KEY',
      });
      await until(() => closeCode() !== undefined, 'the sweep to close the socket', 3000);
      expect(closeCode()).toBe(4401);
      const listing = await graphql(touchline.url, bearerOf(await touchline.key()), API_KEYS);
      expect(listing.data?.apiKeys).toContainEqual(
        expect.objectContaining({ id: key.id, status: 'EXPIRED' }),
      );
    });
  });

  describe('WebSocket connections', () => {
    it('closes a connection without a key, or with one that is not valid, with 4401', async () => {
      for (const key of [undefined, 'nonsense', generateToken('default').token]) {
        const { closeCode } = connect(touchline.url, key, sockets);
        await until(() => closeCode() !== undefined, `the socket with ${key} to close`);
        expect({ key, code: closeCode() }).toEqual({ key, code: 4401 });
      }
    });

    it('takes the key as connection_init’s apiKey too', async () => {
      const viewer = await touchline.key('default', 'viewer');
      const { client, closeCode } = connect(touchline.url, viewer, sockets, { apiKey: viewer });
      const me = await new Promise<unknown>((resolve, reject) => {
        client.subscribe(
          { query: ME },
          { next: resolve, error: reject, complete: () => undefined },
        );
      });
      expect(me).toMatchObject({ data: { me: { keyId: keyIdOf(viewer), role: 'VIEWER' } } });
      expect(closeCode()).toBeUndefined();
      const refused = connect(touchline.url, undefined, sockets, { apiKey: `${viewer}x` });
      await until(() => refused.closeCode() !== undefined, 'the socket to close');
      expect(refused.closeCode()).toBe(4401);
    });

    it('closes a connection with an ingest key with 4403', async () => {
      const ingest = await touchline.key('default', 'ingest');
      const { closeCode } = connect(touchline.url, ingest, sockets);
      await until(() => closeCode() !== undefined, 'the socket to close');
      expect(closeCode()).toBe(4403);
    });

    it('refuses an administrative operation to a viewer’s connection, and keeps it open', async () => {
      const ws = touchline.subscriptions('default', 'viewer');
      const closeCode = closeCodeOf(ws);
      const refused = await new Promise<unknown>((resolve) => {
        ws.subscribe(
          { query: API_KEYS },
          { next: () => undefined, error: resolve, complete: () => resolve(null) },
        );
      });
      expect(refused).toEqual([
        expect.objectContaining({
          extensions: expect.objectContaining({ code: 'FORBIDDEN', field: 'apiKeys' }),
        }),
      ]);
      const me = await new Promise<unknown>((resolve, reject) => {
        ws.subscribe({ query: ME }, { next: resolve, error: reject, complete: () => undefined });
      });
      expect(me).toMatchObject({ data: { me: { role: 'VIEWER' } } });
      expect(closeCode()).toBeUndefined();
    });
  });
});

describe('per-key rate limits', () => {
  let touchline: TestServer;

  beforeAll(async () => {
    touchline = await startTestServer(undefined, {
      TOUCHLINE_RATE_LIMIT_EXPENSIVE: '1',
      TOUCHLINE_RATE_LIMIT_EXPENSIVE_BURST: '1',
      TOUCHLINE_RATE_LIMIT_INGEST: '1',
      TOUCHLINE_RATE_LIMIT_INGEST_BURST: '5',
    });
  });

  afterAll(async () => {
    await touchline?.stop();
  });

  it('refuses a second expensive request of a key with 429 and Retry-After, not an ordinary one', async () => {
    const viewer = bearerOf(await touchline.key('default', 'viewer'));
    const first = await graphql(touchline.url, viewer, FUNNEL_ANALYSIS);
    expect({ status: first.status, errors: first.errors }).toEqual({
      status: 200,
      errors: undefined,
    });

    const second = await graphql(touchline.url, viewer, FUNNEL_ANALYSIS);
    expect(second.status).toBe(429);
    const retryAfter = Number(second.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(second.errors?.[0]?.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      reason: 'RATE_LIMITED',
      field: 'funnelAnalysis',
      retryAfter,
    });
    expect(second.data).toBeUndefined();

    // The same limit counts previewSegment; ordinary queries and other keys are not held up.
    const preview = await graphql(
      touchline.url,
      viewer,
      'query { previewSegment(conditions: {}) { size } }',
    );
    expect(preview.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect((await graphql(touchline.url, viewer, ME)).status).toBe(200);
    const editor = bearerOf(await touchline.key('default', 'editor'));
    expect((await graphql(touchline.url, editor, FUNNEL_ANALYSIS)).errors).toBeUndefined();
  });

  it('admits a batch larger than the ingest burst, then refuses the key with 429 until it refills', async () => {
    const ingest = basicAuthorization(await touchline.key('default', 'ingest'));
    const batch = await postBatch(touchline.url, ingest, 10);
    expect({ status: batch.status, accepted: batch.body.accepted }).toEqual({
      status: 200,
      accepted: 10,
    });
    const next = await postBatch(touchline.url, ingest, 1);
    expect(next.status).toBe(429);
    expect(Number(next.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(next.body).toEqual({
      errors: [
        expect.objectContaining({ extensions: { code: 'RATE_LIMITED', reason: 'RATE_LIMITED' } }),
      ],
    });
    // Another key of the workspace has its own bucket.
    const editor = basicAuthorization(await touchline.key('default', 'editor'));
    expect((await postBatch(touchline.url, editor, 1)).status).toBe(200);
  });

  it('counts an export as an expensive request', async () => {
    const viewer = bearerOf(await touchline.key('default', 'owner'));
    const first = await exportEvents(touchline.url, viewer);
    expect(first.status).toBe(200);
    await first.text();
    const second = await exportEvents(touchline.url, viewer);
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await second.json()).toMatchObject({
      errors: [{ extensions: { code: 'RATE_LIMITED', retryAfter: expect.any(Number) } }],
    });
  });
});

describe('the logs', () => {
  let server: RunningServer;
  let logs = '';
  const dataDir = temporaryDataDir();

  beforeAll(async () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      TOUCHLINE_DATA_DIR: dataDir,
      TOUCHLINE_PORT: '0',
      TOUCHLINE_HOST: '127.0.0.1',
      TOUCHLINE_LOG_LEVEL: 'trace',
      // In process, so that every line goes to the captured logger.
      TOUCHLINE_INGESTION_WORKER: 'off',
      TOUCHLINE_PROJECTOR_THREAD: 'off',
    });
    server = await startServer(
      config,
      createLogger('trace', {
        write: (line: string) => {
          logs += line;
        },
      }),
    );
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('never hold a key, valid, invalid or revoked, whatever the entry point', async () => {
    const issue = async (role: ApiKeyRole) => {
      const metadata = { workspaceId: 'logged', commandId: randomUUID(), now: new Date() };
      return role === 'owner'
        ? server.accessControl.createWorkspace(metadata, 'logged')
        : server.accessControl.issueKey(metadata, { name: role, role, expiresAt: null });
    };
    const owner = (await issue('owner')).token;
    const viewer = (await issue('viewer')).token;
    const ingest = (await issue('ingest')).token;
    const revoked = (await issue('viewer')).token;
    const unknown = generateToken('logged').token;
    const created = await graphql(server.url, bearerOf(owner), CREATE_KEY, {
      input: { name: 'made over GraphQL', role: 'EDITOR' },
    });
    const madeOverGraphQL = (created.data?.createApiKey as { secret: string }).secret;
    await graphql(server.url, bearerOf(owner), REVOKE_KEY, { id: keyIdOf(revoked) });
    const keys = [owner, viewer, ingest, revoked, unknown, madeOverGraphQL];

    for (const key of keys) {
      await graphql(server.url, bearerOf(key), ME);
      await graphql(server.url, bearerOf(key), CREATE_CAMPAIGN, { input: { name: 'Logged' } });
      await graphql(server.url, bearerOf(key), 'query { nonsense }');
      await postBatch(server.url, basicAuthorization(key), 2);
      await postBatch(server.url, bearerOf(key), 1);
      const exported = await exportEvents(server.url, bearerOf(key));
      await exported.text();
      const refused = await exportEvents(server.url, bearerOf(key), 'format=xml');
      await refused.text();
      // The key in a batch's body, as a writeKey.
      await fetch(server.url.replace(/\/graphql$/, '/v1/track'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ writeKey: key, type: 'track', event: 'Body Key', userId: 'u' }),
      });
    }
    // Over WebSocket: a connection per key, one operation where it is allowed.
    for (const key of keys) {
      const client = createClient({
        url: server.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${key}` },
        retryAttempts: 0,
        lazy: true,
      });
      let closed = false;
      client.on('closed', () => {
        closed = true;
      });
      await new Promise<void>((resolve) => {
        client.subscribe(
          { query: ME },
          { next: () => undefined, error: () => resolve(), complete: () => resolve() },
        );
      });
      await client.dispose();
      await until(() => closed, 'the socket to close');
    }
    // An internal error, logged with its error.
    const status = jest
      .spyOn(server.services.projections, 'status')
      .mockRejectedValueOnce(new Error(`the projections are gone (${owner.length})`));
    try {
      const failed = await graphql(server.url, bearerOf(owner), 'query { projections { name } }');
      expect(failed.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    } finally {
      status.mockRestore();
    }

    // The capture holds the server's lines, those about the requests above included.
    for (const message of ['touchline is listening', 'events exported', 'internal error']) {
      expect(logs).toContain(message);
    }
    for (const key of keys) {
      const parsed = parseToken(key);
      expect(logs).not.toContain(key);
      expect(logs).not.toContain(parsed?.secret);
      expect(logs).not.toContain(Buffer.from(`${key}:`).toString('base64'));
    }
  });
});
