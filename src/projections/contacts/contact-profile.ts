/**
 * A contact's profile and how it evolves: pure functions, no I/O. Every field is built so
 * that the order in which events (and the profiles they landed in) arrive does not matter:
 * counts are sums, times are min / max, each trait and consent keeps the event time (and
 * message id, to break ties) that set it, orders are keyed by order id, and sessions are
 * merged spans (contact-sessions.ts). Two profiles of one person therefore merge exactly.
 *
 * Decisions where the brief and ANALYTICS.md are silent:
 * - `eventCounts` counts `page` calls under `page` and `track` calls under their event name;
 *   `identify` and `alias` are bookkeeping, not behaviour, and are not counted (they do
 *   count for first / last seen);
 * - a repeated `order_id` counts once per contact (conversions, revenue and the
 *   `Order Completed` count); the copy with the earliest `receivedAt` (then message id)
 *   supplies the revenue, which is "the first received copy" independent of arrival order;
 *   a conversion without an order id counts once per message;
 * - `revenue` lists the currencies whose total is not zero, sorted by currency;
 * - email consent: an `Unsubscribed` event unsubscribes; an identify trait `unsubscribed`
 *   that is a boolean unsubscribes (true) or resubscribes (false); the latest by event time
 *   wins. `null` means the contact never said (the sender's default applies).
 */
import type { Money } from '../../domain/shared/money';
import type {
  ContactIdentified,
  EventTracked,
  JsonObject,
  JsonValue,
  PageViewed,
  TrackingEvent,
} from '../../domain/tracking/tracking.events';
import { SemanticEvents } from '../../domain/tracking/tracking.events';
import { parseInstant } from '../touchpoints/sessions';
import { readConversion, readEmailEvent } from '../touchpoints/vocabulary';
import {
  firstTouch,
  lastTouch,
  mergeSpans,
  pageViewSpan,
  type SessionSpan,
  type Touch,
} from './contact-sessions';
import { compareText } from '../ordering';

/** When a value was set: event time, then message id for events at the same instant. */
export interface Stamp {
  readonly at: string;
  readonly messageId: string;
}

export const consentStatuses = ['subscribed', 'unsubscribed'] as const;
export type ConsentStatus = (typeof consentStatuses)[number];

export interface ConsentEntry extends Stamp {
  readonly status: ConsentStatus;
}

/** Consent per channel; null where the contact never said. */
export interface Consent {
  readonly email: ConsentEntry | null;
}

/** One conversion of the contact, keyed by its order id (or message id when it has none). */
export interface OrderEntry {
  readonly key: string;
  readonly orderId: string | null;
  readonly amountMinor: number;
  readonly currency: string;
  readonly occurredAt: string;
  readonly receivedAt: string;
  readonly messageId: string;
}

export type ContactDocument = {
  /** `${workspaceId}:${contactId}`. */
  readonly _id: string;
  readonly workspaceId: string;
  /** The canonical id: the userId when the person is known, else their first anonymous id. */
  readonly contactId: string;
  /** The canonical userId (the contactId of a known person); null while anonymous. */
  readonly userId: string | null;
  /** Every userId that names this person (more than one after an alias between users). */
  readonly userIds: readonly string[];
  readonly anonymousIds: readonly string[];
  readonly traits: JsonObject;
  /** Per trait, when it was set: a later identify (by event time) wins. */
  readonly traitStamps: Readonly<Record<string, Stamp>>;
  readonly consent: Consent;
  readonly firstSeenAt: string | null;
  readonly lastSeenAt: string | null;
  readonly eventCounts: Readonly<Record<string, number>>;
  readonly conversions: number;
  readonly revenue: readonly Money[];
  readonly orders: readonly OrderEntry[];
  /** The contact's sessions (one entry per visit), sorted by start. */
  readonly sessions: readonly SessionSpan[];
  readonly firstTouch: Touch | null;
  readonly lastTouch: Touch | null;
  /** Log position of the last event applied (a 64-bit number, as a string). */
  readonly position: string;
};

export type IdentityKind = 'user' | 'anonymous';

export const pageEventName = 'page';

export function contactDocumentId(workspaceId: string, contactId: string): string {
  return `${workspaceId}:${contactId}`;
}

export function newContact(workspaceId: string, contactId: string): ContactDocument {
  return {
    _id: contactDocumentId(workspaceId, contactId),
    workspaceId,
    contactId,
    userId: null,
    userIds: [],
    anonymousIds: [],
    traits: {},
    traitStamps: {},
    consent: { email: null },
    firstSeenAt: null,
    lastSeenAt: null,
    eventCounts: {},
    conversions: 0,
    revenue: [],
    orders: [],
    sessions: [],
    firstTouch: null,
    lastTouch: null,
    position: '-1',
  };
}

/** Every raw identity (userIds and anonymous ids) that names this contact. */
export function identitiesOf(contact: ContactDocument): string[] {
  return [...contact.userIds, ...contact.anonymousIds];
}

