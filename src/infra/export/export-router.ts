/**
 * `GET /v1/export/events?format=ndjson|csv&…`: the events the `events` query would page
 * through, streamed in one response, page by page with back-pressure (a page is read only
 * once the client has taken the previous one), so memory stays the same however long the
 * log. The export stops at the log's head when it started; the filter parameters are those
 * of `EventFilterInput` (`types` repeated or comma-separated, times as ISO-8601).
 *
 * Bad parameters: 400 `{ error: { code, reason, field, message } }`. A failure once rows
 * were sent cuts the response short (the client sees an incomplete transfer).
 */
import type { ServerResponse } from 'node:http';
import express, { type Request, type Response } from 'express';
import { GraphQLError } from 'graphql';
import type { RecordedEvent } from '../../domain/shared/events';
import type { Services } from '../../graphql/context';
import { badInput } from '../../graphql/errors';
import { occurredAt, type EventFilterFields } from '../../graphql/history/event-query';
import { eventQuery } from '../../graphql/history/history.resolver';
import type { Logger } from '../logger';

export const EXPORT_PATH = '/v1/export/events';
/** Events per page read from the log and written in one chunk. */
const EXPORT_PAGE = 1_000;

const formats = {
  ndjson: { contentType: 'application/x-ndjson; charset=utf-8', extension: 'ndjson' },
  csv: { contentType: 'text/csv; charset=utf-8', extension: 'csv' },
} as const;
type Format = keyof typeof formats;

export const csvColumns = [
  'position',
  'streamId',
  'revision',
  'type',
  'version',
  'occurredAt',
  'recordedAt',
  'data',
  'metadata',
] as const;

const textParameters = ['streamId', 'category', 'contactId', 'campaignId'] as const;
const timeParameters = ['occurredFrom', 'occurredTo', 'recordedFrom', 'recordedTo'] as const;
const parameters = new Set<string>(['format', 'types', ...textParameters, ...timeParameters]);

export interface ExportRouterDependencies {
  readonly services: Services;
  /** The workspace of a request from its `x-touchline-workspace` header, as GraphQL's. */
  readonly resolveWorkspace: (header: string | undefined) => string;
  readonly logger: Logger;
}

export function createExportRouter(deps: ExportRouterDependencies): express.Router {
  const { services, logger } = deps;
  const router = express.Router();
  router.get(EXPORT_PATH, async (req: Request, res: Response) => {
    let rows = 0;
    try {
      const workspaceId = deps.resolveWorkspace(req.header('x-touchline-workspace'));
      const { format, fields } = exportParameters(req.query);
      const query = await eventQuery(services, workspaceId, fields);
      const until = await services.log.headPosition();
      res.status(200);
      res.setHeader('Content-Type', formats[format].contentType);
      res.setHeader(
        'Content-Disposition',
        `attachment; filename="events.${formats[format].extension}"`,
      );
      if (format === 'csv') await write(res, `${csvColumns.join(',')}\r\n`);
      let after: bigint | undefined;
      for (;;) {
        const page = await services.log.events(query, {
          first: EXPORT_PAGE,
          until,
          ...(after !== undefined && { after }),
        });
        if (page.events.length > 0) {
          await write(res, page.events.map(format === 'csv' ? csvLine : ndjsonLine).join(''));
          rows += page.events.length;
        }
        if (!page.hasNextPage || page.endPosition === null || res.destroyed) break;
        after = page.endPosition;
      }
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

/** The export's fields of one event, as NDJSON and CSV show them. */
export function exportRecord(event: RecordedEvent) {
  return {
    position: event.position.toString(),
    streamId: event.streamId,
    revision: event.revision.toString(),
    type: event.type,
    version: event.metadata.schemaVersion,
    occurredAt: occurredAt(event)?.toISOString() ?? null,
    recordedAt: event.recordedAt.toISOString(),
    data: event.data,
    metadata: event.metadata,
  };
}

export function ndjsonLine(event: RecordedEvent): string {
  return `${JSON.stringify(exportRecord(event))}\n`;
}

export function csvLine(event: RecordedEvent): string {
  const record = exportRecord(event);
  return `${csvColumns
    .map((column) => {
      const value = record[column];
      return csvField(
        typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value ?? ''),
      );
    })
    .join(',')}\r\n`;
}

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The format and filter of the query string; every failure names its parameter. */
export function exportParameters(query: Request['query']): {
  format: Format;
  fields: EventFilterFields;
} {
  for (const name of Object.keys(query)) {
    if (!parameters.has(name)) {
      throw badInput(name, `unknown parameter ${name}`, 'UNKNOWN_PARAMETER');
    }
  }
  const format = single(query, 'format') ?? 'ndjson';
  if (!(format in formats)) {
    throw badInput('format', 'format must be ndjson or csv', 'INVALID_FORMAT');
  }
  const fields: Record<string, unknown> = {};
  for (const name of textParameters) fields[name] = single(query, name);
  for (const name of timeParameters) fields[name] = date(name, single(query, name));
  const types = list(query, 'types');
  if (types !== undefined) fields.types = types.flatMap((value) => value.split(','));
  return { format: format as Format, fields: fields as EventFilterFields };
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

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

function date(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const time = ISO_DATE.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(time)) {
    throw badInput(name, `${name} must be an ISO-8601 date-time`, 'INVALID_DATE');
  }
  return new Date(time);
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

/** Writes a chunk, and when the socket's buffer is full waits until it drains (or closes). */
export function write(
  res: Pick<ServerResponse, 'destroyed' | 'write' | 'once' | 'off'>,
  chunk: string,
): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
