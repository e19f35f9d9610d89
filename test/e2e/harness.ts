/**
 * Starts the real server on a free port with the embedded stores in a temporary data
 * directory, and gives a test graphql-request and graphql-ws clients for it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClientError, GraphQLClient } from 'graphql-request';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig } from '../../src/infra/config';
import { createLogger } from '../../src/infra/logger';
import { type RunningServer, startServer } from '../../src/infra/server';
import { developmentWriteKeyAuthorization } from '../support/traffic';

export interface TestServer {
  readonly server: RunningServer;
  readonly dataDir: string;
  readonly url: string;
  client(workspaceId?: string): GraphQLClient;
  subscriptions(workspaceId?: string): Client;
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
  return {
    server,
    dataDir,
    url: server.url,
    client: (workspaceId) =>
      new GraphQLClient(server.url, {
        headers: workspaceId ? { 'x-touchline-workspace': workspaceId } : {},
      }),
    subscriptions: (workspaceId) => {
      const client = createClient({
        url: server.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: workspaceId ? { workspaceId } : {},
        retryAttempts: 0,
        lazy: false,
      });
      wsClients.push(client);
      return client;
    },
    async stop() {
      await Promise.all(wsClients.map((client) => client.dispose()));
      await server.stop();
    },
  };
}

/** Posts one Segment `/v1/batch` with the development write key; answers its JSON body. */
export async function postBatch(
  touchline: TestServer,
  batch: readonly unknown[],
): Promise<{ accepted: number; position: string; rejected: unknown[] }> {
  const response = await fetch(touchline.url.replace(/\/graphql$/, '/v1/batch'), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: developmentWriteKeyAuthorization,
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
