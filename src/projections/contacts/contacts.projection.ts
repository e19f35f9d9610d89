/**
 * The contacts read model: one profile per person and the identity map that joins a person's
 * ids. What they did is not copied here: the log keeps it, one stream per identity, and the
 * timeline is read from there (contact-timeline.ts).
 *
 * Identity (ANALYTICS.md, Ingestion): an event is filed under its userId, else its
 * anonymousId. `alias` (previousId → userId) and an `identify` carrying both ids say that two
 * identities are one person, and their profiles merge into one, the events before the merge
 * included. `contact_identities` maps every raw identity to its canonical contact, so an event
 * that arrives later under an old anonymous id is routed to the merged profile.
 *
 * - The canonical contact id is the userId when the person is known: a merge keeps the known
 *   profile and absorbs the anonymous one (whose document is deleted and whose identities are
 *   re-pointed). Two known users merge only through an explicit `alias`; an `identify` whose
 *   anonymous id already belongs to another known user (a shared device) joins nothing, as
 *   PostHog does.
 * - Idempotent: a profile remembers the log position of the last event applied; an event at
 *   or before it is ignored.
 * - Profile fields do not depend on arrival order (see contact-profile.ts).
 */
import type { RecordedEvent } from '../../domain/shared/events';
import {
  primaryIdentity,
  trackingEventTypes,
  type TrackingEvent,
} from '../../domain/tracking/tracking.events';
import { BatchDocuments } from '../batch-documents';
import { joinedIdentity, survivingSide } from '../identity/joins';
import type { Projection } from '../projection';
import {
  contactDocumentId,
  hasIdentity,
  identitiesOf,
  identityKind,
  mergeContacts,
  newContact,
  recordEvent,
  withIdentity,
  type ContactDocument,
  type IdentityKind,
} from './contact-profile';

export const contactsCollection = 'contacts';
export const contactIdentitiesCollection = 'contact_identities';

export type ContactIdentityDocument = {
  /** `${workspaceId}:${identity}`. */
  readonly _id: string;
  readonly workspaceId: string;
  /** A raw userId or anonymousId. */
  readonly identity: string;
  readonly kind: IdentityKind;
  /** The canonical contact it belongs to. */
  readonly contactId: string;
};

export function identityDocumentId(workspaceId: string, identity: string): string {
  return `${workspaceId}:${identity}`;
}

export const contactsProjection: Projection = {
  name: 'contacts',
  // 2: the per-event `contact_timeline` collection is gone (timelines are read from the log).
  version: 2,
  eventTypes: trackingEventTypes,
  collections: [contactsCollection, contactIdentitiesCollection],
  indexes: {
    [contactsCollection]: [['workspaceId', 'lastSeenAt']],
    [contactIdentitiesCollection]: [['workspaceId', 'contactId']],
  },
  async project(events, session) {
    const documents = new BatchDocuments(session);
    const identities = new IdentityMap(documents, contactsReadModel);
    await identities.prefetch(events);
    for (const recorded of events) {
      const event = trackingEvent(recorded);
      if (event !== null) await applyContactEvent(recorded, event, identities);
    }
    documents.flush();
  },
};

/** The collections a read model keeps its profiles and identity map in. */
export interface ContactCollections {
  readonly contacts: string;
  readonly identities: string;
}

const contactsReadModel: ContactCollections = {
  contacts: contactsCollection,
  identities: contactIdentitiesCollection,
};

/** The tracking event a recorded one is, or null for any other type. */
/** The identities a call names: the one it is filed under, then the one it joins, if any. */
export function callIdentities(event: TrackingEvent): string[] {
  const joined = joinedIdentity(event);
  const identity = primaryIdentity(event.data);
  return joined === null ? [identity] : [identity, joined];
}

export function trackingEvent(recorded: RecordedEvent): TrackingEvent | null {
  const known: readonly string[] = trackingEventTypes;
  return known.includes(recorded.type)
    ? ({ type: recorded.type, data: recorded.data } as TrackingEvent)
    : null;
}

/** What one tracked event did to the profiles. */
export interface ContactApplied<C extends ContactDocument> {
  /** The profile before the event (a new, empty one when the person is new). */
  readonly before: C;
  /** The profile after it, saved: the kept one when two profiles merged. */
  readonly contact: C;
  /** The profile merged into `contact` and deleted, if the event joined two people. */
  readonly absorbed: C | null;
  /** With `absorbed`: the kept profile as it was just before the merge. */
  readonly keptBefore: C | null;
  /** The person had no profile before this event. */
  readonly isNew: boolean;
}

/**
 * Applies one tracked event to the profiles and the identity map: the person's profile, and
 * two profiles merged into one when the event says they are one person. Null when the event
 * was applied before (its position is not past the profile's). Read models that keep more
 * than the profile (segments) extend the document; extra fields survive, the kept side's.
 */
