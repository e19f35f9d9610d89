/** The `touchline` command line. */
import 'reflect-metadata';
import fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { buildTouchlineSchema, printTouchlineSchema } from '../../graphql/schema';
import { ConfigError, loadConfig, type ServerRole, serverRoles } from '../config';
import { serveUntilSignalled } from '../serve';
import { EXIT_USAGE, processContext, type CliContext } from './cli-context';
import { runExport } from './commands/export';
import { runInit, runKey } from './commands/init';
import { runReplay } from './commands/replay';
import { runStatus } from './commands/status';

const program = new Command('touchline')
  .description('Event-sourced marketing analytics backend')
  .option('--verbose', 'log at the configured level (TOUCHLINE_LOG_LEVEL), not warnings only')
  // Refused arguments exit with 2, as refused input does in every command; set before the
  // commands are added, so that they inherit it.
  .exitOverride();

/** The context of a command, built when it runs (the configuration is read then). */
function context(): CliContext {
  return processContext(loadConfig(), program.opts<{ verbose?: boolean }>());
}

/** The action of a command that answers with its exit code. */
function exitWith<Options>(command: (options: Options, context: CliContext) => Promise<number>) {
  return async (options: Options) => {
    process.exitCode = await command(options, context());
  };
}

function repeated(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}

program
  .command('serve')
  .description('serve the GraphQL API and run the projections (or one of the two: --role)')
  .addOption(
    new Option(
      '--role <role>',
      'all: API and projections in one process; api: the API only, following the projector workers; projector: a projector worker only (default: TOUCHLINE_ROLE, else all)',
    ).choices(serverRoles),
  )
  .action((options: { role?: ServerRole }) =>
    serveUntilSignalled(options.role ? { role: options.role } : {}),
  );

program
  .command('init')
  .description(
    'create a workspace and print its first owner key (shown once; only its hash is stored)',
  )
  .option('-w, --workspace <id>', 'the workspace id (default: TOUCHLINE_DEFAULT_WORKSPACE)')
  .option('--name <name>', 'its display name (default: the id)')
  .action(exitWith(runInit));

program
  .command('key')
  .description(
    'print a new owner key for TOUCHLINE_OWNER_KEY, without storing it (the server adds it at start)',
  )
  .option('-w, --workspace <id>', 'the workspace id (default: TOUCHLINE_DEFAULT_WORKSPACE)')
  .action(exitWith(runKey));

program
  .command('schema')
  .description('print the GraphQL schema (SDL) generated from the resolvers')
  .option('-o, --out <file>', 'write to a file instead of standard output')
  .action(async (options: { out?: string }) => {
    const sdl = printTouchlineSchema(await buildTouchlineSchema());
    if (options.out) fs.writeFileSync(options.out, sdl);
    else process.stdout.write(sdl);
  });

program
  .command('status')
  .description(
    "each projection's version, serving generation, position, events behind, lag and state (safe beside a running server)",
  )
  .option('--json', 'one JSON document instead of a table')
  .action(exitWith(runStatus));

program
  .command('replay')
  .description(
    'rebuild a projection from the log into a new generation that takes over once caught up; with --until, print its read model as it was at an instant instead',
  )
  .requiredOption('-p, --projection <name>', 'the projection (see `touchline status`)')
  .option(
    '--until <date>',
    'replay up to this record time (ISO-8601) into memory and write the documents as NDJSON',
  )
  .option('-o, --out <file>', 'with --until: write to a file instead of standard output')
  .action(exitWith(runReplay));

program
  .command('export')
  .description("stream a workspace's event log as NDJSON or CSV, filtered as the HTTP export")
  .option('-f, --format <format>', 'ndjson or csv', 'ndjson')
  .option('-o, --out <file>', 'write to a file instead of standard output')
  .option('-w, --workspace <id>', 'the workspace (default: TOUCHLINE_DEFAULT_WORKSPACE)')
  .option('--stream <id>', 'one stream')
  .option('--category <category>', 'streams of one category (campaign, contact, ...)')
  .option('--type <type>', 'event type; repeatable or comma-separated', repeated)
  .option('--from <date>', 'event time from (inclusive, ISO-8601)')
  .option('--to <date>', 'event time to (exclusive, ISO-8601)')
  .option('--recorded-from <date>', 'record time from (inclusive, ISO-8601)')
  .option('--recorded-to <date>', 'record time to (exclusive, ISO-8601)')
  .option('--contact <id>', "a contact's events, by any of its identities")
  .option('--campaign <id>', "a campaign's events and the tracked calls that name it")
  .action(exitWith(runExport));

program.parseAsync().catch((error: unknown) => {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
  console.error(error instanceof Error ? error.message : error);
  process.exit(error instanceof ConfigError ? EXIT_USAGE : 1);
});
