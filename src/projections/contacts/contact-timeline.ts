/**
 * A contact's timeline, read straight from the log: pure functions, no I/O, no read model.
 *
 * Every tracked call is appended to the stream of the identity it is filed under
 * (`contactStreamId`), and a profile lists all its identities (`userIds` + `anonymousIds`),
 * so a contact's timeline is "every event in the streams of its identities". Nothing is
 * rewritten when two profiles merge: the merged profile simply lists both identities.
 *
 * Order: newest first by event time (`occurredAt`), then by log position, so events at the
 * same instant follow the log and the order is the same for every reader.
 */
import type { RecordedEvent } from '../../domain/shared/events';
import {
  primaryIdentity,
  type JsonObject,
  type PageContext,
  type TrackingEvent,
  type Utm,
} from '../../domain/tracking/tracking.events';
import { parseInstant } from '../touchpoints/sessions';
import { trackingEvent } from './contacts.projection';

/** Segment's call names. */
export const timelineEntryTypes = ['page', 'track', 'identify', 'alias'] as const;
export type TimelineEntryType = (typeof timelineEntryTypes)[number];

/** The most JSON (in UTF-16 code units) of properties kept per timeline entry. */
export const maxTimelinePropertiesLength = 4096;

/** Where an entry sits in a timeline: its event time and log position. */
export interface TimelinePlace {
  /** `occurredAt` in milliseconds since the epoch. */
  readonly time: number;
  readonly position: bigint;
}

/** A tracked call of the log with what the timeline sorts and filters on. */
export interface TimelineEvent extends TimelinePlace {
  readonly recorded: RecordedEvent;
  readonly event: TrackingEvent;
  readonly type: TimelineEntryType;
}

/** One timeline entry as the API shows it. */
export interface ContactTimelineEntry {
  readonly eventId: string;
  readonly messageId: string;
  /** The identity the event was filed under (userId, else anonymousId). */
  readonly identity: string;
  readonly type: TimelineEntryType;
  /** The event name of a `track`, the page name of a `page`; null otherwise. */
  readonly name: string | null;
  readonly occurredAt: string;
  readonly receivedAt: string;
  /** Properties (`track`, `page`), traits (`identify`) or `{ previousId }` (`alias`), bounded. */
  readonly properties: JsonObject;
  /** True when properties were cut to `maxTimelinePropertiesLength`. */
  readonly propertiesTruncated: boolean;
  readonly page: PageContext | null;
  readonly utm: Utm | null;
  /** Log position (a 64-bit number, as a decimal string). */
  readonly position: string;
}

/**
 * The tracked calls among `events` (other event types are skipped), of the given types when
 * `types` is not empty, newest first.
 */
export function timelineOf(
  events: readonly RecordedEvent[],
  types: readonly TimelineEntryType[] = [],
): TimelineEvent[] {
  const timeline: TimelineEvent[] = [];
  for (const recorded of events) {
    const event = trackingEvent(recorded);
    if (event === null) continue;
    const type = typeOf(event);
    if (types.length > 0 && !types.includes(type)) continue;
    const time = parseInstant(event.data.occurredAt);
    timeline.push({ recorded, event, type, time, position: recorded.position });
  }
  return timeline.sort(newestFirst);
}

/** Sorts newest first: negative when `a` is newer than `b`, or as new and later in the log. */
export function newestFirst(a: TimelinePlace, b: TimelinePlace): number {
  if (a.time !== b.time) return b.time - a.time;
  return a.position === b.position ? 0 : a.position < b.position ? 1 : -1;
}

export function timelineEntry({ recorded, event, type }: TimelineEvent): ContactTimelineEntry {
  const { data } = event;
  const { properties, truncated } = bounded(contentOf(event));
  return {
    eventId: recorded.eventId,
    messageId: data.messageId,
    identity: primaryIdentity(data),
    type,
    name: nameOf(event),
    occurredAt: data.occurredAt,
    receivedAt: data.receivedAt,
    properties,
    propertiesTruncated: truncated,
    page: data.page,
    utm: data.campaign,
    position: recorded.position.toString(),
  };
}

function typeOf(event: TrackingEvent): TimelineEntryType {
  switch (event.type) {
    case 'PageViewed':
      return 'page';
    case 'EventTracked':
      return 'track';
    case 'ContactIdentified':
      return 'identify';
    case 'ContactAliased':
      return 'alias';
  }
}

function nameOf(event: TrackingEvent): string | null {
  if (event.type === 'PageViewed') return event.data.name;
  if (event.type === 'EventTracked') return event.data.event;
  return null;
}

function contentOf(event: TrackingEvent): JsonObject {
  switch (event.type) {
    case 'PageViewed':
    case 'EventTracked':
      return event.data.properties;
    case 'ContactIdentified':
      return event.data.traits;
    case 'ContactAliased':
      return { previousId: event.data.previousId };
  }
}

/** Whole top-level entries, in order, while they fit; ingestion bounds them already. */
function bounded(properties: JsonObject): { properties: JsonObject; truncated: boolean } {
  if (JSON.stringify(properties).length <= maxTimelinePropertiesLength) {
    return { properties, truncated: false };
  }
  const kept: [string, JsonObject[string]][] = [];
  let length = 2; // the braces
  for (const entry of Object.entries(properties)) {
    const entryLength = JSON.stringify(Object.fromEntries([entry])).length - 2 + 1; // + comma
    if (length + entryLength > maxTimelinePropertiesLength) continue;
    kept.push(entry);
    length += entryLength;
  }
  return { properties: Object.fromEntries(kept), truncated: true };
}
