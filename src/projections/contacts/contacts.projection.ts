/**
 * The contacts read model: one profile per person, the identity map that joins a person's
 * ids, and a timeline of everything they did.
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
 *   or before it is ignored. Timeline documents are keyed by event id.
 * - Profile fields do not depend on arrival order (see contact-profile.ts).
 */
import type { RecordedEvent } from '../../domain/shared/events';
import {
  primaryIdentity,
  trackingEventTypes,
  type TrackingEvent,
} from '../../domain/tracking/tracking.events';
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
import { timelineDocument, type ContactTimelineDocument } from './contact-timeline';

export const contactsCollection = 'contacts';
export const contactIdentitiesCollection = 'contact_identities';
export const contactTimelineCollection = 'contact_timeline';

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
  version: 1,
  eventTypes: trackingEventTypes,
  collections: [contactsCollection, contactIdentitiesCollection, contactTimelineCollection],
  indexes: {
    [contactsCollection]: [['workspaceId', 'lastSeenAt']],
    [contactIdentitiesCollection]: [['workspaceId', 'contactId']],
    [contactTimelineCollection]: [['workspaceId', 'identity', 'occurredAt']],
  },
  async project(events, session) {
    for (const recorded of events) {
      const event = trackingEvent(recorded);
      if (event === null) continue;
      await projectTimeline(recorded, event, session);
      await projectProfile(recorded, event, session);
    }
  },
};

function trackingEvent(recorded: RecordedEvent): TrackingEvent | null {
  const known: readonly string[] = trackingEventTypes;
  return known.includes(recorded.type)
    ? ({ type: recorded.type, data: recorded.data } as TrackingEvent)
    : null;
}

async function projectTimeline(
  recorded: RecordedEvent,
  event: TrackingEvent,
  session: ProjectionSession,
): Promise<void> {
  const document = timelineDocument(recorded, event);
  const existing = await session.get<ContactTimelineDocument>(
    contactTimelineCollection,
    document._id,
  );
  if (existing === null) session.put(contactTimelineCollection, document);
}

async function projectProfile(
  recorded: RecordedEvent,
  event: TrackingEvent,
  session: ProjectionSession,
): Promise<void> {
  const identities = new IdentityMap(session, recorded.metadata.workspaceId);
  const identity = primaryIdentity(event.data);
  const loaded = await identities.contactOf(identity);
  if (loaded.stored && recorded.position <= BigInt(loaded.contact.position)) return;

  const kind: IdentityKind = event.data.userId === null ? 'anonymous' : 'user';
  let contact = recordEvent(withIdentity(loaded.contact, identity, kind), event, recorded.position);
  if (identityKind(loaded.contact, identity) !== kind) identities.register(contact, [identity]);

  const joined = joinedIdentity(event);
  if (joined === null || hasIdentity(contact, joined)) {
    identities.save(contact);
    return;
  }
  const other = await identities.contactOf(joined);
  if (!other.stored) {
    contact = withIdentity(contact, joined, 'anonymous');
    identities.register(contact, [joined]);
    identities.save(contact);
    return;
  }
  if (
    event.type === 'ContactIdentified' &&
    other.contact.userId !== null &&
    contact.userId !== null
  ) {
    // A shared device: this anonymous id already belongs to another known person.
    identities.save(contact);
    return;
  }
  // The known person's profile absorbs the anonymous one (this event's side when both are).
  const [kept, absorbed] =
    contact.userId === null && other.contact.userId !== null
      ? [other.contact, contact]
      : [contact, other.contact];
  const merged = mergeContacts(kept, absorbed);
  if (absorbed === other.contact || loaded.stored) identities.remove(absorbed);
  identities.register(merged, identitiesOf(absorbed));
  identities.save(merged);
}

/** The identity an event says is the same person as the one it is filed under. */
function joinedIdentity(event: TrackingEvent): string | null {
  if (event.type === 'ContactAliased') return event.data.previousId;
  if (event.type === 'ContactIdentified') {
    const { userId, anonymousId } = event.data;
    if (userId !== null && anonymousId !== null && userId !== anonymousId) return anonymousId;
  }
  return null;
}

/** The identity map and profiles of one workspace, read and written through the session. */
class IdentityMap {
  constructor(
    private readonly session: ProjectionSession,
    private readonly workspaceId: string,
  ) {}

  /** The profile an identity belongs to, or a new one named after it. */
  async contactOf(identity: string): Promise<{ contact: ContactDocument; stored: boolean }> {
    const mapped = await this.session.get<ContactIdentityDocument>(
      contactIdentitiesCollection,
      identityDocumentId(this.workspaceId, identity),
    );
    const contactId = mapped?.contactId ?? identity;
    const contact = await this.session.get<ContactDocument>(
      contactsCollection,
      contactDocumentId(this.workspaceId, contactId),
    );
    return contact === null
      ? { contact: newContact(this.workspaceId, contactId), stored: false }
      : { contact, stored: true };
  }

  /** Points these identities (all listed on the contact) at it. */
  register(contact: ContactDocument, identities: readonly string[]): void {
    for (const identity of identities) {
      const document: ContactIdentityDocument = {
        _id: identityDocumentId(this.workspaceId, identity),
        workspaceId: this.workspaceId,
        identity,
        kind: contact.userIds.includes(identity) ? 'user' : 'anonymous',
        contactId: contact.contactId,
      };
      this.session.put(contactIdentitiesCollection, document);
    }
  }

  save(contact: ContactDocument): void {
    this.session.put(contactsCollection, contact);
  }

  remove(contact: ContactDocument): void {
    this.session.delete(contactsCollection, contact._id);
  }
}
