/**
 * The segments read model (ANALYTICS.md, Segments): every segment of a workspace, each
 * contact's profile and behaviour as conditions read them, and membership kept current as the
 * log grows — with every entry and exit recorded at its instant, and sizes per day.
 *
 * - Time is the log's: an event is evaluated at its record time (when Touchline learned of
 *   it), and time passing arrives as `SegmentClockTicked` events, appended by the segment
 *   scheduler (src/infra/segments) when something is due. Replaying the log therefore gives
 *   the same memberships, changes and sizes.
 * - Incremental: a tracked event re-evaluates only the segments that read what it changed
 *   (an event name, a trait, revenue, conversions, last seen); a contact's first event, and a
 *   merge of two contacts, re-evaluate every segment. A segment whose membership flips
 *   re-evaluates the segments that read it (`memberOf`), which come later in the order.
 * - Windows: after each evaluation the contact's next instant at which time alone may change
 *   the answer (`nextChange`) is scheduled in an hour bucket. A tick handles the checks due by
 *   its instant, each at its own instant, so an exit is recorded when the window passed, not
 *   when the tick came; a tracked event first catches up on the contact's overdue checks.
 * - Back-fill: a new or changed dynamic definition is evaluated against every known contact
 *   (the directory, in chunks of 2,000), 20,000 contacts per driving event (the definition
 *   itself, then each tick), so a large workspace's back-fill advances in steps whose progress
 *   the catalog shows, and never holds one batch for long.
 * - Static segments: members as added and removed; a merge hands the absorbed contact's
 *   static memberships to the kept one. An archived segment stops changing.
 * - A change's time never runs backwards within one contact's stay in a segment: it is at
 *   least the previous change's.
 */
import {
  evaluate,
  nextChange,
  type ConditionNode,
  type SegmentContact,
} from '../../domain/segment/condition-tree';
import {
  segmentClockEventTypes,
  segmentEventTypes,
  type SegmentClockTicked,
  type SegmentEvent,
} from '../../domain/segment/segment.events';
import type { RecordedEvent } from '../../domain/shared/events';
import {
  trackingEventTypes,
  type JsonObject,
  type TrackingEvent,
} from '../../domain/tracking/tracking.events';
import { BatchDocuments } from '../batch-documents';
import {
  applyContactEvent,
  callIdentities,
  IdentityMap,
  identityDocumentId,
  trackingEvent,
  type ContactIdentityDocument,
} from '../contacts/contacts.projection';
import { eventName, isBehavioural } from '../funnels/funnel-events';
import type { Projection } from '../projection';
import { WorkingCatalog, type ContactFacts } from './segment-catalog';
import { mergeEvents, segmentContactOf, segmentEventOf, withEvent } from './segment-contact';
import {
  catalogId,
  changeId,
  directoryChunkSize,
  membershipId,
  segmentCatalogCollection,
  segmentChangesCollection,
  segmentContactId,
  segmentContactsCollection,
  segmentDirectoryCollection,
  segmentIdentitiesCollection,
  segmentMembershipsCollection,
  segmentScheduleCollection,
  segmentScheduledHoursCollection,
  segmentSizesCollection,
  type SegmentCatalogDocument,
  type SegmentChangeReason,
  type SegmentContactDocument,
  type SegmentDirectoryDocument,
  type SegmentEntry,
  type SegmentMembershipDocument,
  scheduleChunkSize,
  type ScheduledCheck,
  type SegmentScheduledHourDocument,
  type SegmentScheduleDocument,
  type SegmentSizeDocument,
} from './segment-documents';
import { flippedLeaves, leafReason, plainReason } from './segment-reasons';

const hourMillis = 60 * 60 * 1000;
/** Contacts a back-fill evaluates per driving event (definition or tick). */
export const backfillStep = 20_000;
/** Overdue checks one contact catches up on per segment before an event (a safety bound). */
const maxCatchUps = 100;

