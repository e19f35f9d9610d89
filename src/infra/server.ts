/**
 * The composition root: opens the stores, starts the projections, and serves GraphQL over
 * HTTP (Apollo Server 5 on express 5) and WebSocket (graphql-ws) on one port and path.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import {
  type DocumentNode,
  type ExecutionArgs,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  type ValidationRule,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Services, TouchlineContext } from '../graphql/context';
import { createLoaders } from '../graphql/loaders';
import { buildTouchlineSchema } from '../graphql/schema';
import {
  type OperationAccess,
  expensiveField,
  forbiddenField,
  operationAccess,
} from '../graphql/shared/access';
import { costRule, isQueryLimitError, staticLimitRules } from '../graphql/shared/query-limits';
import type { ReadStore } from '../projections/read-store';
import type { Config } from './config';
import type { EventStore } from './event-store/event-store';
import type { Logger } from './logger';
import { projectionDeclarations } from './projections/catalog';
import { ChangeFeed } from './projections/change-feed';
import { ProjectionManager, type Projectors } from './projections/projection-manager';
import { startProjector } from './projections/projector';
import { ProjectorThread } from './projections/projector-thread';
import { ingestionLimits } from '../domain/tracking/ingestion';
import { CommandHandler } from './commands/command-handler';
import { createExportRouter } from './export/export-router';
import { createAdReportRouter } from './ingestion/ad-report-router';
import { IngestionThread } from './ingestion/ingestion-thread';
import { createSegmentRouter } from './ingestion/segment-router';
import { type TrackingIngestor, TrackingService } from './ingestion/tracking-service';
import { SqliteEventStore } from './event-store/sqlite-event-store';
import { createServices } from './services';
import { IngestionPriority } from './shared/ingestion-priority';
import { openEventStore, openReadStore } from './stores';
import { roleMay } from '../domain/workspace';
import { AccessControl, AuthenticationError, type Principal } from './access/access-control';
import { keyFromAuthorization } from './access/api-key-token';
import { AccessRefusal, principalOf, rateRefusal, requireKey } from './access/http-access';
import { RateLimiter } from './access/rate-limiter';

const GRAPHQL_PATH = '/graphql';
/**
 * How long tracking ingestion stays busy after its last request is answered: longer than
 * the gap between an answer and a client's next request while traffic arrives back to back.
 */
const INGESTION_QUIET_MS = 20;

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly services: Services;
  readonly manager: Projectors;
  /** The thread the projections run on, when they do (role `all` on the embedded stores). */
  readonly projectorThread: ProjectorThread | null;
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  readonly changeFeed: ChangeFeed;
  /** API keys and workspaces (tests and tools issue keys through it). */
  readonly accessControl: AccessControl;
  /** Drains HTTP and WebSocket, stops the projections at a checkpoint, closes the stores. */
  stop(): Promise<void>;
}

export interface ServerHooks {
  /**
   * A development server created its default workspace on first start: `serve` shows the
   * owner key once on the terminal (never through the logger).
   */
  readonly onOwnerKeyCreated?: (workspaceId: string, token: string) => void;
  /**
   * The projections stopped for good (the projector thread died): `serve` shuts the process
   * down with a failure code so that a supervisor restarts it from the checkpoints.
   */
  readonly onProjectionsLost?: () => void;
}

