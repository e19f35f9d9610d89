/**
 * `touchline init [--workspace ID] [--name NAME]`: creates a workspace in the configured
 * event store and prints its first owner key on standard output, once: only its hash is
 * stored. `touchline key [--workspace ID]` prints a new key without storing anything, for
 * `TOUCHLINE_OWNER_KEY` (the server makes it an owner key of its workspace at start).
 */
import { randomUUID } from 'node:crypto';
import { DomainError } from '../../../domain/shared/errors';
import { AccessControl } from '../../access/access-control';
import { generateToken } from '../../access/api-key-token';
import { openEventStore } from '../../stores';
import { EXIT_OK, EXIT_USAGE, type CliContext, UsageError, runCommand } from '../cli-context';

export interface InitOptions {
  readonly workspace?: string;
  readonly name?: string;
}

const workspaceIdPattern = /^[A-Za-z0-9_.-]{1,100}$/;

export function runInit(options: InitOptions, context: CliContext): Promise<number> {
  return runCommand(context, 'init', async () => {
    const workspaceId = workspaceOf(options, context);
    const eventStore = await openEventStore(context.config.eventStore);
    try {
      const access = new AccessControl(eventStore, { cacheMs: 0 });
      const issued = await access.createWorkspace(
        {
          workspaceId,
          // Not `init-<workspace>`: a second init would replay the first instead of being refused.
          commandId: `init-${workspaceId}-${randomUUID()}`,
          now: new Date(context.now()),
          actor: 'cli:init',
        },
        options.name ?? workspaceId,
      );
      context.stderr.write(
        `touchline init: created workspace ${workspaceId}. Its owner key is below; it is shown once and cannot be recovered.\n`,
      );
      context.stdout.write(`${issued.token}\n`);
      return EXIT_OK;
    } catch (error) {
      if (error instanceof DomainError && error.reason === 'WORKSPACE_EXISTS') {
        context.stderr.write(
          `touchline init: workspace ${workspaceId} already exists; an owner can create keys with the createApiKey mutation\n`,
        );
        return EXIT_USAGE;
      }
      throw error;
    } finally {
      await eventStore.close();
    }
  });
}

export function runKey(
  options: Pick<InitOptions, 'workspace'>,
  context: CliContext,
): Promise<number> {
  return runCommand(context, 'key', async () => {
    context.stdout.write(`${generateToken(workspaceOf(options, context)).token}\n`);
    return EXIT_OK;
  });
}

function workspaceOf(options: Pick<InitOptions, 'workspace'>, context: CliContext): string {
  const workspaceId = options.workspace ?? context.config.defaultWorkspaceId;
  if (!workspaceIdPattern.test(workspaceId)) {
    throw new UsageError('--workspace must be 1 to 100 of A-Z a-z 0-9 _ . -');
  }
  return workspaceId;
}
