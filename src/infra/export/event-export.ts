/**
 * Exporting the log: one event as an NDJSON or CSV line, the filter of an export from its
 * raw text values, and the loop that writes the matching events page by page with
 * back-pressure. The HTTP export (`export-router.ts`) and `touchline export` both use it, so
 * a file exported either way is the same.
 */
import type { RecordedEvent } from '../../domain/shared/events';
import type { EventLog } from '../../graphql/context';
import { badInput } from '../../graphql/errors';
import {
  occurredAt,
  type EventFilterFields,
  type EventQuery,
} from '../../graphql/history/event-query';

/** Events per page read from the log and written in one chunk. */
export const EXPORT_PAGE = 1_000;

export const exportFormats = {
  ndjson: { contentType: 'application/x-ndjson; charset=utf-8', extension: 'ndjson' },
  csv: { contentType: 'text/csv; charset=utf-8', extension: 'csv' },
} as const;
export type ExportFormat = keyof typeof exportFormats;

export function isExportFormat(value: string): value is ExportFormat {
  return Object.hasOwn(exportFormats, value);
}

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

export const textFilterFields = ['streamId', 'category', 'contactId', 'campaignId'] as const;
export const timeFilterFields = [
  'occurredFrom',
  'occurredTo',
  'recordedFrom',
  'recordedTo',
] as const;

/** An export's filter as text, the way a query string or a command line gives it. */
export type RawExportFilter = Partial<
  Record<(typeof textFilterFields)[number] | (typeof timeFilterFields)[number], string>
> & {
  /** Each value may list several types separated by commas. */
  readonly types?: readonly string[];
};

/** The filter fields of raw text values; a time that is not ISO-8601 fails with its field. */
export function exportFilterFields(raw: RawExportFilter): EventFilterFields {
  const fields: Record<string, unknown> = {};
  for (const name of textFilterFields) fields[name] = raw[name];
  for (const name of timeFilterFields) fields[name] = isoDate(name, raw[name]);
  if (raw.types !== undefined) fields.types = raw.types.flatMap((value) => value.split(','));
  return fields as EventFilterFields;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** An ISO-8601 date or date-time (with its offset); anything else fails, naming `name`. */
export function isoDate(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const time = ISO_DATE.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(time)) {
    throw badInput(name, `${name} must be an ISO-8601 date-time`, 'INVALID_DATE');
  }
  return new Date(time);
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

/** Where an export writes: an HTTP response, a file, standard output. */
export type ExportOutput = Pick<NodeJS.WritableStream, 'write' | 'once' | 'off'> & {
  readonly destroyed?: boolean;
};

/**
 * Writes the events matching `query` up to `until` (the head when the export started) in
 * `format`, CSV with its header; a page is read only once `output` has taken the previous
 * one, so memory stays the same however long the log. Stops early when `output` is
 * destroyed. `onPage` hears where each page ended. Resolves to the rows written.
 */
export async function writeEvents(options: {
  readonly log: EventLog;
  readonly query: EventQuery;
  readonly format: ExportFormat;
  readonly until: bigint;
  readonly output: ExportOutput;
  readonly onPage?: (endPosition: bigint, rows: number) => void;
}): Promise<number> {
  const { log, query, format, until, output } = options;
  let rows = 0;
  if (format === 'csv') await write(output, `${csvColumns.join(',')}\r\n`);
  let after: bigint | undefined;
  for (;;) {
    const page = await log.events(query, {
      first: EXPORT_PAGE,
      until,
      ...(after !== undefined && { after }),
    });
    if (page.events.length > 0) {
      await write(output, page.events.map(format === 'csv' ? csvLine : ndjsonLine).join(''));
      rows += page.events.length;
    }
    if (page.endPosition !== null) options.onPage?.(page.endPosition, rows);
    if (!page.hasNextPage || page.endPosition === null || output.destroyed) break;
    after = page.endPosition;
  }
  return rows;
}

/** Writes a chunk, and when the output's buffer is full waits until it drains (or closes). */
export function write(output: ExportOutput, chunk: string): Promise<void> {
  if (output.destroyed) return Promise.resolve();
  if (output.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      output.off('drain', done);
      output.off('close', done);
      resolve();
    };
    output.once('drain', done);
    output.once('close', done);
  });
}
