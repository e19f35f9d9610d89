/**
 * Behavioural events: what a person did, as tracked by Segment-style calls. They are
 * appended to the stream of the identity the call names (userId, else anonymousId); read
 * models join identities that `alias` / `identify` link (see ANALYTICS.md, Ingestion).
 *
 * Every field is JSON: timestamps are ISO-8601 strings, and event time (`occurredAt`) is
 * derived once at ingestion from the message's timestamps, so a replay gives the same figures.
 */
import type { DomainEvent } from '../shared/events';

/** UTM parameters (`context.campaign`). Absent ones are null. */
export interface Utm {
  readonly source: string | null;
  readonly medium: string | null;
  readonly name: string | null;
  readonly term: string | null;
  readonly content: string | null;
}

export interface PageContext {
  readonly url: string | null;
  readonly referrer: string | null;
  readonly path: string | null;
  readonly title: string | null;
}

/** JSON properties or traits as the client sent them (bounded in size at ingestion). */
export type JsonObject = { readonly [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonObject | readonly JsonValue[];

/** What every tracked call carries. */
export interface TrackedCall {
  /** Idempotency key: the same messageId twice is stored once. */
  readonly messageId: string;
  readonly userId: string | null;
  readonly anonymousId: string | null;
  /** Event time (ANALYTICS.md: timestamp, else skew-corrected, else originalTimestamp, else receivedAt). */
  readonly occurredAt: string;
  /** Stamped by Touchline on arrival (or kept from an archive import). */
  readonly receivedAt: string;
  readonly sentAt: string | null;
  readonly originalTimestamp: string | null;
  /** UTM parameters; null when the call had none. */
  readonly campaign: Utm | null;
  /** The page the call happened on; null when the call had none. */
  readonly page: PageContext | null;
}

/** `page` (and `screen`) calls: the hits that start and extend sessions. */
export type PageViewed = DomainEvent<
  'PageViewed',
  TrackedCall & { readonly name: string | null; readonly properties: JsonObject }
>;

/** `track` calls: a named event with properties (Segment's semantic names or custom ones). */
export type EventTracked = DomainEvent<
  'EventTracked',
  TrackedCall & { readonly event: string; readonly properties: JsonObject }
>;

/** `identify`: traits of a contact; with both ids it also joins the anonymous history. */
export type ContactIdentified = DomainEvent<
  'ContactIdentified',
  TrackedCall & { readonly traits: JsonObject }
>;

/** `alias`: previousId and userId are one person. */
export type ContactAliased = DomainEvent<
  'ContactAliased',
  TrackedCall & { readonly previousId: string }
>;

export type TrackingEvent = PageViewed | EventTracked | ContactIdentified | ContactAliased;

export const trackingEventTypes = [
  'PageViewed',
  'EventTracked',
  'ContactIdentified',
  'ContactAliased',
] as const satisfies readonly TrackingEvent['type'][];

/** Segment's semantic event names that Touchline reads (ANALYTICS.md, Event vocabulary). */
export const SemanticEvents = {
  promotionViewed: 'Promotion Viewed',
  promotionClicked: 'Promotion Clicked',
  emailSent: 'Email Sent',
  emailDelivered: 'Email Delivered',
  emailOpened: 'Email Opened',
  emailLinkClicked: 'Email Link Clicked',
  emailBounced: 'Email Bounced',
  emailMarkedAsSpam: 'Email Marked as Spam',
  unsubscribed: 'Unsubscribed',
  orderCompleted: 'Order Completed',
  experimentViewed: 'Experiment Viewed',
} as const;

/** The stream of one identity: every call naming it as its primary id lands here. */
export const contactStreamPrefix = 'contact-';

export function contactStreamId(workspaceId: string, identity: string): string {
  return `${contactStreamPrefix}${workspaceId}:${identity}`;
}

/** The identity a call is filed under: its userId when it has one, else its anonymousId. */
export function primaryIdentity(call: Pick<TrackedCall, 'userId' | 'anonymousId'>): string {
  const identity = call.userId ?? call.anonymousId;
  if (identity === null) throw new Error('a tracked call needs a userId or an anonymousId');
  return identity;
}
