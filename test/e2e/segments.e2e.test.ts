/**
 * Segments end to end: definitions saved over GraphQL, Segment traffic through `/v1/batch`,
 * membership read back (members, a contact's segments, membership at an instant, changes with
 * their reasons, daily sizes, preview, performance), live changes over graphql-ws (including a
 * time window passing, moved by the server's own segment clock), a static segment's CSV
 * import, and bad inputs that change nothing.
 *
 * Every expected membership is worked out by hand from ANALYTICS.md ("Segments") for the
 * people described in `traffic`, not by Touchline's code.
 */
import { gql } from 'graphql-request';
import {
  graphQLError,
  postBatch,
  startTestServer,
  takeUntil,
  type TestServer,
  until,
} from './harness';

const SECOND = 1000;
const DAY = 24 * 60 * 60 * SECOND;
const workspace = 'default';

type Who = { userId: string } | { anonymousId: string };

const identify = (messageId: string, who: Who, traits: object, timestamp: string) => ({
  type: 'identify',
  ...who,
  messageId,
  timestamp,
  traits,
});
const track = (
  messageId: string,
  who: Who,
  event: string,
  properties: object,
  timestamp: string,
) => ({
  type: 'track',
  ...who,
  messageId,
  timestamp,
  event,
  properties,
});

