/**
 * Running a command for a resolver, whatever the aggregate: the caller's workspace and actor,
 * a command id (the client's, for idempotency, or a new one), the clock from the services,
 * the client's expected revision, and the outcome as every command result shows it.
 */
import { ArgsType, Field, ObjectType } from 'type-graphql';
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

/** What every change to an existing aggregate takes beside its id (optimistic concurrency, idempotency). */
@ArgsType()
export class CommandArgs {
  @Field(() => String, {
    nullable: true,
    description:
      'The revision last read; the command fails with CONFLICT when the stream moved on.',
  })
  expectedRevision?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Makes the call idempotent: a retry with the same id returns the first result.',
  })
  commandId?: string | null;
}

/** What every command answers; each area adds the id of its aggregate. */
@ObjectType()
export abstract class CommandResultFields {
  @Field({ description: 'Stream revision after the command.' })
  revision!: string;

  @Field({ description: 'Log position written; pass it as minPosition to read your own write.' })
  position!: string;

  @Field({
    description: 'True when this commandId had been handled before and nothing new happened.',
  })
  replayed!: boolean;
}
