/**
 * Reads of the segments read model (segment-documents.ts) for the API: the catalog, members,
 * a membership now or at an instant, sizes over time, the change log and the performance of
 * members. Pure reads over the read-store port; the GraphQL layer validates arguments and
 * maps the answers to its types.
 *
 * Decisions where ANALYTICS.md is silent:
 * - Segments are listed oldest first (`createdAt`, then id), as the catalog keeps them apart
 *   from their dependency order.
 * - A size history has one point per UTC day; a day without a size document carries the size
 *   of the last day before it that has one (0 before the first), and days before the
 *   segment's creation are 0.
 * - Performance: a conversion is one of the member's orders whose event time lies in
 *   [from, to]; revenue per member is the sum of those orders per currency divided by the
 *   current members, rounded to the currency's minor unit (half away from zero); engagement
 *   is the number of the members' behavioural events in [from, to] per member and per day of
 *   the range (fractional days count as such).
 */
import type { Money } from '../../domain/shared/money';
import type { Document, Filter, ReadCollection } from '../read-store';
import {
  catalogId,
  membershipId,
  segmentCatalogCollection,
  segmentChangesCollection,
  segmentContactId,
  segmentContactsCollection,
  segmentIdentitiesCollection,
  segmentMembershipsCollection,
  segmentSizesCollection,
  type SegmentCatalogDocument,
  type SegmentChangeDocument,
  type SegmentChangeReason,
  type SegmentContactDocument,
  type SegmentEntry,
  type SegmentMembershipDocument,
  type SegmentSizeDocument,
} from './segment-documents';
import { compareText } from '../ordering';

/** The read model's collections, by their logical names. */
export type SegmentCollection = <T extends Document>(logical: string) => ReadCollection<T>;

/** `${workspaceId}:${identity}` → the canonical contact (as contact_identities). */
export type SegmentIdentityDocument = {
  readonly _id: string;
  readonly contactId: string;
};

const dayMillis = 24 * 60 * 60 * 1000;
/** Documents read per `$in` query when walking many contacts. */
export const contactsPerRead = 2_000;

// ---------------------------------------------------------------------------------------------
// The catalog

export function readCatalog(
  collection: SegmentCollection,
  workspaceId: string,
): Promise<SegmentCatalogDocument | null> {
  return collection<SegmentCatalogDocument>(segmentCatalogCollection).findOne({
    _id: catalogId(workspaceId),
  });
}

export function findSegment(
  catalog: SegmentCatalogDocument | null,
  segmentId: string,
): SegmentEntry | null {
  return catalog?.segments.find((segment) => segment.segmentId === segmentId) ?? null;
}

/** Where a page of segments starts: after this (createdAt, id). */
export interface SegmentsCursor {
  readonly createdAt: string;
  readonly segmentId: string;
}

export interface Page<T> {
  readonly items: T[];
  readonly hasNextPage: boolean;
  readonly totalCount: number;
}

/** The catalog's segments oldest first (createdAt, then id), archived ones only when asked. */
export function segmentsPage(
  catalog: SegmentCatalogDocument | null,
  options: {
    readonly includeArchived: boolean;
    readonly limit: number;
    readonly after: SegmentsCursor | null;
  },
): Page<SegmentEntry> {
  const listed = (catalog?.segments ?? [])
    .filter((segment) => options.includeArchived || segment.status === 'active')
    .sort(compareByCreation);
  const { after } = options;
  const rest =
    after === null
      ? listed
      : listed.filter(
          (segment) =>
            compareByCreation(segment, { createdAt: after.createdAt, segmentId: after.segmentId }) >
            0,
        );
  return {
    items: rest.slice(0, options.limit),
    hasNextPage: rest.length > options.limit,
    totalCount: listed.length,
  };
}

function compareByCreation(a: SegmentsCursor, b: SegmentsCursor): number {
  return compareText(a.createdAt, b.createdAt) || compareText(a.segmentId, b.segmentId);
}

