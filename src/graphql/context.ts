/**
 * What a resolver may use. The GraphQL layer declares these services; the composition
 * root in src/infra builds them and hands them in, so nothing here knows which stores run.
 */
import type DataLoader from 'dataloader';
import type { AttributionSettingsCommand } from '../domain/attribution';
import type { CampaignCommand } from '../domain/campaign';
import type { CampaignState } from '../domain/campaign';
import type { ExperimentCommand, ExperimentState } from '../domain/experiment';
import type { ExperimentExposed } from '../domain/experiment/exposure.events';
import type { FunnelCommand, FunnelDefinition } from '../domain/funnel';
import type { SegmentCommand, SegmentState } from '../domain/segment';
import type { CommandMetadata } from '../domain/shared/events';
import type { ApiKeyRole, ApiKeyState, WorkspaceState } from '../domain/workspace';
import type {
  AttributionCollection,
  AttributionReports,
} from '../projections/attribution/attribution-query';
import type { AttributionSettings } from '../projections/attribution/journeys';
import type { ChannelRule } from '../projections/touchpoints/channels';
import type { StartRange } from '../projections/funnels/funnel-events';
import type { FunnelPersonDocument } from '../projections/funnels/funnels.projection';
import type { RecordedEvent } from '../domain/shared/events';
import type { CampaignDocument } from '../projections/campaigns/campaigns.projection';
import type { ContactDocument } from '../projections/contacts/contact-profile';
import type { RejectedMessage } from '../domain/tracking/ingestion';
import type { DocumentChange } from '../projections/projection';
import type { Document, ReadCollection } from '../projections/read-store';
import type { EventQuery } from './history/event-query';

export interface CommandOutcome {
  readonly revision: bigint;
  readonly position: bigint;
  /** The command id had been handled before; this is the first result. */
  readonly replayed: boolean;
}

export interface CampaignCommands {
  execute(
    command: CampaignCommand,
    options: { expectedRevision?: bigint },
  ): Promise<CommandOutcome>;
  /** The current write-side state of a campaign (for duplication). */
  load(workspaceId: string, campaignId: string): Promise<CampaignState>;
}

export interface FunnelCommands {
  execute(command: FunnelCommand, options: { expectedRevision?: bigint }): Promise<CommandOutcome>;
}

export interface SegmentCommands {
  execute(command: SegmentCommand, options: { expectedRevision?: bigint }): Promise<CommandOutcome>;
  /** The write-side state (the definition version after an update). */
  load(workspaceId: string, segmentId: string): Promise<SegmentState>;
}

export interface AttributionSettingsCommands {
  execute(
    command: AttributionSettingsCommand,
    options: { expectedRevision?: bigint },
  ): Promise<CommandOutcome>;
}

export interface ExperimentCommands {
  execute(
    command: ExperimentCommand,
    options: { expectedRevision?: bigint },
  ): Promise<CommandOutcome>;
  /** The write-side state (authoritative for assignment: phase and weights). */
  load(workspaceId: string, key: string): Promise<ExperimentState>;
  /**
   * Records that a contact saw a variant, once per contact and phase: a repeat is the same
   * event (its id is derived from them). Resolves to the event's log position.
   */
  recordExposure(workspaceId: string, exposure: ExperimentExposed['data']): Promise<bigint>;
}

export interface Analyses {
  /**
   * An unsaved funnel computed from the log: its people's documents, as the live read model
   * would hold them. `range` restricts attempts to those whose step 1 lies in it.
   */
  funnel(
    workspaceId: string,
    definition: FunnelDefinition,
    range: StartRange | null,
  ): Promise<FunnelPersonDocument[]>;
  /**
   * Attribution under other settings than the live read model's (lookback, half-life, a
   * channel table other than ANALYTICS.md's), computed from one workspace's log by the
   * attribution projection itself into memory.
   */
  attribution(
    workspaceId: string,
    settings: AttributionSettings,
    options?: {
      readonly channelRules?: readonly ChannelRule<string>[];
      /** From the log up to the last event recorded at this instant; default: all of it. */
      readonly asOf?: Date;
    },
  ): Promise<AttributionReadModel>;
}