export function hasIdentity(contact: ContactDocument, identity: string): boolean {
  return contact.userIds.includes(identity) || contact.anonymousIds.includes(identity);
}

export function identityKind(contact: ContactDocument, identity: string): IdentityKind | null {
  if (contact.userIds.includes(identity)) return 'user';
  return contact.anonymousIds.includes(identity) ? 'anonymous' : null;
}

/**
 * The contact with one more identity; a userId makes an anonymous contact known. An id first
 * met as an alias's previousId is taken for anonymous until an event names it as a userId.
 */
export function withIdentity(
  contact: ContactDocument,
  identity: string,
  kind: IdentityKind,
): ContactDocument {
  const known = identityKind(contact, identity);
  if (known === 'user' || known === kind) return contact;
  if (kind === 'anonymous') {
    return { ...contact, anonymousIds: sortedUnion(contact.anonymousIds, [identity]) };
  }
  return {
    ...contact,
    userId: contact.userId ?? identity,
    userIds: sortedUnion(contact.userIds, [identity]),
    anonymousIds: contact.anonymousIds.filter((id) => id !== identity),
  };
}

/** The contact after one more tracked event (its identities are handled by the caller). */
export function recordEvent(
  contact: ContactDocument,
  event: TrackingEvent,
  position: bigint,
): ContactDocument {
  const seen = seenFields(contact, event.data.occurredAt, position);
  switch (event.type) {
    case 'PageViewed':
      return recordPageView(contact, seen, event.data);
    case 'EventTracked':
      return recordTrackedEvent(contact, seen, event.data);
    case 'ContactIdentified':
      return recordTraits({ ...contact, ...seen }, event.data);
    case 'ContactAliased':
      return { ...contact, ...seen };
    default: {
      const _exhaustive: never = event;
      void _exhaustive;
      return { ...contact, ...seen };
    }
  }
}

/** What every event changes: the seen times and the position applied. */
type SeenFields = Pick<ContactDocument, 'firstSeenAt' | 'lastSeenAt' | 'position'>;

function seenFields(contact: ContactDocument, occurredAt: string, position: bigint): SeenFields {
  const { firstSeenAt, lastSeenAt } = contact;
  // Parsed once: the event time is compared with both ends.
  const time = firstSeenAt === null && lastSeenAt === null ? 0 : parseInstant(occurredAt);
  return {
    firstSeenAt:
      firstSeenAt === null || time < parseInstant(firstSeenAt) ? occurredAt : firstSeenAt,
    lastSeenAt: lastSeenAt === null || time > parseInstant(lastSeenAt) ? occurredAt : lastSeenAt,
    position: position.toString(),
  };
}

/**
 * One profile of two that turned out to be the same person. `kept` gives the id (the caller
 * picks the known user's profile); every other field combines both exactly.
 */
export function mergeContacts(kept: ContactDocument, absorbed: ContactDocument): ContactDocument {
  const eventCounts = sumCounts(kept.eventCounts, absorbed.eventCounts);
  const keptOrders = new Set(kept.orders.map((order) => order.key));
  const sharedOrders = absorbed.orders.filter((order) => keptOrders.has(order.key)).length;
  if (sharedOrders > 0) {
    // The same order was counted in both profiles; the person placed it once.
    eventCounts[SemanticEvents.orderCompleted] -= sharedOrders;
  }
  let traits: ContactDocument = kept;
  for (const [name, stamp] of Object.entries(absorbed.traitStamps)) {
    traits = setTrait(traits, name, own(absorbed.traits, name) ?? null, stamp);
  }
  const sessions = mergeSpans(kept.sessions, absorbed.sessions);
  const userIds = sortedUnion(kept.userIds, absorbed.userIds);
  return withOrders(
    {
      ...kept,
      userId: kept.userId ?? absorbed.userId,
      userIds,
      anonymousIds: sortedUnion(kept.anonymousIds, absorbed.anonymousIds).filter(
        (id) => !userIds.includes(id),
      ),
      traits: traits.traits,
      traitStamps: traits.traitStamps,
      consent: { email: laterConsent(kept.consent.email, absorbed.consent.email) },
      firstSeenAt: earlierOf(kept.firstSeenAt, absorbed.firstSeenAt),
      lastSeenAt: laterOf(kept.lastSeenAt, absorbed.lastSeenAt),
      eventCounts,
      sessions,
      firstTouch: firstTouch(sessions),
      lastTouch: lastTouch(sessions),
      position:
        BigInt(absorbed.position) > BigInt(kept.position) ? absorbed.position : kept.position,
    },
    absorbed.orders,
  );
}

function recordPageView(
  contact: ContactDocument,
  seen: SeenFields,
  data: PageViewed['data'],
): ContactDocument {
  const sessions = mergeSpans(contact.sessions, [pageViewSpan(data)]);
  return {
    ...contact,
    ...seen,
    eventCounts: increment(contact.eventCounts, pageEventName),
    sessions,
    firstTouch: firstTouch(sessions),
    lastTouch: lastTouch(sessions),
  };
}

