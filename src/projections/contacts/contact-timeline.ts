/**
 * A contact's timeline: one document per tracked event, as it was sent.
 *
 * A timeline document records the raw identity the event was filed under, not the contact
 * it belonged to when it was projected: when two profiles merge, their histories become one
 * without rewriting any timeline document (ProjectionSession has no update-many), because a
 * contact's timeline is read as "every event filed under one of its identities", which the
 * profile lists (`userIds` + `anonymousIds`).
 */
import type { RecordedEvent } from '../../domain/shared/events';
import type {
  JsonObject,
  PageContext,
  TrackingEvent,
  Utm,
} from '../../domain/tracking/tracking.events';
import { primaryIdentity } from '../../domain/tracking/tracking.events';

/** Segment's call names. */
export const timelineEntryTypes = ['page', 'track', 'identify', 'alias'] as const;
export type TimelineEntryType = (typeof timelineEntryTypes)[number];

/** The most JSON (in UTF-16 code units) of properties kept per timeline entry. */
export const maxTimelinePropertiesLength = 4096;

export type ContactTimelineDocument = {
  /** `${workspaceId}:${eventId}`. */
  readonly _id: string;
  readonly workspaceId: string;
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
  /** The position zero-padded to 20 digits, so that it sorts as text. */
  readonly positionKey: string;
};

export function timelineDocumentId(workspaceId: string, eventId: string): string {
  return `${workspaceId}:${eventId}`;
}

export function positionKey(position: bigint): string {
  return position.toString().padStart(20, '0');
}

export function timelineDocument(
  recorded: RecordedEvent,
  event: TrackingEvent,
): ContactTimelineDocument {
  const { workspaceId } = recorded.metadata;
  const { data } = event;
  const { properties, truncated } = bounded(contentOf(event));
  return {
    _id: timelineDocumentId(workspaceId, recorded.eventId),
    workspaceId,
    eventId: recorded.eventId,
    messageId: data.messageId,
    identity: primaryIdentity(data),
    type: typeOf(event),
    name: nameOf(event),
    occurredAt: data.occurredAt,
    receivedAt: data.receivedAt,
    properties,
    propertiesTruncated: truncated,
    page: data.page,
    utm: data.campaign,
    position: recorded.position.toString(),
    positionKey: positionKey(recorded.position),
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