/** One attribution read model, and its reports (the same query code over either). */
export interface AttributionReadModel {
  /** Its collections by their logical names. */
  readonly collection: AttributionCollection;
  /**
   * Reports over it. The live one is one instance per server, so its cache of solved
   * data-driven models serves every request until the workspace's sums move.
   */
  readonly reports: AttributionReports;
}

/** The read models as they were at a past instant, replayed from the log. */
export interface PastReadModels {
  /** The last log position recorded at or before the instant (`-1n`: none). */
  readonly position: bigint;
  readonly readModels: ReadModels;
  readonly attribution: AttributionReadModel;
}

export interface TimeTravel {
  /**
   * The named projections' read models as of `instant`: the log up to the last event recorded
   * then, replayed through the projections' own code into a throw-away store.
   */
  at(instant: Date, projections: readonly string[]): Promise<PastReadModels>;
}

export interface ReadModels {
  /** A read model's collection by its logical name (e.g. `campaigns`). */
  collection<T extends Document>(logical: string): ReadCollection<T>;
  /**
   * Waits (at most the configured bound) until the named projections reflect the log up to
   * `position`; resolves false when the bound passed first.
   */
  waitForPosition(position: bigint, projections?: readonly string[]): Promise<boolean>;
}

/**
 * A projector batch as live subscribers hear of it. A batch of a generation that is being
 * rebuilt lists no changes; a rebuilt generation taking over is announced with no events.
 */
export interface CommittedBatch {
  readonly projection: string;
  readonly position: bigint;
  readonly events: number;
  readonly changes: readonly DocumentChange[];
}

export interface LiveChanges {
  /** Changes committed to a logical collection from now on, for one workspace. */
  changes(collection: string, workspaceId: string): AsyncIterableIterator<DocumentChange>;
  /** Every committed batch of any projection, with the documents it changed. */
  commits(): AsyncIterableIterator<CommittedBatch>;
}

export interface ProjectionStatusView {
  readonly name: string;
  readonly version: number;
  readonly generation: number;
  /** running, retrying, stopped, or outdated (a rebuild is catching up). */
  readonly state: string;
  /** Position of the last event applied; `-1n` before the first. */
  readonly position: bigint;
  readonly headPosition: bigint;
  /** Age of the oldest event this projection has still to apply; 0 when caught up. */
  readonly lagMs: number;
  readonly lastError: string | null;
  readonly rebuild: RebuildProgressView | null;
  /** The worker that runs it (holds its lease); null while none does. */
  readonly worker: string | null;
}

export interface RebuildProgressView {
  readonly projection: string;
  readonly generation: number;
  readonly eventsProcessed: number;
  readonly position: bigint;
  /** The log's head when the rebuild started: the new generation takes over once it gets there. */
  readonly targetPosition: bigint;
  readonly eventsPerSecond: number;
  /** Estimated seconds left, from the positions still to read; null until it can be told. */
  readonly etaSeconds: number | null;
  readonly done: boolean;
}

export interface ProjectionAdmin {
  status(): Promise<ProjectionStatusView[]>;
  rebuild(name: string): Promise<RebuildProgressView>;
  rebuildProgress(name: string): RebuildProgressView | null;
}

export interface TrackingOutcome {
  readonly accepted: number;
  readonly rejected: readonly RejectedMessage[];
  readonly position: bigint | null;
}

export interface TrackingIngestion {
  /** Parses Segment-style messages and appends the valid ones in one write. */
  ingest(
    workspaceId: string,
    messages: readonly unknown[],
    options?: { readonly source?: string },
  ): Promise<TrackingOutcome>;
}

/**
 * What people did, read straight from the log (one stream per identity), for the histories
 * that no read model copies.
 */
export interface ContactHistory {
  /**
   * The events of these identities' streams in one workspace, each stream in revision order.
   * Bounded: a stream yields at most its newest 10,000 events (the ones appended last; the
   * composition root sets the bound), so one contact with a huge history cannot exhaust a
   * request.
   */
  contactEvents(workspaceId: string, identities: readonly string[]): Promise<RecordedEvent[]>;
}

