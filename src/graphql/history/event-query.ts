/**
 * Which events of the log an analyst asks for (the `events` query and the export share it):
 * parsing of the filter as a client sends it, the part a store can filter on its own, and the
 * whole match applied to each event read. Every failure names the argument it concerns.
 */
import { attributionSettingsStreamPrefix } from '../../domain/attribution';
import { campaignStreamId, campaignStreamPrefix } from '../../domain/campaign';
import { experimentStreamPrefix } from '../../domain/experiment';
import { funnelStreamPrefix } from '../../domain/funnel';
import { segmentClockStreamPrefix, segmentStreamPrefix } from '../../domain/segment';
import type { RecordedEvent } from '../../domain/shared/events';
import { contactStreamId, contactStreamPrefix } from '../../domain/tracking/tracking.events';
import { badInput } from '../errors';
import { decodeCursor, encodeCursor } from '../shared/arguments';

export const DEFAULT_EVENTS_PAGE = 50;
export const MAX_EVENTS_PAGE = 500;
const MAX_TYPES = 50;
const MAX_TEXT = 300;
const POSITION = /^(0|[1-9][0-9]{0,18})$/;

/**
 * The stream name prefixes of the log, by category (the text before the first '-').
 * Every stream name continues with the workspace id, then ':' and the aggregate's id,
 * or ends with the workspace id (the one-per-workspace streams). The workspace's own stream
 * (its API keys) is not among them: only an owner sees the keys (`apiKeys`).
 */
export const streamPrefixes: Readonly<Record<string, string>> = {
  campaign: campaignStreamPrefix,
  contact: contactStreamPrefix,
  funnel: funnelStreamPrefix,
  experiment: experimentStreamPrefix,
  segment: segmentStreamPrefix,
  segmentclock: segmentClockStreamPrefix,
  exposure: 'exposure-',
  attribution: attributionSettingsStreamPrefix,
};

export const streamCategories = Object.keys(streamPrefixes);

/** The filter as a client sends it (GraphQL input or export query parameters). */
export interface EventFilterFields {
  readonly streamId?: string | null;
  readonly category?: string | null;
  readonly types?: readonly string[] | null;
  readonly occurredFrom?: Date | null;
  readonly occurredTo?: Date | null;
  readonly recordedFrom?: Date | null;
  readonly recordedTo?: Date | null;
  readonly contactId?: string | null;
  readonly campaignId?: string | null;
}

/** `from` inclusive, `to` exclusive, both in epoch milliseconds. */
export interface TimeRange {
  readonly from?: number;
  readonly to?: number;
}

/** A checked filter for one workspace; a contact's identities are resolved by the caller. */
export interface EventQuery {
  readonly workspaceId: string;
  readonly streamId?: string;
  readonly category?: string;
  readonly types?: readonly string[];
  readonly occurred?: TimeRange;
  readonly recorded?: TimeRange;
  /** The contact asked for (resolved into `contactStreams`). */
  readonly contactId?: string;
  /** The streams of the contact's identities. */
  readonly contactStreams?: readonly string[];
  readonly campaignId?: string;
}

/** What a store can filter on by itself (the shape of the event store's own filter). */
export interface StoreFilter {
  readonly eventTypes?: readonly string[];
  readonly streamPrefixes?: readonly string[];
}

/** Checks the filter fields; `contactStreams` is left for `withContactStreams`. */
export function parseEventFilter(workspaceId: string, fields: EventFilterFields): EventQuery {
  const streamId = text('filter.streamId', fields.streamId);
  const category = optional(fields.category);
  if (category !== undefined && !streamCategories.includes(category)) {
    throw badInput(
      'filter.category',
      `category must be one of ${streamCategories.join(', ')}`,
      'INVALID_CATEGORY',
    );
  }
  const types = optional(fields.types);
  if (types !== undefined) {
    if (types.length > MAX_TYPES) throw badInput('filter.types', `at most ${MAX_TYPES} types`);
    types.forEach((type, index) => text(`filter.types.${index}`, type));
  }
  return {
    workspaceId,
    ...(streamId !== undefined && { streamId }),
    ...(category !== undefined && { category }),
    ...(types !== undefined && types.length > 0 && { types: [...new Set(types)] }),
    ...range('filter.occurred', fields.occurredFrom, fields.occurredTo, 'occurred'),
    ...range('filter.recorded', fields.recordedFrom, fields.recordedTo, 'recorded'),
    ...optionalField('contactId', text('filter.contactId', fields.contactId)),
    ...optionalField('campaignId', text('filter.campaignId', fields.campaignId)),
  };
}

/** The query with the streams of the contact's identities (its id alone when unknown). */
export function withContactStreams(query: EventQuery, identities: readonly string[]): EventQuery {
  return {
    ...query,
    contactStreams: [...new Set(identities)].map((identity) =>
      contactStreamId(query.workspaceId, identity),
    ),
  };
}

/**
 * The narrowest store-side filter implied by the query; `matchesEventQuery` still checks
 * every event, so this only saves reading events that cannot match.
 */
export function storeFilter(query: EventQuery): StoreFilter {
  // Confined to the workspace's streams: the page's end cursor (the last event read) must not
  // point into another workspace's stream.
  const prefixes = query.streamId
    ? streamOfWorkspace(query.streamId, query.workspaceId)
      ? [query.streamId]
      : []
    : query.contactStreams
      ? query.contactStreams
      : query.campaignId
        ? [campaignStreamId(query.workspaceId, query.campaignId), contactPrefix(query)]
        : query.category
          ? [categoryPrefix(query.category, query.workspaceId)]
          : undefined;
  return {
    ...(query.types && { eventTypes: query.types }),
    ...(prefixes && { streamPrefixes: prefixes }),
  };
}

