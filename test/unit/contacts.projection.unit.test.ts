import type { RecordedEvent } from '../../src/domain/shared/events';
import {
  contactStreamId,
  primaryIdentity,
  trackingEventTypes,
  type JsonObject,
  type TrackedCall,
  type TrackingEvent,
  type Utm,
} from '../../src/domain/tracking/tracking.events';
import { BatchSession } from '../../src/infra/projections/batch-session';
import { EmbeddedReadStore } from '../../src/infra/read-store/embedded-read-store';
import type { ContactDocument } from '../../src/projections/contacts/contact-profile';
import {
  maxTimelinePropertiesLength,
  timelineEntry,
  timelineOf,
} from '../../src/projections/contacts/contact-timeline';
import {
  contactIdentitiesCollection,
  contactsCollection,
  contactsProjection,
  type ContactIdentityDocument,
} from '../../src/projections/contacts/contacts.projection';
import { countReads } from '../support/read-counts';

const workspaceId = 'acme';
const T0 = Date.parse('2025-03-01T10:00:00.000Z');
const MINUTE = 60_000;

/** An instant `minutes` after T0, as ingestion writes it. */
const at = (minutes: number) => new Date(T0 + minutes * MINUTE).toISOString();

// ---- tracked calls -----------------------------------------------------------------------------

interface CallOptions {
  readonly userId?: string | null;
  readonly anonymousId?: string | null;
  /** Minutes after T0. */
  readonly minute: number;
  /** Minutes after T0; defaults to the event time. */
  readonly receivedMinute?: number;
  readonly utm?: Partial<Utm> | null;
  readonly referrer?: string | null;
}

function call(messageId: string, options: CallOptions): TrackedCall {
  return {
    messageId,
    userId: options.userId ?? null,
    anonymousId: options.anonymousId ?? null,
    occurredAt: at(options.minute),
    receivedAt: at(options.receivedMinute ?? options.minute),
    sentAt: null,
    originalTimestamp: null,
    campaign: options.utm
      ? { source: null, medium: null, name: null, term: null, content: null, ...options.utm }
      : null,
    page: {
      url: 'https://shop.example/landing',
      referrer: options.referrer ?? null,
      path: '/landing',
      title: 'Landing',
    },
  };
}

const page = (messageId: string, options: CallOptions): TrackingEvent => ({
  type: 'PageViewed',
  data: { ...call(messageId, options), name: 'Landing', properties: {} },
});

const track = (
  messageId: string,
  event: string,
  properties: JsonObject,
  options: CallOptions,
): TrackingEvent => ({
  type: 'EventTracked',
  data: { ...call(messageId, options), event, properties },
});

const identify = (messageId: string, traits: JsonObject, options: CallOptions): TrackingEvent => ({
  type: 'ContactIdentified',
  data: { ...call(messageId, options), traits },
});

const alias = (messageId: string, previousId: string, options: CallOptions): TrackingEvent => ({
  type: 'ContactAliased',
  data: { ...call(messageId, options), previousId },
});

const order = (messageId: string, orderId: string, revenue: number, options: CallOptions) =>
  track(messageId, 'Order Completed', { order_id: orderId, revenue, currency: 'EUR' }, options);

// ---- the runner's loop over a real BatchSession and embedded store -----------------------------

class Harness {
  readonly store = EmbeddedReadStore.open({ path: ':memory:' });
  /** Every recorded event: the log the timeline is read from. */
  readonly log: RecordedEvent[] = [];
  private position = 0n;

  /** Records the events in this order (positions growing) and projects them batch by batch. */
  async apply(events: readonly TrackingEvent[], batchSize = 4): Promise<RecordedEvent[]> {
    const recorded = events.map((event) => this.record(event));
    for (let start = 0; start < recorded.length; start += batchSize) {
      const batch = recorded.slice(start, start + batchSize);
      await this.commit(batch, batch[batch.length - 1].position);
    }
    return recorded;
  }

  /** Hands already-recorded events to the projection again (a redelivery, no checkpoint). */
  async redeliver(events: readonly RecordedEvent[]): Promise<void> {
    await this.commit(events, null);
  }

  contact(contactId: string): Promise<ContactDocument | null> {
    return this.store
      .collection<ContactDocument>(contactsCollection)
      .findOne({ _id: `${workspaceId}:${contactId}` });
  }

