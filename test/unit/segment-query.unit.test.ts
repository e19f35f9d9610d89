import { performance } from 'node:perf_hooks';
import type { ConditionNode } from '../../src/domain/segment';
import { importRows } from '../../src/graphql/segment/segment.resolver';
import { EmbeddedReadStore } from '../../src/infra/read-store/embedded-read-store';
import { newContact, type OrderEntry } from '../../src/projections/contacts/contact-profile';
import type { Document } from '../../src/projections/read-store';
import {
  catalogId,
  changeId,
  mayBeChangeOf,
  membershipId,
  segmentChangesCollection,
  segmentContactId,
  segmentContactsCollection,
  segmentDirectoryCollection,
  segmentIdentitiesCollection,
  segmentMembershipsCollection,
  segmentSizesCollection,
  type SegmentCatalogDocument,
  type SegmentChangeDocument,
  type SegmentContactDocument,
  type SegmentContactEvent,
  type SegmentDirectoryDocument,
  type SegmentEntry,
  type SegmentMembershipDocument,
  type SegmentSizeDocument,
} from '../../src/projections/segments/segment-documents';
import { segmentContactOf } from '../../src/projections/segments/segment-contact';
import { previewSegment } from '../../src/projections/segments/segment-preview';
import {
  canonicalContactId,
  changesPage,
  contactSegments,
  dayCount,
  membersPage,
  membershipAt,
  membershipNow,
  segmentPerformance,
  segmentsPage,
  sizeHistory,
  type SegmentCollection,
} from '../../src/projections/segments/segment-query';

const ws = 'ws1';
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

// ---- documents built by hand ------------------------------------------------------------------

function entry(segmentId: string, values: Partial<SegmentEntry> = {}): SegmentEntry {
  return {
    segmentId,
    name: segmentId,
    description: null,
    kind: 'dynamic',
    version: 1,
    conditions: null,
    status: 'active',
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    archivedAt: null,
    size: 0,
    backfill: null,
    ...values,
  };
}

function catalog(segments: SegmentEntry[]): SegmentCatalogDocument {
  return {
    _id: catalogId(ws),
    workspaceId: ws,
    segments,
    contacts: 0,
    directoryChunks: 0,
    scheduledHours: [],
    nextDueAt: null,
    tickedAt: null,
  };
}

function membership(
  segmentId: string,
  contactId: string,
  values: Partial<SegmentMembershipDocument> = {},
): SegmentMembershipDocument {
  return {
    _id: membershipId(ws, segmentId, contactId),
    workspaceId: ws,
    segmentId,
    contactId,
    member: true,
    enteredAt: '2025-01-02T00:00:00.000Z',
    leftAt: null,
    changes: 1,
    lastChange: null,
    wakeAt: null,
    ...values,
  };
}

/** Log positions of the changes, one event each, in the order a fixture builds them. */
let nextPosition = 100n;

function change(
  segmentId: string,
  contactId: string,
  sequence: number,
  kind: 'entered' | 'left',
  at: string,
): SegmentChangeDocument {
  const position = (nextPosition += 1n);
  return {
    _id: changeId(ws, position, 0, segmentId),
    workspaceId: ws,
    segmentId,
    contactId,
    sequence,
    change: kind,
    at,
    version: 1,
    reason: { cause: 'conditions', conditions: ['conditions.0'], text: `${kind} #${sequence}` },
    position: String(position),
  };
}

function size(day: string, values: Partial<SegmentSizeDocument>): SegmentSizeDocument {
  return {
    _id: `${ws}:s1:${day}`,
    workspaceId: ws,
    segmentId: 's1',
    day,
    entered: 0,
    left: 0,
    size: 0,
    ...values,
  };
}

function profile(
  contactId: string,
  values: Partial<Omit<SegmentContactDocument, '_id' | 'contactId'>> = {},
): SegmentContactDocument {
  return {
    ...newContact(ws, contactId),
    _id: segmentContactId(ws, contactId),
    events: [],
    ...values,
  };
}