export const segmentsProjection: Projection = {
  name: 'segments',
  // Each batch rewrites the catalog, the schedule and the daily sizes it touched: in batches
  // of 2,000 a backlog goes about a quarter faster than in batches of 500 (bench:segments).
  minBatchSize: 2_000,
  // 2: changes are stored in log order, and a membership names its latest change.
  version: 2,
  eventTypes: [...trackingEventTypes, ...segmentEventTypes, ...segmentClockEventTypes],
  collections: [
    segmentCatalogCollection,
    segmentContactsCollection,
    segmentIdentitiesCollection,
    segmentMembershipsCollection,
    segmentChangesCollection,
    segmentSizesCollection,
    segmentScheduleCollection,
    segmentScheduledHoursCollection,
    segmentDirectoryCollection,
  ],
  indexes: {
    [segmentContactsCollection]: [['workspaceId', 'contactId']],
    [segmentMembershipsCollection]: [
      ['workspaceId', 'segmentId', 'member', 'enteredAt'],
      ['workspaceId', 'contactId', 'member'],
    ],
    [segmentChangesCollection]: [
      ['workspaceId', 'segmentId', 'at'],
      ['workspaceId', 'segmentId', 'contactId', 'at'],
    ],
    [segmentSizesCollection]: [['workspaceId', 'segmentId', 'day']],
    [segmentDirectoryCollection]: [['workspaceId', 'chunk']],
  },
  async project(events, session) {
    const batch = new SegmentsBatch(new BatchDocuments(session));
    await batch.prefetch(events);
    for (const recorded of events) await batch.apply(recorded);
    await batch.finish();
  },
};

/** How one pass of evaluation explains the flips it finds. */
type Cause =
  | { readonly kind: 'conditions'; readonly before: SegmentContact }
  | { readonly kind: 'time' }
  | { readonly kind: 'definition' }
  | { readonly kind: 'merge'; readonly text: string };

interface Pass {
  readonly catalog: WorkingCatalog;
  readonly contactId: string;
  readonly contact: SegmentContact;
  readonly now: number;
  readonly position: bigint;
  readonly cause: Cause;
}

class SegmentsBatch {
  private readonly identities: IdentityMap;
  private readonly catalogs = new Map<string, WorkingCatalog>();

  constructor(private readonly documents: BatchDocuments) {
    this.identities = new IdentityMap(documents, {
      contacts: segmentContactsCollection,
      identities: segmentIdentitiesCollection,
    });
  }

  async apply(recorded: RecordedEvent): Promise<void> {
    const tracked = trackingEvent(recorded);
    if (tracked !== null) {
      await this.tracked(recorded, tracked);
      return;
    }
    if (recorded.type === 'SegmentClockTicked') {
      await this.tick(recorded as RecordedEvent<SegmentClockTicked>);
      return;
    }
    await this.definition(recorded as RecordedEvent<SegmentEvent>);
  }

  /**
   * Reads in bulk what the batch's tracked events are about to read one by one: the
   * identities, the profiles, and the memberships the evaluation of each event may read (of
   * every active segment for a new contact or a join).
   */
  async prefetch(events: readonly RecordedEvent[]): Promise<void> {
    await this.identities.prefetch(events);
    const ids = new Set<string>();
    for (const recorded of events) {
      const event = trackingEvent(recorded);
      if (event === null) continue;
      const { workspaceId } = recorded.metadata;
      const catalog = await this.catalog(workspaceId);
      const named = callIdentities(event);
      const mapped: (string | null)[] = [];
      for (const identity of named)
        mapped.push(await this.identities.mapped(workspaceId, identity));
      // A known contact's own call: what it may change; a new contact or a join: everything.
      const known = named.length === 1 && mapped[0] !== null;
      const segments = known ? catalog.readOnChange(mayChange(event)) : catalog.activeInOrder();
      named.forEach((identity, index) => {
        const contactId = mapped[index] ?? identity;
        for (const segmentId of segments) ids.add(membershipId(workspaceId, segmentId, contactId));
      });
    }
    await this.documents.prefetch(segmentMembershipsCollection, ids);
  }

  /** Reads these contacts' profiles, and their memberships of these segments, together. */
  private async prefetchContacts(
    workspaceId: string,
    contactIds: readonly string[],
    segmentIds: readonly string[],
  ): Promise<void> {
    await this.documents.prefetch(
      segmentContactsCollection,
      contactIds.map((contactId) => segmentContactId(workspaceId, contactId)),
    );
    await this.documents.prefetch(
      segmentMembershipsCollection,
      contactIds.flatMap((contactId) =>
        segmentIds.map((segmentId) => membershipId(workspaceId, segmentId, contactId)),
      ),
    );
  }

  /** Writes the catalogs and every document the batch changed. */
  async finish(): Promise<void> {
    await this.flushSizes();
    for (const catalog of this.catalogs.values()) {
      await this.flushChecks(catalog);
      this.documents.set(segmentCatalogCollection, catalog.toDocument(await this.nextDue(catalog)));
    }
    this.documents.flush();
  }

  // -------------------------------------------------------------------------------------------
  // Tracked events

