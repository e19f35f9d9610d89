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
import type { Projection, ProjectionSession } from '../projection';
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
    const identities = new IdentityMap(session);
    for (const recorded of events) {
      const event = trackingEvent(recorded);
      if (event !== null) await projectEvent(recorded, event, identities);
    }
    identities.flush();
  },
};

/** The tracking event a recorded one is, or null for any other type. */
export function trackingEvent(recorded: RecordedEvent): TrackingEvent | null {
  const known: readonly string[] = trackingEventTypes;
  return known.includes(recorded.type)
    ? ({ type: recorded.type, data: recorded.data } as TrackingEvent)
    : null;
}

async function projectEvent(
  recorded: RecordedEvent,
  event: TrackingEvent,
  identities: IdentityMap,
): Promise<void> {
  const { workspaceId } = recorded.metadata;
  const identity = primaryIdentity(event.data);
  const loaded = await identities.contactOf(workspaceId, identity);
  if (loaded.stored && recorded.position <= BigInt(loaded.contact.position)) return;

  const kind: IdentityKind = event.data.userId === null ? 'anonymous' : 'user';
  let contact = recordEvent(withIdentity(loaded.contact, identity, kind), event, recorded.position);
  if (identityKind(loaded.contact, identity) !== kind) identities.register(contact, [identity]);

  const joined = joinedIdentity(event);
  if (joined === null || hasIdentity(contact, joined)) {
    identities.save(contact);
    return;
  }
  const other = await identities.contactOf(workspaceId, joined);
  if (!other.stored) {
    contact = withIdentity(contact, joined, 'anonymous');
    identities.register(contact, [joined]);
    identities.save(contact);
    return;
  }
  const side = survivingSide(
    event.type,
    { known: contact.userId !== null },
    { known: other.contact.userId !== null },
  );
  if (side === 'none') {
    // A shared device: this anonymous id already belongs to another known person.
    identities.save(contact);
    return;
  }
  const [kept, absorbed] = side === 'other' ? [other.contact, contact] : [contact, other.contact];
  const merged = mergeContacts(kept, absorbed);
  if (absorbed === other.contact || loaded.stored) identities.remove(absorbed);
  identities.register(merged, identitiesOf(absorbed));
  identities.save(merged);
}

/**
 * The identity map and profiles as one batch sees them: each document is read once, evolved
 * in memory event by event, and written once by `flush` (a profile's arrays would otherwise
 * be copied and re-serialised for every event). Documents are never mutated in place.
 */
class IdentityMap {
  private readonly documents: BatchDocuments;

  constructor(session: ProjectionSession) {
    this.documents = new BatchDocuments(session);
  }

  /** The profile an identity belongs to, or a new one named after it. */
  async contactOf(
    workspaceId: string,
    identity: string,
  ): Promise<{ contact: ContactDocument; stored: boolean }> {
    const mapped = await this.documents.get<ContactIdentityDocument>(
      contactIdentitiesCollection,
      identityDocumentId(workspaceId, identity),
    );
    // Every profile's own id is in the map (registered with its first event, re-pointed only
    // when the profile is absorbed and deleted), so an unmapped identity has no profile yet.
    if (mapped === null) return { contact: newContact(workspaceId, identity), stored: false };
    const contact = await this.documents.get<ContactDocument>(
      contactsCollection,
      contactDocumentId(workspaceId, mapped.contactId),
    );
    return contact === null
      ? { contact: newContact(workspaceId, mapped.contactId), stored: false }
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
      this.documents.set(contactIdentitiesCollection, document);
    }
  }

  save(contact: ContactDocument): void {
    this.documents.set(contactsCollection, contact);
  }

  remove(contact: ContactDocument): void {
    this.documents.delete(contactsCollection, contact._id);
  }

  /** Hands the batch's final identity documents and profiles to the session. */
  flush(): void {
    this.documents.flush();
  }
}