function order(occurredAt: string, amountMinor: number, currency = 'USD'): OrderEntry {
  return {
    key: `${occurredAt}:${amountMinor}`,
    orderId: null,
    amountMinor,
    currency,
    occurredAt,
    receivedAt: occurredAt,
    messageId: `m-${occurredAt}`,
  };
}

function event(name: string, at: string): SegmentContactEvent {
  return { name, at: Date.parse(at), properties: {} };
}

/** The embedded store with these documents committed, read as the API reads it. */
async function readModel(documents: Record<string, readonly Document[]>) {
  const store = EmbeddedReadStore.open({ path: ':memory:' });
  await store.commit({
    operations: Object.entries(documents).flatMap(([collection, list]) =>
      list.map((document) => ({ kind: 'replaceOne' as const, collection, document })),
    ),
  });
  const read: SegmentCollection = (logical) => store.collection(logical);
  return { store, read };
}

// ---- the catalog ------------------------------------------------------------------------------

describe('segmentsPage', () => {
  const segments = [
    entry('b', { createdAt: '2025-01-02T00:00:00.000Z' }),
    entry('a', { createdAt: '2025-01-02T00:00:00.000Z' }),
    entry('old', { createdAt: '2025-01-01T00:00:00.000Z', status: 'archived' }),
    entry('c', { createdAt: '2025-01-03T00:00:00.000Z' }),
  ];

  it('lists active segments oldest first, then by id, and pages after a cursor', () => {
    const first = segmentsPage(catalog(segments), {
      includeArchived: false,
      limit: 2,
      after: null,
    });
    expect(first.items.map((segment) => segment.segmentId)).toEqual(['a', 'b']);
    expect(first).toMatchObject({ hasNextPage: true, totalCount: 3 });

    const second = segmentsPage(catalog(segments), {
      includeArchived: false,
      limit: 2,
      after: { createdAt: '2025-01-02T00:00:00.000Z', segmentId: 'b' },
    });
    expect(second.items.map((segment) => segment.segmentId)).toEqual(['c']);
    expect(second.hasNextPage).toBe(false);
  });

  it('includes archived segments only when asked, and knows no segment without a catalog', () => {
    const all = segmentsPage(catalog(segments), { includeArchived: true, limit: 10, after: null });
    expect(all.items.map((segment) => segment.segmentId)).toEqual(['old', 'a', 'b', 'c']);
    expect(segmentsPage(null, { includeArchived: true, limit: 10, after: null })).toEqual({
      items: [],
      hasNextPage: false,
      totalCount: 0,
    });
  });
});

// ---- members and memberships ------------------------------------------------------------------

