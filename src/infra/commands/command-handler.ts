/**
 * Generic command handling: load the stream, fold `evolve`, `decide`, append with the
 * revision that was read. A command id makes the command idempotent: a retry finds the
 * events the first attempt stored and returns that result instead of deciding again.
 */
import { hash as digestOf } from 'node:crypto';
import type {
  CommandMetadata,
  Decider,
  DomainEvent,
  RecordedEvent,
} from '../../domain/shared/events';
import { currentSchemaVersion } from '../../domain/event-schemas';
import { DomainError } from '../../domain/shared/errors';
import {
  type EventStore,
  type EventToAppend,
  ExpectedRevision,
  WrongExpectedRevisionError,
} from '../event-store/event-store';

export interface HandleOptions {
  /** The revision the client saw; a mismatch is a CONFLICT and nothing is retried. */
  readonly expectedRevision?: bigint;
  /** Optimistic-concurrency retries when the client named no revision. */
  readonly maxRetries?: number;
}

export interface CommandResult<State> {
  readonly streamId: string;
  /** Revision of the stream's last event after the command; `-1n` for an empty stream. */
  readonly revision: bigint;
  /** Log position the read models must reach to reflect the command (`-1n`: nothing yet). */
  readonly position: bigint;
  readonly events: readonly DomainEvent[];
  readonly state: State;
  /** True when the command id had already been handled and this is the earlier result. */
  readonly replayed: boolean;
}

/** Raised when the stream moved on since the revision the client saw. */
export class ConcurrencyConflictError extends DomainError {
  constructor(
    readonly streamId: string,
    expected: bigint,
    actual: bigint | undefined,
  ) {
    super(
      'CONFLICT',
      'REVISION_MISMATCH',
      `the stream moved on: expected revision ${expected.toString()}, it is at ${actual === undefined ? 'a newer revision' : actual.toString()}`,
      'expectedRevision',
    );
  }
}

export class CommandHandler {
  constructor(private readonly store: EventStore) {}

  async handle<Command extends { metadata: CommandMetadata }, Event extends DomainEvent, State>(
    decider: Decider<Command, Event, State>,
    streamId: string,
    command: Command,
    options: HandleOptions = {},
  ): Promise<CommandResult<State>> {
    const retries = options.expectedRevision === undefined ? (options.maxRetries ?? 3) : 0;
    for (let attempt = 0; ; attempt++) {
      const recorded = await this.store.readStream(streamId);
      const state = recorded.reduce(
        (current, event) => decider.evolve(current, event as unknown as Event),
        decider.initialState(),
      );
      const revision = recorded.length > 0 ? recorded[recorded.length - 1].revision : -1n;
      const earlier = earlierResult(recorded, command.metadata.commandId);
      if (earlier) return { streamId, ...earlier, state, replayed: true };

      if (options.expectedRevision !== undefined && options.expectedRevision !== revision) {
        throw new ConcurrencyConflictError(streamId, options.expectedRevision, revision);
      }
      const events = decider.decide(command, state);
      if (events.length === 0) {
        const position = recorded.length > 0 ? recorded[recorded.length - 1].position : -1n;
        return { streamId, revision, position, events, state, replayed: false };
      }
      const toStore = toAppend(streamId, events, command.metadata);
      try {
        const appended = await this.store.append(
          streamId,
          toStore,
          revision === -1n ? ExpectedRevision.noStream : ExpectedRevision.exact(revision),
        );
        return {
          streamId,
          revision: appended.nextRevision,
          position: appended.position,
          events,
          // Folded as stored, with their metadata, so the state is the one a read-back gives.
          state: toStore.reduce(
            (current, event) => decider.evolve(current, event as unknown as Event),
            state,
          ),
          replayed: false,
        };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (options.expectedRevision !== undefined) {
          throw new ConcurrencyConflictError(streamId, options.expectedRevision, error.actual);
        }
        if (attempt >= retries) {
          throw new ConcurrencyConflictError(streamId, revision, error.actual);
        }
      }
    }
  }

  /** Folds a stream into its current state without deciding anything. */
  async load<Event extends DomainEvent, State>(
    decider: Pick<Decider<unknown, Event, State>, 'initialState' | 'evolve'>,
    streamId: string,
  ): Promise<{ state: State; revision: bigint }> {
    const recorded = await this.store.readStream(streamId);
    return {
      state: recorded.reduce(
        (current, event) => decider.evolve(current, event as unknown as Event),
        decider.initialState(),
      ),
      revision: recorded.length > 0 ? recorded[recorded.length - 1].revision : -1n,
    };
  }
}

function earlierResult(
  recorded: readonly RecordedEvent[],
  commandId: string,
): Omit<CommandResult<never>, 'streamId' | 'state' | 'replayed'> | null {
  const mine = recorded.filter((event) => event.metadata.commandId === commandId);
  if (mine.length === 0) return null;
  const last = mine[mine.length - 1];
  return {
    revision: last.revision,
    position: last.position,
    events: mine.map(({ type, data }) => ({ type, data })),
  };
}

function toAppend(
  streamId: string,
  events: readonly DomainEvent[],
  metadata: CommandMetadata,
): EventToAppend[] {
  return events.map((event, index) => ({
    eventId: deterministicEventId(`${streamId}|${metadata.commandId}|${index}`),
    type: event.type,
    data: event.data,
    metadata: {
      workspaceId: metadata.workspaceId,
      commandId: metadata.commandId,
      schemaVersion: currentSchemaVersion(event.type),
      ...(metadata.actor !== undefined && { actor: metadata.actor }),
      correlationId: metadata.correlationId ?? metadata.commandId,
      ...(metadata.causationId !== undefined && { causationId: metadata.causationId }),
    },
  }));
}

/**
 * A name-based UUID (version 5 layout over SHA-1), so the same command id always yields
 * the same event ids and the store's unique event id turns a blind retry into a no-op.
 */
export function deterministicEventId(name: string): string {
  // The one-shot digest: about 2.5 times cheaper than createHash, and ingestion takes one
  // per tracked message.
  const hash = digestOf('sha1', `touchline:event:${name}`, 'buffer');
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