export async function startServer(
  config: Config,
  logger: Logger,
  hooks: ServerHooks = {},
): Promise<RunningServer> {
  const eventStore = await openEventStore(config.eventStore);
  const readStore = await openReadStore(config.readStore);
  const changeFeed = new ChangeFeed();
  const projectors = await startProjections(config, {
    eventStore,
    readStore,
    changeFeed,
    logger,
    hooks,
  });
  // Background projections give way to tracking requests (see BatchScheduler).
  const priority = new IngestionPriority({
    quietMs: INGESTION_QUIET_MS,
    onBusyChange: projectors.onIngestionBusy,
  });
  const manager = projectors.projectors;
  const accessControl = new AccessControl(eventStore, { cacheMs: config.keyCacheMs });
  await bootstrapWorkspace(accessControl, config, logger, hooks);
  const limits: Limiters = {
    ingest: new RateLimiter(config.rateLimits.ingestPerSecond, config.rateLimits.ingestBurst),
    expensive: new RateLimiter(
      config.rateLimits.expensivePerMinute / 60,
      config.rateLimits.expensiveBurst,
    ),
  };
  const tracking = createTrackingIngestor(config, eventStore, logger);
  const services = createServices({
    config,
    eventStore,
    readStore,
    manager,
    changeFeed,
    tracking,
    accessControl,
    logger,
  });
  const schema = await buildTouchlineSchema();

  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: GRAPHQL_PATH,
    maxPayload: config.maxBodyBytes,
  });
  const wsCleanup = serveWebSocket(schema, wsServer, {
    services,
    config,
    accessControl,
    limits,
    logger,
  });

  const apollo = new ApolloServer<TouchlineContext>({
    schema,
    introspection: config.introspection,
    // One operation per HTTP request: a JSON array body is refused with 400.
    allowBatchedHttpRequests: false,
    validationRules: staticLimitRules(config.queryLimits),
    includeStacktraceInErrorResponses: config.environment === 'development',
    formatError: (formatted, error) => formatGraphQLError(formatted, error, config, logger),
    // Shutdown is ours (main.ts): Apollo's own handler would re-raise the signal and kill the
    // process before the projectors stop at a checkpoint.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        // The cost depends on the variables (page sizes), known only once the operation is.
        requestDidStart: async () => ({
          didResolveOperation: async ({ schema: resolved, document, request, contextValue }) => {
            const [tooCostly] = checkCost(resolved, document, config, request.variables);
            if (tooCostly) throw tooCostly;
            const refused = checkOperationAccess(
              document,
              request.operationName,
              request.variables,
              contextValue,
              limits,
            );
            if (refused) throw refused;
          },
        }),
      },
      { serverWillStart: async () => ({ drainServer: async () => wsCleanup.dispose() }) },
    ],
  });
  await apollo.start();

  let shuttingDown = false;
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const readiness = await checkReadiness(eventStore, readStore, manager, config.readyMaxLagMs);
    const ready = readiness.ready && !shuttingDown;
    res.status(ready ? 200 : 503).json({ ...readiness, ready, shuttingDown });
  });
  app.use(
    createSegmentRouter({
      tracking,
      priority,
      access: { authenticate: (key) => accessControl.authenticate(key), limiter: limits.ingest },
      maxBatchBytes: Math.min(config.maxBodyBytes, ingestionLimits.batchBytes),
      logger,
    }),
  );
  app.use(
    createExportRouter({
      services,
      requireKey: requireKey(accessControl, 'read', { limiter: limits.expensive }),
      logger,
    }),
  );
  app.use(
    GRAPHQL_PATH,
    // Every request needs a key; what its role may do is checked per operation (below).
    requireKey(accessControl, null),
    express.json({ limit: config.maxBodyBytes }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) =>
        createContext(services, principalOf(res), req.header('x-request-id')),
    }),
  );
  app.use(
    createAdReportRouter({
      commands: new CommandHandler(eventStore),
      requireKey: requireKey(accessControl, 'ingest', { limiter: limits.ingest }),
      maxBodyBytes: config.maxBodyBytes,
      clock: services.clock,
      newId: services.newId,
      logger,
    }),
  );
  app.use(jsonErrors(logger));

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${host}:${port}${GRAPHQL_PATH}`;
  logger.info(
    { url, eventStore: config.eventStore.kind, readStore: config.readStore.kind },
    'touchline is listening',
  );

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      shuttingDown = true;
      logger.info('shutting down: draining HTTP and WebSocket');
      const forceClose = setTimeout(() => httpServer.closeAllConnections(), config.shutdownGraceMs);
      forceClose.unref();
      for (const client of wsServer.clients) client.close(1001, 'server shutting down');
      await apollo.stop();
      clearTimeout(forceClose);
      if (tracking instanceof IngestionThread) await tracking.close();
      await projectors.stop();
      await eventStore.close();
      await readStore.close();
      logger.info('stopped');
    })());

  return {
    url,
    port,
    services,
    manager,
    projectorThread: projectors.thread,
    eventStore,
    readStore,
    changeFeed,
    accessControl,
    stop,
  };
}

/**
 * With the SQLite log, ingestion runs on a worker thread with its own connection to the
 * file, so projectors and queries on this thread do not hold it up; otherwise in process.
 */
function createTrackingIngestor(
  config: Config,
  eventStore: EventStore,
  logger: Logger,
): TrackingIngestor {
  if (
    config.ingestionWorker &&
    config.eventStore.kind === 'sqlite' &&
    eventStore instanceof SqliteEventStore
  ) {
    return new IngestionThread({
      eventStorePath: config.eventStore.path,
      logLevel: config.logLevel,
      logger,
    });
  }
  return new TrackingService({ eventStore, clock: () => new Date(), newId: randomUUID, logger });
}

/**
 * Starts what this process's role runs of the projections and process managers:
 * - `api`: none; a ProjectionManager that follows the projector workers through the read
 *   store, for collections, positions, status and rebuild requests;
 * - `all` with both embedded stores: a projector worker on a thread of its own (requests
 *   never wait behind projector batches) and, here, the same follower;
 * - `all` otherwise: a projector worker in process, whose manager answers for them here;
 *   its background batches give way to tracking requests in flight (BatchScheduler).
 */
async function startProjections(
  config: Config,
  {
    eventStore,
    readStore,
    changeFeed,
    logger,
    hooks,
  }: {
    eventStore: EventStore;
    readStore: ReadStore;
    changeFeed: ChangeFeed;
    logger: Logger;
    hooks: ServerHooks;
  },
): Promise<{
  projectors: Projectors;
  thread: ProjectorThread | null;
  stop: () => Promise<void>;
  /** Where tracking ingestion's busy state goes (see IngestionPriority). */
  onIngestionBusy?: (busy: boolean) => void;
}> {
  const follower = () =>
    new ProjectionManager({
      eventStore,
      readStore,
      projections: projectionDeclarations,
      changeFeed,
      batchSize: config.projectionBatchSize,
      logger,
      leases: null,
    });
  if (config.role === 'api') {
    const manager = follower();
    await manager.start();
    return {
      projectors: manager,
      thread: null,
      stop: () => manager.stop(),
    };
  }
  if (
    config.projectorThread &&
    config.eventStore.kind === 'sqlite' &&
    config.readStore.kind === 'embedded' &&
    eventStore instanceof SqliteEventStore
  ) {
    const manager = follower();
    await manager.start();
    const thread = new ProjectorThread({
      eventStorePath: config.eventStore.path,
      readStorePath: config.readStore.path,
      batchSize: config.projectionBatchSize,
      logLevel: config.logLevel,
      logger,
      leaseTtlMs: config.leaseTtlMs,
      onLost: () => hooks.onProjectionsLost?.(),
    });
    await thread.start();
    return {
      projectors: manager,
      thread,
      stop: async () => {
        await thread.stop();
        await manager.stop();
      },
      // On its own thread a projector never delays a request, but it competes with the
      // ingestion thread for the cores: its background batches give way the same.
      onIngestionBusy: (busy) => thread.ingestionBusy(busy),
    };
  }
  const projector = await startProjector({
    eventStore,
    readStore,
    changeFeed,
    batchSize: config.projectionBatchSize,
    logger,
    leaseTtlMs: config.leaseTtlMs,
  });
  return {
    projectors: projector.manager,
    thread: null,
    stop: () => projector.stop(),
    onIngestionBusy: (busy) => projector.scheduler.ingestionBusy(busy),
  };
}

interface Limiters {
  /** Tracking messages per key. */
  readonly ingest: RateLimiter;
  /** Ad-hoc analyses, replays and exports per key. */
  readonly expensive: RateLimiter;
}

function createContext(
  services: Services,
  principal: Principal,
  requestId?: string,
): TouchlineContext {
  return {
    workspaceId: principal.workspaceId,
    actor: principal.actor,
    caller: { keyId: principal.keyId, role: principal.role },
    requestId: requestId ?? randomUUID(),
    services,
    loaders: createLoaders(services, principal.workspaceId),
  };
}

/**
 * The owner key configured for production (TOUCHLINE_OWNER_KEY), or, on a development
 * server's first start, a new default workspace whose owner key is shown once.
 */
async function bootstrapWorkspace(
  accessControl: AccessControl,
  config: Config,
  logger: Logger,
  hooks: ServerHooks,
): Promise<void> {
  if (config.ownerKey) {
    const outcome = await accessControl.ensureOwnerKey(config.ownerKey);
    if (outcome === 'revoked') {
      logger.warn('TOUCHLINE_OWNER_KEY was revoked: it is not brought back; configure another');
    } else if (outcome !== 'present') {
      logger.info({ outcome }, 'the configured owner key is in place');
    }
    return;
  }
  if (config.environment !== 'development') return;
  const workspaceId = config.defaultWorkspaceId;
  const state = await accessControl.freshWorkspace(workspaceId);
  if (state.status !== 'None') return;
  const issued = await accessControl.createWorkspace(
    { workspaceId, commandId: `bootstrap-${workspaceId}`, now: new Date(), actor: 'bootstrap' },
    workspaceId,
  );
  logger.info({ workspaceId, keyId: issued.key.keyId }, 'created the development workspace');
  hooks.onOwnerKeyCreated?.(workspaceId, issued.token);
}

/**
 * Whether the caller's role may run the operation's root fields, and, for an expensive one,
 * whether its rate limit allows it now: the error to answer with, or null.
 */
function checkOperationAccess(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  context: Pick<TouchlineContext, 'caller'>,
  limits: Limiters,
): GraphQLError | null {
  const access: OperationAccess | null = operationAccess(document, operationName);
  const caller = context.caller;
  if (!access || !caller) return null;
  const forbidden = forbiddenField(caller.role, access);
  if (forbidden) {
    return refusalError(
      new AccessRefusal(
        403,
        'FORBIDDEN',
        'ROLE_NOT_ALLOWED',
        `a ${caller.role} key may not use ${forbidden.field}: it needs a key allowed to ${forbidden.capability}`,
      ),
      forbidden.field,
    );
  }
  const expensive = expensiveField(access, variables);
  if (!expensive) return null;
  const limited = rateRefusal(limits.expensive.take(caller.keyId));
  return limited && refusalError(limited, expensive);
}

function refusalError(refusal: AccessRefusal, field: string): GraphQLError {
  const retryAfter = refusal.retryAfterSeconds;
  return new GraphQLError(refusal.message, {
    extensions: {
      code: refusal.code,
      reason: refusal.reason,
      field,
      ...(retryAfter !== undefined && { retryAfter }),
      http: {
        status: refusal.status,
        ...(retryAfter !== undefined && {
          headers: new Map([['retry-after', String(retryAfter)]]),
        }),
      },
    },
  });
}

/** How long a revoked or expired key's connection may outlive it, across processes. */
const MIN_KEY_SWEEP_MS = 1000;

/**
 * graphql-ws on the server's socket. The key comes in `connection_init`'s payload, as
 * `{ authorization: 'Bearer <key>' }` or `{ apiKey: '<key>' }`: without a valid one the
 * socket is closed with 4401, and with a key whose role may not subscribe (ingest) with
 * 4403. A key revoked by this process closes its sockets at once; every socket's key is
 * also re-checked periodically, which catches expiry and revocations made elsewhere.
 */
function serveWebSocket(
  schema: GraphQLSchema,
  wsServer: WebSocketServer,
  {
    services,
    config,
    accessControl,
    limits,
    logger,
  }: {
    services: Services;
    config: Config;
    accessControl: AccessControl;
    limits: Limiters;
    logger: Logger;
  },
) {
  const validationRules: ValidationRule[] = [
    ...specifiedRules,
    ...staticLimitRules(config.queryLimits),
    ...(config.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ];
  const principals = new Map<WebSocket, Principal>();
  const closeUnauthorized = (socket: WebSocket, reason: string) => {
    principals.delete(socket);
    socket.close(4401, reason);
  };
  const stopListening = accessControl.onRevoked((workspaceId, keyId) => {
    for (const [socket, principal] of principals) {
      if (principal.workspaceId === workspaceId && principal.keyId === keyId) {
        closeUnauthorized(socket, 'Unauthorized: the API key has been revoked');
      }
    }
  });
  const sweep = setInterval(
    () => {
      for (const [socket, principal] of principals) {
        accessControl.stillValid(principal).then(
          (valid) => {
            if (!valid) closeUnauthorized(socket, 'Unauthorized: the API key no longer works');
          },
          () => undefined,
        );
      }
    },
    Math.max(MIN_KEY_SWEEP_MS, config.keyCacheMs),
  );
  sweep.unref();
  const server = useServer<
    { authorization?: unknown; apiKey?: unknown },
    { principal?: Principal }
  >(
    {
      schema,
      isProd: config.environment !== 'development',
      connectionInitWaitTimeout: config.wsConnectionInitTimeoutMs,
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        try {
          const principal = await accessControl.authenticate(keyOfConnection(ctx.connectionParams));
          if (!roleMay(principal.role, 'read')) {
            socket.close(4403, `Forbidden: a ${principal.role} key may not subscribe`);
            return false;
          }
          ctx.extra.principal = principal;
          principals.set(socket, principal);
          socket.once('close', () => principals.delete(socket));
          return true;
        } catch (error) {
          if (!(error instanceof AuthenticationError)) throw error;
          socket.close(4401, `Unauthorized: ${error.message}`);
          return false;
        }
      },
      // The checks HTTP makes, in the same order: parse, validate with the limits, cost, access.
      onSubscribe: (ctx, _id, payload): ExecutionArgs | readonly GraphQLError[] => {
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const invalid = validate(schema, document, validationRules);
        if (invalid.length > 0) return invalid;
        const tooCostly = checkCost(schema, document, config, payload.variables ?? undefined);
        if (tooCostly.length > 0) return tooCostly;
        const principal = ctx.extra.principal;
        if (!principal) return [new GraphQLError('the connection is not authenticated')];
        const context = createContext(services, principal);
        const refused = checkOperationAccess(
          document,
          payload.operationName,
          payload.variables,
          context,
          limits,
        );
        if (refused) return [refused];
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: context,
        };
      },
      // Every pushed result goes through the masking HTTP answers go through: an error raised
      // outside the resolvers' mapping (serialising a value, say) has no code and is masked.
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (!result.errors) return undefined;
        return {
          ...result,
          errors: result.errors.map((error) => {
            const formatted = error.toJSON();
            const coded = formatted.extensions?.code
              ? formatted
              : {
                  ...formatted,
                  extensions: { ...formatted.extensions, code: 'INTERNAL_SERVER_ERROR' },
                };
            return formatGraphQLError(coded, error, config, logger);
          }),
        };
      },
    },
    wsServer,
    // graphql-ws pings each socket this often and terminates one whose pong is that late.
    config.wsKeepAliveMs,
  );
  return {
    dispose: async () => {
      clearInterval(sweep);
      stopListening();
      await server.dispose();
    },
  };
}

function keyOfConnection(
  params: Readonly<{ authorization?: unknown; apiKey?: unknown }> | undefined,
): string | undefined {
  if (typeof params?.apiKey === 'string') return params.apiKey;
  if (typeof params?.authorization === 'string') return keyFromAuthorization(params.authorization);
  return undefined;
}

/** The cost of the operation a request runs, with its variables; at most one error. */
function checkCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  config: Config,
  variables: Readonly<Record<string, unknown>> | undefined,
): readonly GraphQLError[] {
  return validate(schema, document, [costRule(config.queryLimits.maxCost, variables)]);
}

/**
 * The last word on what a client sees of an error. Apollo files the limits' errors under
 * GRAPHQL_VALIDATION_FAILED: they keep their own code. Outside development an internal error
 * that escaped the resolvers' mapping (context creation, serialization) is logged and masked.
 */
function formatGraphQLError(
  formatted: GraphQLFormattedError,
  error: unknown,
  config: Config,
  logger: Logger,
): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? error.originalError : undefined;
  if (original instanceof GraphQLError && isQueryLimitError(original)) {
    const { http: _http, ...extensions } = original.extensions;
    return { ...formatted, extensions: { ...formatted.extensions, ...extensions } };
  }
  if (
    config.environment !== 'development' &&
    formatted.extensions?.code === 'INTERNAL_SERVER_ERROR' &&
    formatted.message !== INTERNAL_ERROR_MESSAGE
  ) {
    logger.error({ err: original ?? error }, 'internal error while answering a request');
    return {
      ...formatted,
      message: INTERNAL_ERROR_MESSAGE,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  }
  return formatted;
}

const INTERNAL_ERROR_MESSAGE = 'Internal server error';

/** Express-level failures (bad JSON, oversized bodies, bad headers) answered in GraphQL's error shape. */
function jsonErrors(logger: Logger): express.ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    const status = statusOf(error);
    const known: Record<number, [string, string]> = {
      400: ['BAD_REQUEST', 'the request body is not valid JSON'],
      413: ['PAYLOAD_TOO_LARGE', 'the request body is larger than the server accepts'],
    };
    const [code, message] = known[status] ?? ['INTERNAL_SERVER_ERROR', 'Internal server error'];
    if (!known[status]) logger.error({ err: error }, 'unhandled HTTP error');
    res.status(known[status] ? status : 500).json({ errors: [{ message, extensions: { code } }] });
  };
}

function statusOf(error: unknown): number {
  if (
    typeof error === 'object' &&
    error !== null &&
    'status' in error &&
    typeof error.status === 'number'
  ) {
    return error.status;
  }
  return 500;
}

export interface Readiness {
  readonly ready: boolean;
  readonly eventStore: boolean;
  readonly readStore: boolean;
  readonly projections: { name: string; state: string; lagMs: number }[];
}

async function checkReadiness(
  eventStore: EventStore,
  readStore: ReadStore,
  manager: Projectors,
  maxLagMs: number,
): Promise<Readiness> {
  const [eventStoreUp, readStoreUp] = await Promise.all([eventStore.ping(), readStore.ping()]);
  const statuses = eventStoreUp ? await manager.status().catch(() => []) : [];
  const projectionsReady = statuses.every((s) => s.state === 'running' && s.lagMs <= maxLagMs);
  return {
    ready: eventStoreUp && readStoreUp && statuses.length > 0 && projectionsReady,
    eventStore: eventStoreUp,
    readStore: readStoreUp,
    projections: statuses.map((s) => ({ name: s.name, state: s.state, lagMs: s.lagMs })),
  };
}
