/**
 * `touchline export`: the events of one workspace's log, filtered as the HTTP export filters
 * them, written as NDJSON or CSV to standard output or a file, page by page with
 * back-pressure (memory stays the same however long the log), up to the head when it
 * started. Progress (log positions scanned against that head) goes to standard error.
 */
import { GraphQLError } from 'graphql';
import type { Services } from '../../../graphql/context';
import { parseEventFilter } from '../../../graphql/history/event-query';
import { eventQuery } from '../../../graphql/history/history.resolver';
import {
  exportFilterFields,
  isExportFormat,
  writeEvents,
  type RawExportFilter,
} from '../../export/event-export';
import { projectionDeclarations } from '../../projections/catalog';
import { eventLog } from '../../services';
import { EXIT_OK, runCommand, UsageError, withStores, type CliContext } from '../cli-context';
import { openOutput } from '../output';
import { count, ProgressBar } from '../progress';
import { readRegistry, servingCollection } from '../projection-status';

export interface ExportOptions {
  readonly format?: string;
  readonly out?: string;
  /** The workspace whose events are exported; the configured default when omitted. */
  readonly workspace?: string;
  readonly stream?: string;
  readonly category?: string;
  readonly type?: readonly string[];
  readonly from?: string;
  readonly to?: string;
  readonly recordedFrom?: string;
  readonly recordedTo?: string;
  readonly contact?: string;
  readonly campaign?: string;
}

/** The command line's option of each filter field. */
const optionOfField = {
  streamId: 'stream',
  category: 'category',
  types: 'type',
  occurredFrom: 'from',
  occurredTo: 'to',
  recordedFrom: 'recordedFrom',
  recordedTo: 'recordedTo',
  contactId: 'contact',
  campaignId: 'campaign',
} as const satisfies Record<keyof RawExportFilter, keyof ExportOptions>;

export function runExport(options: ExportOptions, context: CliContext): Promise<number> {
  return runCommand(context, 'export', async () => {
    const format = options.format ?? 'ndjson';
    if (!isExportFormat(format)) {
      throw new UsageError(`--format must be ndjson or csv (got "${format}")`);
    }
    const workspaceId = options.workspace ?? context.config.defaultWorkspaceId;
    const fields = withOptionNames(() => {
      const checked = exportFilterFields(rawFilter(options));
      parseEventFilter(workspaceId, checked);
      return checked;
    });
    return withStores(context.config, async ({ eventStore, readStore }) => {
      const physical = servingCollection(await readRegistry(readStore), projectionDeclarations);
      // A contact's identities are joined by the contacts read model; nothing else is read.
      const readModels = {
        collection: (logical: string) => readStore.collection(physical(logical)),
      };
      const query = await eventQuery({ readModels } as Services, workspaceId, fields);
      const until = await eventStore.headPosition();
      const output = openOutput(context.stdout, options.out);
      const progress = new ProgressBar({
        stream: context.stderr,
        label: 'export',
        unit: 'positions',
        now: context.now,
      });
      const head = Number(until);
      let rows = 0;
      try {
        rows = await writeEvents({
          log: eventLog(eventStore),
          query,
          format,
          until,
          output: output.stream,
          onPage: (position, written) =>
            progress.update(Number(position), head, `${count(written)} events`),
        });
      } finally {
        await output.close();
      }
      progress.update(Math.max(head, 0), Math.max(head, 0));
      progress.finish(`${count(rows)} events`);
      return EXIT_OK;
    });
  });
}

function rawFilter(options: ExportOptions): RawExportFilter {
  return Object.fromEntries(
    Object.entries(optionOfField).map(([field, option]) => [field, options[option]]),
  );
}

/** `recordedFrom` is typed `--recorded-from`. */
function flag(option: string): string {
  return `--${option.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** Runs the filter's checks; a refusal is told with the command line's option names. */
function withOptionNames<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof GraphQLError) || error.extensions.code !== 'BAD_USER_INPUT') throw error;
    let message = error.message;
    for (const [field, option] of Object.entries(optionOfField)) {
      message = message.replace(
        new RegExp(`\\b(filter\\.)?${field}(\\.\\d+)?\\b`, 'g'),
        flag(option),
      );
    }
    throw new UsageError(message);
  }
}
