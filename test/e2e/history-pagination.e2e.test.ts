/**
 * The `events` connection's promise, through the real server: pagination with a filter is
 * stable while new events arrive. A writer appends page views (which the filter takes) and
 * tracked calls (which it does not) while a reader pages: some batches between two page
 * requests, the others at the same time as them. Whatever the interleaving, the pages come
 * in position order, nothing is skipped or repeated, every matching event that existed when
 * paging began is read, and those appended since come at the end or not at all.
 */
import { gql } from 'graphql-request';
import { postBatch, startTestServer, type TestServer } from './harness';

interface Node {
  position: string;
  type: string;
  data: { messageId: string };
}
interface EventsPage {
  events: {
    nodes: Node[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

const EVENTS = gql`
  query ($filter: EventFilterInput, $first: Int, $after: String) {
    events(filter: $filter, first: $first, after: $after) {
      nodes {
        position
        type
        data
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

const FILTER = { category: 'contact', types: ['PageViewed'] };
const PAGE_SIZE = 7;

let sent = 0;
/** A page view (matches the filter) and a tracked call (does not), of one of a few people. */
function pair(): unknown[] {
  sent += 1;
  const userId = `person-${sent % 5}`;
  const timestamp = new Date(Date.UTC(2026, 10, 20, 9, 0, sent)).toISOString();
  return [
    { type: 'page', userId, messageId: `page-${sent}`, timestamp, name: 'Home' },
    {
      type: 'track',
      userId,
      messageId: `track-${sent}`,
      timestamp,
      event: 'Product Viewed',
      properties: {},
    },
  ];
}

describe('events pagination while events arrive', () => {
  let touchline: TestServer;

  async function append(batch: unknown[]): Promise<void> {
    const { accepted } = await postBatch(touchline, batch);
    expect(accepted).toBe(batch.length);
  }

  async function page(after: string | null): Promise<EventsPage['events']> {
    const data = await touchline
      .client()
      .request<EventsPage>(EVENTS, { filter: FILTER, first: PAGE_SIZE, after });
    return data.events;
  }

  /** Every matching event, read in one go once nothing is being appended. */
  async function everything(): Promise<Node[]> {
    const nodes: Node[] = [];
    let after: string | null = null;
    for (;;) {
      const data: EventsPage = await touchline
        .client()
        .request<EventsPage>(EVENTS, { filter: FILTER, first: 100, after });
      nodes.push(...data.events.nodes);
      if (!data.events.pageInfo.hasNextPage) return nodes;
      after = data.events.pageInfo.endCursor;
    }
  }

  beforeAll(async () => {
    touchline = await startTestServer();
    await append(Array.from({ length: 40 }, pair).flat());
  });

  afterAll(async () => {
    await touchline?.stop();
  });

  it('reads every event that existed once, in order, and new ones only at the end', async () => {
    // Given the matching events when paging begins …
    const before = await everything();
    expect(before).toHaveLength(40);
    const lastBefore = BigInt(before.at(-1)!.position);

    // … when a writer appends alongside (bounded, so the reader gets to the end) …
    let reading = true;
    const writer = (async () => {
      for (let batch = 0; reading && batch < 30; batch += 1) {
        await append([...pair(), ...pair()]);
      }
    })();
    // … and also between page requests, while the reader pages through …
    const seen: Node[] = [];
    let after: string | null = null;
    let pages = 0;
    try {
      for (;;) {
        const current = await page(after);
        pages += 1;
        seen.push(...current.nodes);
        if (!current.pageInfo.hasNextPage) break;
        after = current.pageInfo.endCursor;
        if (pages % 2 === 0) await append(pair());
      }
    } finally {
      reading = false;
      await writer;
    }

    // … then the pages came in position order, nothing repeated, all matching the filter …
    const positions = seen.map((node) => BigInt(node.position));
    positions.slice(1).forEach((position, i) => expect(position).toBeGreaterThan(positions[i]));
    expect(seen.every((node) => node.type === 'PageViewed')).toBe(true);
    expect(pages).toBeGreaterThan(before.length / PAGE_SIZE);
    // … every event that existed came first, none skipped; the new ones after them …
    expect(seen.slice(0, before.length)).toEqual(before);
    expect(positions.slice(before.length).every((position) => position > lastBefore)).toBe(true);
    expect(seen.length).toBeGreaterThan(before.length);
    // … and no event was skipped up to the last one read: the log, read again once the writer
    // stopped, holds exactly the events seen up to there, and the ones after it are all new.
    const final = await everything();
    expect(final).toHaveLength(sent);
    const lastSeen = positions.at(-1)!;
    expect(final.filter((node) => BigInt(node.position) <= lastSeen)).toEqual(seen);
  });
});
