/**
 * A segment's definition and the events of its life. A dynamic segment's membership follows
 * its condition tree (condition-tree.ts); a static segment's is what was added and removed by
 * hand or by import. Definitions are immutable once recorded: an update records a whole new
 * version, so a membership change can say which version decided it.
 *
 * Time passing is an event too: `SegmentClockTicked`, appended by the segment scheduler when a
 * membership may change with nothing but time (a window sliding) or a back-fill has work left,
 * so that the membership projection stays a pure function of the log.
 */
import type { DomainEvent } from '../shared/events';
import type { ConditionNode } from './condition-tree';

export const segmentKinds = ['dynamic', 'static'] as const;
export type SegmentKind = (typeof segmentKinds)[number];

export interface SegmentDefinition {
  readonly name: string;
  readonly description: string | null;
  readonly kind: SegmentKind;
  /** The validated tree of a dynamic segment; null for a static one. */
  readonly conditions: ConditionNode | null;
}

export type SegmentCreated = DomainEvent<
  'SegmentCreated',
  {
    readonly segmentId: string;
    readonly version: number;
    readonly definition: SegmentDefinition;
    readonly createdAt: string;
  }
>;

export type SegmentUpdated = DomainEvent<
  'SegmentUpdated',
  {
    readonly segmentId: string;
    readonly version: number;
    readonly definition: SegmentDefinition;
    readonly updatedAt: string;
  }
>;

export type SegmentArchived = DomainEvent<
  'SegmentArchived',
  { readonly segmentId: string; readonly archivedAt: string }
>;

/** Static segments only: contacts (canonical contact ids) added by hand or by an import. */
export type SegmentMembersAdded = DomainEvent<
  'SegmentMembersAdded',
  {
    readonly segmentId: string;
    readonly contactIds: readonly string[];
    readonly source: 'manual' | 'import';
    readonly addedAt: string;
  }
>;

export type SegmentMembersRemoved = DomainEvent<
  'SegmentMembersRemoved',
  {
    readonly segmentId: string;
    readonly contactIds: readonly string[];
    readonly removedAt: string;
  }
>;

export type SegmentEvent =
  | SegmentCreated
  | SegmentUpdated
  | SegmentArchived
  | SegmentMembersAdded
  | SegmentMembersRemoved;

export const segmentEventTypes = [
  'SegmentCreated',
  'SegmentUpdated',
  'SegmentArchived',
  'SegmentMembersAdded',
  'SegmentMembersRemoved',
] as const satisfies readonly SegmentEvent['type'][];

/** The scheduler's tick for one workspace: the instant it was appended at. */
export type SegmentClockTicked = DomainEvent<'SegmentClockTicked', { readonly at: string }>;

export const segmentClockEventTypes = ['SegmentClockTicked'] as const;

/** At most this many contact ids per add / remove command (an import sends several). */
export const segmentMembersPerCommand = 10_000;
