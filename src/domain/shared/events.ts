/**
 * The shapes every event and command share. Pure types: no I/O lives in the domain.
 */

/** A domain event before it is stored: a past-tense type and its JSON data. */
export interface DomainEvent<Type extends string = string, Data extends object = object> {
  readonly type: Type;
  readonly data: Data;
}

/** Who asked for a change and why; recorded with every event a command produces. */
export interface CommandMetadata {
  /** Tenant that owns every stream, event and read-model document. */
  readonly workspaceId: string;
  /** Client- or server-chosen id that makes the command idempotent. */
  readonly commandId: string;
  /** The instant the command is handled, chosen outside the domain. */
  readonly now: Date;
  /** Key or user that issued the command, when known. */
  readonly actor?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
}

/** Metadata stored beside each event (JSON-safe). */
export interface EventMetadata {
  readonly workspaceId: string;
  readonly commandId?: string;
  readonly actor?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  /** Shape version of the event's data; upcasters lift older ones on read. */
  readonly schemaVersion: number;
  /**
   * Set on read only, when upcasters lifted the event: the `schemaVersion` the log holds
   * (`schemaVersion` is then the current one). Writers never store it.
   */
  readonly storedSchemaVersion?: number;
  readonly [key: string]: unknown;
}

/** An event as read back from the log. Positions are 64-bit and stay `bigint` inside. */
export interface RecordedEvent<E extends DomainEvent = DomainEvent> {
  readonly eventId: string;
  readonly type: E['type'];
  readonly data: E['data'];
  readonly metadata: EventMetadata;
  readonly streamId: string;
  /** 0-based revision of the event within its stream. */
  readonly revision: bigint;
  /** Position in the whole log; strictly increasing in commit order. */
  readonly position: bigint;
  /** When the store recorded the event (record time). */
  readonly recordedAt: Date;
}

/** A pure decider in the Emmett / EventSourcing.NodeJS style. */
export interface Decider<Command, Event extends DomainEvent, State> {
  readonly initialState: () => State;
  readonly evolve: (state: State, event: Event) => State;
  readonly decide: (command: Command, state: State) => Event[];
}