  private async tracked(
    recorded: RecordedEvent,
    event: NonNullable<ReturnType<typeof trackingEvent>>,
  ): Promise<void> {
    const applied = await applyContactEvent<SegmentContactDocument>(
      recorded,
      event,
      this.identities,
    );
    if (applied === null) return;
    const { workspaceId } = recorded.metadata;
    const catalog = await this.catalog(workspaceId);
    const now = recorded.recordedAt.getTime();
    const before = applied.before;
    let profile: SegmentContactDocument = applied.contact;
    const events =
      applied.absorbed === null
        ? (profile.events ?? [])
        : mergeEvents(profile.events ?? [], applied.absorbed.events ?? []);
    const behaviour = isBehavioural(event) ? segmentEventOf(event) : null;
    profile = {
      ...profile,
      events: behaviour === null ? events : withEvent(events, behaviour),
      listed: true,
    };
    this.identities.save(profile);
    if (!applied.contact.listed) await this.list(catalog, profile.contactId);

    const { contactId } = profile;
    const position = recorded.position;
    if (applied.absorbed !== null) {
      if (applied.absorbed.listed) catalog.contacts -= 1;
      // Windows that passed before the merge close first, at their instants, on each side.
      for (const side of [applied.absorbed, applied.keptBefore!]) {
        await this.catchUp(
          catalog,
          side.contactId,
          segmentContactOf(side),
          new Set(catalog.activeDynamic()),
          now,
          position,
        );
      }
      await this.merged(catalog, applied.absorbed.contactId, contactId, now, position);
      await this.evaluate(
        {
          catalog,
          contactId,
          contact: segmentContactOf(profile),
          now,
          position,
          cause: { kind: 'merge', text: `merged with contact ${applied.absorbed.contactId}` },
        },
        new Set(catalog.activeDynamic()),
      );
      return;
    }
    const candidates = applied.isNew
      ? new Set(catalog.activeDynamic())
      : catalog.affectedBy({
          events: behaviour === null ? [] : [behaviour.name],
          traits: changedTraits(before.traits, profile.traits),
          revenue: JSON.stringify(before.revenue) !== JSON.stringify(profile.revenue),
          conversions: before.conversions !== profile.conversions,
          lastSeen: before.lastSeenAt !== profile.lastSeenAt,
        });
    // Most events concern few segments or none: the contacts are built only when some are.
    if (candidates.size === 0) return;
    const previous = segmentContactOf(before);
    const contact = segmentContactOf(profile);
    await this.catchUp(catalog, contactId, previous, candidates, now, position);
    await this.evaluate(
      {
        catalog,
        contactId,
        contact,
        now,
        position,
        cause: { kind: 'conditions', before: previous },
      },
      candidates,
    );
  }

  /** Adds a contact to its workspace's directory (for back-fills). */
  private async list(catalog: WorkingCatalog, contactId: string): Promise<void> {
    const { workspaceId } = catalog;
    let chunk = Math.max(catalog.directoryChunks - 1, 0);
    let document = await this.documents.get<SegmentDirectoryDocument>(
      segmentDirectoryCollection,
      `${workspaceId}:${chunk}`,
    );
    if (document !== null && document.contactIds.length >= directoryChunkSize) {
      chunk += 1;
      document = null;
    }
    this.documents.set(segmentDirectoryCollection, {
      _id: `${workspaceId}:${chunk}`,
      workspaceId,
      chunk,
      contactIds: [...(document?.contactIds ?? []), contactId],
    } satisfies SegmentDirectoryDocument);
    catalog.directoryChunks = chunk + 1;
    catalog.contacts += 1;
  }

  /** The absorbed contact leaves every segment; the kept one inherits its static ones. */
  private async merged(
    catalog: WorkingCatalog,
    absorbedId: string,
    keptId: string,
    now: number,
    position: bigint,
  ): Promise<void> {
    for (const segmentId of catalog.activeInOrder()) {
      const entry = catalog.get(segmentId)!;
      const stored = await this.membership(catalog.workspaceId, segmentId, absorbedId);
      const absorbed = { ...stored, wakeAt: null };
      if (stored.wakeAt !== null) this.save(absorbed);
      if (!absorbed.member) continue;
      const reason = plainReason('merge', `left: merged into contact ${keptId}`);
      this.record(catalog, entry, absorbed, false, now, reason, position);
      if (entry.kind !== 'static') continue;
      const kept = await this.membership(catalog.workspaceId, segmentId, keptId);
      if (!kept.member) {
        const entered = plainReason('merge', `entered: merged with contact ${absorbedId}`);
        this.record(catalog, entry, kept, true, now, entered, position);
      }
    }
  }

