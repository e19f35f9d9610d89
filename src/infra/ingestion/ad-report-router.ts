/**
 * `POST /v1/ad-reports`: imports ad platforms' figures (impressions, clicks, spend per
 * campaign × channel × day × source) through the campaign command path, one ImportAdReport
 * per row, in the order given (a later row with the same key wins, as it would in a file).
 *
 * Body: a JSON array of rows `{ campaignId, channel, day, source, impressions, clicks,
 * spend: { amount, currency } }` (amounts are decimal strings). The workspace is the API
 * key's (`Authorization: Bearer <key>`, a role that may ingest). An optional `Idempotency-Key`
 * header makes a retried request reuse its command ids (`<key>:<row index>`); without it a
 * retry is still harmless, because importing the same figures again changes nothing.
 *
 * Answers 200 `{ imported, unchanged, rejected, position, results: [{ index, status,
 * position?, error?: { code, reason, field, message } }] }` when the body is an array, even
 * if every row is rejected; a body that is not an array of at most `adReportLimits.rows`
 * rows is a 400. Other errors have GraphQL's shape: `{ errors: [{ message, extensions }] }`.
 */
import express from 'express';
import type { Request, Response } from 'express';
import {
  assertValidCampaignId,
  campaignDecider,
  campaignStreamId,
  type ImportAdReport,
} from '../../domain/campaign';
import { DomainError, ValidationError } from '../../domain/shared/errors';
import type { CommandHandler } from '../commands/command-handler';
import type { Logger } from '../logger';

import { principalOf } from '../access/http-access';

export const adReportLimits = { rows: 1000 } as const;

export const AD_REPORTS_PATH = '/v1/ad-reports';
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,100}$/;

export interface AdReportRouterDependencies {
  readonly commands: CommandHandler;
  /** Authenticates the request's key (a role that may ingest), rate-limited per key. */
  readonly requireKey: express.RequestHandler;
  readonly maxBodyBytes: number;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly logger: Logger;
}

export interface RowError {
  readonly code: DomainError['kind'];
  readonly reason: string;
  readonly field?: string;
  readonly message: string;
}

export type RowResult =
  | { readonly index: number; readonly status: 'imported' | 'unchanged'; readonly position: string }
  | { readonly index: number; readonly status: 'rejected'; readonly error: RowError };

type ImportAdReportData = ImportAdReport['data'];

/** Raised inside the router and answered by its own error handler. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function createAdReportRouter(deps: AdReportRouterDependencies): express.Router {
  const router = express.Router();
  router.post(
    AD_REPORTS_PATH,
    deps.requireKey,
    express.json({ limit: deps.maxBodyBytes, type: () => true }),
    async (req: Request, res: Response) => {
      const { workspaceId, actor } = principalOf(res);
      const idempotencyKey = idempotencyKeyOf(req);
      const rows: unknown = req.body;
      if (!Array.isArray(rows)) {
        throw new HttpError(400, 'BAD_REQUEST', 'the request body must be a JSON array of rows');
      }
      if (rows.length > adReportLimits.rows) {
        throw new HttpError(
          400,
          'BAD_REQUEST',
          `at most ${adReportLimits.rows} rows per request, got ${rows.length}`,
        );
      }
      const correlationId = req.header('x-request-id') ?? deps.newId();
      const results: RowResult[] = [];
      for (const [index, row] of rows.entries()) {
        const commandId = idempotencyKey ? `${idempotencyKey}:${index}` : deps.newId();
        results.push(
          await importRow(deps, { workspaceId, actor, commandId, correlationId }, index, row),
        );
      }
      const count = (status: RowResult['status']) =>
        results.filter((result) => result.status === status).length;
      const positions = results.flatMap((result) =>
        result.status === 'rejected' ? [] : [BigInt(result.position)],
      );
      res.json({
        imported: count('imported'),
        unchanged: count('unchanged'),
        rejected: count('rejected'),
        position: positions.length > 0 ? maxOf(positions).toString() : null,
        results,
      });
    },
  );
  router.use(answerErrors(deps.logger));
  return router;
}

async function importRow(
  deps: AdReportRouterDependencies,
  ids: { workspaceId: string; actor: string; commandId: string; correlationId: string },
  index: number,
  row: unknown,
): Promise<RowResult> {
  try {
    const data = rowData(row);
    const result = await deps.commands.handle(
      campaignDecider,
      campaignStreamId(ids.workspaceId, data.campaignId),
      {
        type: 'ImportAdReport',
        data,
        metadata: {
          workspaceId: ids.workspaceId,
          commandId: ids.commandId,
          now: deps.clock(),
          actor: ids.actor,
          correlationId: ids.correlationId,
        },
      } satisfies ImportAdReport,
    );
    return {
      index,
      status: result.events.length > 0 ? 'imported' : 'unchanged',
      position: result.position.toString(),
    };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return {
      index,
      status: 'rejected',
      error: {
        code: error.kind,
        reason: error.reason,
        ...(error.field !== undefined && { field: error.field }),
        message: error.message,
      },
    };
  }
}

/**
 * The row's fields with the JSON types the command expects; the values themselves are
 * checked by the decider, which names the same fields.
 */