// ---------------------------------------------------------------------------------------------
// Members and memberships

/** Where a page of members starts: after this (enteredAt, contactId). */
export interface MembersCursor {
  readonly enteredAt: string;
  readonly contactId: string;
}

export interface SegmentMember {
  readonly contactId: string;
  readonly enteredAt: string;
}

/** Current members, the latest to enter first (then by contact id). */
export async function membersPage(
  collection: SegmentCollection,
  workspaceId: string,
  segmentId: string,
  options: { readonly limit: number; readonly after: MembersCursor | null },
): Promise<Page<SegmentMember>> {
  const members: Filter = { workspaceId, segmentId, member: true };
  const { after } = options;
  const page: Filter =
    after === null
      ? members
      : {
          ...members,
          $or: [
            { enteredAt: { $lt: after.enteredAt } },
            { enteredAt: after.enteredAt, contactId: { $gt: after.contactId } },
          ],
        };
  const memberships = collection<SegmentMembershipDocument>(segmentMembershipsCollection);
  const [found, totalCount] = await Promise.all([
    memberships.find(page, {
      sort: { enteredAt: -1, contactId: 1 },
      limit: options.limit + 1,
      projection: { contactId: 1, enteredAt: 1 },
    }),
    memberships.count(members),
  ]);
  return {
    items: found.slice(0, options.limit).map((document) => ({
      contactId: document.contactId,
      // A member always has one; the empty string keeps a malformed document sortable.
      enteredAt: document.enteredAt ?? '',
    })),
    hasNextPage: found.length > options.limit,
    totalCount,
  };
}

/** The canonical contact an identity (user id, anonymous id or contact id) names. */
export async function canonicalContactId(
  collection: SegmentCollection,
  workspaceId: string,
  identity: string,
): Promise<string> {
  const mapped = await collection<SegmentIdentityDocument>(segmentIdentitiesCollection).findOne({
    _id: segmentContactId(workspaceId, identity),
  });
  return mapped?.contactId ?? identity;
}

/** The canonical contacts of many identities (unknown ones left out), in one read. */
export async function canonicalContactIds(
  collection: SegmentCollection,
  workspaceId: string,
  identities: readonly string[],
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const prefix = segmentContactId(workspaceId, '');
  for (const ids of chunks([...new Set(identities)], contactsPerRead)) {
    const mapped = await collection<SegmentIdentityDocument>(segmentIdentitiesCollection).find(
      { _id: { $in: ids.map((id) => segmentContactId(workspaceId, id)) } },
      { projection: { contactId: 1 } },
    );
    for (const document of mapped) found.set(document._id.slice(prefix.length), document.contactId);
  }
  return found;
}

export interface MembershipStanding {
  readonly member: boolean;
  readonly enteredAt: string | null;
  readonly leftAt: string | null;
  /** Why the last change (at or before the instant asked) happened; null without one. */
  readonly reason: SegmentChangeReason | null;
}

const neverMember: MembershipStanding = {
  member: false,
  enteredAt: null,
  leftAt: null,
  reason: null,
};

/** The contact's standing now, from its membership document and its last change. */
export async function membershipNow(
  collection: SegmentCollection,
  workspaceId: string,
  segmentId: string,
  contactId: string,
): Promise<MembershipStanding> {
  const id = membershipId(workspaceId, segmentId, contactId);
  const document = await collection<SegmentMembershipDocument>(
    segmentMembershipsCollection,
  ).findOne({ _id: id });
  if (document === null) return neverMember;
  // A version-1 membership (the old read model serves while version 2 rebuilds) names no
  // change: without a reason rather than a lookup by an undefined id, which scans.
  const lastChange = document.lastChange ?? null;
  const last =
    lastChange === null
      ? null
      : await collection<SegmentChangeDocument>(segmentChangesCollection).findOne({
          _id: lastChange,
        });
  return {
    member: document.member,
    enteredAt: document.member ? document.enteredAt : null,
    leftAt: document.leftAt,
    reason: last?.reason ?? null,
  };
}