describe('members and memberships', () => {
  it('pages current members, latest to enter first, then by contact id', async () => {
    const { read } = await readModel({
      [segmentMembershipsCollection]: [
        membership('s1', 'c1', { enteredAt: '2025-01-02T00:00:00.000Z' }),
        membership('s1', 'c2', { enteredAt: '2025-01-03T00:00:00.000Z' }),
        membership('s1', 'c3', { enteredAt: '2025-01-03T00:00:00.000Z' }),
        membership('s1', 'gone', {
          member: false,
          enteredAt: null,
          leftAt: '2025-01-04T00:00:00Z',
        }),
        membership('s2', 'c4'),
      ],
    });

    const first = await membersPage(read, ws, 's1', { limit: 2, after: null });
    expect(first.items.map((member) => member.contactId)).toEqual(['c2', 'c3']);
    expect(first).toMatchObject({ hasNextPage: true, totalCount: 3 });

    const last = first.items[1];
    const second = await membersPage(read, ws, 's1', { limit: 2, after: last });
    expect(second.items).toEqual([{ contactId: 'c1', enteredAt: '2025-01-02T00:00:00.000Z' }]);
    expect(second.hasNextPage).toBe(false);
  });

  describe('a contact who entered, left and entered again', () => {
    const changes = [
      change('s1', 'c1', 0, 'entered', '2025-01-01T00:00:00.000Z'),
      change('s1', 'c1', 1, 'left', '2025-01-05T00:00:00.000Z'),
      change('s1', 'c1', 2, 'entered', '2025-01-10T00:00:00.000Z'),
    ];
    const documents = {
      [segmentIdentitiesCollection]: [{ _id: `${ws}:anon-1`, contactId: 'c1' }],
      [segmentMembershipsCollection]: [
        membership('s1', 'c1', {
          enteredAt: '2025-01-10T00:00:00.000Z',
          leftAt: '2025-01-05T00:00:00.000Z',
          changes: 3,
          lastChange: changes[2]._id,
        }),
      ],
      [segmentChangesCollection]: changes,
    };

    it('is found by any identity, and stands now as the membership document says', async () => {
      const { read } = await readModel(documents);
      const contactId = await canonicalContactId(read, ws, 'anon-1');
      expect(contactId).toBe('c1');
      expect(await canonicalContactId(read, ws, 'unknown')).toBe('unknown');

      expect(await membershipNow(read, ws, 's1', contactId)).toEqual({
        member: true,
        enteredAt: '2025-01-10T00:00:00.000Z',
        leftAt: '2025-01-05T00:00:00.000Z',
        reason: { cause: 'conditions', conditions: ['conditions.0'], text: 'entered #2' },
      });
    });

    it('stands at an instant as its latest change up to that instant says', async () => {
      const { read } = await readModel(documents);
      const at = (iso: string) => membershipAt(read, ws, 's1', 'c1', new Date(iso));

      expect(await at('2024-12-31T00:00:00.000Z')).toEqual({
        member: false,
        enteredAt: null,
        leftAt: null,
        reason: null,
      });
      expect(await at('2025-01-03T00:00:00.000Z')).toMatchObject({
        member: true,
        enteredAt: '2025-01-01T00:00:00.000Z',
        leftAt: null,
      });
      expect(await at('2025-01-05T00:00:00.000Z')).toMatchObject({
        member: false,
        enteredAt: null,
        leftAt: '2025-01-05T00:00:00.000Z',
        reason: { text: 'left #1' },
      });
      expect(await at('2025-02-01T00:00:00.000Z')).toMatchObject({
        member: true,
        enteredAt: '2025-01-10T00:00:00.000Z',
        leftAt: '2025-01-05T00:00:00.000Z',
      });
    });

    it('orders changes at one instant by their sequence, past ten', async () => {
      const flapping = Array.from({ length: 12 }, (_, sequence) =>
        change(
          's2',
          'c1',
          sequence,
          sequence % 2 === 0 ? 'entered' : 'left',
          '2025-01-01T00:00:00.000Z',
        ),
      );
      const { read } = await readModel({ [segmentChangesCollection]: flapping });
      // The twelfth change (sequence 11) is the last: a left.
      expect(await membershipAt(read, ws, 's2', 'c1', new Date('2025-01-02'))).toMatchObject({
        member: false,
        reason: { text: 'left #11' },
      });
    });

    it('stands without a reason on a membership of the previous read model, which names no change', async () => {
      const { lastChange: _none, ...previousVersion } = documents[segmentMembershipsCollection][0];
      const { read } = await readModel({
        ...documents,
        [segmentMembershipsCollection]: [previousVersion],
      });
      const lookups: unknown[] = [];
      const watched: typeof read = <T extends Document>(logical: string) => {
        const inner = read<T>(logical);
        return {
          ...inner,
          findOne: (filter) => {
            if (logical === segmentChangesCollection) lookups.push(filter);
            return inner.findOne(filter);
          },
        };
      };

      expect(await membershipNow(watched, ws, 's1', 'c1')).toEqual({
        member: true,
        enteredAt: '2025-01-10T00:00:00.000Z',
        leftAt: '2025-01-05T00:00:00.000Z',
        reason: null,
      });
      expect(lookups).toEqual([]);
    });

    it('is never a member of a segment it has no document for', async () => {
      const { read } = await readModel(documents);
      expect(await membershipNow(read, ws, 's9', 'c1')).toEqual({
        member: false,
        enteredAt: null,
        leftAt: null,
        reason: null,
      });
    });
  });

  it("lists a contact's active segments, not archived ones nor those it left", async () => {
    const { read } = await readModel({
      [segmentMembershipsCollection]: [
        membership('s1', 'c1', { enteredAt: '2025-01-03T00:00:00.000Z' }),
        membership('s2', 'c1'),
        membership('s3', 'c1', { member: false, enteredAt: null }),
        membership('s1', 'c2'),
      ],
    });
    const segments = catalog([entry('s1'), entry('s2', { status: 'archived' }), entry('s3')]);
    const found = await contactSegments(read, segments, ws, 'c1');
    expect(found.map(({ segment, enteredAt }) => [segment.segmentId, enteredAt])).toEqual([
      ['s1', '2025-01-03T00:00:00.000Z'],
    ]);
  });
});