  async onlyContact(): Promise<ContactDocument> {
    const all = await this.contacts();
    expect(all).toHaveLength(1);
    return all[0];
  }

  contacts(): Promise<ContactDocument[]> {
    return this.store
      .collection<ContactDocument>(contactsCollection)
      .find({}, { sort: { _id: 1 } });
  }

  async identityMap(): Promise<Record<string, string>> {
    const documents = await this.store
      .collection<ContactIdentityDocument>(contactIdentitiesCollection)
      .find({});
    return Object.fromEntries(documents.map((document) => [document.identity, document.contactId]));
  }

  /**
   * A contact's timeline, oldest first, as the GraphQL layer reads it: the events of the
   * streams of every identity its profile lists.
   */
  timeline(contact: ContactDocument): string[] {
    const streams = [...contact.userIds, ...contact.anonymousIds].map((identity) =>
      contactStreamId(workspaceId, identity),
    );
    const events = this.log.filter((recorded) => streams.includes(recorded.streamId));
    return timelineOf(events)
      .reverse()
      .map((entry) => entry.event.data.messageId);
  }

  /** Records an event in the log without projecting it. */
  record(event: TrackingEvent): RecordedEvent {
    this.position += 10n;
    const recorded: RecordedEvent = {
      eventId: `event-${event.data.messageId}`,
      type: event.type,
      data: event.data,
      metadata: { workspaceId, schemaVersion: 1 },
      streamId: contactStreamId(workspaceId, primaryIdentity(event.data)),
      revision: 0n,
      position: this.position,
      recordedAt: new Date(T0),
    };
    this.log.push(recorded);
    return recorded;
  }

  private async commit(events: readonly RecordedEvent[], checkpoint: bigint | null) {
    const session = new BatchSession(this.store, (logical) => logical);
    await contactsProjection.project(events, session);
    await this.store.commit({
      operations: session.operations(),
      ...(checkpoint !== null && { checkpoint: { name: 'contacts', position: checkpoint } }),
    });
  }
}

/** The profile without its bookkeeping: what must not depend on arrival order. */
function profileFields(contact: ContactDocument): Omit<ContactDocument, 'position'> {
  const { position: _position, ...fields } = contact;
  return fields;
}

