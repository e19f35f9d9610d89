/**
 * Browsing and exporting the log through the real server: a campaign and tracked calls, the
 * `events` connection paged two at a time while more events arrive, filters, one stream's
 * states, and the NDJSON and CSV exports compared with the GraphQL pages.
 */
import { gql } from 'graphql-request';
import { bearer, graphQLError, postBatch, startTestServer, type TestServer } from './harness';

interface LogEventView {
  position: string;
  streamId: string;
  revision: string;
  type: string;
  version: number;
  occurredAt: string | null;
  recordedAt: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  actor: string | null;
  correlationId: string | null;
  causationId: string | null;
  commandId: string | null;
}
interface EventsPage {
  events: {
    nodes: LogEventView[];
    edges: { cursor: string }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

const NODE_FIELDS = `position streamId revision type version occurredAt recordedAt data metadata actor correlationId causationId commandId`;
const EVENTS = gql`
  query ($filter: EventFilterInput, $first: Int, $after: String, $minPosition: String) {
    events(filter: $filter, first: $first, after: $after, minPosition: $minPosition) {
      nodes { ${NODE_FIELDS} }
      edges { cursor }
      pageInfo { hasNextPage endCursor }
    }
  }
`;
const STREAM = gql`
  query ($id: String!) {
    stream(id: $id) {
      event {
        position
        revision
        type
      }
      state
    }
  }
`;
const CREATE = gql`
  mutation ($input: CreateCampaignInput!) {
    createCampaign(input: $input, commandId: "create-spring") {
      position
    }
  }
`;
const LAUNCH = gql`
  mutation ($id: ID!) {
    launchCampaign(id: $id) {
      position
    }
  }
`;

let messages = 0;
function call(userId: string, extra: Record<string, unknown> = {}) {
  messages += 1;
  return {
    type: 'track',
    userId,
    messageId: `m-${messages}`,
    timestamp: `2026-11-20T09:${String(messages).padStart(2, '0')}:00Z`,
    event: 'Product Viewed',
    properties: {},
    ...extra,
  };
}

describe('event history end to end', () => {
  let touchline: TestServer;
  const base = () => touchline.url.replace(/\/graphql$/, '');

  async function track(batch: unknown[]): Promise<string> {
    const body = await postBatch(touchline, batch);
    expect(body.accepted).toBe(batch.length);
    return body.position;
  }

  async function allEvents(filter: Record<string, unknown>, minPosition?: string) {
    const nodes: LogEventView[] = [];
    let after: string | null = null;
    for (;;) {
      const page: EventsPage = await touchline
        .client()
        .request<EventsPage>(EVENTS, { filter, first: 500, after, minPosition });
      nodes.push(...page.events.nodes);
      if (!page.events.pageInfo.hasNextPage) return nodes;
      after = page.events.pageInfo.endCursor;
    }
  }

  /** The export with an owner key of the workspace (default: `default`). */
  async function exported(query: string, workspace?: string) {
    return exportedWith(query, { authorization: await bearer(touchline, workspace) });
  }

  function exportedWith(query: string, headers: Record<string, string>) {
    return fetch(`${base()}/v1/export/events?${query}`, { headers });
  }

  beforeAll(async () => {
    touchline = await startTestServer();
    const api = touchline.client();
    await api.request(CREATE, {
      input: { id: 'spring', name: 'Spring, "sale"', channels: ['EMAIL'] },
    });
    await api.request(LAUNCH, { id: 'spring' });
    await touchline.client('other').request(CREATE, { input: { id: 'spring', name: 'Not ours' } });
    await track([
      call('ada', { anonymousId: 'anon-7', type: 'identify', traits: { plan: 'pro' } }),
      call('ada', { properties: { campaign_id: 'spring' } }),
      call('bob', { context: { campaign: { name: 'spring', source: 'news' } } }),
      call('bob'),
    ]);
  });

  afterAll(async () => {
    await touchline?.stop();
  });

  it('pages two at a time while events arrive, skipping and repeating nothing', async () => {
    const api = touchline.client();
    const seen: LogEventView[] = [];
    let after: string | null = null;
    let appended = 0;
    for (;;) {
      const page: EventsPage = await api.request<EventsPage>(EVENTS, { first: 2, after });
      expect(page.events.nodes.length).toBeLessThanOrEqual(2);
      if (page.events.pageInfo.hasNextPage) {
        expect(page.events.pageInfo.endCursor).toBe(page.events.edges.at(-1)?.cursor);
      }
      seen.push(...page.events.nodes);
      if (!page.events.pageInfo.hasNextPage) break;
      after = page.events.pageInfo.endCursor;
      if (appended < 3) {
        appended += 1;
        await track([call('carol')]);
      }
    }

    const everything = await allEvents({});
    expect(seen.map((node) => node.position)).toEqual(everything.map((node) => node.position));
    expect(new Set(seen.map((node) => node.position)).size).toBe(seen.length);
    expect(seen.filter((node) => node.streamId === 'contact-default:carol')).toHaveLength(3);
    expect(seen.every((node) => node.metadata.workspaceId === 'default')).toBe(true);
    expect(seen.some((node) => node.streamId === 'campaign-other:spring')).toBe(false);
    // The workspace's own stream holds its keys, which only an owner lists (`apiKeys`).
    expect(seen.some((node) => node.streamId === 'workspace-default')).toBe(false);
  });

  it('shows each event with its metadata lifted', async () => {
    const [created] = await allEvents({ streamId: 'campaign-default:spring' });
    expect(created).toMatchObject({
      streamId: 'campaign-default:spring',
      revision: '0',
      type: 'CampaignCreated',
      version: 1,
      occurredAt: null,
      commandId: 'create-spring',
    });
    expect(created?.correlationId).toEqual(created?.metadata.correlationId);
    const [tracked] = await allEvents({ types: ['EventTracked'], streamId: 'contact-default:ada' });
    expect(tracked?.occurredAt).toBe('2026-11-20T09:02:00.000Z');
  });

  it('filters by type, category, contact, campaign and event time', async () => {
    const launched = await allEvents({ types: ['CampaignLaunched'] });
    expect(launched.map((node) => node.streamId)).toEqual(['campaign-default:spring']);

    const campaigns = await allEvents({ category: 'campaign' });
    expect(campaigns.map((node) => node.type)).toEqual(['CampaignCreated', 'CampaignLaunched']);

    const position = await track([call('anon-7', { userId: null, anonymousId: 'anon-7' })]);
    const ada = await allEvents({ contactId: 'ada' }, position);
    expect(new Set(ada.map((node) => node.streamId))).toEqual(
      new Set(['contact-default:ada', 'contact-default:anon-7']),
    );

    const spring = await allEvents({ campaignId: 'spring' });
    expect(spring.map((node) => `${node.streamId} ${node.type}`)).toEqual([
      'campaign-default:spring CampaignCreated',
      'campaign-default:spring CampaignLaunched',
      'contact-default:ada EventTracked',
      'contact-default:bob EventTracked',
    ]);

    const early = await allEvents({
      category: 'contact',
      occurredFrom: '2026-11-20T09:02:00Z',
      occurredTo: '2026-11-20T09:04:00Z',
    });
    expect(early.map((node) => node.occurredAt)).toEqual([
      '2026-11-20T09:02:00.000Z',
      '2026-11-20T09:03:00.000Z',
    ]);
  });

  it("shows a campaign stream with the state after each event, and never another workspace's", async () => {
    const api = touchline.client();
    const { stream } = await api.request<{
      stream: { event: { revision: string; type: string }; state: { status?: string } | null }[];
    }>(STREAM, { id: 'campaign-default:spring' });
    expect(stream.map((entry) => entry.event.type)).toEqual([
      'CampaignCreated',
      'CampaignLaunched',
    ]);
    expect(stream.map((entry) => entry.state?.status)).toEqual(['Draft', 'Active']);

    const contact = await api.request<{ stream: { state: unknown }[] }>(STREAM, {
      id: 'contact-default:bob',
    });
    expect(contact.stream.length).toBeGreaterThan(0);
    expect(contact.stream.every((entry) => entry.state === null)).toBe(true);

    for (const id of ['campaign-other:spring', 'campaign-default:nope', 'nonsense']) {
      expect((await api.request<{ stream: unknown[] }>(STREAM, { id })).stream).toEqual([]);
    }
  });

  it('exports the same events as NDJSON and CSV', async () => {
    const pages = await allEvents({ category: 'contact' });

    const ndjson = await exported('format=ndjson&category=contact');
    expect(ndjson.status).toBe(200);
    expect(ndjson.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const lines = (await ndjson.text()).split('\n');
    expect(lines.pop()).toBe('');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toEqual(
      pages.map((node) => ({
        position: node.position,
        streamId: node.streamId,
        revision: node.revision,
        type: node.type,
        version: node.version,
        occurredAt: node.occurredAt,
        recordedAt: node.recordedAt,
        data: node.data,
        metadata: node.metadata,
      })),
    );

    const csv = await exported('format=csv&category=campaign');
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const rows = (await csv.text()).split('\r\n');
    expect(rows[0]).toBe(
      'position,streamId,revision,type,version,occurredAt,recordedAt,data,metadata',
    );
    const campaigns = await allEvents({ category: 'campaign' });
    expect(rows.slice(1, -1).map((row) => row.split(',').slice(0, 4).join(','))).toEqual(
      campaigns.map((node) => `${node.position},${node.streamId},${node.revision},${node.type}`),
    );
    // The name holds a comma and quotes: quoted, its quotes doubled.
    expect(rows[1]).toContain('""Spring, \\""sale\\""""');

    const other = await exported('category=campaign', 'other');
    const otherRecords = (await other.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(otherRecords.map((record: { streamId: string }) => record.streamId)).toEqual([
      'campaign-other:spring',
    ]);
  });

  it('refuses bad input with the field concerned', async () => {
    const api = touchline.client();
    expect(await graphQLError(api.request(EVENTS, { first: 0 }))).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'INVALID_LIMIT',
      field: 'first',
    });
    expect(await graphQLError(api.request(EVENTS, { first: 501 }))).toMatchObject({
      reason: 'INVALID_LIMIT',
    });
    expect(await graphQLError(api.request(EVENTS, { after: 'not-a-cursor' }))).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'INVALID_CURSOR',
      field: 'after',
    });
    expect(
      await graphQLError(
        api.request(EVENTS, {
          filter: { recordedFrom: '2026-11-02T00:00:00Z', recordedTo: '2026-11-01T00:00:00Z' },
        }),
      ),
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'INVALID_RANGE',
      field: 'filter.recordedTo',
    });
    expect(await graphQLError(api.request(EVENTS, { filter: { category: 'nope' } }))).toMatchObject(
      { reason: 'INVALID_CATEGORY', field: 'filter.category' },
    );

    const cases: [string, string, string][] = [
      ['format=xml', 'format', 'INVALID_FORMAT'],
      [
        'occurredFrom=2026-11-02T00:00:00Z&occurredTo=2026-11-01T00:00:00Z',
        'occurredTo',
        'INVALID_RANGE',
      ],
      ['recordedFrom=yesterday', 'recordedFrom', 'INVALID_DATE'],
      ['category=nope', 'category', 'INVALID_CATEGORY'],
      ['first=2', 'first', 'UNKNOWN_PARAMETER'],
    ];
    for (const [query, field, reason] of cases) {
      const response = await exported(query);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        error: { code: 'BAD_USER_INPUT', field, reason },
      });
    }
    const withoutValidKey: Record<string, string>[] = [{}, { authorization: 'Bearer not-a-key' }];
    for (const headers of withoutValidKey) {
      const unauthenticated = await exportedWith('format=csv', headers);
      expect(unauthenticated.status).toBe(401);
      expect(await unauthenticated.json()).toMatchObject({
        errors: [{ extensions: { code: 'UNAUTHENTICATED' } }],
      });
    }
  });
});
