/**
 * Running a command for a resolver, whatever the aggregate: the caller's workspace and actor,
 * a command id (the client's, for idempotency, or a new one), the clock from the services,
 * the client's expected revision, and the outcome as every command result shows it.
 */
import type { CommandMetadata } from '../../domain/shared/events';
import type { CommandOutcome, TouchlineContext } from '../context';
import { commandIdOrNew, optionalInt64 } from './arguments';

export async function runCommand<Command extends { readonly metadata: CommandMetadata }>(
  context: TouchlineContext,
  options: { commandId: string | null | undefined; expectedRevision?: string | null },
  build: (metadata: CommandMetadata) => Command,
  send: (command: Command, options: { expectedRevision?: bigint }) => Promise<CommandOutcome>,
): Promise<{ command: Command; revision: string; position: string; replayed: boolean }> {
  const { services } = context;
  const command = build({
    workspaceId: context.workspaceId,
    commandId: commandIdOrNew(options.commandId, services.newId),
    now: services.clock(),
    ...(context.actor !== undefined && { actor: context.actor }),
    correlationId: context.requestId,
  });
  const outcome = await send(command, {
    expectedRevision: optionalInt64('expectedRevision', options.expectedRevision),
  });
  return {
    command,
    revision: outcome.revision.toString(),
    position: outcome.position.toString(),
    replayed: outcome.replayed,
  };
}