/** mulberry32: a small seeded generator, so a failing order can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}

let harness: Harness;

beforeEach(() => {
  harness = new Harness();
});

afterEach(async () => {
  await harness.store.close();
});

describe('contactsProjection', () => {
  it('declares its events, collections and indexes', () => {
    expect(contactsProjection).toMatchObject({
      name: 'contacts',
      version: 2,
      eventTypes: trackingEventTypes,
      collections: ['contacts', 'contact_identities'],
      indexes: {
        contacts: [['workspaceId', 'lastSeenAt']],
        contact_identities: [['workspaceId', 'contactId']],
      },
    });
  });

  it('given a batch of calls, then it reads their identities and profiles together, not one by one', async () => {
    // given two known users
    const harness = new Harness();
    await harness.apply([
      identify('a1', { plan: 'pro' }, { userId: 'ann', minute: 0 }),
      identify('b1', { plan: 'free' }, { userId: 'bob', minute: 0 }),
    ]);
    const reads = countReads(harness.store);

    // when one batch has calls of both, a new visitor, and the visitor aliased to bob
    await harness.apply(
      [
        page('a2', { userId: 'ann', minute: 1 }),
        track('b2', 'Clicked', {}, { userId: 'bob', minute: 1 }),
        page('v1', { anonymousId: 'visitor', minute: 2 }),
        alias('b3', 'visitor', { userId: 'bob', minute: 3 }),
      ],
      10,
    );

    // then the identities and the profiles took a read each
    expect(reads).toEqual({ one: 0, many: 2 });
    expect((await harness.contact('bob'))?.anonymousIds).toEqual(['visitor']);
    expect((await harness.contact('ann'))?.eventCounts).toEqual({ page: 1 });
  });

  it('given page views and tracked events, then counters, seen times and revenue', async () => {
    await harness.apply([
      page('m1', { userId: 'u1', minute: 5 }),
      page('m2', { userId: 'u1', minute: 1 }),
      track('m3', 'Signed Up', {}, { userId: 'u1', minute: 9 }),
      order('m4', 'o-1', 19.99, { userId: 'u1', minute: 12 }),
      order('m5', 'o-2', 5, { userId: 'u1', minute: 14 }),
      track(
        'm6',
        'Order Completed',
        { order_id: 'o-3', revenue: 7, currency: 'usd' },
        {
          userId: 'u1',
          minute: 15,
        },
      ),
    ]);

    const contact = await harness.contact('u1');
    expect(contact).toMatchObject({
      _id: 'acme:u1',
      workspaceId,
      contactId: 'u1',
      userId: 'u1',
      userIds: ['u1'],
      anonymousIds: [],
      firstSeenAt: at(1),
      lastSeenAt: at(15),
      eventCounts: { page: 2, 'Signed Up': 1, 'Order Completed': 3 },
      conversions: 3,
      revenue: [
        { currency: 'EUR', amountMinor: 2499 },
        { currency: 'USD', amountMinor: 700 },
      ],
      position: '60',
    });
    expect(await harness.identityMap()).toEqual({ u1: 'u1' });
  });

  it('given identifies out of order, then each trait holds the value of the latest by event time', async () => {
    await harness.apply([
      identify('m1', { plan: 'pro', name: 'Ada' }, { userId: 'u1', minute: 20 }),
      identify('m2', { plan: 'free', email: 'ada@example.com' }, { userId: 'u1', minute: 10 }),
      identify('m3', { name: 'Ada Lovelace' }, { userId: 'u1', minute: 30 }),
    ]);

    const contact = await harness.contact('u1');
    expect(contact?.traits).toEqual({
      plan: 'pro',
      name: 'Ada Lovelace',
      email: 'ada@example.com',
    });
    expect(contact?.traitStamps.plan).toEqual({ at: at(20), messageId: 'm1' });
    expect(contact?.eventCounts).toEqual({});
  });

  it('given an alias, then the anonymous history before and after it belongs to the user', async () => {
    await harness.apply([
      page('m1', { anonymousId: 'a1', minute: 0, referrer: 'https://www.google.com/' }),
      track('m2', 'Product Viewed', {}, { anonymousId: 'a1', minute: 2 }),
      identify('m3', { email: 'ada@example.com' }, { userId: 'u1', minute: 4 }),
      alias('m4', 'a1', { userId: 'u1', minute: 5 }),
      track('m5', 'Product Viewed', {}, { anonymousId: 'a1', minute: 6 }),
    ]);

    const contact = await harness.onlyContact();
    expect(contact).toMatchObject({
      contactId: 'u1',
      userId: 'u1',
      userIds: ['u1'],
      anonymousIds: ['a1'],
      traits: { email: 'ada@example.com' },
      firstSeenAt: at(0),
      lastSeenAt: at(6),
      eventCounts: { page: 1, 'Product Viewed': 2 },
      firstTouch: { channel: 'organic_search', source: 'www.google.com', at: at(0) },
    });
    expect(await harness.contact('a1')).toBeNull();
    expect(await harness.identityMap()).toEqual({ a1: 'u1', u1: 'u1' });
    expect(harness.timeline(contact)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
  });

  it('given an identify carrying both ids, then the anonymous profile merges into the user', async () => {
    await harness.apply([
      page('m1', { anonymousId: 'a1', minute: 0 }),
      identify('m2', { plan: 'pro' }, { userId: 'u1', anonymousId: 'a1', minute: 3 }),
      page('m3', { anonymousId: 'a1', minute: 50 }),
      track('m4', 'Clicked', {}, { userId: 'u1', anonymousId: 'a1', minute: 51 }),
    ]);

    const contact = await harness.onlyContact();
    expect(contact).toMatchObject({
      contactId: 'u1',
      anonymousIds: ['a1'],
      traits: { plan: 'pro' },
      eventCounts: { page: 2, Clicked: 1 },
      firstSeenAt: at(0),
      lastSeenAt: at(51),
    });
    expect(contact.sessions).toHaveLength(2);
    expect(harness.timeline(contact)).toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  it('given two anonymous ids identified as one user, then one contact combines both exactly', async () => {
    await harness.apply([
      page('m1', { anonymousId: 'laptop', minute: 100 }),
      identify('m2', { plan: 'free' }, { anonymousId: 'laptop', minute: 101 }),
      order('m3', 'o-1', 10, { anonymousId: 'laptop', minute: 102 }),
      page('m4', { anonymousId: 'phone', minute: 5 }),
      identify('m5', { plan: 'pro', city: 'Paris' }, { anonymousId: 'phone', minute: 200 }),
      order('m6', 'o-2', 2.5, { anonymousId: 'phone', minute: 201 }),
      identify('m7', {}, { userId: 'u1', anonymousId: 'laptop', minute: 300 }),
      identify('m8', {}, { userId: 'u1', anonymousId: 'phone', minute: 301 }),
    ]);

    const contact = await harness.onlyContact();
    expect(contact).toMatchObject({
      contactId: 'u1',
      userIds: ['u1'],
      anonymousIds: ['laptop', 'phone'],
      traits: { plan: 'pro', city: 'Paris' },
      firstSeenAt: at(5),
      lastSeenAt: at(301),
      eventCounts: { page: 2, 'Order Completed': 2 },
      conversions: 2,
      revenue: [{ currency: 'EUR', amountMinor: 1250 }],
      firstTouch: { channel: 'direct', at: at(5) },
      lastTouch: { channel: 'direct', at: at(100) },
    });
    expect(await harness.identityMap()).toEqual({ laptop: 'u1', phone: 'u1', u1: 'u1' });
  });

  it('given an identify whose anonymous id belongs to another known user, then nothing is joined', async () => {
    await harness.apply([
      page('m1', { anonymousId: 'shared', minute: 0 }),
      identify('m2', {}, { userId: 'ada', anonymousId: 'shared', minute: 1 }),
      identify('m3', {}, { userId: 'bob', anonymousId: 'shared', minute: 2 }),
    ]);

    expect((await harness.contacts()).map((contact) => contact.contactId)).toEqual(['ada', 'bob']);
    expect(await harness.identityMap()).toEqual({ shared: 'ada', ada: 'ada', bob: 'bob' });
  });

  it('given unsubscribes and consent traits, then the latest by event time decides email consent', async () => {
    await harness.apply([
      identify('m1', { email: 'ada@example.com' }, { userId: 'u1', minute: 0 }),
    ]);
    expect((await harness.contact('u1'))?.consent).toEqual({ email: null });

    await harness.apply([
      track('m2', 'Unsubscribed', { email_id: 'e1' }, { userId: 'u1', minute: 10 }),
    ]);
    expect((await harness.contact('u1'))?.consent.email).toEqual({
      status: 'unsubscribed',
      at: at(10),
      messageId: 'm2',
    });

    // An earlier resubscribe that arrives late changes nothing; a later one wins.
    await harness.apply([identify('m3', { unsubscribed: false }, { userId: 'u1', minute: 5 })]);
    expect((await harness.contact('u1'))?.consent.email?.status).toBe('unsubscribed');
    await harness.apply([identify('m4', { unsubscribed: false }, { userId: 'u1', minute: 20 })]);
    expect((await harness.contact('u1'))?.consent.email).toEqual({
      status: 'subscribed',
      at: at(20),
      messageId: 'm4',
    });
  });

  it('given page hits, then first and last touch come from the first and last sessions', async () => {
    const hits = [
      page('m1', { userId: 'u1', minute: 0, referrer: 'https://www.google.com/' }),
      page('m2', { userId: 'u1', minute: 20 }),
      page('m3', {
        userId: 'u1',
        minute: 120,
        utm: { source: 'newsletter', medium: 'email', name: 'spring' },
      }),
      page('m4', { userId: 'u1', minute: 130 }),
    ];
    await harness.apply(hits);
    expect(await harness.contact('u1')).toMatchObject({
      firstTouch: {
        channel: 'organic_search',
        source: 'www.google.com',
        medium: 'organic',
        campaign: null,
        at: at(0),
      },
      lastTouch: {
        channel: 'email',
        source: 'newsletter',
        medium: 'email',
        campaign: 'spring',
        at: at(120),
      },
    });

    // A late hit 30:00 before the last session joins it and becomes its first hit.
    await harness.apply([page('m5', { userId: 'u1', minute: 90, referrer: 'https://t.co/x' })]);
    const late = await harness.contact('u1');
    expect(late?.lastTouch).toMatchObject({ channel: 'organic_social', at: at(90) });
    expect(late?.sessions.map((session) => session.hitCount)).toEqual([2, 3]);

    // The same hits in order give the same profile.
    const inOrder = new Harness();
    await inOrder.apply([
      hits[0],
      hits[1],
      page('m5', { userId: 'u1', minute: 90, referrer: 'https://t.co/x' }),
      hits[2],
      hits[3],
    ]);
    expect(profileFields((await inOrder.contact('u1'))!)).toEqual(profileFields(late!));
    await inOrder.store.close();
  });

  it('given a repeated order_id, then the first received copy counts once, also across merged profiles', async () => {
    await harness.apply([
      order('m1', 'o-1', 30, { anonymousId: 'a1', minute: 10, receivedMinute: 40 }),
      order('m2', 'o-1', 25, { anonymousId: 'a1', minute: 10, receivedMinute: 11 }),
      order('m3', 'o-1', 99, { userId: 'u1', minute: 12, receivedMinute: 60 }),
      order('m4', 'o-2', 1, { userId: 'u1', minute: 13 }),
    ]);
    expect(await harness.contact('a1')).toMatchObject({
      conversions: 1,
      eventCounts: { 'Order Completed': 1 },
      revenue: [{ currency: 'EUR', amountMinor: 2500 }],
    });

    await harness.apply([alias('m5', 'a1', { userId: 'u1', minute: 20 })]);
    expect(await harness.onlyContact()).toMatchObject({
      conversions: 2,
      eventCounts: { 'Order Completed': 2 },
      revenue: [{ currency: 'EUR', amountMinor: 2600 }],
    });
  });

  it('applied twice, unchanged: a redelivered event is ignored by every collection', async () => {
    const events = [
      page('m1', { anonymousId: 'a1', minute: 0 }),
      track('m2', 'Clicked', {}, { anonymousId: 'a1', minute: 1 }),
      identify('m3', { plan: 'pro' }, { userId: 'u1', anonymousId: 'a1', minute: 2 }),
      track('m4', 'Clicked', {}, { anonymousId: 'a1', minute: 3 }),
    ];
    const recorded = await harness.apply(events);
    const before = await harness.onlyContact();
    const identitiesBefore = await harness.identityMap();

    await harness.redeliver(recorded);
    await harness.redeliver([recorded[1], recorded[1]]);

    expect(await harness.onlyContact()).toEqual(before);
    expect(await harness.identityMap()).toEqual(identitiesBefore);
    expect(before.eventCounts).toEqual({ page: 1, Clicked: 2 });
    expect(harness.timeline(before)).toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  it('given the same event twice in one batch, then it counts once', async () => {
    const recorded = harness.record(track('m1', 'Clicked', {}, { userId: 'u1', minute: 0 }));
    const session = new BatchSession(harness.store, (logical) => logical);
    await contactsProjection.project([recorded, recorded], session);
    await harness.store.commit({ operations: session.operations() });
    expect((await harness.contact('u1'))?.eventCounts).toEqual({ Clicked: 1 });
    expect(await harness.store.collection(contactsCollection).count({})).toBe(1);
  });

  it('given the same history in shuffled orders, then the same profiles, identities and timelines', async () => {
    const history: TrackingEvent[] = [
      page('h1', { anonymousId: 'a1', minute: 0, utm: { source: 'google', medium: 'cpc' } }),
      page('h2', { anonymousId: 'a1', minute: 10 }),
      track('h3', 'Product Viewed', { sku: 'x' }, { anonymousId: 'a1', minute: 11 }),
      identify('h4', { plan: 'free', name: 'Ada' }, { anonymousId: 'a1', minute: 12 }),
      page('h5', { anonymousId: 'a2', minute: 60, referrer: 'https://news.example/' }),
      order('h6', 'o-1', 12, { anonymousId: 'a2', minute: 61, receivedMinute: 90 }),
      identify('h7', { plan: 'pro' }, { userId: 'u1', anonymousId: 'a1', minute: 70 }),
      alias('h8', 'a2', { userId: 'u1', minute: 75 }),
      order('h9', 'o-1', 13, { userId: 'u1', minute: 61, receivedMinute: 62 }),
      page('h10', { anonymousId: 'a2', minute: 80, utm: { medium: 'email', source: 'crm' } }),
      track('h11', 'Unsubscribed', {}, { anonymousId: 'a2', minute: 85 }),
      identify('h12', { unsubscribed: false, city: 'Paris' }, { userId: 'u1', minute: 84 }),
      page('h13', { anonymousId: 'a3', minute: 5 }),
      track('h14', 'Clicked', {}, { anonymousId: 'a3', minute: 6 }),
      alias('h15', 'u0', { userId: 'u1', minute: 2 }),
      page('h16', { userId: 'u0', minute: 1, referrer: 'https://facebook.com/' }),
      page('h17', { anonymousId: 'a3', minute: 200 }),
    ];
    await harness.apply(history, 3);
    const expected = (await harness.contacts()).map(profileFields);
    const expectedIdentities = await harness.identityMap();
    // Events at the same instant follow log order in a timeline, so compare the sets.
    const timelines = (of: Harness, contacts: readonly ContactDocument[]) =>
      contacts.map((contact) => of.timeline(contact).sort());
    const expectedTimelines = timelines(harness, await harness.contacts());

    expect(expected.map((contact) => contact.contactId)).toEqual(['a3', 'u1']);
    expect(expected[1]).toMatchObject({
      userIds: ['u0', 'u1'],
      anonymousIds: ['a1', 'a2'],
      traits: { plan: 'pro', name: 'Ada', city: 'Paris' },
      consent: { email: { status: 'unsubscribed', at: at(85) } },
      firstSeenAt: at(0),
      lastSeenAt: at(85),
      conversions: 1,
      revenue: [{ currency: 'EUR', amountMinor: 1300 }],
      eventCounts: { page: 5, 'Product Viewed': 1, 'Order Completed': 1, Unsubscribed: 1 },
      firstTouch: { channel: 'paid_search', at: at(0) },
      lastTouch: { channel: 'referral', source: 'news.example', at: at(60) },
    });
    expect(expectedIdentities).toEqual({ a1: 'u1', a2: 'u1', a3: 'a3', u0: 'u1', u1: 'u1' });

    for (const seed of [1, 2, 3, 42, 1234, 99_999]) {
      const other = new Harness();
      await other.apply(shuffled(history, seed), 1 + (seed % 5));
      const contacts = await other.contacts();
      expect({ seed, profiles: contacts.map(profileFields) }).toEqual({ seed, profiles: expected });
      expect(await other.identityMap()).toEqual(expectedIdentities);
      expect(timelines(other, contacts)).toEqual(expectedTimelines);
      await other.store.close();
    }
  });
});

describe('a contact timeline read from the log', () => {
  it('given events of several identities, then newest first by event time, then log position', () => {
    const events = [
      page('t1', { anonymousId: 'a1', minute: 5 }),
      track('t2', 'Clicked', { button: 'buy' }, { userId: 'u1', minute: 9 }),
      identify('t3', { plan: 'pro' }, { userId: 'u1', anonymousId: 'a1', minute: 5 }),
      alias('t4', 'a1', { userId: 'u1', minute: 1 }),
    ].map((event) => harness.record(event));
    const notTracked: RecordedEvent = { ...events[0], eventId: 'other', type: 'CampaignLaunched' };

    const timeline = timelineOf([notTracked, ...events]);

    expect(timeline.map((entry) => entry.event.data.messageId)).toEqual(['t2', 't3', 't1', 't4']);
    expect(timelineOf(events, ['page', 'alias']).map((entry) => entry.type)).toEqual([
      'page',
      'alias',
    ]);
    expect(timelineEntry(timeline[0])).toEqual({
      eventId: 'event-t2',
      messageId: 't2',
      identity: 'u1',
      type: 'track',
      name: 'Clicked',
      occurredAt: at(9),
      receivedAt: at(9),
      properties: { button: 'buy' },
      propertiesTruncated: false,
      page: expect.objectContaining({ url: 'https://shop.example/landing' }),
      utm: null,
      position: events[1].position.toString(),
    });
    expect(timelineEntry(timeline[3])).toMatchObject({ type: 'alias', name: null });
    expect(timelineEntry(timeline[3]).properties).toEqual({ previousId: 'a1' });
  });

  it('given properties over the bound, then whole entries are kept while they fit', () => {
    const big = 'x'.repeat(maxTimelinePropertiesLength / 2);
    const [recorded] = [
      track('t1', 'Viewed', { a: big, b: big, c: 1 }, { userId: 'u1', minute: 0 }),
    ].map((event) => harness.record(event));

    const entry = timelineEntry(timelineOf([recorded])[0]);

    expect(entry).toMatchObject({ propertiesTruncated: true, properties: { a: big, c: 1 } });
    expect(JSON.stringify(entry.properties).length).toBeLessThanOrEqual(
      maxTimelinePropertiesLength,
    );
  });
});
