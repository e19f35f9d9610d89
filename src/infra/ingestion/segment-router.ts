/**
 * The Segment-compatible tracking HTTP API, so existing Segment SDKs and integrations can
 * send to Touchline by changing only their host: `POST /v1/track`, `/v1/identify`,
 * `/v1/page`, `/v1/screen`, `/v1/alias` (one message), `/v1/batch` (several) and
 * `/v1/import` (a batch of archived messages; keeps their receivedAt when the key may import).
 *
 * Auth, as Segment accepts it: the write key as the HTTP Basic user with an empty password
 * (what the SDKs send), `Authorization: Bearer <key>`, or a `writeKey` field in the body.
 *
 * Answers: 200 `{ success: true, accepted, rejected: [{ index, messageId, field, reason,
 * message }], position }`. Segment SDKs only look at the status, so a batch whose messages
 * are all rejected is still a 200 with `accepted: 0` (retrying it would not help), while a
 * malformed body, or an invalid message sent to a single-message endpoint, is a 400. Other
 * errors have GraphQL's shape: `{ errors: [{ message, extensions: { code } }] }`.
 */
import type { IncomingMessage } from 'node:http';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { DomainError } from '../../domain/shared/errors';
import { ingestionLimits, type CallType } from '../../domain/tracking/ingestion';
import type { Principal } from '../access/access-control';
import { keyFromAuthorization } from '../access/api-key-token';
import { rateRefusal, requireCapability, toAccessRefusal } from '../access/http-access';
import type { RateLimiter } from '../access/rate-limiter';
import type { Logger } from '../logger';
import type { IngestionPriority } from '../shared/ingestion-priority';
import { type IngestResult, MALFORMED_JSON, type TrackingIngestor } from './tracking-service';

/** An authenticated key that may ingest. */
type WriteKeyGrant = Principal;

/**
 * Archived messages keep their receivedAt only when sent by an owner or editor key: an
 * ingest key is a write key that browsers hold, so anyone may read it.
 */
function mayImport(grant: WriteKeyGrant): boolean {
  return grant.role === 'owner' || grant.role === 'editor';
}

export interface SegmentRouterDependencies {
  /** Parses and appends (in process, or on the ingestion worker thread). */
  readonly tracking: TrackingIngestor;
  readonly access: {
    /** The principal of a key; throws AuthenticationError when it does not authenticate. */
    readonly authenticate: (key: string | undefined) => Promise<Principal>;
    /** Messages per key (admitted while the bucket holds any, then charged per message). */
    readonly limiter: RateLimiter;
  };
  /**
   * Largest `/v1/batch` and `/v1/import` body, at most Segment's 500 KiB
   * (`ingestionLimits.batchBytes`); single messages are capped at 32 KiB.
   */
  readonly maxBatchBytes: number;
  readonly logger: Logger;
  /** Told of each tracking request in flight, so projectors can let it go first. */
  readonly priority?: IngestionPriority;
}

const singleCalls: readonly CallType[] = ['track', 'identify', 'page', 'screen', 'alias'];

type ErrorCode =
  | 'BAD_REQUEST'
  | 'BAD_USER_INPUT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'INTERNAL_SERVER_ERROR';