  /**
   * Before an event is evaluated, the contact's overdue instants happen, each at its own
   * instant (`advance`), in the segments the event concerns.
   */
  private async catchUp(
    catalog: WorkingCatalog,
    contactId: string,
    contact: SegmentContact,
    segments: ReadonlySet<string>,
    until: number,
    position: bigint,
  ): Promise<void> {
    for (const segmentId of catalog.activeInOrder()) {
      if (segments.has(segmentId)) {
        await this.advance(catalog, segmentId, contactId, contact, until, position);
      }
    }
  }

  /**
   * Time passes for one membership up to `until`: from its waiting check on, every instant at
   * which the answer flips by time alone is evaluated (and recorded) at that instant, and the
   * check is re-armed at the first flip after `until`. Nothing flips before `wakeAt` (it is
   * never later than the next flip), so the search starts there.
   */
  private async advance(
    catalog: WorkingCatalog,
    segmentId: string,
    contactId: string,
    contact: SegmentContact,
    until: number,
    position: bigint,
  ): Promise<void> {
    const entry = catalog.get(segmentId);
    const reads = catalog.readsOf(segmentId);
    if (entry?.conditions == null || reads === null || entry.status !== 'active') return;
    const { workspaceId } = catalog;
    for (let step = 0; step < maxCatchUps; step += 1) {
      const membership = await this.membership(workspaceId, segmentId, contactId);
      if (membership.wakeAt === null || membership.wakeAt > until) return;
      this.save({ ...membership, wakeAt: null });
      const members = new Map<string, boolean>();
      for (const referenced of reads.segments) {
        members.set(referenced, (await this.membership(workspaceId, referenced, contactId)).member);
      }
      const flip = nextChange(
        entry.conditions,
        contact,
        membership.wakeAt - 1,
        (id) => members.get(id) ?? false,
      );
      if (flip === null) return;
      if (flip > until) {
        this.schedule(catalog, { segmentId, contactId, at: flip });
        this.save({ ...membership, wakeAt: flip });
        return;
      }
      // Records the flip and re-arms at the next one, which the next step looks at.
      await this.evaluate(
        { catalog, contactId, contact, now: flip, position, cause: { kind: 'time' } },
        new Set([segmentId]),
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Evaluation

  /**
   * Evaluates the contact against the candidate segments (and, when one flips, the segments
   * that read it) at `now`, records every flip and schedules the next check.
   */
  private async evaluate(pass: Pass, candidates: Set<string>): Promise<void> {
    const { catalog, contactId, contact, now } = pass;
    const { workspaceId } = catalog;
    const standing = new Map<string, SegmentMembershipDocument>();
    const previous = new Map<string, boolean>();
    const load = async (segmentId: string) => {
      let membership = standing.get(segmentId);
      if (membership === undefined) {
        membership = await this.membership(workspaceId, segmentId, contactId);
        standing.set(segmentId, membership);
        previous.set(segmentId, membership.member);
      }
      return membership;
    };
    const isMember = (segmentId: string) => standing.get(segmentId)?.member ?? false;
    const wasMember = (segmentId: string) => previous.get(segmentId) ?? false;

    for (const segmentId of catalog.activeInOrder()) {
      if (!candidates.has(segmentId)) continue;
      const entry = catalog.get(segmentId)!;
      const reads = catalog.readsOf(segmentId);
      if (entry.conditions === null || reads === null) continue;
      for (const referenced of reads.segments) await load(referenced);
      let membership = await load(segmentId);
      const tree = entry.conditions;
      const holds = evaluate(tree, contact, now, isMember);
      if (holds !== membership.member) {
        const reason = this.reason(pass, tree, holds, wasMember, isMember, entry.version);
        membership = this.record(catalog, entry, membership, holds, now, reason, pass.position);
        standing.set(segmentId, membership);
        catalog.dependentsOf(segmentId).forEach((dependent) => candidates.add(dependent));
      }
      const next = nextChange(tree, contact, now, isMember);
      // A later next flip leaves the waiting check as it is: when it comes, it re-arms.
      if (next !== null && (membership.wakeAt === null || next < membership.wakeAt)) {
        this.schedule(catalog, { segmentId, contactId, at: next });
        membership = { ...membership, wakeAt: next };
        standing.set(segmentId, membership);
        this.save(membership);
      }
    }
  }

  private reason(
    pass: Pass,
    tree: ConditionNode,
    entered: boolean,
    wasMember: (segmentId: string) => boolean,
    isMember: (segmentId: string) => boolean,
    version: number,
  ): SegmentChangeReason {
    const verb = entered ? 'entered' : 'left';
    const { cause, contact, now } = pass;
    switch (cause.kind) {
      case 'definition':
        return plainReason('definition', `${verb}: definition version ${version}`);
      case 'merge':
        return plainReason('merge', `${verb}: ${cause.text}`);
      case 'time':
        return leafReason(
          'time',
          entered,
          flippedLeaves(
            tree,
            { contact, now: now - 1, isMember: wasMember },
            { contact, now, isMember },
          ),
        );
      case 'conditions':
        return leafReason(
          'conditions',
          entered,
          flippedLeaves(
            tree,
            { contact: cause.before, now, isMember: wasMember },
            { contact, now, isMember },
          ),
        );
      default: {
        const _exhaustive: never = cause;
        return _exhaustive;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Clock ticks and back-fills

  private async tick(recorded: RecordedEvent<SegmentClockTicked>): Promise<void> {
    const catalog = await this.catalog(recorded.metadata.workspaceId);
    const at = Date.parse(recorded.data.at);
    await this.dueChecks(catalog, at, recorded.position);
    catalog.tickedAt = Math.max(catalog.tickedAt ?? at, at);
    await this.backfill(catalog, at, recorded.position);
  }

  /** Every check due by `until`, in time order, each at its own instant. */
  private async dueChecks(catalog: WorkingCatalog, until: number, position: bigint): Promise<void> {
    const { workspaceId } = catalog;
    // Checks that due checks schedule may be due by `until` too: taken until none is left.
    for (;;) {
      let due: number | null = null;
      for (const hour of [...catalog.scheduledHours].sort((a, b) => a - b)) {
        if (hour * hourMillis > until) break;
        if ((await this.earliestIn(workspaceId, hour)) <= until) {
          due = hour;
          break;
        }
      }
      if (due === null) return;
      const hour = due;
      const checks = this.takePendingChecks(workspaceId, hour);
      const hourId = `${workspaceId}:${hour}`;
      const scheduled = await this.documents.get<SegmentScheduledHourDocument>(
        segmentScheduledHoursCollection,
        hourId,
      );
      for (let chunk = 0; chunk < (scheduled?.chunks ?? 0); chunk += 1) {
        const id = `${hourId}:${chunk}`;
        const document = await this.documents.get<SegmentScheduleDocument>(
          segmentScheduleCollection,
          id,
        );
        checks.push(...(document?.checks ?? []));
        this.documents.delete(segmentScheduleCollection, id);
      }
      if (scheduled !== null) this.documents.delete(segmentScheduledHoursCollection, hourId);
      catalog.scheduledHours.delete(hour);
      checks.sort((a, b) => a.at - b.at);
      for (const check of checks) {
        if (check.at > until) this.schedule(catalog, check);
        else await this.wake(catalog, check, until, position);
      }
    }
  }

  /** The earliest check of an hour, stored or scheduled by this batch. */
  private async earliestIn(workspaceId: string, hour: number): Promise<number> {
    const stored = await this.documents.get<SegmentScheduledHourDocument>(
      segmentScheduledHoursCollection,
      `${workspaceId}:${hour}`,
    );
    let earliest = stored?.earliest ?? Infinity;
    for (const check of this.pendingChecks.get(workspaceId)?.get(hour) ?? []) {
      if (check.at < earliest) earliest = check.at;
    }
    return earliest;
  }

  /**
   * A check comes due: the membership's overdue instants are evaluated, each at its own
   * instant, and the next one is scheduled. A check the membership no longer waits for
   * (re-armed earlier, or gone) does nothing.
   */
  private async wake(
    catalog: WorkingCatalog,
    check: ScheduledCheck,
    until: number,
    position: bigint,
  ): Promise<void> {
    const { workspaceId } = catalog;
    const { segmentId, contactId } = check;
    const stored = await this.membership(workspaceId, segmentId, contactId);
    if (stored.wakeAt !== check.at) return;
    const profile = await this.profile(workspaceId, contactId);
    if (profile === null) return;
    await this.advance(catalog, segmentId, contactId, segmentContactOf(profile), until, position);
  }

  /** Advances the workspace's unfinished back-fills by up to `backfillStep` contacts. */
  private async backfill(catalog: WorkingCatalog, now: number, position: bigint): Promise<void> {
    let budget = backfillStep;
    const { workspaceId } = catalog;
    for (const segmentId of catalog.activeInOrder()) {
      let entry = catalog.get(segmentId)!;
      let progress = entry.backfill;
      if (progress === null || progress.finishedAt !== null) continue;
      while (budget > 0 && progress.nextChunk < progress.chunks) {
        const chunk: SegmentDirectoryDocument | null = await this.documents.get(
          segmentDirectoryCollection,
          `${workspaceId}:${progress.nextChunk}`,
        );
        const contactIds = chunk?.contactIds ?? [];
        const read = [segmentId, ...(catalog.readsOf(segmentId)?.segments ?? [])];
        await this.prefetchContacts(workspaceId, contactIds, read);
        for (const contactId of contactIds) {
          const profile = await this.profile(workspaceId, contactId);
          if (profile === null) continue;
          await this.evaluate(
            {
              catalog,
              contactId,
              contact: segmentContactOf(profile),
              now,
              position,
              cause: { kind: 'definition' },
            },
            new Set([segmentId]),
          );
        }
        const done: number = chunk?.contactIds.length ?? 0;
        budget -= done;
        progress = {
          ...progress,
          nextChunk: progress.nextChunk + 1,
          processed: progress.processed + done,
        };
      }
      if (progress.nextChunk >= progress.chunks) {
        progress = { ...progress, finishedAt: new Date(now).toISOString() };
      }
      entry = { ...catalog.get(segmentId)!, backfill: progress };
      catalog.set(entry, { definitionChanged: false });
      if (budget <= 0) return;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Definitions and static members

  private async definition(recorded: RecordedEvent<SegmentEvent>): Promise<void> {
    const event = { type: recorded.type, data: recorded.data } as SegmentEvent;
    const catalog = await this.catalog(recorded.metadata.workspaceId);
    const now = recorded.recordedAt.getTime();
    const { position } = recorded;
    switch (event.type) {
      case 'SegmentCreated':
      case 'SegmentUpdated': {
        const { segmentId, version, definition } = event.data;
        const existing = catalog.get(segmentId);
        if (existing !== undefined && existing.version >= version) return;
        const at = event.type === 'SegmentCreated' ? event.data.createdAt : event.data.updatedAt;
        const { conditions } = definition;
        catalog.set(
          {
            segmentId,
            name: definition.name,
            description: definition.description,
            kind: definition.kind,
            version,
            conditions,
            status: 'active',
            createdAt: existing?.createdAt ?? at,
            updatedAt: at,
            archivedAt: null,
            size: existing?.size ?? 0,
            backfill:
              conditions === null
                ? null
                : {
                    version,
                    total: catalog.contacts,
                    processed: 0,
                    nextChunk: 0,
                    chunks: catalog.directoryChunks,
                    startedAt: new Date(now).toISOString(),
                    finishedAt: null,
                  },
          },
          { definitionChanged: true },
        );
        await this.backfill(catalog, now, position);
        return;
      }
      case 'SegmentArchived': {
        const existing = catalog.get(event.data.segmentId);
        if (existing === undefined || existing.status === 'archived') return;
        catalog.set(
          { ...existing, status: 'archived', archivedAt: event.data.archivedAt },
          { definitionChanged: true },
        );
        return;
      }
      case 'SegmentMembersAdded':
      case 'SegmentMembersRemoved': {
        const entry = catalog.get(event.data.segmentId);
        if (entry === undefined || entry.status !== 'active' || entry.kind !== 'static') return;
        // Members are sets, but each add or remove is a recorded change: applied once.
        if (position <= catalog.membersPosition) return;
        catalog.membersPosition = position;
        const entering = event.type === 'SegmentMembersAdded';
        const reason = entering
          ? plainReason(
              event.data.source,
              event.data.source === 'import' ? 'entered: imported' : 'entered: added by hand',
            )
          : plainReason('manual', 'left: removed by hand');
        for (const given of event.data.contactIds) {
          const contactId = await this.canonical(catalog.workspaceId, given);
          const membership = await this.membership(catalog.workspaceId, entry.segmentId, contactId);
          if (membership.member === entering) continue;
          this.record(
            catalog,
            catalog.get(entry.segmentId)!,
            membership,
            entering,
            now,
            reason,
            position,
          );
          // Segments that read this one follow it, when the contact has a profile (read only
          // then: an import of many contacts into a segment nothing reads loads no profiles).
          const dependents = catalog.dependentsOf(entry.segmentId);
          if (dependents.length === 0) continue;
          const profile = await this.profile(catalog.workspaceId, contactId);
          if (profile === null) continue;
          const contact = segmentContactOf(profile);
          await this.evaluate(
            {
              catalog,
              contactId,
              contact,
              now,
              position,
              cause: { kind: 'conditions', before: contact },
            },
            new Set(dependents),
          );
        }
        return;
      }
      default: {
        const _exhaustive: never = event;
        return _exhaustive;
      }
    }
  }

  /** The canonical contact of an identity (itself when the identity is not known yet). */
  private async canonical(workspaceId: string, identity: string): Promise<string> {
    const mapped = await this.documents.get<ContactIdentityDocument>(
      segmentIdentitiesCollection,
      identityDocumentId(workspaceId, identity),
    );
    return mapped?.contactId ?? identity;
  }

  // -------------------------------------------------------------------------------------------
  // Documents

  private async catalog(workspaceId: string): Promise<WorkingCatalog> {
    let catalog = this.catalogs.get(workspaceId);
    if (catalog === undefined) {
      const document = await this.documents.get<SegmentCatalogDocument>(
        segmentCatalogCollection,
        catalogId(workspaceId),
      );
      catalog = new WorkingCatalog(workspaceId, document);
      this.catalogs.set(workspaceId, catalog);
    }
    return catalog;
  }

  /** A contact's profile; null for one absorbed by a merge (it has no profile of its own). */
  private profile(workspaceId: string, contactId: string): Promise<SegmentContactDocument | null> {
    return this.documents.get<SegmentContactDocument>(
      segmentContactsCollection,
      segmentContactId(workspaceId, contactId),
    );
  }

  private async membership(
    workspaceId: string,
    segmentId: string,
    contactId: string,
  ): Promise<SegmentMembershipDocument> {
    const id = membershipId(workspaceId, segmentId, contactId);
    const stored = await this.documents.get<SegmentMembershipDocument>(
      segmentMembershipsCollection,
      id,
    );
    return (
      stored ?? {
        _id: id,
        workspaceId,
        segmentId,
        contactId,
        member: false,
        enteredAt: null,
        leftAt: null,
        changes: 0,
        lastChange: null,
        wakeAt: null,
      }
    );
  }

  /** Keeps a membership only while it says something: a member, a history or a schedule. */
  private save(membership: SegmentMembershipDocument): void {
    if (!membership.member && membership.changes === 0 && membership.wakeAt === null) {
      this.documents.delete(segmentMembershipsCollection, membership._id);
    } else {
      this.documents.set(segmentMembershipsCollection, membership);
    }
  }

  /** Records an entry or exit: the change, the membership, the segment's size and its day. */
  private record(
    catalog: WorkingCatalog,
    entry: SegmentEntry,
    membership: SegmentMembershipDocument,
    entered: boolean,
    now: number,
    reason: SegmentChangeReason,
    position: bigint,
  ): SegmentMembershipDocument {
    const { workspaceId } = catalog;
    const { segmentId, contactId } = membership;
    const last = Math.max(
      Date.parse(membership.enteredAt ?? '') || 0,
      Date.parse(membership.leftAt ?? '') || 0,
    );
    const at = new Date(Math.max(now, last)).toISOString();
    const id = this.nextChangeId(workspaceId, position, segmentId);
    this.documents.set(segmentChangesCollection, {
      _id: id,
      workspaceId,
      segmentId,
      contactId,
      sequence: membership.changes,
      change: entered ? 'entered' : 'left',
      at,
      version: entry.version,
      reason,
      position: position.toString(),
    });
    // The catalog's entry, not the caller's copy: several changes may come in one pass.
    const current = catalog.get(segmentId) ?? entry;
    const size = current.size + (entered ? 1 : -1);
    catalog.set({ ...current, size }, { definitionChanged: false });
    this.sizeChanged(workspaceId, segmentId, at, entered, size);
    const changed: SegmentMembershipDocument = {
      ...membership,
      member: entered,
      enteredAt: entered ? at : null,
      leftAt: entered ? membership.leftAt : at,
      changes: membership.changes + 1,
      lastChange: id,
    };
    this.save(changed);
    return changed;
  }

  /** Changes recorded so far for the event at each position (an event is never split). */
  private readonly changesAt = new Map<bigint, number>();

  private nextChangeId(workspaceId: string, position: bigint, segmentId: string): string {
    const index = this.changesAt.get(position) ?? 0;
    this.changesAt.set(position, index + 1);
    return changeId(workspaceId, position, index, segmentId);
  }

  private sizeChanged(
    workspaceId: string,
    segmentId: string,
    at: string,
    entered: boolean,
    size: number,
  ): void {
    const day = at.slice(0, 10);
    const id = `${workspaceId}:${segmentId}:${day}`;
    // Recorded now, written once per day and segment when the batch finishes (`flushSizes`).
    this.pendingSizes.push({ id, workspaceId, segmentId, day, entered, size });
  }

  private readonly pendingSizes: {
    id: string;
    workspaceId: string;
    segmentId: string;
    day: string;
    entered: boolean;
    size: number;
  }[] = [];

  /** Schedules a check; the batch's checks are written in chunks when it finishes. */
  private schedule(catalog: WorkingCatalog, check: ScheduledCheck): void {
    const hour = Math.floor(check.at / hourMillis);
    let pending = this.pendingChecks.get(catalog.workspaceId);
    if (pending === undefined) {
      pending = new Map();
      this.pendingChecks.set(catalog.workspaceId, pending);
    }
    const checks = pending.get(hour);
    if (checks) checks.push(check);
    else pending.set(hour, [check]);
    catalog.scheduledHours.add(hour);
  }

  private readonly pendingChecks = new Map<string, Map<number, ScheduledCheck[]>>();

  private takePendingChecks(workspaceId: string, hour: number): ScheduledCheck[] {
    const pending = this.pendingChecks.get(workspaceId);
    const checks = pending?.get(hour) ?? [];
    pending?.delete(hour);
    return checks;
  }

  /** Writes the batch's checks of each hour into new chunks (nothing stored is rewritten). */
  private async flushChecks(catalog: WorkingCatalog): Promise<void> {
    const { workspaceId } = catalog;
    const pending = this.pendingChecks.get(workspaceId);
    if (pending === undefined) return;
    this.pendingChecks.delete(workspaceId);
    for (const [hour, checks] of pending) {
      if (checks.length === 0) continue;
      const hourId = `${workspaceId}:${hour}`;
      const scheduled = await this.documents.get<SegmentScheduledHourDocument>(
        segmentScheduledHoursCollection,
        hourId,
      );
      let chunks = scheduled?.chunks ?? 0;
      let earliest = scheduled?.earliest ?? Infinity;
      for (let start = 0; start < checks.length; start += scheduleChunkSize) {
        const part = checks.slice(start, start + scheduleChunkSize);
        for (const check of part) if (check.at < earliest) earliest = check.at;
        this.documents.set(segmentScheduleCollection, {
          _id: `${hourId}:${chunks}`,
          workspaceId,
          hour,
          chunk: chunks,
          checks: part,
        } satisfies SegmentScheduleDocument);
        chunks += 1;
      }
      this.documents.set(segmentScheduledHoursCollection, {
        _id: hourId,
        workspaceId,
        hour,
        chunks,
        earliest,
      } satisfies SegmentScheduledHourDocument);
    }
  }

  /** The earliest scheduled check (possibly a stale one, which a tick skips). */
  private async nextDue(catalog: WorkingCatalog): Promise<number | null> {
    const first = Math.min(...catalog.scheduledHours);
    if (!Number.isFinite(first)) return null;
    return this.earliestIn(catalog.workspaceId, first);
  }

  private async flushSizes(): Promise<void> {
    const pending = this.pendingSizes.splice(0);
    for (const { id, workspaceId, segmentId, day, entered, size } of pending) {
      const stored = await this.documents.get<SegmentSizeDocument>(segmentSizesCollection, id);
      this.documents.set(segmentSizesCollection, {
        _id: id,
        workspaceId,
        segmentId,
        day,
        entered: (stored?.entered ?? 0) + (entered ? 1 : 0),
        left: (stored?.left ?? 0) + (entered ? 0 : 1),
        size,
      } satisfies SegmentSizeDocument);
    }
  }
}

/** Top-level trait names whose value differs between two trait objects. */
/** What a tracked call may change of a known contact's profile, as segments read it. */
function mayChange(event: TrackingEvent): ContactFacts {
  const behavioural = isBehavioural(event);
  return {
    events: behavioural ? [eventName(event)] : [],
    traits: event.type === 'ContactIdentified' ? Object.keys(event.data.traits) : [],
    revenue: behavioural,
    conversions: behavioural,
    lastSeen: true,
  };
}

function changedTraits(before: JsonObject, after: JsonObject): string[] {
  if (before === after) return [];
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => JSON.stringify(before[name]) !== JSON.stringify(after[name]));
}