// ---- sizes and the change log ------------------------------------------------------------------

describe('sizeHistory', () => {
  const segment = { segmentId: 's1', createdAt: '2025-01-03T12:00:00.000Z' };

  it('has a point per UTC day, carrying the size across days without changes', async () => {
    const { read } = await readModel({
      [segmentSizesCollection]: [
        size('2025-01-03', { entered: 5, size: 5 }),
        size('2025-01-06', { entered: 1, left: 3, size: 3 }),
        size('2025-01-09', { entered: 1, size: 4 }),
      ],
    });
    const points = await sizeHistory(
      read,
      ws,
      segment,
      new Date('2025-01-02T23:00:00.000Z'),
      new Date('2025-01-07T01:00:00.000Z'),
    );
    expect(points).toEqual([
      { day: '2025-01-02', size: 0, entered: 0, left: 0 },
      { day: '2025-01-03', size: 5, entered: 5, left: 0 },
      { day: '2025-01-04', size: 5, entered: 0, left: 0 },
      { day: '2025-01-05', size: 5, entered: 0, left: 0 },
      { day: '2025-01-06', size: 3, entered: 1, left: 3 },
      { day: '2025-01-07', size: 3, entered: 0, left: 0 },
    ]);
  });

  it('starts from the size of the last day before the range', async () => {
    const { read } = await readModel({
      [segmentSizesCollection]: [
        size('2025-01-03', { entered: 5, size: 5 }),
        size('2025-01-06', { left: 2, size: 3 }),
      ],
    });
    const points = await sizeHistory(
      read,
      ws,
      segment,
      new Date('2025-01-08T00:00:00.000Z'),
      new Date('2025-01-08T00:00:00.000Z'),
    );
    expect(points).toEqual([{ day: '2025-01-08', size: 3, entered: 0, left: 0 }]);
  });

  it('counts the days of a range, both ends included', () => {
    expect(dayCount(new Date('2025-01-01T23:59:00Z'), new Date('2025-01-02T00:00:00Z'))).toBe(2);
    expect(dayCount(new Date('2025-01-01T00:00:00Z'), new Date('2026-02-04T00:00:00Z'))).toBe(400);
  });
});

describe('change ids', () => {
  it('sort in log order, then in the order one event recorded them', () => {
    const ids = [
      changeId(ws, 10n, 0, 'b'),
      changeId(ws, 9n, 1, 'a'),
      changeId(ws, 9n, 0, 'z'),
      changeId(ws, 10n, 11, 'a'),
      changeId(ws, 10n, 2, 'a'),
    ];
    expect([...ids].sort()).toEqual([ids[2], ids[1], ids[0], ids[4], ids[3]]);
  });

  it("tell a subscriber cheaply which may be its segment's, the document deciding the rest", () => {
    const id = changeId(ws, 7n, 0, 'team:vip');
    expect(mayBeChangeOf(id, ws, 'team:vip')).toBe(true);
    expect(mayBeChangeOf(id, ws, 'vip')).toBe(true);
    expect(mayBeChangeOf(id, ws, 'team')).toBe(false);
    expect(mayBeChangeOf(id, 'other', 'team:vip')).toBe(false);
  });
});

