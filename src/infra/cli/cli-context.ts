/**
 * What every command of the command line runs with: the configuration, where it writes, a
 * logger on standard error, and the stores the configuration names. A command returns its
 * exit code: 0 done, 1 failed, 2 refused its input (nothing was written).
 */
import { GraphQLError } from 'graphql';
import pino from 'pino';
import type { ReadStore } from '../../projections/read-store';
import type { Config, LogLevel } from '../config';
import type { EventStore } from '../event-store/event-store';
import { createLogger, type Logger } from '../logger';
import { openEventStore, openReadStore } from '../stores';
import type { ProgressStream } from './progress';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface CliContext {
  readonly config: Config;
  /** The data: an export, a replayed read model, a status table. */
  readonly stdout: NodeJS.WritableStream;
  /** Progress and messages. */
  readonly stderr: NodeJS.WritableStream & ProgressStream;
  readonly logger: Logger;
  readonly now: () => number;
}

/** Input the command refuses: its message is shown and the exit code is 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const levels: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/**
 * A context on the process's streams. Logs go to standard error, at `warn` unless the
 * configuration asks for less, or `verbose` for the configured level: a progress bar and a
 * stream of info lines do not mix.
 */
export function processContext(config: Config, options: { verbose?: boolean } = {}): CliContext {
  const quietest = levels.indexOf(config.logLevel) > levels.indexOf('warn');
  const level = options.verbose || quietest ? config.logLevel : 'warn';
  return {
    config,
    stdout: process.stdout,
    stderr: process.stderr,
    logger: createLogger(level, pino.destination(2)),
    now: Date.now,
  };
}

/** Opens the configured stores, runs `work` with them, and closes them whatever happens. */
export async function withStores<T>(
  config: Config,
  work: (stores: { eventStore: EventStore; readStore: ReadStore }) => Promise<T>,
): Promise<T> {
  const eventStore = await openEventStore(config.eventStore);
  try {
    const readStore = await openReadStore(config.readStore);
    try {
      return await work({ eventStore, readStore });
    } finally {
      await readStore.close();
    }
  } finally {
    await eventStore.close();
  }
}

/**
 * Runs a command's body and turns what it throws into a message on standard error and an
 * exit code: a usage error or a refused filter (a `BAD_USER_INPUT` GraphQL error) is 2,
 * anything else 1.
 */
export async function runCommand(
  context: Pick<CliContext, 'stderr'>,
  name: string,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (error) {
    const usage =
      error instanceof UsageError ||
      (error instanceof GraphQLError && error.extensions.code === 'BAD_USER_INPUT');
    const message = error instanceof Error ? error.message : String(error);
    context.stderr.write(`touchline ${name}: ${message}\n`);
    return usage ? EXIT_USAGE : EXIT_FAILED;
  }
}