function recordTrackedEvent(
  contact: ContactDocument,
  seen: SeenFields,
  data: EventTracked['data'],
): ContactDocument {
  const conversion = readConversion(data);
  const unsubscribed = readEmailEvent(data)?.kind === 'unsubscribed';
  if (conversion === null && !unsubscribed) {
    // The common case: a count, in one copy of the profile.
    return { ...contact, ...seen, eventCounts: increment(contact.eventCounts, data.event) };
  }
  let next: ContactDocument = { ...contact, ...seen };
  if (conversion !== null) {
    const order: OrderEntry = {
      key:
        conversion.orderId === null ? `message:${data.messageId}` : `order:${conversion.orderId}`,
      orderId: conversion.orderId,
      amountMinor: conversion.revenueMinor,
      currency: conversion.currency,
      occurredAt: data.occurredAt,
      receivedAt: data.receivedAt,
      messageId: data.messageId,
    };
    // A repeated order id is the same conversion: it neither counts nor adds revenue again.
    const repeated = contact.orders.some((known) => known.key === order.key);
    next = withOrders(next, [order]);
    if (repeated) return next;
  }
  if (unsubscribed) {
    next = {
      ...next,
      consent: {
        ...next.consent,
        email: laterConsent(next.consent.email, {
          status: 'unsubscribed',
          at: data.occurredAt,
          messageId: data.messageId,
        }),
      },
    };
  }
  return { ...next, eventCounts: increment(next.eventCounts, data.event) };
}

function recordTraits(contact: ContactDocument, data: ContactIdentified['data']): ContactDocument {
  const stamp: Stamp = { at: data.occurredAt, messageId: data.messageId };
  let next = contact;
  for (const [name, value] of Object.entries(data.traits)) {
    next = setTrait(next, name, value, stamp);
  }
  const unsubscribed = data.traits.unsubscribed;
  if (typeof unsubscribed === 'boolean') {
    next = {
      ...next,
      consent: {
        ...next.consent,
        email: laterConsent(next.consent.email, {
          status: unsubscribed ? 'unsubscribed' : 'subscribed',
          ...stamp,
        }),
      },
    };
  }
  return next;
}

function setTrait(
  contact: ContactDocument,
  name: string,
  value: JsonValue,
  stamp: Stamp,
): ContactDocument {
  const current = own(contact.traitStamps, name);
  if (current !== undefined && compareStamps(current, stamp) >= 0) return contact;
  return {
    ...contact,
    traits: { ...contact.traits, [name]: value },
    traitStamps: { ...contact.traitStamps, [name]: stamp },
  };
}

/** The contact with these orders added (the first received copy of each key wins). */
function withOrders(contact: ContactDocument, added: readonly OrderEntry[]): ContactDocument {
  const byKey = new Map(contact.orders.map((order) => [order.key, order]));
  for (const order of added) {
    const known = byKey.get(order.key);
    if (known === undefined || receivedBefore(order, known)) byKey.set(order.key, order);
  }
  const orders = [...byKey.values()].sort((a, b) => compareText(a.key, b.key));
  return { ...contact, orders, conversions: orders.length, revenue: revenueOf(orders) };
}

function revenueOf(orders: readonly OrderEntry[]): Money[] {
  const totals = new Map<string, number>();
  for (const { currency, amountMinor } of orders) {
    totals.set(currency, (totals.get(currency) ?? 0) + amountMinor);
  }
  return [...totals]
    .filter(([, amountMinor]) => amountMinor !== 0)
    .sort(([a], [b]) => compareText(a, b))
    .map(([currency, amountMinor]) => ({ currency, amountMinor }));
}

function receivedBefore(a: OrderEntry, b: OrderEntry): boolean {
  const byTime = parseInstant(a.receivedAt) - parseInstant(b.receivedAt);
  return byTime !== 0 ? byTime < 0 : a.messageId < b.messageId;
}

function laterConsent(a: ConsentEntry | null, b: ConsentEntry | null): ConsentEntry | null {
  if (a === null) return b;
  if (b === null) return a;
  return compareStamps(b, a) > 0 ? b : a;
}

export function compareStamps(a: Stamp, b: Stamp): number {
  const byTime = parseInstant(a.at) - parseInstant(b.at);
  return byTime !== 0 ? byTime : compareText(a.messageId, b.messageId);
}

function increment(counts: Readonly<Record<string, number>>, name: string): Record<string, number> {
  return { ...counts, [name]: (own(counts, name) ?? 0) + 1 };
}

function sumCounts(
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>>,
): Record<string, number> {
  const sum = new Map(Object.entries(a));
  for (const [name, count] of Object.entries(b)) sum.set(name, (sum.get(name) ?? 0) + count);
  return Object.fromEntries(sum);
}

/** A record's own entry: event and trait names such as `constructor` are data, not methods. */
function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function sortedUnion(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort(compareText);
}

function earlierOf(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return parseInstant(b) < parseInstant(a) ? b : a;
}

function laterOf(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return parseInstant(b) > parseInstant(a) ? b : a;
}
