/**
 * The documents of the segments read model (segments.projection.ts builds them; the GraphQL
 * layer reads them). Instants are ISO-8601 strings unless the field says milliseconds.
 */
import type { ConditionNode } from '../../domain/segment/condition-tree';
import type { SegmentKind } from '../../domain/segment/segment.events';
import type { JsonObject } from '../../domain/tracking/tracking.events';
import type { ContactDocument } from '../contacts/contact-profile';

export const segmentCatalogCollection = 'segment_catalog';
export const segmentContactsCollection = 'segment_contacts';
export const segmentIdentitiesCollection = 'segment_identities';
export const segmentMembershipsCollection = 'segment_memberships';
export const segmentChangesCollection = 'segment_changes';
export const segmentSizesCollection = 'segment_sizes';
export const segmentScheduleCollection = 'segment_schedule';
export const segmentScheduledHoursCollection = 'segment_scheduled_hours';
export const segmentDirectoryCollection = 'segment_directory';

/** Progress of evaluating every known contact against a new or changed definition. */
export interface SegmentBackfill {
  /** The definition version being back-filled. */
  readonly version: number;
  /** Contacts known when it started (the directory's size then), and how many are done. */
  readonly total: number;
  readonly processed: number;
  /** The next directory chunk to evaluate, and the number of chunks when it started. */
  readonly nextChunk: number;
  readonly chunks: number;
  readonly startedAt: string;
  /** Null while it runs. */
  readonly finishedAt: string | null;
}

export interface SegmentEntry {
  readonly segmentId: string;
  readonly name: string;
  readonly description: string | null;
  readonly kind: SegmentKind;
  readonly version: number;
  /** Null for a static segment. */
  readonly conditions: ConditionNode | null;
  readonly status: 'active' | 'archived';
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly archivedAt: string | null;
  /** Current number of members. */
  readonly size: number;
  /** The last back-fill (dynamic segments), null for static ones. */
  readonly backfill: SegmentBackfill | null;
}

/** One per workspace: every segment, in an order where a segment comes after those it reads. */
export type SegmentCatalogDocument = {
  /** The workspace id. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly segments: readonly SegmentEntry[];
  /** Contacts in the directory, and its number of chunks. */
  readonly contacts: number;
  readonly directoryChunks: number;
  /** The hours (ms / 3,600,000) with scheduled checks, ascending. */
  readonly scheduledHours: readonly number[];
  /** Earliest instant (ms) something is scheduled, null when nothing is. */
  readonly nextDueAt: number | null;
  /** The instant of the latest clock tick handled (ms), null before the first. */
  readonly tickedAt: number | null;
  /** Log position of the last static add or remove applied (a 64-bit number as a string). */
  readonly membersPosition?: string;
};

/** A behavioural event as segments read it (`$pageview` for page calls). */
export interface SegmentContactEvent {
  readonly name: string;
  /** Event time, ms. */
  readonly at: number;
  readonly properties: JsonObject;
}

/** The contact's profile (as the contacts read model builds it) and its behavioural events. */
export type SegmentContactDocument = ContactDocument & {
  readonly events: readonly SegmentContactEvent[];
  /** Listed in the workspace's directory (set with the contact's first event). */
  readonly listed?: boolean;
};

/** A contact's standing in one segment; kept while a member, after a change or when scheduled. */
export type SegmentMembershipDocument = {
  /** `${workspaceId}:${segmentId}:${contactId}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly segmentId: string;
  readonly contactId: string;
  readonly member: boolean;
  /** When the current stay began, null when not a member. */
  readonly enteredAt: string | null;
  /** When it last left, null when it never did. */
  readonly leftAt: string | null;
  /** Entries and exits recorded so far (the next change's sequence number). */
  readonly changes: number;
  /** The id of the latest change, null before the first. */
  readonly lastChange: string | null;
  /**
   * The instant of the one scheduled check that will look at this membership (ms), null when
   * none is. It is never later than the next instant at which time alone flips the answer:
   * when a new event moves that instant later (a window sliding with each event), the check
   * stays as it is and, when it comes, re-arms itself at the new instant. So a membership has
   * at most one check waiting, and an event rewrites it only when it brings a flip closer.
   */
  readonly wakeAt: number | null;
};