describe('changesPage', () => {
  const documents = {
    [segmentChangesCollection]: [
      change('s1', 'c1', 0, 'entered', '2025-01-01T00:00:00.000Z'),
      change('s1', 'c2', 0, 'entered', '2025-01-02T00:00:00.000Z'),
      change('s1', 'c1', 1, 'left', '2025-01-03T00:00:00.000Z'),
      change('s1', 'c3', 0, 'entered', '2025-01-03T00:00:00.000Z'),
      change('s2', 'c1', 0, 'entered', '2025-01-04T00:00:00.000Z'),
    ],
  };
  const everything = { contactId: null, from: null, to: null };

  it('lists the changes newest first and pages after a cursor', async () => {
    const { read } = await readModel(documents);
    const first = await changesPage(read, ws, 's1', everything, { limit: 2, after: null });
    expect(first.items.map((item) => [item.contactId, item.change])).toEqual([
      ['c3', 'entered'],
      ['c1', 'left'],
    ]);
    expect(first).toMatchObject({ hasNextPage: true, totalCount: 4 });

    const last = first.items[1];
    const second = await changesPage(read, ws, 's1', everything, {
      limit: 2,
      after: { at: last.at, id: last._id },
    });
    expect(second.items.map((item) => [item.contactId, item.change])).toEqual([
      ['c2', 'entered'],
      ['c1', 'entered'],
    ]);
    expect(second.hasNextPage).toBe(false);
  });

  it('filters by contact and by a range of times, both ends included', async () => {
    const { read } = await readModel(documents);
    const ofC1 = await changesPage(
      read,
      ws,
      's1',
      { ...everything, contactId: 'c1' },
      { limit: 10, after: null },
    );
    expect(ofC1.items.map((item) => item.change)).toEqual(['left', 'entered']);

    const inRange = await changesPage(
      read,
      ws,
      's1',
      { contactId: null, from: new Date('2025-01-02'), to: new Date('2025-01-03') },
      { limit: 10, after: null },
    );
    expect(inRange.items.map((item) => item.contactId)).toEqual(['c3', 'c1', 'c2']);
    expect(inRange.totalCount).toBe(3);
  });
});

// ---- performance ------------------------------------------------------------------------------

describe('segmentPerformance', () => {
  const from = new Date('2025-01-01T00:00:00.000Z');
  const to = new Date('2025-01-03T00:00:00.000Z');

  it('counts conversions, revenue per member per currency and events per member per day', async () => {
    const { read } = await readModel({
      [segmentMembershipsCollection]: [
        membership('s1', 'c1'),
        membership('s1', 'c2'),
        membership('s1', 'c3'),
        membership('s1', 'former', { member: false, enteredAt: null }),
      ],
      [segmentContactsCollection]: [
        profile('c1', {
          orders: [
            order('2025-01-01T10:00:00.000Z', 1000),
            order('2025-01-02T10:00:00.000Z', 500, 'JPY'),
            order('2025-01-05T10:00:00.000Z', 99_999),
          ],
          events: [
            event('Viewed', '2025-01-01T00:00:00.000Z'),
            event('Viewed', '2025-01-03T00:00:00.000Z'),
            event('Viewed', '2025-01-04T00:00:00.000Z'),
          ],
        }),
        profile('c2', {
          orders: [order('2025-01-02T00:00:00+02:00', 1001)],
          events: [event('Clicked', '2025-01-02T00:00:00.000Z')],
        }),
        profile('c3', { orders: [order('2024-12-31T23:59:59.999Z', 700)] }),
        profile('former', {
          orders: [order('2025-01-02T00:00:00.000Z', 5000)],
          events: [event('Viewed', '2025-01-02T00:00:00.000Z')],
        }),
      ],
    });

    expect(await segmentPerformance(read, ws, 's1', { from, to })).toEqual({
      segmentId: 's1',
      members: 3,
      convertedMembers: 2,
      conversionRate: 2 / 3,
      // (1000 + 1001) / 3 = 667 cents; 500 / 3 = 167 yen.
      revenuePerMember: [
        { currency: 'JPY', amountMinor: 167 },
        { currency: 'USD', amountMinor: 667 },
      ],
      // 3 events in 2 days over 3 members.
      eventsPerMemberPerDay: 3 / 3 / 2,
    });
  });

  it('answers null rates for a segment without members', async () => {
    const { read } = await readModel({});
    expect(await segmentPerformance(read, ws, 's1', { from, to })).toEqual({
      segmentId: 's1',
      members: 0,
      convertedMembers: 0,
      conversionRate: null,
      revenuePerMember: [],
      eventsPerMemberPerDay: null,
    });
  });
});