/** The contact's standing at an instant, from the changes recorded up to it. */
export async function membershipAt(
  collection: SegmentCollection,
  workspaceId: string,
  segmentId: string,
  contactId: string,
  at: Date,
): Promise<MembershipStanding> {
  const changes = await collection<SegmentChangeDocument>(segmentChangesCollection).find({
    workspaceId,
    segmentId,
    contactId,
    at: { $lte: at.toISOString() },
  });
  const ordered = changes.sort(changeOrder);
  const last = ordered.at(-1);
  if (last === undefined) return neverMember;
  const lastLeft = ordered.findLast((change) => change.change === 'left');
  return {
    member: last.change === 'entered',
    enteredAt: last.change === 'entered' ? last.at : null,
    leftAt: lastLeft?.at ?? null,
    reason: last.reason,
  };
}

/** A contact's changes in one segment in the order they happened (time, then sequence). */
function changeOrder(a: SegmentChangeDocument, b: SegmentChangeDocument): number {
  return compareText(a.at, b.at) || a.sequence - b.sequence;
}

/** The active segments the contact is a member of now, with when it entered each. */
export async function contactSegments(
  collection: SegmentCollection,
  catalog: SegmentCatalogDocument | null,
  workspaceId: string,
  contactId: string,
): Promise<{ segment: SegmentEntry; enteredAt: string }[]> {
  const memberships = await collection<SegmentMembershipDocument>(
    segmentMembershipsCollection,
  ).find({ workspaceId, contactId, member: true }, { projection: { segmentId: 1, enteredAt: 1 } });
  const enteredAt = new Map(
    memberships.map((document) => [document.segmentId, document.enteredAt ?? '']),
  );
  return (catalog?.segments ?? [])
    .filter((segment) => segment.status === 'active' && enteredAt.has(segment.segmentId))
    .sort(compareByCreation)
    .map((segment) => ({ segment, enteredAt: enteredAt.get(segment.segmentId) as string }));
}

/** The current members' contact ids of each segment (one read per segment). */
export async function memberSets(
  collection: SegmentCollection,
  workspaceId: string,
  segmentIds: readonly string[],
): Promise<Map<string, Set<string>>> {
  const sets = new Map<string, Set<string>>();
  for (const segmentId of new Set(segmentIds)) {
    const members = await collection<SegmentMembershipDocument>(segmentMembershipsCollection).find(
      { workspaceId, segmentId, member: true },
      { projection: { contactId: 1 } },
    );
    sets.set(segmentId, new Set(members.map((document) => document.contactId)));
  }
  return sets;
}

/** How many of these contacts are members of the segment now. */
export async function countMembersAmong(
  collection: SegmentCollection,
  workspaceId: string,
  segmentId: string,
  contactIds: readonly string[],
): Promise<number> {
  let members = 0;
  for (const ids of chunks(contactIds, contactsPerRead)) {
    members += await collection<SegmentMembershipDocument>(segmentMembershipsCollection).count({
      _id: { $in: ids.map((contactId) => membershipId(workspaceId, segmentId, contactId)) },
      member: true,
    });
  }
  return members;
}

/** Which of these ids are canonical contact ids of the workspace. */
export async function existingContacts(
  collection: SegmentCollection,
  workspaceId: string,
  ids: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (const chunk of chunks([...new Set(ids)], contactsPerRead)) {
    const documents = await collection<SegmentContactDocument>(segmentContactsCollection).find(
      { _id: { $in: chunk.map((id) => segmentContactId(workspaceId, id)) } },
      { projection: { contactId: 1 } },
    );
    for (const document of documents) found.add(document.contactId);
  }
  return found;
}

