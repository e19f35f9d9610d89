/**
 * `GET /v1/export/events?format=ndjson|csv&…`: the events the `events` query would page
 * through, streamed in one response, page by page with back-pressure (a page is read only
 * once the client has taken the previous one), so memory stays the same however long the
 * log. The export stops at the log's head when it started; the filter parameters are those
 * of `EventFilterInput` (`types` repeated or comma-separated, times as ISO-8601). The
 * workspace is the API key's (a role that may read); an export counts against the key's
 * limit of expensive requests.
 *
 * Bad parameters: 400 `{ error: { code, reason, field, message } }`. A failure once rows
 * were sent cuts the response short (the client sees an incomplete transfer).
 */
import express, { type Request, type Response } from 'express';
import { GraphQLError } from 'graphql';
import type { Services } from '../../graphql/context';
import { badInput } from '../../graphql/errors';
import type { EventFilterFields } from '../../graphql/history/event-query';
import { eventQuery } from '../../graphql/history/history.resolver';
import type { Logger } from '../logger';
import {
  exportFilterFields,
  exportFormats,
  isExportFormat,
  textFilterFields,
  timeFilterFields,
  writeEvents,
  type ExportFormat,
  type RawExportFilter,
} from './event-export';

import { principalOf } from '../access/http-access';

export const EXPORT_PATH = '/v1/export/events';

const parameters = new Set<string>(['format', 'types', ...textFilterFields, ...timeFilterFields]);

export interface ExportRouterDependencies {
  readonly services: Services;
  /** Authenticates the request's key (a role that may read), rate-limited per key. */
  readonly requireKey: express.RequestHandler;
  readonly logger: Logger;
}

export function createExportRouter(deps: ExportRouterDependencies): express.Router {
  const { services, logger } = deps;
  const router = express.Router();
  router.get(EXPORT_PATH, deps.requireKey, async (req: Request, res: Response) => {
    let rows = 0;
    try {
      const { workspaceId } = principalOf(res);
      const { format, fields } = exportParameters(req.query);
      const query = await eventQuery(services, workspaceId, fields);
      const until = await services.log.headPosition();
      res.status(200);
      res.setHeader('Content-Type', exportFormats[format].contentType);
      res.setHeader(
        'Content-Disposition',
        `attachment; filename="events.${exportFormats[format].extension}"`,
      );
      await writeEvents({
        log: services.log,
        query,
        format,
        until,
        output: res,
        onPage: (_, written) => {
          rows = written;
        },
      });
      res.end();
      logger.debug({ workspaceId, format, rows }, 'events exported');
    } catch (error) {
      const refusal = badRequest(error);
      if (refusal && !res.headersSent) {
        res.status(400).json({ error: refusal });
        return;
      }
      logger.error({ err: error, rows }, 'event export failed');
      if (res.headersSent) res.destroy(error instanceof Error ? error : undefined);
      else
        res
          .status(500)
          .json({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' } });
    }
  });
  return router;
}

/** The format and filter of the query string; every failure names its parameter. */
export function exportParameters(query: Request['query']): {
  format: ExportFormat;
  fields: EventFilterFields;
} {
  for (const name of Object.keys(query)) {
    if (!parameters.has(name)) {
      throw badInput(name, `unknown parameter ${name}`, 'UNKNOWN_PARAMETER');
    }
  }
  const format = single(query, 'format') ?? 'ndjson';
  if (!isExportFormat(format)) {
    throw badInput('format', 'format must be ndjson or csv', 'INVALID_FORMAT');
  }
  const raw: Record<string, unknown> = {};
  for (const name of [...textFilterFields, ...timeFilterFields]) raw[name] = single(query, name);
  raw.types = list(query, 'types');
  return { format, fields: exportFilterFields(raw as RawExportFilter) };
}

function single(query: Request['query'], name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badInput(name, `${name} may be given once`);
  return value;
}

function list(query: Request['query'], name: string): string[] | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  const values = Array.isArray(value) ? value : [value];
  if (!values.every((item) => typeof item === 'string')) {
    throw badInput(name, `${name} must be a list of strings`);
  }
  return values as string[];
}

/** What a 400 answer says of a refused request; undefined for other failures. */
function badRequest(
  error: unknown,
): { code: string; reason?: string; field?: string; message: string } | undefined {
  if (error instanceof GraphQLError && error.extensions.code === 'BAD_USER_INPUT') {
    const { reason, field } = error.extensions as { reason?: string; field?: string };
    return {
      code: 'BAD_USER_INPUT',
      ...(reason && { reason }),
      // Filter fields are plain query parameters here.
      ...(field && { field: field.replace(/^filter\./, '') }),
      message: error.message.replace(/\bfilter\./g, ''),
    };
  }
  const { status, code, field, message } = (error ?? {}) as Record<string, unknown>;
  if (status === 400 && typeof code === 'string' && typeof message === 'string') {
    return { code, ...(typeof field === 'string' && { field }), message };
  }
  return undefined;
}