// ---- preview ----------------------------------------------------------------------------------

describe('segmentContactOf', () => {
  it('reads revenue in major units per currency, and the last seen instant in ms', () => {
    const contact = segmentContactOf(
      profile('c1', {
        traits: { plan: 'pro' },
        revenue: [
          { currency: 'USD', amountMinor: 150_050 },
          { currency: 'JPY', amountMinor: 1500 },
          { currency: 'BHD', amountMinor: 1234 },
        ],
        conversions: 3,
        lastSeenAt: '2025-01-01T00:00:00.000Z',
        events: [event('Viewed', '2025-01-01T00:00:00.000Z')],
      }),
    );
    expect(contact).toEqual({
      traits: { plan: 'pro' },
      events: [{ name: 'Viewed', at: Date.parse('2025-01-01T00:00:00.000Z'), properties: {} }],
      revenueByCurrency: { USD: 1500.5, JPY: 1500, BHD: 1.234 },
      conversions: 3,
      lastSeenAt: Date.parse('2025-01-01T00:00:00.000Z'),
    });
  });

  it('reads fields a projection left out as empty', () => {
    expect(segmentContactOf({})).toEqual({
      traits: {},
      events: [],
      revenueByCurrency: {},
      conversions: 0,
      lastSeenAt: null,
    });
  });
});