export type SegmentChangeKind = 'entered' | 'left';

/** Why a membership changed. */
export interface SegmentChangeReason {
  /**
   * `conditions` (a leaf's answer changed; `conditions` lists which), `time` (a window passed
   * or a dated event came due), `definition` (a back-fill of a new version), `manual`,
   * `import` (static segments), `merge` (two contacts became one).
   */
  readonly cause: 'conditions' | 'time' | 'definition' | 'manual' | 'import' | 'merge';
  /** Paths of the leaf conditions whose answer flipped (`conditions.0.conditions.1`). */
  readonly conditions: readonly string[];
  /** A sentence for people. */
  readonly text: string;
}

export type SegmentChangeDocument = {
  /** In log order: see `changeId`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly segmentId: string;
  readonly contactId: string;
  /** The membership's change number, from 0: its changes in the order they happened. */
  readonly sequence: number;
  readonly change: SegmentChangeKind;
  readonly at: string;
  /** The definition version that decided it. */
  readonly version: number;
  readonly reason: SegmentChangeReason;
  /** The log position of the event that caused it (a tick for time). */
  readonly position: string;
};

/** Per segment and UTC day: entries, exits and the size after the day's last change. */
export type SegmentSizeDocument = {
  /** `${workspaceId}:${segmentId}:${day}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly segmentId: string;
  /** `YYYY-MM-DD`. */
  readonly day: string;
  readonly entered: number;
  readonly left: number;
  readonly size: number;
};

export interface ScheduledCheck {
  readonly segmentId: string;
  readonly contactId: string;
  /** ms. */
  readonly at: number;
}

/**
 * Per workspace and UTC hour: how many chunks of checks it has and its earliest check. The
 * checks are in append-only chunks (`SegmentScheduleDocument`): each batch writes new ones, so
 * scheduling never rewrites what is already stored; a check whose membership was re-armed
 * meanwhile (`wakeAt` differs) is skipped when it comes.
 */
export type SegmentScheduledHourDocument = {
  /** `${workspaceId}:${hour}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly hour: number;
  readonly chunks: number;
  /** ms. */
  readonly earliest: number;
};

/** One chunk of an hour's checks, at most `scheduleChunkSize`. */
export type SegmentScheduleDocument = {
  /** `${workspaceId}:${hour}:${chunk}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly hour: number;
  readonly chunk: number;
  readonly checks: readonly ScheduledCheck[];
};

export const scheduleChunkSize = 1_000;

/** Every contact of a workspace, in chunks, so a back-fill can walk them without a scan. */
export type SegmentDirectoryDocument = {
  /** `${workspaceId}:${chunk}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly chunk: number;
  readonly contactIds: readonly string[];
};

export const directoryChunkSize = 2_000;

export function catalogId(workspaceId: string): string {
  return workspaceId;
}
export function membershipId(workspaceId: string, segmentId: string, contactId: string): string {
  return `${workspaceId}:${segmentId}:${contactId}`;
}
/**
 * The id of the `index`-th change (from 0) that the event at log position `position` caused
 * in a workspace: `${workspaceId}:${position}:${index}:${segmentId}`, the numbers
 * zero-padded, so ids sort in the order the changes were recorded and each batch's changes
 * are appended after the last ones (one insert at the end of the collection rather than one
 * at a random place each). The segment comes last for subscribers' cheap test
 * (`isChangeOf`).
 */
export function changeId(
  workspaceId: string,
  position: bigint,
  index: number,
  segmentId: string,
): string {
  const ordinal = `${position.toString().padStart(20, '0')}:${String(index).padStart(8, '0')}`;
  return `${workspaceId}:${ordinal}:${segmentId}`;
}

/**
 * Whether a change id may be one of the segment's: true for all of them, and possibly for a
 * few others (segment ids may contain ':'), so the document's own `segmentId` decides.
 */
export function mayBeChangeOf(id: string, workspaceId: string, segmentId: string): boolean {
  return id.startsWith(`${workspaceId}:`) && id.endsWith(`:${segmentId}`);
}
export function segmentContactId(workspaceId: string, contactId: string): string {
  return `${workspaceId}:${contactId}`;
}
