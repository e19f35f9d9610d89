/**
 * Starts the real server on a free port with the embedded stores in a temporary data
 * directory, and gives a test graphql-request and graphql-ws clients for it.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClientError, GraphQLClient } from 'graphql-request';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig } from '../../src/infra/config';
import { createLogger } from '../../src/infra/logger';
import { type RunningServer, startServer } from '../../src/infra/server';
import type { ApiKeyRole } from '../../src/domain/workspace';

/** The workspace a test acts in when it names none. */
export const DEFAULT_WORKSPACE = 'default';

export interface TestServer {
  readonly server: RunningServer;
  readonly dataDir: string;
  readonly url: string;
  /**
   * A key of `role` in the workspace, the same one each time a test asks again; the
   * workspace is created (with its owner key) when first used.
   */
  key(workspaceId?: string, role?: ApiKeyRole): Promise<string>;
  /** A GraphQL client with a key of `role` (default owner) of the workspace. */
  client(workspaceId?: string, role?: ApiKeyRole): GraphQLClient;
  /** A GraphQL client sending exactly this key (or none). */
  clientWithKey(key: string | undefined): GraphQLClient;
  /** A graphql-ws client with a key of `role` (default owner) of the workspace. */
  subscriptions(workspaceId?: string, role?: ApiKeyRole): Client;
  /** A graphql-ws client sending exactly this key (or none) in connection_init. */
  subscriptionsWithKey(key: string | undefined): Client;
  stop(): Promise<void>;
}

export function temporaryDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-e2e-'));
}

export async function startTestServer(
  dataDir = temporaryDataDir(),
  env: Record<string, string> = {},
): Promise<TestServer> {
  const config = loadConfig({
    NODE_ENV: 'test',
    TOUCHLINE_DATA_DIR: dataDir,
    TOUCHLINE_PORT: '0',
    TOUCHLINE_HOST: '127.0.0.1',
    ...(process.env.TOUCHLINE_LOG_LEVEL && {
      TOUCHLINE_LOG_LEVEL: process.env.TOUCHLINE_LOG_LEVEL,
    }),
    ...env,
  });
  const server = await startServer(config, createLogger(config.logLevel));
  const wsClients: Client[] = [];
  const keys = new Map<string, Promise<string>>();
  const key = (workspaceId = DEFAULT_WORKSPACE, role: ApiKeyRole = 'owner'): Promise<string> => {
    const known = keys.get(`${workspaceId}/${role}`);
    if (known) return known;
    const issued = (async () => {
      const metadata = () => ({
        workspaceId,
        commandId: randomUUID(),
        now: new Date(),
        actor: 'test',
      });
      if (role === 'owner') {
        return (await server.accessControl.createWorkspace(metadata(), workspaceId)).token;
      }
      await key(workspaceId, 'owner');
      const name = `${role} key`;
      return (await server.accessControl.issueKey(metadata(), { name, role, expiresAt: null }))
        .token;
    })();
    keys.set(`${workspaceId}/${role}`, issued);
    return issued;
  };
  const clientWith = (authorization: () => Promise<string | undefined>) =>
    new GraphQLClient(server.url, {
      requestMiddleware: async (request) => {
        const token = await authorization();
        return token === undefined
          ? request
          : {
              ...request,
              headers: { ...(request.headers as object), authorization: `Bearer ${token}` },
            };
      },
    });
  const subscriptionsWith = (authorization: () => Promise<string | undefined>) => {
    const client = createClient({
      url: server.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: async () => {
        const token = await authorization();
        return token === undefined ? {} : { authorization: `Bearer ${token}` };
      },
      retryAttempts: 0,
      lazy: false,
    });
    wsClients.push(client);
    return client;
  };
  return {
    server,
    dataDir,
    url: server.url,
    key,
    client: (workspaceId, role) => clientWith(() => key(workspaceId, role)),
    clientWithKey: (token) => clientWith(async () => token),
    subscriptions: (workspaceId, role) => subscriptionsWith(() => key(workspaceId, role)),
    subscriptionsWithKey: (token) => subscriptionsWith(async () => token),
    async stop() {
      await Promise.all(wsClients.map((client) => client.dispose()));
      await server.stop();
    },
  };
}

/** The Authorization header Segment SDKs send: the write key as the Basic user. */
export function basicAuthorization(key: string): string {
  return `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
}

/** The ingest key of a workspace, as the Authorization header Segment SDKs send. */
export async function writeKeyAuthorization(
  touchline: TestServer,
  workspaceId = DEFAULT_WORKSPACE,
): Promise<string> {
  return basicAuthorization(await touchline.key(workspaceId, 'ingest'));
}

/** `Authorization: Bearer` with a key of `role` (default owner) of the workspace. */
export async function bearer(
  touchline: TestServer,
  workspaceId = DEFAULT_WORKSPACE,
  role: ApiKeyRole = 'owner',
): Promise<string> {
  return `Bearer ${await touchline.key(workspaceId, role)}`;
}

/** Posts one Segment `/v1/batch` with the workspace's ingest key; answers its JSON body. */
export async function postBatch(
  touchline: TestServer,
  batch: readonly unknown[],
  workspaceId = DEFAULT_WORKSPACE,
): Promise<{ accepted: number; position: string; rejected: unknown[] }> {
  const response = await fetch(touchline.url.replace(/\/graphql$/, '/v1/batch'), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: await writeKeyAuthorization(touchline, workspaceId),
    },
    body: JSON.stringify({ batch }),
  });
  if (response.status !== 200) {
    throw new Error(`/v1/batch answered ${response.status}: ${await response.text()}`);
  }
  return (await response.json()) as { accepted: number; position: string; rejected: unknown[] };
}

/** The error a GraphQL call failed with: its `extensions` and message. */
export async function graphQLError(
  call: Promise<unknown>,
): Promise<{ message: string; code: unknown; field: unknown; reason: unknown; status: number }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ClientError) {
      const first = error.response.errors?.[0];
      if (!first) throw error;
      const extensions = (first.extensions ?? {}) as Record<string, unknown>;
      return {
        message: first.message,
        code: extensions.code,
        field: extensions.field,
        reason: extensions.reason,
        status: error.response.status,
      };
    }
    throw error;
  }
  throw new Error('expected the GraphQL call to fail, and it succeeded');
}

/** Resolves once `condition` holds, checking after each turn of the event loop; bounded. */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Takes the next `count` values of an async iterator, failing after a bound. */
export function take<T>(iterator: AsyncIterator<T>, count: number, timeoutMs = 5000): Promise<T[]> {
  return takeUntil(iterator, (values) => values.length >= count, timeoutMs);
}

/** Takes values of an async iterator until `enough` holds for them, failing after a bound. */
export async function takeUntil<T>(
  iterator: AsyncIterator<T>,
  enough: (values: readonly T[]) => boolean,
  timeoutMs = 5000,
): Promise<T[]> {
  const values: T[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!enough(values)) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`received ${values.length} values and no more in time`)),
        Math.max(1, deadline - Date.now()),
      );
    });
    try {
      const result = await Promise.race([iterator.next(), timeout]);
      if (result.done) throw new Error(`the stream ended after ${values.length} values`);
      values.push(result.value);
    } finally {
      clearTimeout(timer);
    }
  }
  return values;
}
