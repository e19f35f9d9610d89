/**
 * Runs one process manager: reads the log after its checkpoint in batches, lets the pure
 * `react` turn each batch into commands and new state, executes the commands, and only then
 * commits the state documents with the checkpoint in one atomic write.
 *
 * Crash safety comes from two things. The command ids are derived from the process
 * manager's name, the causing event's id and the command's index among that event's
 * commands, so a batch that is run again after a crash (its commit never happened) issues
 * the same commands under the same ids, and the command handler answers them with the
 * earlier result instead of deciding again. And `react` folds event by event, so how the
 * log is cut into batches does not change which commands an event causes.
 */
import type { CommandMetadata, RecordedEvent } from '../../domain/shared/events';
import { DomainError } from '../../domain/shared/errors';
import type { Document, ReadStore, WriteBatch, WriteOperation } from '../../projections/read-store';
import type { EventStore } from '../event-store/event-store';
import type { Logger } from '../logger';
import { CheckpointedLoop, type LoopState } from '../shared/checkpointed-loop';

/** A command a process manager wants issued, and the event that caused it. */
export interface IssuedCommand<Command> {
  readonly cause: RecordedEvent;
  readonly command: Command;
}

export interface Reaction<State, Command> {
  /** The state documents the batch changed, by key; keys left out are unchanged. */
  readonly state: ReadonlyMap<string, State>;
  /** In the order they must run. */
  readonly commands: readonly IssuedCommand<Command>[];
}

/** A pure policy: which events it reads, how its state evolves, which commands it issues. */
export interface ProcessManager<State, Command> {
  /** Stable name: the checkpoint, the state collection and the command ids carry it. */
  readonly name: string;
  readonly eventTypes: readonly string[];
  /** The key of the state document an event concerns (e.g. one per campaign); null ignores it. */
  stateKey(event: RecordedEvent): string | null;
  /**
   * Given a batch and the stored state of the keys its events concern (a key without a
   * document is absent), the changed state and the commands to issue. Must be pure and fold
   * the events one by one, so a re-run of the same events issues the same commands.
   */
  react(
    events: readonly RecordedEvent[],
    state: ReadonlyMap<string, State>,
  ): Reaction<State, Command>;
}

/** Executes a command through the normal command path (the command handler). */
export type ExecuteCommand<Command> = (
  command: Command,
  metadata: CommandMetadata,
) => Promise<unknown>;

/** What a committed batch did; published for live alerts and tests. */
export interface CommittedReaction<Command> {
  readonly processManager: string;
  readonly position: bigint;
  readonly events: number;
  /** Commands that ran (including retries the command handler recognised). */
  readonly executed: readonly IssuedCommand<Command>[];
  /** Commands the domain refused (a rule said no); logged and skipped. */
  readonly rejected: readonly { issued: IssuedCommand<Command>; error: DomainError }[];
}

export type ProcessManagerRunnerState = LoopState;

export interface ProcessManagerRunnerOptions<State, Command> {
  readonly processManager: ProcessManager<State, Command>;
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  readonly execute: ExecuteCommand<Command>;
  readonly batchSize: number;
  readonly logger: Logger;
  readonly onCommitted?: (batch: CommittedReaction<Command>) => void;
  /** The instant stamped on issued commands; the wall clock by default. */
  readonly clock?: () => Date;
  /** First delay before retrying a failed batch; doubles per failure up to 30 s. */
  readonly retryDelayMs?: number;
  /** The lease fence its commits carry, when it runs under a lease. */
  readonly fence?: () => WriteBatch['fence'];
}

interface StateDocument<State> extends Document {
  readonly state: State;
}

export class ProcessManagerRunner<State, Command> {
  eventsProcessed = 0;
  private readonly loop: CheckpointedLoop;
  private readonly clock: () => Date;