describe('segments over GraphQL and graphql-ws', () => {
  let touchline: TestServer;
  let position = '0';
  const ago = (millis: number) => new Date(Date.now() - millis).toISOString();

  async function send(batch: object[]): Promise<string> {
    const body = await postBatch(touchline, batch);
    expect(body).toMatchObject({ accepted: batch.length, rejected: [] });
    position = body.position;
    return body.position;
  }

  const request = <T>(query: string, variables: Record<string, unknown> = {}) =>
    touchline.client(workspace).request<T>(query, { minPosition: position, ...variables });

  const create = async (input: object): Promise<void> => {
    const result = await touchline.client(workspace).request<{
      createSegment: { position: string; version: number };
    }>(
      gql`
        mutation ($input: CreateSegmentInput!) {
          createSegment(input: $input) {
            position
            version
          }
        }
      `,
      {
        input,
      },
    );
    expect(result.createSegment.version).toBe(1);
    position = result.createSegment.position;
  };

  const members = async (segmentId: string): Promise<string[]> => {
    const { segmentMembers } = await request<{
      segmentMembers: { nodes: { contactId: string }[] };
    }>(
      gql`
        query ($id: ID!, $minPosition: String) {
          segmentMembers(segmentId: $id, first: 50, minPosition: $minPosition) {
            nodes {
              contactId
            }
          }
        }
      `,
      { id: segmentId },
    );
    return segmentMembers.nodes.map((node) => node.contactId).sort();
  };

  beforeAll(async () => {
    touchline = await startTestServer();
  });
  afterAll(async () => {
    await touchline.stop();
  });

  it('keeps dynamic segments current as traffic arrives, and explains every change', async () => {
    await create({
      id: 'pro',
      name: 'Pro plan',
      conditions: { kind: 'trait', property: 'plan', operator: 'eq', value: 'pro' },
    });
    await create({
      id: 'buyers',
      name: 'Buyers',
      conditions: { kind: 'conversionCount', op: 'gte', value: 1 },
    });
    await create({
      id: 'pro-buyers',
      name: 'Pro buyers',
      conditions: {
        kind: 'and',
        conditions: [
          { kind: 'memberOf', segmentId: 'pro' },
          { kind: 'memberOf', segmentId: 'buyers' },
        ],
      },
    });
    await create({
      id: 'browsers',
      name: 'Browsing this week',
      conditions: {
        kind: 'performed',
        event: 'Product Viewed',
        filters: [{ property: 'category', operator: 'eq', value: 'shoes' }],
        count: { op: 'atLeast', value: 2 },
        window: { lastDays: 7 },
      },
    });

    const listeners = touchline.server.changeFeed.subscriberCount;
    const proBuyers = touchline.subscriptions(workspace).iterate<{
      segmentMembershipChanged: { contactId: string; change: string; reason: { cause: string } };
    }>({
      query: `subscription { segmentMembershipChanged(segmentId: "pro-buyers") { contactId change reason { cause } } }`,
    });
    const arriving = takeUntil(
      proBuyers[Symbol.asyncIterator](),
      (values) => values.length >= 1,
      10_000,
    );
    await until(() => touchline.server.changeFeed.subscriberCount > listeners, 'the subscription');

    // ann: pro, one order → pro, buyers, pro-buyers. bob: free, one order → buyers.
    // cat: pro, two shoe views in the week → pro, browsers. dan: two shoe views, one of them
    // 8 days ago → only one in the window: nothing. eve: two hat views → nothing.
    await send([
      identify('ann-1', { userId: 'ann' }, { plan: 'pro', email: 'Ann@Example.com' }, ago(2 * DAY)),
      track(
        'ann-2',
        { userId: 'ann' },
        'Order Completed',
        { order_id: 'o-1', revenue: 40, currency: 'EUR' },
        ago(DAY),
      ),
      identify(
        'bob-1',
        { userId: 'bob' },
        { plan: 'free', email: 'bob@example.com' },
        ago(2 * DAY),
      ),
      track(
        'bob-2',
        { userId: 'bob' },
        'Order Completed',
        { order_id: 'o-2', revenue: 10, currency: 'EUR' },
        ago(DAY),
      ),
      identify('cat-1', { userId: 'cat' }, { plan: 'pro' }, ago(3 * DAY)),
      track('cat-2', { userId: 'cat' }, 'Product Viewed', { category: 'shoes' }, ago(3 * DAY)),
      track('cat-3', { userId: 'cat' }, 'Product Viewed', { category: 'shoes' }, ago(2 * DAY)),
      track('dan-1', { userId: 'dan' }, 'Product Viewed', { category: 'shoes' }, ago(8 * DAY)),
      track('dan-2', { userId: 'dan' }, 'Product Viewed', { category: 'shoes' }, ago(DAY)),
      track('eve-1', { anonymousId: 'eve' }, 'Product Viewed', { category: 'hats' }, ago(DAY)),
      track('eve-2', { anonymousId: 'eve' }, 'Product Viewed', { category: 'hats' }, ago(DAY)),
    ]);

    expect(await members('pro')).toEqual(['ann', 'cat']);
    expect(await members('buyers')).toEqual(['ann', 'bob']);
    expect(await members('pro-buyers')).toEqual(['ann']);
    expect(await members('browsers')).toEqual(['cat']);
    const [pushed] = await arriving;
    expect(pushed.data?.segmentMembershipChanged).toEqual({
      contactId: 'ann',
      change: 'ENTERED',
      reason: { cause: 'CONDITIONS' },
    });

    const { segment, contactSegments, segmentChanges } = await request<{
      segment: { size: number; version: number; backfill: { done: boolean } };
      contactSegments: { segment: { id: string } }[];
      segmentChanges: {
        nodes: {
          contactId: string;
          change: string;
          reason: { cause: string; conditions: string[] };
        }[];
      };
    }>(gql`
      query ($minPosition: String) {
        segment(id: "pro-buyers", minPosition: $minPosition) {
          size
          version
          backfill {
            done
          }
        }
        contactSegments(contactId: "ann") {
          segment {
            id
          }
        }
        segmentChanges(segmentId: "pro-buyers", first: 10) {
          nodes {
            contactId
            change
            reason {
              cause
              conditions
            }
          }
        }
      }
    `);
    expect(segment).toEqual({ size: 1, version: 1, backfill: { done: true } });
    expect(contactSegments.map((entry) => entry.segment.id).sort()).toEqual([
      'buyers',
      'pro',
      'pro-buyers',
    ]);
    expect(segmentChanges.nodes).toHaveLength(1);
    // ann became a buyer after she was pro: the second memberOf is the one that flipped.
    expect(segmentChanges.nodes[0]).toEqual({
      contactId: 'ann',
      change: 'ENTERED',
      reason: { cause: 'CONDITIONS', conditions: ['conditions.conditions.1'] },
    });

    // bob upgrades: he enters pro and, through it, pro-buyers.
    const upgraded = new Date().toISOString();
    await send([identify('bob-3', { userId: 'bob' }, { plan: 'pro' }, upgraded)]);
    expect(await members('pro-buyers')).toEqual(['ann', 'bob']);
    const { before, after } = await request<{
      before: { member: boolean };
      after: { member: boolean; enteredAt: string; reason: { cause: string } | null };
    }>(
      gql`
        query ($minPosition: String, $before: DateTime!) {
          before: segmentMembership(
            segmentId: "pro-buyers"
            contactId: "bob"
            at: $before
            minPosition: $minPosition
          ) {
            member
          }
          after: segmentMembership(segmentId: "pro-buyers", contactId: "bob") {
            member
            enteredAt
            reason {
              cause
            }
          }
        }
      `,
      { before: ago(DAY) },
    );
    expect(before.member).toBe(false);
    expect(after.member).toBe(true);
    // Read from the change the projection recorded, by the id it gave it.
    expect(after.reason).toEqual({ cause: 'CONDITIONS' });

    const today = new Date().toISOString().slice(0, 10);
    const { segmentSizeHistory } = await request<{
      segmentSizeHistory: { day: string; size: number; entered: number; left: number }[];
    }>(
      gql`
        query ($minPosition: String, $from: DateTime!, $to: DateTime!) {
          segmentSizeHistory(
            segmentId: "pro-buyers"
            from: $from
            to: $to
            minPosition: $minPosition
          ) {
            day
            size
            entered
            left
          }
        }
      `,
      { from: ago(DAY), to: new Date().toISOString() },
    );
    expect(segmentSizeHistory.at(-1)).toEqual({ day: today, size: 2, entered: 2, left: 0 });
  });

  it('previews an unsaved tree and compares segments by performance', async () => {
    const { previewSegment, segmentPerformance } = await request<{
      previewSegment: { size: number; sample: string[]; evaluated: number };
      segmentPerformance: {
        segmentId: string;
        members: number;
        convertedMembers: number;
        conversionRate: number;
        revenuePerMember: { amount: string; currency: string }[];
      }[];
    }>(
      gql`
        query ($minPosition: String, $from: DateTime!, $to: DateTime!) {
          previewSegment(
            conditions: {
              kind: "or"
              conditions: [
                {
                  kind: "trait"
                  property: "email"
                  operator: "endsWith"
                  value: "@example.com"
                  caseSensitive: false
                }
                { kind: "performed", event: "Product Viewed", count: { op: "atLeast", value: 2 } }
              ]
            }
          ) {
            size
            sample
            evaluated
          }
          segmentPerformance(
            segmentIds: ["pro", "buyers"]
            from: $from
            to: $to
            minPosition: $minPosition
          ) {
            segmentId
            members
            convertedMembers
            conversionRate
            revenuePerMember {
              amount
              currency
            }
          }
        }
      `,
      { from: ago(10 * DAY), to: new Date().toISOString() },
    );
    // ann and bob by email; cat, dan and eve by their two views each.
    expect(previewSegment.size).toBe(5);
    expect(previewSegment.sample.sort()).toEqual(['ann', 'bob', 'cat', 'dan', 'eve']);
    expect(previewSegment.evaluated).toBe(5);
    // pro: ann (EUR 40), bob (EUR 10), cat → 2 of 3 converted, EUR 50 / 3 per member.
    expect(segmentPerformance).toEqual([
      {
        segmentId: 'pro',
        members: 3,
        convertedMembers: 2,
        conversionRate: 2 / 3,
        revenuePerMember: [{ amount: '16.67', currency: 'EUR' }],
      },
      {
        segmentId: 'buyers',
        members: 2,
        convertedMembers: 2,
        conversionRate: 1,
        revenuePerMember: [{ amount: '25.00', currency: 'EUR' }],
      },
    ]);
  });

  it('moves a contact out when its window passes, pushed over graphql-ws', async () => {
    const listeners = touchline.server.changeFeed.subscriberCount;
    const changes = touchline.subscriptions(workspace).iterate<{
      segmentMembershipChanged: {
        contactId: string;
        change: string;
        at: string;
        reason: { cause: string };
      };
    }>({
      query: `subscription { segmentMembershipChanged(segmentId: "browsers") { contactId change at reason { cause } } }`,
    });
    const arriving = takeUntil(
      changes[Symbol.asyncIterator](),
      (values) => values.some((value) => value.data?.segmentMembershipChanged.change === 'LEFT'),
      30_000,
    );
    await until(() => touchline.server.changeFeed.subscriberCount > listeners, 'the subscription');

    // fay's two views are 7 days minus 10 seconds old: she is in for 10 more seconds.
    const first = Date.now() - 7 * DAY + 10 * SECOND;
    await send([
      track(
        'fay-1',
        { userId: 'fay' },
        'Product Viewed',
        { category: 'shoes' },
        new Date(first).toISOString(),
      ),
      track(
        'fay-2',
        { userId: 'fay' },
        'Product Viewed',
        { category: 'shoes' },
        new Date(first).toISOString(),
      ),
    ]);
    const values = (await arriving).map((value) => value.data!.segmentMembershipChanged);
    expect(
      values.map(({ contactId, change, reason }) => [contactId, change, reason.cause]),
    ).toEqual([
      ['fay', 'ENTERED', 'CONDITIONS'],
      ['fay', 'LEFT', 'TIME'],
    ]);
    // The exit is recorded at the instant the window passed, not when the clock ticked.
    expect(Date.parse(values[1].at)).toBe(first + 7 * DAY + 1);
  });

  it('imports a static segment from CSV and reports the rows that matched nothing', async () => {
    await create({ id: 'vip', name: 'VIP', kind: 'STATIC' });
    // A subscription to one segment needs the segment known to the read model first.
    await request(gql`
      query ($minPosition: String) {
        segment(id: "vip", minPosition: $minPosition) {
          id
        }
      }
    `);
    const listeners = touchline.server.changeFeed.subscriberCount;
    const sizes = touchline.subscriptions(workspace).iterate<{
      segmentSizeChanged: { segmentId: string; size: number };
    }>({ query: `subscription { segmentSizeChanged(segmentId: "vip") { segmentId size } }` });
    const pushed = takeUntil(sizes[Symbol.asyncIterator](), (values) =>
      values.some((value) => value.data?.segmentSizeChanged.size === 3),
    );
    await until(() => touchline.server.changeFeed.subscriberCount > listeners, 'the subscription');
    const { importSegmentMembers } = await touchline.client(workspace).request<{
      importSegmentMembers: {
        matched: number;
        added: number;
        unmatched: { row: number; value: string; reason: string }[];
        position: string;
      };
    }>(
      gql`
        mutation ($csv: String!) {
          importSegmentMembers(id: "vip", csv: $csv) {
            matched
            added
            unmatched {
              row
              value
              reason
            }
            position
          }
        }
      `,
      { csv: 'email\nann@example.com\nbob\nnobody@example.com\n"eve"\n' },
    );
    position = importSegmentMembers.position;
    expect(importSegmentMembers).toMatchObject({
      matched: 3,
      added: 3,
      unmatched: [{ row: 4, value: 'nobody@example.com', reason: 'UNKNOWN_EMAIL' }],
    });
    expect(await members('vip')).toEqual(['ann', 'bob', 'eve']);
    // The size is pushed as the import lands, for this segment only.
    const pushedSizes = (await pushed).map((value) => value.data!.segmentSizeChanged);
    expect(pushedSizes.every((value) => value.segmentId === 'vip')).toBe(true);
    expect(pushedSizes.at(-1)).toEqual({ segmentId: 'vip', size: 3 });
  });

  it('refuses bad definitions with the path of the offending condition, and stores nothing', async () => {
    const refuse = (input: object) =>
      graphQLError(
        touchline.client(workspace).request(
          gql`
            mutation ($input: CreateSegmentInput!) {
              createSegment(input: $input) {
                position
              }
            }
          `,
          { input },
        ),
      );
    expect(
      await refuse({
        id: 'bad-1',
        name: 'Bad',
        conditions: {
          kind: 'and',
          conditions: [{ kind: 'trait', property: 'plan', operator: 'like', value: 'x' }],
        },
      }),
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'conditions.conditions.0.operator' });
    expect(
      await refuse({
        id: 'bad-2',
        name: 'Bad',
        conditions: {
          kind: 'or',
          conditions: [{ kind: 'neverPerformed', event: 'Order Completed' }],
        },
      }),
    ).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'ONLY_NEGATIONS' });
    expect(
      await refuse({
        id: 'bad-3',
        name: 'Bad',
        conditions: { kind: 'memberOf', segmentId: 'nope' },
      }),
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'UNKNOWN_SEGMENT',
      field: 'conditions.segmentId',
    });
    // A preview validates its tree as createSegment does, fields named under `conditions`.
    expect(
      await graphQLError(
        touchline.client(workspace).request(gql`
          query {
            previewSegment(
              conditions: {
                kind: "and"
                conditions: [
                  { kind: "trait", property: "plan", operator: "eq", value: "pro" }
                  { kind: "memberOf", segmentId: "nope" }
                ]
              }
            ) {
              size
            }
          }
        `),
      ),
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'UNKNOWN_SEGMENT',
      field: 'conditions.conditions.1.segmentId',
    });
    // pro-buyers reads pro: pro may not read pro-buyers, nor be archived.
    expect(
      await graphQLError(
        touchline.client(workspace).request(gql`
          mutation {
            updateSegment(
              id: "pro"
              input: { name: "Pro", conditions: { kind: "memberOf", segmentId: "pro-buyers" } }
            ) {
              position
            }
          }
        `),
      ),
    ).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'SEGMENT_CYCLE' });
    expect(
      await graphQLError(
        touchline.client(workspace).request(gql`
          mutation {
            archiveSegment(id: "pro") {
              position
            }
          }
        `),
      ),
    ).toMatchObject({ code: 'CONFLICT', reason: 'SEGMENT_IN_USE' });

    const { segments } = await request<{ segments: { nodes: { id: string; version: number }[] } }>(
      gql`
        query ($minPosition: String) {
          segments(first: 20, minPosition: $minPosition) {
            nodes {
              id
              version
            }
          }
        }
      `,
    );
    expect(segments.nodes.map((node) => node.id).sort()).toEqual([
      'browsers',
      'buyers',
      'pro',
      'pro-buyers',
      'vip',
    ]);
    expect(segments.nodes.every((node) => node.version === 1)).toBe(true);
  });
});