export async function applyContactEvent<C extends ContactDocument>(
  recorded: RecordedEvent,
  event: TrackingEvent,
  identities: IdentityMap,
): Promise<ContactApplied<C> | null> {
  const { workspaceId } = recorded.metadata;
  const identity = primaryIdentity(event.data);
  const loaded = await identities.contactOf(workspaceId, identity);
  if (loaded.stored && recorded.position <= BigInt(loaded.contact.position)) return null;
  const before = loaded.contact as C;
  const saved = (
    contact: ContactDocument,
    merge: { absorbed: ContactDocument; keptBefore: ContactDocument } | null = null,
  ) => ({
    before,
    contact: contact as C,
    absorbed: (merge?.absorbed ?? null) as C | null,
    keptBefore: (merge?.keptBefore ?? null) as C | null,
    isNew: !loaded.stored,
  });

  const kind: IdentityKind = event.data.userId === null ? 'anonymous' : 'user';
  let contact = recordEvent(withIdentity(loaded.contact, identity, kind), event, recorded.position);
  if (identityKind(loaded.contact, identity) !== kind) identities.register(contact, [identity]);

  const joined = joinedIdentity(event);
  if (joined === null || hasIdentity(contact, joined)) {
    identities.save(contact);
    return saved(contact);
  }
  const other = await identities.contactOf(workspaceId, joined);
  if (!other.stored) {
    contact = withIdentity(contact, joined, 'anonymous');
    identities.register(contact, [joined]);
    identities.save(contact);
    return saved(contact);
  }
  const side = survivingSide(
    event.type,
    { known: contact.userId !== null },
    { known: other.contact.userId !== null },
  );
  if (side === 'none') {
    // A shared device: this anonymous id already belongs to another known person.
    identities.save(contact);
    return saved(contact);
  }
  const [kept, absorbed] = side === 'other' ? [other.contact, contact] : [contact, other.contact];
  const merged = mergeContacts(kept, absorbed);
  if (absorbed === other.contact || loaded.stored) identities.remove(absorbed);
  identities.register(merged, identitiesOf(absorbed));
  identities.save(merged);
  return saved(merged, { absorbed, keptBefore: kept });
}

/**
 * The identity map and profiles as one batch sees them, through the batch's documents: each
 * document is read once, evolved in memory event by event, and written once when the batch
 * flushes (a profile's arrays would otherwise be copied and re-serialised for every event).
 * Documents are never mutated in place.
 */
export class IdentityMap {
  constructor(
    private readonly documents: BatchDocuments,
    private readonly collections: ContactCollections,
  ) {}

  /**
   * Reads, in bulk, the identities the tracked events among `events` name and the profiles
   * they map to, so that `contactOf` and `mapped` find them read.
   */
  async prefetch(events: readonly RecordedEvent[]): Promise<void> {
    const identities = new Set<string>();
    for (const recorded of events) {
      const event = trackingEvent(recorded);
      if (event === null) continue;
      for (const identity of callIdentities(event)) {
        identities.add(identityDocumentId(recorded.metadata.workspaceId, identity));
      }
    }
    await this.documents.prefetch(this.collections.identities, identities);
    const profiles: string[] = [];
    for (const id of identities) {
      const mapped = await this.documents.get<ContactIdentityDocument>(
        this.collections.identities,
        id,
      );
      if (mapped !== null) profiles.push(contactDocumentId(mapped.workspaceId, mapped.contactId));
    }
    await this.documents.prefetch(this.collections.contacts, profiles);
  }

  /** The contact an identity is mapped to; null for one not seen yet. */
  async mapped(workspaceId: string, identity: string): Promise<string | null> {
    const document = await this.documents.get<ContactIdentityDocument>(
      this.collections.identities,
      identityDocumentId(workspaceId, identity),
    );
    return document?.contactId ?? null;
  }

  /** The profile an identity belongs to, or a new one named after it. */
  async contactOf(
    workspaceId: string,
    identity: string,
  ): Promise<{ contact: ContactDocument; stored: boolean }> {
    const contactId = await this.mapped(workspaceId, identity);
    // Every profile's own id is in the map (registered with its first event, re-pointed only
    // when the profile is absorbed and deleted), so an unmapped identity has no profile yet.
    if (contactId === null) return { contact: newContact(workspaceId, identity), stored: false };
    const contact = await this.documents.get<ContactDocument>(
      this.collections.contacts,
      contactDocumentId(workspaceId, contactId),
    );
    return contact === null
      ? { contact: newContact(workspaceId, contactId), stored: false }
      : { contact, stored: true };
  }

  /** Points these identities (all listed on the contact) at it. */
  register(contact: ContactDocument, identities: readonly string[]): void {
    const { workspaceId } = contact;
    for (const identity of identities) {
      const document: ContactIdentityDocument = {
        _id: identityDocumentId(workspaceId, identity),
        workspaceId,
        identity,
        kind: contact.userIds.includes(identity) ? 'user' : 'anonymous',
        contactId: contact.contactId,
      };
      this.documents.set(this.collections.identities, document);
    }
  }

  save(contact: ContactDocument): void {
    this.documents.set(this.collections.contacts, contact);
  }

  remove(contact: ContactDocument): void {
    this.documents.delete(this.collections.contacts, contact._id);
  }
}