  constructor(private readonly options: ProcessManagerRunnerOptions<State, Command>) {
    this.clock = options.clock ?? (() => new Date());
    this.loop = new CheckpointedLoop({
      name: options.processManager.name,
      kind: 'process manager',
      eventStore: options.eventStore,
      readStore: options.readStore,
      filter: { eventTypes: options.processManager.eventTypes },
      batchSize: options.batchSize,
      logger: options.logger,
      retryDelayMs: options.retryDelayMs,
      handle: (events, after) => this.handle(events, after),
    });
  }

  get name(): string {
    return this.options.processManager.name;
  }

  /** Position of the last event committed; `-1n` before the first. */
  get position(): bigint {
    return this.loop.position;
  }

  get state(): ProcessManagerRunnerState {
    return this.loop.state;
  }

  get lastError(): string | null {
    return this.loop.lastError;
  }

  /** The read-store collection that holds the state documents. */
  get stateCollection(): string {
    return processManagerStateCollection(this.name);
  }

  start(): void {
    this.loop.start();
  }

  /** Stops after the batch in progress is committed (or abandoned); resolves once it is. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async handle(events: readonly RecordedEvent[], after: bigint): Promise<void> {
    const { processManager, readStore } = this.options;
    const stored = await this.load(events);
    const reaction = processManager.react(events, stored);
    const executed: IssuedCommand<Command>[] = [];
    const rejected: { issued: IssuedCommand<Command>; error: DomainError }[] = [];
    const indexes = new Map<string, number>();
    for (const issued of reaction.commands) {
      const index = indexes.get(issued.cause.eventId) ?? 0;
      indexes.set(issued.cause.eventId, index + 1);
      // Stopping abandons the batch: it runs again, under the same ids, on the next start.
      if (this.loop.isStopping) throw new Error('process manager stopped in the middle of a batch');
      try {
        await this.options.execute(issued.command, this.metadataFor(issued.cause, index));
        executed.push(issued);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        rejected.push({ issued, error });
        this.options.logger.warn(
          {
            processManager: this.name,
            causedBy: issued.cause.eventId,
            command: commandType(issued.command),
            reason: error.reason,
            err: error.message,
          },
          'process manager command refused by the domain; skipped',
        );
      }
    }
    const position = events[events.length - 1].position;
    await readStore.commit({
      operations: this.writes(reaction.state),
      checkpoint: { name: this.name, position, after },
      fence: this.options.fence?.(),
    });
    this.loop.committed(position);
    this.eventsProcessed += events.length;
    this.options.onCommitted?.({
      processManager: this.name,
      position,
      events: events.length,
      executed,
      rejected,
    });
  }

  private async load(events: readonly RecordedEvent[]): Promise<Map<string, State>> {
    const keys = new Set<string>();
    for (const event of events) {
      const key = this.options.processManager.stateKey(event);
      if (key !== null) keys.add(key);
    }
    const documents = await this.options.readStore
      .collection<StateDocument<State>>(this.stateCollection)
      .find({ _id: { $in: [...keys] } });
    return new Map(documents.map((document) => [document._id, document.state]));
  }

  private writes(state: ReadonlyMap<string, State>): WriteOperation[] {
    return [...state].map(([key, value]) => ({
      kind: 'replaceOne',
      collection: this.stateCollection,
      document: { _id: key, state: value },
    }));
  }

  private metadataFor(cause: RecordedEvent, index: number): CommandMetadata {
    const { correlationId } = cause.metadata;
    return {
      workspaceId: cause.metadata.workspaceId,
      commandId: processManagerCommandId(this.name, cause.eventId, index),
      now: this.clock(),
      actor: `process-manager:${this.name}`,
      correlationId: correlationId ?? cause.eventId,
      causationId: cause.eventId,
    };
  }
}

/** The id of the `index`-th command caused by an event: the same on every re-run. */
export function processManagerCommandId(name: string, eventId: string, index: number): string {
  return `${name}:${eventId}:${index}`;
}

export function processManagerStateCollection(name: string): string {
  return `process_${name}`;
}

function commandType(command: unknown): string | undefined {
  return typeof command === 'object' && command !== null && 'type' in command
    ? String(command.type)
    : undefined;
}
