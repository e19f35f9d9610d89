/**
 * Configuration, read once at start from the environment. The only module that touches
 * `process.env`; everything else receives a `Config`.
 */
import path from 'node:path';

export type EventStoreKind = 'sqlite' | 'esdb';
export type ReadStoreKind = 'embedded' | 'mongo';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly environment: 'development' | 'production' | 'test';
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly eventStore:
    | { readonly kind: 'sqlite'; readonly path: string }
    | { readonly kind: 'esdb'; readonly connectionString: string };
  readonly readStore:
    | { readonly kind: 'embedded'; readonly path: string }
    | { readonly kind: 'mongo'; readonly url: string; readonly database: string };
  /** Workspace used by requests that name none (until API keys carry it). */
  readonly defaultWorkspaceId: string;
  /** Segment-style write keys of the tracking endpoints: key -> workspace (and the import right). */
  readonly writeKeys: ReadonlyMap<
    string,
    { readonly workspaceId: string; readonly canImport: boolean }
  >;
  /** Upper bound on how long a query may wait for the projections to reach a position. */
  readonly maxConsistencyWaitMs: number;
  /** `/readyz` fails when a projection's oldest unprocessed event is older than this. */
  readonly readyMaxLagMs: number;
  readonly projectionBatchSize: number;
  /** With the SQLite log: parse and append tracking messages on a worker thread. */
  readonly ingestionWorker: boolean;
  /** With both embedded stores: run the projections and the budget guard on a thread of their own. */
  readonly projectorThread: boolean;
  /** Largest accepted HTTP body. */
  readonly maxBodyBytes: number;
  /** How long shutdown waits for open requests before closing them. */
  readonly shutdownGraceMs: number;
  /** Static limits on one GraphQL operation (src/graphql/shared/query-limits.ts). */
  readonly queryLimits: {
    readonly maxDepth: number;
    readonly maxAliases: number;
    readonly maxCost: number;
  };
  /** Whether the schema can be introspected (HTTP and WebSocket); off by default in production. */
  readonly introspection: boolean;
  /** WebSocket keep-alive: the interval of pings, and how long a pong may take before the socket is closed. */
  readonly wsKeepAliveMs: number;
  /** How long a WebSocket may stay open without its connection_init. */
  readonly wsConnectionInitTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

export function loadConfig(env: Env = process.env): Config {
  const environment = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'], 'development');
  const dataDir = path.resolve(env.TOUCHLINE_DATA_DIR ?? 'data');
  const eventStoreKind = oneOf<EventStoreKind>(
    env,
    'TOUCHLINE_EVENT_STORE',
    ['sqlite', 'esdb'],
    'sqlite',
  );
  const readStoreKind = oneOf<ReadStoreKind>(
    env,
    'TOUCHLINE_READ_STORE',
    ['embedded', 'mongo'],
    'embedded',
  );
  const defaultWorkspaceId = env.TOUCHLINE_DEFAULT_WORKSPACE ?? 'default';
  return {
    environment,
    host: env.TOUCHLINE_HOST ?? '0.0.0.0',
    port: integer(env, 'TOUCHLINE_PORT', 4000, 0, 65535),
    logLevel: oneOf<LogLevel>(
      env,
      'TOUCHLINE_LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      environment === 'test' ? 'silent' : 'info',
    ),
    eventStore:
      eventStoreKind === 'sqlite'
        ? { kind: 'sqlite', path: path.join(dataDir, 'events.sqlite') }
        : { kind: 'esdb', connectionString: required(env, 'TOUCHLINE_ESDB_URL') },
    readStore:
      readStoreKind === 'embedded'
        ? { kind: 'embedded', path: path.join(dataDir, 'read-models.sqlite') }
        : {
            kind: 'mongo',
            url: required(env, 'TOUCHLINE_MONGO_URL'),
            database: env.TOUCHLINE_MONGO_DB ?? 'touchline',
          },
    defaultWorkspaceId,
    writeKeys: writeKeys(env, environment, defaultWorkspaceId),
    maxConsistencyWaitMs: integer(env, 'TOUCHLINE_MAX_CONSISTENCY_WAIT_MS', 5000, 0, 60000),
    readyMaxLagMs: integer(env, 'TOUCHLINE_READY_MAX_LAG_MS', 30000, 0, 86_400_000),
    projectionBatchSize: integer(env, 'TOUCHLINE_PROJECTION_BATCH_SIZE', 200, 1, 10000),
    ingestionWorker: oneOf(env, 'TOUCHLINE_INGESTION_WORKER', ['on', 'off'], 'on') === 'on',
    projectorThread: oneOf(env, 'TOUCHLINE_PROJECTOR_THREAD', ['on', 'off'], 'on') === 'on',
    maxBodyBytes: integer(env, 'TOUCHLINE_MAX_BODY_BYTES', 1_048_576, 1024, 104_857_600),
    shutdownGraceMs: integer(env, 'TOUCHLINE_SHUTDOWN_GRACE_MS', 10000, 0, 600000),
    queryLimits: {
      maxDepth: integer(env, 'TOUCHLINE_MAX_QUERY_DEPTH', 15, 1, 1000),
      maxAliases: integer(env, 'TOUCHLINE_MAX_ALIASES', 30, 0, 100_000),
      maxCost: integer(env, 'TOUCHLINE_MAX_QUERY_COST', 20_000, 1, 100_000_000),
    },
    introspection:
      oneOf(
        env,
        'TOUCHLINE_INTROSPECTION',
        ['on', 'off'],
        environment === 'production' ? 'off' : 'on',
      ) === 'on',
    wsKeepAliveMs: integer(env, 'TOUCHLINE_WS_KEEPALIVE_MS', 30000, 0, 600000),
    wsConnectionInitTimeoutMs: integer(env, 'TOUCHLINE_WS_INIT_TIMEOUT_MS', 10000, 100, 600000),
  };
}

/** A development key, so `npm start` can be sent traffic at once; production names its keys. */
export const DEVELOPMENT_WRITE_KEY = 'dev-write-key';

/**
 * `TOUCHLINE_WRITE_KEYS`: comma-separated `key=workspace` pairs; `key=workspace:import` also
 * lets the key send archived messages that keep their receivedAt.
 */
function writeKeys(
  env: Env,
  environment: Config['environment'],
  defaultWorkspaceId: string,
): Config['writeKeys'] {
  const raw = env.TOUCHLINE_WRITE_KEYS;
  const keys = new Map<string, { workspaceId: string; canImport: boolean }>();
  if (raw === undefined || raw.trim() === '') {
    if (environment !== 'production')
      keys.set(DEVELOPMENT_WRITE_KEY, { workspaceId: defaultWorkspaceId, canImport: true });
    return keys;
  }
  for (const entry of raw.split(',')) {
    const match = /^\s*([^=\s]{8,256})=([A-Za-z0-9_-]{1,64})(:import)?\s*$/.exec(entry);
    if (!match) {
      throw new ConfigError(
        'TOUCHLINE_WRITE_KEYS',
        'must be key=workspace[:import] pairs (keys of 8 or more characters) separated by commas',
      );
    }
    keys.set(match[1], { workspaceId: match[2], canImport: match[3] !== undefined });
  }
  return keys;
}

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(name, 'is required by the chosen store');
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${value}")`);
  }
  return value as T;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}