/** Raised inside the router and answered by its own error handler. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: { field?: string; reason?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function createSegmentRouter(deps: SegmentRouterDependencies): express.Router {
  const { access, logger, tracking } = deps;
  const router = express.Router();
  router.use('/v1', allowBrowsers);
  if (deps.priority) {
    const priority = deps.priority;
    router.use('/v1', (_req, res, next) => {
      const end = priority.begin();
      res.once('finish', end);
      res.once('close', end);
      next();
    });
  }
  const bodySizes = new WeakMap<IncomingMessage, number>();
  /**
   * Every content type is read as JSON: browser SDKs send `text/plain` to avoid a CORS
   * preflight. body-parser stops reading at the limit and inflates gzip bodies.
   */
  const json = (limit: number) =>
    express.json({
      limit,
      type: () => true,
      verify: (req, _res, buffer) => bodySizes.set(req, buffer.length),
    });

  for (const type of singleCalls) {
    router.post(
      `/v1/${type}`,
      checkHeaderKey,
      json(Math.min(ingestionLimits.messageBytes, deps.maxBatchBytes)),
      async (req: Request, res: Response) => {
        const { grant, message } = await authorise(req, res);
        const result = await tracking.ingestMessage(grant.workspaceId, message, type, {
          actor: grant.actor,
        });
        access.limiter.charge(grant.keyId, 1);
        res.json(answer(result));
      },
    );
  }

  for (const endpoint of ['batch', 'import'] as const) {
    router.post(
      `/v1/${endpoint}`,
      checkHeaderKey,
      // The parser refuses batches over its own limit: a larger body is never worth reading.
      express.raw({
        limit: Math.min(ingestionLimits.batchBytes, deps.maxBatchBytes),
        type: () => true,
      }),
      async (req: Request, res: Response) => {
        const raw: unknown = req.body;
        if (!Buffer.isBuffer(raw) || raw.length === 0) {
          throw new HttpError(400, 'BAD_REQUEST', 'the request body must be a JSON object');
        }
        const { grant, result } = await ingestBatchBody(raw, res.locals.grant, endpoint);
        access.limiter.charge(grant.keyId, result.accepted + result.rejected.length);
        if (result.rejected.length > 0) {
          logger.debug(
            { workspaceId: grant.workspaceId, endpoint, rejected: result.rejected.length },
            'tracking messages rejected',
          );
        }
        res.json(answer(result));
      },
    );
  }

  router.use(answerErrors(logger));
  return router;

  /**
   * With the key in a header the bytes go to ingestion unparsed (to its worker thread, when
   * there is one); a key inside the body has to be read here first.
   */
  async function ingestBatchBody(
    raw: Buffer,
    headerGrant: WriteKeyGrant | undefined,
    endpoint: 'batch' | 'import',
  ): Promise<{ grant: WriteKeyGrant; result: IngestResult }> {
    const options = (grant: WriteKeyGrant) => ({
      keepReceivedAt: endpoint === 'import' && mayImport(grant),
      bodyBytes: raw.length,
      actor: grant.actor,
    });
    if (headerGrant) {
      const result = await tracking.ingestRawBatch(
        headerGrant.workspaceId,
        raw,
        options(headerGrant),
      );
      return { grant: headerGrant, result };
    }
    const { grant, message } = await authoriseParsed(parseJsonBody(raw));
    return {
      grant,
      result: await tracking.ingestBatch(grant.workspaceId, message, options(grant)),
    };
  }

  /** A key in the Authorization header is checked before the body is read. */
  function checkHeaderKey(req: Request, res: Response, next: NextFunction): void {
    const header = req.header('authorization');
    if (header === undefined || header.trim() === '') return next();
    grantOf(keyFromAuthorization(header)).then((grant) => {
      res.locals.grant = grant;
      next();
    }, next);
  }

  /** The key's grant: authenticated, allowed to ingest, and within its rate limit. */
  async function grantOf(key: string | undefined): Promise<WriteKeyGrant> {
    const grant = await access.authenticate(key);
    requireCapability(grant, 'ingest');
    const limited = rateRefusal(access.limiter.admit(grant.keyId));
    if (limited) throw limited;
    return grant;
  }

  /** The grant of the header's key, else of the body's `writeKey`; the body without it. */
  function authorise(
    req: Request,
    res: Response,
  ): Promise<{ grant: WriteKeyGrant; message: unknown }> {
    // body-parser reads an empty body as `{}`: refused like a missing one.
    const empty = (bodySizes.get(req) ?? 0) === 0;
    if (empty) throw new HttpError(400, 'BAD_REQUEST', 'the request body must be a JSON object');
    return authoriseParsed(req.body, res.locals.grant as WriteKeyGrant | undefined);
  }

  async function authoriseParsed(
    body: unknown,
    headerGrant?: WriteKeyGrant,
  ): Promise<{ grant: WriteKeyGrant; message: unknown }> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new HttpError(400, 'BAD_REQUEST', 'the request body must be a JSON object');
    }
    const { writeKey, ...message } = body as { writeKey?: unknown };
    if (headerGrant) return { grant: headerGrant, message };
    if (typeof writeKey !== 'string') {
      throw new HttpError(
        401,
        'UNAUTHENTICATED',
        'a write key is required: send it as the Basic auth user, a Bearer token or `writeKey`',
        { reason: 'MISSING_KEY' },
      );
    }
    return { grant: await grantOf(writeKey), message };
  }
}

function parseJsonBody(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'the request body is not valid JSON');
  }
}

/**
 * Browser SDKs post from the customer's own site: tracking answers any origin, as Segment's
 * API does (the write key, not the origin, is the credential), and answers preflights.
 */
function allowBrowsers(req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Content-Encoding');
  res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
  res.setHeader('Access-Control-Max-Age', '86400');
  if (req.method === 'OPTIONS') {
    res.status(204).end();
    return;
  }
  next();
}

function answer(result: IngestResult) {
  return {
    success: true,
    accepted: result.accepted,
    rejected: result.rejected,
    position: result.position === null ? null : result.position.toString(),
  };
}

/**
 * Body-parser failures, invalid messages and auth failures answered here, so the router
 * works without the server's generic handler; anything else is logged and masked.
 */
function answerErrors(logger: Logger): express.ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    const known = toHttpError(error);
    if (!known) logger.error({ err: error }, 'tracking ingestion failed');
    const { status, code, message, details } =
      known ?? new HttpError(500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
    if (status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="touchline"');
    if (details.retryAfterSeconds !== undefined) {
      res.setHeader('Retry-After', String(details.retryAfterSeconds));
    }
    res.status(status).json({
      errors: [
        {
          message,
          extensions: {
            code,
            ...(details.field && { field: details.field }),
            ...(details.reason && { reason: details.reason }),
          },
        },
      ],
    });
  };
}

function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  const refusal = toAccessRefusal(error);
  if (refusal) {
    return new HttpError(refusal.status, refusal.code, refusal.message, {
      reason: refusal.reason,
      retryAfterSeconds: refusal.retryAfterSeconds,
    });
  }
  if (error instanceof DomainError && error.reason === MALFORMED_JSON) {
    return new HttpError(400, 'BAD_REQUEST', 'the request body is not valid JSON');
  }
  if (error instanceof DomainError && error.kind === 'BAD_USER_INPUT') {
    return new HttpError(400, 'BAD_USER_INPUT', error.message, {
      field: error.field,
      reason: error.reason,
    });
  }
  const { type, status } = (error ?? {}) as { type?: unknown; status?: unknown };
  if (type === 'entity.too.large') {
    return new HttpError(413, 'PAYLOAD_TOO_LARGE', 'the request body is larger than accepted');
  }
  if (type === 'entity.parse.failed') {
    return new HttpError(400, 'BAD_REQUEST', 'the request body is not valid JSON');
  }
  // Other body-parser refusals (unsupported encoding or charset, aborted request).
  if (typeof type === 'string' && typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, 'BAD_REQUEST', 'the request body could not be read');
  }
  return undefined;
}