/** Lower-cased `email` trait → the contacts that have it. */
export async function contactsByEmail(
  collection: SegmentCollection,
  workspaceId: string,
): Promise<Map<string, Set<string>>> {
  const documents = await collection<SegmentContactDocument>(segmentContactsCollection).find(
    { workspaceId, 'traits.email': { $exists: true } },
    { projection: { contactId: 1, 'traits.email': 1 } },
  );
  const byEmail = new Map<string, Set<string>>();
  for (const document of documents) {
    const email = document.traits.email;
    if (typeof email !== 'string') continue;
    const key = email.trim().toLowerCase();
    const owners = byEmail.get(key) ?? new Set<string>();
    owners.add(document.contactId);
    byEmail.set(key, owners);
  }
  return byEmail;
}

// ---------------------------------------------------------------------------------------------
// Sizes over time

export const maxSizeHistoryDays = 400;

export interface SizePoint {
  /** `YYYY-MM-DD` (UTC). */
  readonly day: string;
  readonly size: number;
  readonly entered: number;
  readonly left: number;
}

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function utcDay(at: Date | string | number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** Days from the UTC day of `from` to that of `to`, both included (0 when reversed). */
export function dayCount(from: Date, to: Date): number {
  const first = Date.parse(utcDay(from));
  const last = Date.parse(utcDay(to));
  return last < first ? 0 : Math.round((last - first) / dayMillis) + 1;
}

/** One point per UTC day of [from, to], the size carried across days without changes. */
export async function sizeHistory(
  collection: SegmentCollection,
  workspaceId: string,
  segment: Pick<SegmentEntry, 'segmentId' | 'createdAt'>,
  from: Date,
  to: Date,
): Promise<SizePoint[]> {
  const { segmentId } = segment;
  const firstDay = utcDay(from);
  const lastDay = utcDay(to);
  const sizes = collection<SegmentSizeDocument>(segmentSizesCollection);
  const [before, inRange] = await Promise.all([
    sizes.find(
      { workspaceId, segmentId, day: { $lt: firstDay } },
      { sort: { day: -1 }, limit: 1, projection: { size: 1 } },
    ),
    sizes.find({ workspaceId, segmentId, day: { $gte: firstDay, $lte: lastDay } }),
  ]);
  const byDay = new Map(inRange.map((document) => [document.day, document]));
  const createdDay = utcDay(segment.createdAt);
  const points: SizePoint[] = [];
  let size = before[0]?.size ?? 0;
  for (let time = Date.parse(firstDay); time <= Date.parse(lastDay); time += dayMillis) {
    const day = utcDay(time);
    if (day < createdDay) {
      points.push({ day, size: 0, entered: 0, left: 0 });
      continue;
    }
    const document = byDay.get(day);
    if (document !== undefined) size = document.size;
    points.push({ day, size, entered: document?.entered ?? 0, left: document?.left ?? 0 });
  }
  return points;
}

// ---------------------------------------------------------------------------------------------
// The change log

/** Where a page of changes starts: after this (at, _id), newest first. */
export interface ChangesCursor {
  readonly at: string;
  readonly id: string;
}

export interface ChangesFilter {
  readonly contactId: string | null;
  readonly from: Date | null;
  readonly to: Date | null;
}

/** Entries and exits, newest first (time, then document id, both descending). */
export async function changesPage(
  collection: SegmentCollection,
  workspaceId: string,
  segmentId: string,
  filter: ChangesFilter,
  options: { readonly limit: number; readonly after: ChangesCursor | null },
): Promise<Page<SegmentChangeDocument>> {
  const at: Record<string, string> = {};
  if (filter.from !== null) at.$gte = filter.from.toISOString();
  if (filter.to !== null) at.$lte = filter.to.toISOString();
  const matching: Filter = {
    workspaceId,
    segmentId,
    ...(filter.contactId !== null && { contactId: filter.contactId }),
    ...(Object.keys(at).length > 0 && { at }),
  };
  const { after } = options;
  const page: Filter =
    after === null
      ? matching
      : {
          $and: [
            matching,
            { $or: [{ at: { $lt: after.at } }, { at: after.at, _id: { $lt: after.id } }] },
          ],
        };
  const changes = collection<SegmentChangeDocument>(segmentChangesCollection);
  const [found, totalCount] = await Promise.all([
    changes.find(page, { sort: { at: -1, _id: -1 }, limit: options.limit + 1 }),
    changes.count(matching),
  ]);
  return {
    items: found.slice(0, options.limit),
    hasNextPage: found.length > options.limit,
    totalCount,
  };
}

// ---------------------------------------------------------------------------------------------
// Performance of the members

export interface SegmentPerformance {
  readonly segmentId: string;
  readonly members: number;
  readonly convertedMembers: number;
  /** Null when the segment has no members. */
  readonly conversionRate: number | null;
  /** Per currency (sorted), the revenue per member, rounded to the currency's minor unit. */
  readonly revenuePerMember: Money[];
  /** Null when the segment has no members. */
  readonly eventsPerMemberPerDay: number | null;
}

type PerformanceProfile = Pick<SegmentContactDocument, '_id' | 'orders'> & {
  readonly events: readonly { readonly at: number }[];
};

/** Conversions, revenue and engagement of the segment's current members in [from, to]. */
export async function segmentPerformance(
  collection: SegmentCollection,
  workspaceId: string,
  segmentId: string,
  range: { readonly from: Date; readonly to: Date },
): Promise<SegmentPerformance> {
  const members = [
    ...((await memberSets(collection, workspaceId, [segmentId])).get(segmentId) ?? []),
  ];
  const from = range.from.getTime();
  const to = range.to.getTime();
  const fromText = range.from.toISOString();
  const toText = range.to.toISOString();
  let converted = 0;
  let events = 0;
  const revenue = new Map<string, number>();
  for (const ids of chunks(members, contactsPerRead)) {
    // Whole profiles: orders and events are most of one, and projecting arrays of objects
    // costs the embedded store more than copying the document.
    const profiles = await collection<PerformanceProfile>(segmentContactsCollection).find({
      _id: { $in: ids.map((id) => segmentContactId(workspaceId, id)) },
    });
    for (const profile of profiles) {
      let hasConversion = false;
      for (const order of profile.orders ?? []) {
        if (!inRange(order.occurredAt, fromText, toText)) continue;
        hasConversion = true;
        revenue.set(order.currency, (revenue.get(order.currency) ?? 0) + order.amountMinor);
      }
      if (hasConversion) converted += 1;
      for (const event of profile.events ?? []) {
        if (event.at >= from && event.at <= to) events += 1;
      }
    }
  }
  const count = members.length;
  const days = (to - from) / dayMillis;
  return {
    segmentId,
    members: count,
    convertedMembers: converted,
    conversionRate: count === 0 ? null : converted / count,
    revenuePerMember:
      count === 0
        ? []
        : [...revenue.entries()]
            .sort(([a], [b]) => compareText(a, b))
            .map(([currency, amountMinor]) => ({
              currency,
              amountMinor: roundHalfAway(amountMinor / count),
            })),
    eventsPerMemberPerDay: count === 0 || days <= 0 ? null : events / count / days,
  };
}

/** ISO-8601 instants compare as text only in one form: parse those of another form. */
function inRange(occurredAt: string, from: string, to: string): boolean {
  if (occurredAt.length === from.length && occurredAt.endsWith('Z')) {
    return occurredAt >= from && occurredAt <= to;
  }
  const instant = Date.parse(occurredAt);
  return instant >= Date.parse(from) && instant <= Date.parse(to);
}

function roundHalfAway(value: number): number {
  return Math.sign(value) * Math.round(Math.abs(value));
}

// ---------------------------------------------------------------------------------------------
// Helpers

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    result.push(items.slice(start, start + size));
  }
  return result;
}
