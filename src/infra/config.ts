/**
 * Configuration, read once at start from the environment. The only module that touches
 * `process.env`; everything else receives a `Config`.
 */
import path from 'node:path';
import { parseToken } from './access/api-key-token';

export type EventStoreKind = 'sqlite' | 'esdb';
export type ReadStoreKind = 'embedded' | 'mongo';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export const serverRoles = ['all', 'api', 'projector'] as const;
export type ServerRole = (typeof serverRoles)[number];

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
  /**
   * The workspace a development server creates on its first start, printing its owner key
   * once (`npx touchline init` does the same by hand).
   */
  readonly defaultWorkspaceId: string;
  /**
   * `TOUCHLINE_OWNER_KEY`: an owner key (made by `npx touchline key`) that the server makes
   * sure exists at start, creating its workspace: how production bootstraps.
   */
  readonly ownerKey: string | null;
  /** How long a workspace's keys are trusted from memory before they are read again. */
  readonly keyCacheMs: number;
  /**
   * Per-key token buckets: tracking messages per second, and expensive requests (ad-hoc
   * analyses, asOf, rebuilds, exports) per minute; 0 turns a limit off.
   */
  readonly rateLimits: {
    readonly ingestPerSecond: number;
    readonly ingestBurst: number;
    readonly expensivePerMinute: number;
    readonly expensiveBurst: number;
  };
  /** Upper bound on how long a query may wait for the projections to reach a position. */
  readonly maxConsistencyWaitMs: number;
  /** `/readyz` fails when a projection's oldest unprocessed event is older than this. */
  readonly readyMaxLagMs: number;
  readonly projectionBatchSize: number;
  /** With the SQLite log: parse and append tracking messages on a worker thread. */
  readonly ingestionWorker: boolean;
  /** With both embedded stores: run the projections and the budget guard on a thread of their own. */
  readonly projectorThread: boolean;
  /**
   * What this process does: `api` answers requests (commands, ingestion, queries) and follows
   * the projections; `projector` runs projections and process managers under leases; `all`
   * (the default) does both, the single process of the embedded setup.
   */
  readonly role: ServerRole;
  /**
   * How long a projector's lease lasts without renewal (renewed every third of it): how
   * long a dead worker's projections wait before another worker takes them over.
   */
  readonly leaseTtlMs: number;
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
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(defaultWorkspaceId)) {
    throw new ConfigError('TOUCHLINE_DEFAULT_WORKSPACE', 'must be 1 to 100 of A-Z a-z 0-9 _ . -');
  }
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
    ownerKey: ownerKey(env),
    keyCacheMs: integer(env, 'TOUCHLINE_KEY_CACHE_MS', 1000, 0, 600_000),
    rateLimits: {
      ingestPerSecond: integer(env, 'TOUCHLINE_RATE_LIMIT_INGEST', 10_000, 0, 10_000_000),
      ingestBurst: integer(env, 'TOUCHLINE_RATE_LIMIT_INGEST_BURST', 20_000, 1, 100_000_000),
      expensivePerMinute: integer(env, 'TOUCHLINE_RATE_LIMIT_EXPENSIVE', 30, 0, 1_000_000),
      expensiveBurst: integer(env, 'TOUCHLINE_RATE_LIMIT_EXPENSIVE_BURST', 10, 1, 1_000_000),
    },
    maxConsistencyWaitMs: integer(env, 'TOUCHLINE_MAX_CONSISTENCY_WAIT_MS', 5000, 0, 60000),
    readyMaxLagMs: integer(env, 'TOUCHLINE_READY_MAX_LAG_MS', 30000, 0, 86_400_000),
    projectionBatchSize: integer(env, 'TOUCHLINE_PROJECTION_BATCH_SIZE', 200, 1, 10000),
    ingestionWorker: oneOf(env, 'TOUCHLINE_INGESTION_WORKER', ['on', 'off'], 'on') === 'on',
    projectorThread: oneOf(env, 'TOUCHLINE_PROJECTOR_THREAD', ['on', 'off'], 'on') === 'on',
    role: oneOf<ServerRole>(env, 'TOUCHLINE_ROLE', serverRoles, 'all'),
    leaseTtlMs: integer(env, 'TOUCHLINE_LEASE_TTL_MS', 15000, 100, 600000),
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

function ownerKey(env: Env): string | null {
  const raw = env.TOUCHLINE_OWNER_KEY?.trim();
  if (raw === undefined || raw === '') return null;
  if (!parseToken(raw)) {
    throw new ConfigError('TOUCHLINE_OWNER_KEY', 'must be a key made by `npx touchline key`');
  }
  return raw;
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