/** Whether one event of the log is in the answer: every condition holds (AND). */
export function matchesEventQuery(event: RecordedEvent, query: EventQuery): boolean {
  if (event.metadata.workspaceId !== query.workspaceId) return false;
  if (streamPrefixes[categoryOf(event.streamId)] === undefined) return false;
  if (query.streamId !== undefined && event.streamId !== query.streamId) return false;
  if (query.category !== undefined && categoryOf(event.streamId) !== query.category) return false;
  if (query.types && !query.types.includes(event.type)) return false;
  if (query.occurred && !inRange(eventTime(event).getTime(), query.occurred)) return false;
  if (query.recorded && !inRange(event.recordedAt.getTime(), query.recorded)) return false;
  if (query.contactStreams && !query.contactStreams.includes(event.streamId)) return false;
  if (query.campaignId !== undefined && !concernsCampaign(event, query)) return false;
  return true;
}

/** The category of a stream: its name up to the first '-'. */
export function categoryOf(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash < 0 ? streamId : streamId.slice(0, dash);
}

/** The event's `occurredAt` when its data has a valid one (tracked calls), else its record time. */
export function eventTime(event: RecordedEvent): Date {
  return occurredAt(event) ?? event.recordedAt;
}

export function occurredAt(event: RecordedEvent): Date | null {
  const value = (event.data as { occurredAt?: unknown }).occurredAt;
  if (typeof value !== 'string') return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time);
}

/**
 * A campaign's events: those of its own stream, and the tracked calls (contact streams) that
 * name it, by the `campaign_id` property or by the UTM campaign name (`context.campaign.name`).
 */
function concernsCampaign(event: RecordedEvent, query: EventQuery): boolean {
  const campaignId = query.campaignId as string;
  if (event.streamId === campaignStreamId(query.workspaceId, campaignId)) return true;
  if (!event.streamId.startsWith(contactPrefix(query))) return false;
  const data = event.data as {
    properties?: { campaign_id?: unknown } | null;
    campaign?: { name?: unknown } | null;
  };
  return data.properties?.campaign_id === campaignId || data.campaign?.name === campaignId;
}

/** The workspace's streams of a category: its one stream, or `<prefix><workspace>:<id>`. */
function categoryPrefix(category: string, workspaceId: string): string {
  const oneStream = category === 'segmentclock' || category === 'attribution';
  return `${streamPrefixes[category] as string}${workspaceId}${oneStream ? '' : ':'}`;
}

function contactPrefix(query: EventQuery): string {
  return `${contactStreamPrefix}${query.workspaceId}:`;
}

/**
 * Whether a stream belongs to a workspace, by its name: a known prefix, then the workspace id,
 * then the end of the name or ':' (workspace ids contain no ':').
 */
export function streamOfWorkspace(streamId: string, workspaceId: string): boolean {
  const prefix = streamPrefixes[categoryOf(streamId)];
  if (prefix === undefined || !streamId.startsWith(prefix)) return false;
  const rest = streamId.slice(prefix.length);
  return rest === workspaceId || rest.startsWith(`${workspaceId}:`);
}

/** `first` of the events connection: 1 to 500, 50 when omitted. */
export function eventsPageSize(first: number | null | undefined): number {
  if (first === undefined || first === null) return DEFAULT_EVENTS_PAGE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_EVENTS_PAGE) {
    throw badInput('first', `first must be between 1 and ${MAX_EVENTS_PAGE}`, 'INVALID_LIMIT');
  }
  return first;
}

/** An events cursor: the log position of the last event of a page (opaque to clients). */
export function encodePositionCursor(position: bigint): string {
  return encodeCursor([position.toString()]);
}

export function decodePositionCursor(cursor: string | null | undefined): bigint | undefined {
  if (cursor === undefined || cursor === null) return undefined;
  const [position] = decodeCursor('after', cursor, 1);
  if (typeof position !== 'string' || !POSITION.test(position)) {
    throw badInput('after', 'after is not a cursor returned by this API', 'INVALID_CURSOR');
  }
  return BigInt(position);
}

function inRange(time: number, { from, to }: TimeRange): boolean {
  return (from === undefined || time >= from) && (to === undefined || time < to);
}

function range(
  field: string,
  from: Date | null | undefined,
  to: Date | null | undefined,
  key: 'occurred' | 'recorded',
): Partial<Record<'occurred' | 'recorded', TimeRange>> {
  const start = time(`${field}From`, from);
  const end = time(`${field}To`, to);
  if (start === undefined && end === undefined) return {};
  if (start !== undefined && end !== undefined && end < start) {
    throw badInput(`${field}To`, `${field}To must not be before ${field}From`, 'INVALID_RANGE');
  }
  return {
    [key]: { ...(start !== undefined && { from: start }), ...(end !== undefined && { to: end }) },
  };
}

function time(field: string, value: Date | null | undefined): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = value.getTime();
  if (Number.isNaN(ms)) throw badInput(field, `${field} is not a valid date`, 'INVALID_DATE');
  return ms;
}

function text(field: string, value: string | null | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (value.length === 0 || value.length > MAX_TEXT) {
    throw badInput(field, `${field} must be 1 to ${MAX_TEXT} characters`);
  }
  return value;
}

function optional<T>(value: T | null | undefined): T | undefined {
  return value === null ? undefined : value;
}

function optionalField<K extends string>(
  key: K,
  value: string | undefined,
): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