function rowData(row: unknown): ImportAdReportData {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) {
    throw new ValidationError('row', 'each row must be a JSON object', 'INVALID_ROW');
  }
  const fields = row as Record<string, unknown>;
  const spend = fields.spend;
  if (typeof spend !== 'object' || spend === null || Array.isArray(spend)) {
    throw new ValidationError('spend', 'spend must be an object { amount, currency }', 'REQUIRED');
  }
  const money = spend as Record<string, unknown>;
  const campaignId = text(fields, 'campaignId');
  assertValidCampaignId(campaignId, 'campaignId');
  return {
    campaignId,
    channel: text(fields, 'channel'),
    day: text(fields, 'day'),
    source: text(fields, 'source'),
    impressions: count(fields, 'impressions'),
    clicks: count(fields, 'clicks'),
    spend: {
      amount: text(money, 'amount', 'spend.amount', 'a decimal string such as "120.50"'),
      currency: text(money, 'currency', 'spend.currency'),
    },
  };
}

function text(
  fields: Record<string, unknown>,
  name: string,
  field = name,
  expected = 'a string',
): string {
  const value = fields[name];
  if (typeof value !== 'string') {
    throw new ValidationError(
      field,
      `${field} must be ${expected}`,
      value === undefined || value === null ? 'REQUIRED' : 'INVALID_TYPE',
    );
  }
  return value;
}

function count(fields: Record<string, unknown>, name: string): number {
  const value = fields[name];
  if (typeof value !== 'number') {
    throw new ValidationError(
      name,
      `${name} must be a number`,
      value === undefined || value === null ? 'REQUIRED' : 'INVALID_TYPE',
    );
  }
  return value;
}

function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.header('idempotency-key');
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new HttpError(
      400,
      'BAD_USER_INPUT',
      'Idempotency-Key must be 1 to 100 characters of letters, digits, _ . : -',
      'idempotency-key',
    );
  }
  return key;
}

function maxOf(values: readonly bigint[]): bigint {
  return values.reduce((max, value) => (value > max ? value : max));
}

/** Its own error handler, so the router answers the same way wherever it is mounted. */
function answerErrors(logger: Logger): express.ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    const known = toHttpError(error);
    if (!known) logger.error({ err: error }, 'ad-report import failed');
    const { status, code, message, field } =
      known ?? new HttpError(500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
    res.status(status).json({
      errors: [{ message, extensions: { code, ...(field !== undefined && { field }) } }],
    });
  };
}

function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  const { type } = (error ?? {}) as { type?: unknown };
  if (type === 'entity.too.large') {
    return new HttpError(413, 'PAYLOAD_TOO_LARGE', 'the request body is larger than accepted');
  }
  if (type === 'entity.parse.failed') {
    return new HttpError(400, 'BAD_REQUEST', 'the request body is not valid JSON');
  }
  return undefined;
}