describe('previewSegment', () => {
  const now = Date.parse('2025-02-01T00:00:00.000Z');
  const proBuyers: ConditionNode = {
    kind: 'and',
    conditions: [
      {
        kind: 'trait',
        condition: { property: 'plan', operator: 'eq', value: 'pro', caseSensitive: true },
      },
      {
        kind: 'performed',
        event: 'Bought',
        filters: [],
        count: { op: 'atLeast', value: 1 },
        window: { lastDays: 30 },
      },
    ],
  };

  function directory(contactIds: readonly string[], chunkSize: number): SegmentDirectoryDocument[] {
    const chunks: SegmentDirectoryDocument[] = [];
    for (let start = 0; start < contactIds.length; start += chunkSize) {
      const chunk = chunks.length;
      chunks.push({
        _id: `${ws}:${chunk}`,
        workspaceId: ws,
        chunk,
        contactIds: contactIds.slice(start, start + chunkSize),
      });
    }
    return chunks;
  }

  it('evaluates every contact of the directory, with a sample of the matching ones', async () => {
    const contacts = [
      profile('c1', { traits: { plan: 'pro' }, events: [event('Bought', '2025-01-20T00:00:00Z')] }),
      profile('c2', { traits: { plan: 'pro' }, events: [event('Bought', '2024-12-01T00:00:00Z')] }),
      profile('c3', {
        traits: { plan: 'free' },
        events: [event('Bought', '2025-01-25T00:00:00Z')],
      }),
      profile('c4', { traits: { plan: 'pro' }, events: [event('Bought', '2025-01-30T00:00:00Z')] }),
      profile('c5', { traits: { plan: 'pro' }, events: [event('Bought', '2025-01-31T00:00:00Z')] }),
    ];
    const { read } = await readModel({
      [segmentContactsCollection]: contacts,
      [segmentDirectoryCollection]: directory(
        contacts.map((contact) => contact.contactId),
        2,
      ),
    });
    let pauses = 0;
    const preview = await previewSegment(read, ws, proBuyers, now, {
      sampleSize: 2,
      pause: async () => {
        pauses += 1;
      },
    });
    expect(preview).toEqual({ size: 3, sample: ['c1', 'c4'], evaluated: 5 });
    expect(pauses).toBe(3);
  });

  it('answers memberOf from the referenced segment’s current members', async () => {
    const contacts = ['c1', 'c2', 'c3'].map((id) =>
      profile(id, { lastSeenAt: '2025-01-31T00:00:00.000Z' }),
    );
    const { read } = await readModel({
      [segmentContactsCollection]: contacts,
      [segmentDirectoryCollection]: directory(['c1', 'c2', 'c3'], 10),
      [segmentMembershipsCollection]: [
        membership('vip', 'c1'),
        membership('vip', 'c2', { member: false, enteredAt: null }),
      ],
    });
    const tree: ConditionNode = {
      kind: 'and',
      conditions: [
        { kind: 'lastSeen', after: { daysAgo: 7 } },
        { kind: 'not', condition: { kind: 'memberOf', segmentId: 'vip' } },
      ],
    };
    const preview = await previewSegment(read, ws, tree, now, { sampleSize: 10 });
    expect(preview).toEqual({ size: 2, sample: ['c2', 'c3'], evaluated: 3 });
  });

  it('walks 5,000 contacts through the embedded store (set TOUCHLINE_MEASURE to print the time)', async () => {
    const count = 5_000;
    const ids = Array.from({ length: count }, (_, index) => `contact-${index}`);
    const contacts = ids.map((id, index) =>
      profile(id, {
        traits: { plan: index % 2 === 0 ? 'pro' : 'free', email: `${id}@example.com` },
        events: Array.from({ length: 10 }, (__, n) =>
          event(
            n % 3 === 0 ? 'Bought' : 'Viewed',
            new Date(now - ((index + n) % 60) * DAY).toISOString(),
          ),
        ),
        revenue: [{ currency: 'USD', amountMinor: index * 100 }],
        lastSeenAt: new Date(now - (index % 90) * DAY).toISOString(),
      }),
    );
    const { read } = await readModel({
      [segmentContactsCollection]: contacts,
      [segmentDirectoryCollection]: directory(ids, 2_000),
    });
    const started = performance.now();
    const preview = await previewSegment(read, ws, proBuyers, now, { sampleSize: 20 });
    const tookMs = performance.now() - started;

    const expected = contacts.filter(
      (contact, index) =>
        index % 2 === 0 &&
        contact.events.some(
          (item) => item.name === 'Bought' && item.at >= now - 30 * DAY && item.at <= now,
        ),
    ).length;
    expect(preview.evaluated).toBe(count);
    expect(preview.size).toBe(expected);
    expect(preview.sample).toHaveLength(20);
    if (process.env.TOUCHLINE_MEASURE) {
      console.info(`preview of ${count} contacts: ${tookMs.toFixed(0)} ms`);
    }
  });
});

// ---- import files -----------------------------------------------------------------------------

describe('importRows', () => {
  it('reads the first column of each record, skipping a header and blank lines', () => {
    const csv =
      '\uFEFFEmail,name\r\nAda@Example.com,Ada\r\n\r\n"u-1, quoted",x\n  anon-2  \n,empty\n';
    expect(importRows(csv)).toEqual([
      { row: 2, value: 'Ada@Example.com' },
      { row: 4, value: 'u-1, quoted' },
      { row: 5, value: 'anon-2' },
      { row: 6, value: '' },
    ]);
  });

  it('keeps a first row that is not a header, and reads quotes and line breaks in fields', () => {
    const csv = 'c1\n"a ""b""","multi\nline"\nc3';
    expect(importRows(csv)).toEqual([
      { row: 1, value: 'c1' },
      { row: 2, value: 'a "b"' },
      { row: 3, value: 'c3' },
    ]);
  });

  it('refuses more than 100,000 rows', () => {
    const csv = Array.from({ length: 100_001 }, (_, index) => `c${index}`).join('\n');
    expect(() => importRows(csv)).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ reason: 'TOO_MANY_ROWS' }) }),
    );
  });
});
