/**
 * One workspace's segments as a projection batch works on them: the catalog document, and the
 * indexes built from it that say which segments a change to a contact can affect (by the
 * traits, event names and other facts their conditions read) and in which order to evaluate
 * them (a segment after the segments it reads).
 */
import { readsOf, type SegmentReads } from '../../domain/segment/condition-tree';
import type { SegmentCatalogDocument, SegmentEntry } from './segment-documents';

/** What changed of a contact, in the terms segment conditions read. */
export type ContactFacts = Omit<SegmentReads, 'segments'>;

export class WorkingCatalog {
  readonly segments: Map<string, SegmentEntry>;
  contacts: number;
  directoryChunks: number;
  readonly scheduledHours: Set<number>;
  tickedAt: number | null;
  /** Log position of the last static add or remove applied (-1 before any). */
  membersPosition: bigint;

  /** Active segments in evaluation order. */
  private order: readonly string[] = [];
  private readonly byEvent = new Map<string, string[]>();
  private readonly byTrait = new Map<string, string[]>();
  private readonly dependents = new Map<string, string[]>();
  /** What each dynamic segment's conditions read (derived from them, never stored). */
  private readonly reads = new Map<string, SegmentReads>();
  private readonly byFact = {
    revenue: [] as string[],
    conversions: [] as string[],
    lastSeen: [] as string[],
  };
  private dynamic: string[] = [];

  constructor(
    readonly workspaceId: string,
    document: SegmentCatalogDocument | null,
  ) {
    this.segments = new Map(document?.segments.map((entry) => [entry.segmentId, entry]) ?? []);
    this.contacts = document?.contacts ?? 0;
    this.directoryChunks = document?.directoryChunks ?? 0;
    this.scheduledHours = new Set(document?.scheduledHours ?? []);
    this.tickedAt = document?.tickedAt ?? null;
    this.membersPosition = BigInt(document?.membersPosition ?? '-1');
    this.reindex();
  }

  get(segmentId: string): SegmentEntry | undefined {
    return this.segments.get(segmentId);
  }

  set(entry: SegmentEntry, { definitionChanged }: { definitionChanged: boolean }): void {
    this.segments.set(entry.segmentId, entry);
    if (definitionChanged) this.reindex();
  }

  /** Active segments in evaluation order. */
  activeInOrder(): readonly string[] {
    return this.order;
  }

  activeDynamic(): readonly string[] {
    return this.dynamic;
  }

  /** What a dynamic segment's conditions read; null for a static (or unknown) one. */
  readsOf(segmentId: string): SegmentReads | null {
    return this.reads.get(segmentId) ?? null;
  }

  /** Active dynamic segments whose answer may change when these facts of a contact change. */
  affectedBy(change: ContactFacts): Set<string> {
    const affected = new Set<string>();
    const add = (ids: readonly string[] | undefined) => ids?.forEach((id) => affected.add(id));
    change.events.forEach((name) => add(this.byEvent.get(name)));
    change.traits.forEach((name) => add(this.byTrait.get(name)));
    if (change.revenue) add(this.byFact.revenue);
    if (change.conversions) add(this.byFact.conversions);
    if (change.lastSeen) add(this.byFact.lastSeen);
    return affected;
  }

  /**
   * Every segment whose membership evaluating a contact after this change may read: those
   * affected, the segments they read and, as flips spread, their dependents and what those read.
   */
  readOnChange(change: ContactFacts): Set<string> {
    const read = new Set<string>();
    const pending = [...this.affectedBy(change)];
    for (let segmentId = pending.pop(); segmentId !== undefined; segmentId = pending.pop()) {
      if (read.has(segmentId)) continue;
      read.add(segmentId);
      pending.push(...(this.readsOf(segmentId)?.segments ?? []), ...this.dependentsOf(segmentId));
    }
    return read;
  }

  /** Active dynamic segments that read membership of this one. */
  dependentsOf(segmentId: string): readonly string[] {
    return this.dependents.get(segmentId) ?? [];
  }

  toDocument(nextDueAt: number | null): SegmentCatalogDocument {
    return {
      _id: this.workspaceId,
      workspaceId: this.workspaceId,
      segments: this.order
        .concat([...this.segments.keys()].filter((id) => !this.order.includes(id)))
        .map((id) => this.segments.get(id)!),
      contacts: this.contacts,
      directoryChunks: this.directoryChunks,
      scheduledHours: [...this.scheduledHours].sort((a, b) => a - b),
      nextDueAt,
      tickedAt: this.tickedAt,
      membersPosition: this.membersPosition.toString(),
    };
  }

  private reindex(): void {
    this.byEvent.clear();
    this.byTrait.clear();
    this.dependents.clear();
    this.byFact.revenue = [];
    this.byFact.conversions = [];
    this.byFact.lastSeen = [];
    this.reads.clear();
    for (const entry of this.segments.values()) {
      if (entry.conditions !== null) this.reads.set(entry.segmentId, readsOf(entry.conditions));
    }
    const active = [...this.segments.values()].filter((entry) => entry.status === 'active');
    this.order = evaluationOrder(active, (id) => this.readsOf(id));
    this.dynamic = this.order.filter((id) => this.reads.has(id));
    for (const id of this.dynamic) {
      const reads = this.reads.get(id)!;
      reads.events.forEach((name) => push(this.byEvent, name, id));
      reads.traits.forEach((name) => push(this.byTrait, name, id));
      reads.segments.forEach((referenced) => push(this.dependents, referenced, id));
      if (reads.revenue) this.byFact.revenue.push(id);
      if (reads.conversions) this.byFact.conversions.push(id);
      if (reads.lastSeen) this.byFact.lastSeen.push(id);
    }
  }
}

/** Depth-first: every segment after the segments it reads (validation rejected cycles). */
function evaluationOrder(
  entries: readonly SegmentEntry[],
  readsOf: (segmentId: string) => SegmentReads | null,
): string[] {
  const byId = new Map(entries.map((entry) => [entry.segmentId, entry]));
  const ordered: string[] = [];
  const placed = new Set<string>();
  const visiting = new Set<string>();
  const place = (id: string): void => {
    const entry = byId.get(id);
    if (entry === undefined || placed.has(id) || visiting.has(id)) return;
    visiting.add(id);
    readsOf(id)?.segments.forEach(place);
    visiting.delete(id);
    placed.add(id);
    ordered.push(id);
  };
  [...entries]
    .sort(
      (a, b) => a.createdAt.localeCompare(b.createdAt) || a.segmentId.localeCompare(b.segmentId),
    )
    .forEach((entry) => place(entry.segmentId));
  return ordered;
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