/** A page of the log for one query: the matches in position order, and where to go on. */
export interface EventLogPage {
  readonly events: readonly RecordedEvent[];
  /** More may match after `endPosition`. */
  readonly hasNextPage: boolean;
  /**
   * Where the next page starts (exclusive): the last event returned when more matched, else
   * the last event read (the end of the log, or where the scan bound stopped the read, past
   * events that did not match); the `after` asked for when nothing was read.
   */
  readonly endPosition: bigint | null;
}

/** The whole log, for analysts: browsing, one stream's history, export. */
export interface EventLog {
  /**
   * The events matching `query` after `after`, in position order, at most `first`. The log
   * is read in pages and matched in memory; a request reads at most a bounded number of
   * events (the composition root sets it), and when it gets there the page holds what was
   * found, with `hasNextPage` true and `endPosition` at the last event read. With `until`,
   * nothing after that position is read (an export stops at the head it started at).
   */
  events(
    query: EventQuery,
    page: { readonly after?: bigint; readonly first: number; readonly until?: bigint },
  ): Promise<EventLogPage>;
  /** One stream's events in revision order (bounded by the composition root); [] when unknown. */
  stream(streamId: string): Promise<RecordedEvent[]>;
  /** Position of the newest event in the log; `-1n` when it is empty. */
  headPosition(): Promise<bigint>;
}

export interface IssuedApiKey {
  readonly key: ApiKeyState;
  /** The whole key: shown once to its creator, never stored. */
  readonly token: string;
  readonly position: bigint;
  readonly revision: bigint;
}

/** A workspace's API keys (the owner's business). */
export interface AccessAdmin {
  /** The workspace and its keys, read from its stream. */
  workspace(workspaceId: string): Promise<WorkspaceState>;
  issueKey(
    metadata: CommandMetadata,
    key: { readonly name: string; readonly role: ApiKeyRole; readonly expiresAt: Date | null },
    options: { readonly expectedRevision?: bigint },
  ): Promise<IssuedApiKey>;
  /** Revokes a key; its open connections are closed and it stops working at once. */
  revokeKey(
    metadata: CommandMetadata,
    keyId: string,
    options: { readonly expectedRevision?: bigint },
  ): Promise<{ key: ApiKeyState; position: bigint; revision: bigint; replayed: boolean }>;
}

export interface Services {
  readonly access: AccessAdmin;
  readonly campaigns: CampaignCommands;
  readonly funnels: FunnelCommands;
  readonly experiments: ExperimentCommands;
  readonly segments: SegmentCommands;
  /** Each workspace's attribution settings (lookback, half-life). */
  readonly attributionSettings: AttributionSettingsCommands;
  readonly analyses: Analyses;
  /** The live attribution read model (each workspace's pinned settings). */
  readonly attribution: AttributionReadModel;
  readonly tracking: TrackingIngestion;
  readonly readModels: ReadModels;
  /** Read models as of a past instant (`asOf` arguments). */
  readonly timeTravel: TimeTravel;
  readonly history: ContactHistory;
  /** The log itself, for analysts. */
  readonly log: EventLog;
  readonly live: LiveChanges;
  readonly projections: ProjectionAdmin;
  /** Clock and ids live at the edge, never in the domain. */
  readonly clock: () => Date;
  readonly newId: () => string;
  /** Development mode shows internal error messages. */
  readonly exposeInternalErrors: boolean;
  readonly reportInternalError: (error: unknown) => void;
}

export interface Loaders {
  readonly campaign: DataLoader<string, CampaignDocument | null>;
  /** A contact's profile by its canonical id or any of its identities. */
  readonly contact: DataLoader<string, ContactDocument | null>;
}

export interface TouchlineContext {
  /** The caller's workspace: every read and write is confined to it. */
  readonly workspaceId: string;
  /** The key that made the request (`key:<id>`), recorded in command metadata. */
  readonly actor?: string;
  /** The calling key's id and role, when the request came through the server. */
  readonly caller?: { readonly keyId: string; readonly role: ApiKeyRole };
  readonly requestId: string;
  readonly services: Services;
  readonly loaders: Loaders;
}
