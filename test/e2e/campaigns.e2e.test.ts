/**
 * The campaigns slice end to end: the real server on a free port with the embedded stores,
 * mutations and queries over HTTP (graphql-request), live updates over graphql-ws, and a
 * restart on the same data.
 */
import { gql } from 'graphql-request';
import { bearer, graphQLError, startTestServer, take, type TestServer, until } from './harness';

const CAMPAIGN_FIELDS = `
  id name description status channels tags revision position
  budget { amount currency amountMinor }
  goal { metric target revenue { amount currency } }
  startsAt endsAt createdAt launchedAt pausedAt pauseReason duplicatedFrom
`;

const CREATE = gql`
  mutation Create($input: CreateCampaignInput!, $commandId: String) {
    createCampaign(input: $input, commandId: $commandId) {
      campaignId revision position replayed
      campaign { ${CAMPAIGN_FIELDS} }
    }
  }
`;
const LAUNCH = gql`
  mutation Launch($id: ID!, $expectedRevision: String) {
    launchCampaign(id: $id, expectedRevision: $expectedRevision) {
      campaignId
      revision
      position
      campaign {
        status
        launchedAt
      }
    }
  }
`;
const PAUSE = gql`
  mutation Pause($id: ID!, $reason: String) {
    pauseCampaign(id: $id, reason: $reason) {
      revision
      position
      campaign {
        status
        pauseReason
      }
    }
  }
`;
const ARCHIVE = gql`
  mutation Archive($id: ID!) {
    archiveCampaign(id: $id) {
      revision
      position
      campaign {
        status
      }
    }
  }
`;
const UPDATE = gql`
  mutation Update($id: ID!, $input: UpdateCampaignInput!, $expectedRevision: String) {
    updateCampaign(id: $id, input: $input, expectedRevision: $expectedRevision) {
      revision
      position
      campaign {
        name
        tags
      }
    }
  }
`;
const ONE = gql`
  query One($id: ID!, $minPosition: String) { campaign(id: $id, minPosition: $minPosition) { ${CAMPAIGN_FIELDS} } }
`;
const LIST = gql`
  query List($filter: CampaignFilter, $first: Int, $after: String) {
    campaigns(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          id
          name
          status
        }
      }
    }
  }
`;

type CampaignView = Record<string, unknown> & { id: string; status: string; revision: string };
interface CreateResult {
  createCampaign: {
    campaignId: string;
    revision: string;
    position: string;
    replayed: boolean;
    campaign: CampaignView;
  };
}

const spring = {
  id: 'spring-sale',
  name: 'Spring sale',
  description: 'Twenty percent off everything',
  channels: ['EMAIL', 'PAID_SEARCH'],
  budget: { amount: '1500.50', currency: 'EUR' },
  goal: { metric: 'REVENUE', amount: '20000', currency: 'EUR' },
  tags: ['seasonal', 'q2'],
  schedule: { startsAt: '2030-03-01T00:00:00.000Z', endsAt: '2030-03-31T23:59:59.000Z' },
};

describe('campaigns over GraphQL and graphql-ws', () => {
  let touchline: TestServer;

  beforeAll(async () => {
    touchline = await startTestServer();
  });

  afterAll(async () => {
    await touchline?.stop();
  });

  it('creates, reads, lists, launches and pushes each change to a subscriber', async () => {
    const api = touchline.client();
    const ws = touchline.subscriptions();
    const listeners = touchline.server.changeFeed.subscriberCount;
    const changes = ws.iterate<{ campaignChanged: CampaignView }>({
      query: `subscription { campaignChanged(id: "spring-sale") { id status revision } }`,
    });
    await until(
      () => touchline.server.changeFeed.subscriberCount > listeners,
      'the subscription to be live',
    );

    const created = await api.request<CreateResult>(CREATE, { input: spring });
    expect(created.createCampaign).toMatchObject({
      campaignId: 'spring-sale',
      revision: '0',
      replayed: false,
    });
    expect(created.createCampaign.campaign).toMatchObject({
      id: 'spring-sale',
      name: 'Spring sale',
      status: 'DRAFT',
      channels: ['EMAIL', 'PAID_SEARCH'],
      tags: ['seasonal', 'q2'],
      budget: { amount: '1500.50', currency: 'EUR', amountMinor: '150050' },
      goal: { metric: 'REVENUE', target: null, revenue: { amount: '20000.00', currency: 'EUR' } },
      startsAt: '2030-03-01T00:00:00.000Z',
      endsAt: '2030-03-31T23:59:59.000Z',
      revision: '0',
      position: created.createCampaign.position,
    });

    const launched = await api.request<{
      launchCampaign: { revision: string; campaign: CampaignView };
    }>(LAUNCH, {
      id: 'spring-sale',
      expectedRevision: '0',
    });
    expect(launched.launchCampaign.revision).toBe('1');
    expect(launched.launchCampaign.campaign.status).toBe('ACTIVE');

    const pushed = await take(changes[Symbol.asyncIterator](), 2);
    expect(pushed.map((message) => message.data?.campaignChanged)).toEqual([
      { id: 'spring-sale', status: 'DRAFT', revision: '0' },
      { id: 'spring-sale', status: 'ACTIVE', revision: '1' },
    ]);
    await changes.return?.();

    const one = await api.request<{ campaign: CampaignView }>(ONE, { id: 'spring-sale' });
    expect(one.campaign.status).toBe('ACTIVE');
    expect(one.campaign.launchedAt).toEqual(expect.any(String));
  });

  it('pages through campaigns with filters and a stable cursor', async () => {
    const api = touchline.client('paging');
    for (let index = 0; index < 5; index++) {
      await api.request(CREATE, {
        input: {
          id: `c${index}`,
          name: `Campaign ${index}`,
          channels: index % 2 ? ['EMAIL'] : ['DISPLAY'],
          tags: [`t${index % 2}`],
        },
      });
    }
    const first = await api.request<{
      campaigns: {
        totalCount: number;
        pageInfo: { hasNextPage: boolean; endCursor: string };
        edges: { node: { id: string } }[];
      };
    }>(LIST, { first: 2 });
    expect(first.campaigns.totalCount).toBe(5);
    expect(first.campaigns.pageInfo.hasNextPage).toBe(true);
    const rest = await api.request<typeof first>(LIST, {
      first: 10,
      after: first.campaigns.pageInfo.endCursor,
    });
    const ids = [...first.campaigns.edges, ...rest.campaigns.edges].map((edge) => edge.node.id);
    expect(new Set(ids).size).toBe(5);
    expect(rest.campaigns.pageInfo.hasNextPage).toBe(false);

    const email = await api.request<typeof first>(LIST, { filter: { channel: 'EMAIL' } });
    expect(email.campaigns.edges.map((edge) => edge.node.id).sort()).toEqual(['c1', 'c3']);
    const tagged = await api.request<typeof first>(LIST, {
      filter: { tag: 't0', status: ['DRAFT'] },
    });
    expect(tagged.campaigns.totalCount).toBe(3);

    // Another workspace sees none of them.
    const other = await touchline.client('someone-else').request<typeof first>(LIST, {});
    expect(other.campaigns.totalCount).toBe(0);
  });

  it('answers every bad input with a code and the field, and stores nothing', async () => {
    const api = touchline.client('errors');
    await api.request(CREATE, { input: { id: 'guarded', name: 'Guarded', channels: ['EMAIL'] } });

    const negative = await graphQLError(
      api.request(CREATE, {
        input: { id: 'x1', name: 'X', budget: { amount: '-5', currency: 'USD' } },
      }),
    );
    expect(negative).toMatchObject({ code: 'BAD_USER_INPUT', field: 'budget.amount' });

    const currency = await graphQLError(
      api.request(CREATE, {
        input: { id: 'x2', name: 'X', budget: { amount: '5', currency: 'XYZ' } },
      }),
    );
    expect(currency).toMatchObject({ code: 'BAD_USER_INPUT', field: 'budget.currency' });

    const reversed = await graphQLError(
      api.request(CREATE, {
        input: {
          id: 'x3',
          name: 'X',
          schedule: { startsAt: '2030-02-01T00:00:00Z', endsAt: '2030-01-01T00:00:00Z' },
        },
      }),
    );
    expect(reversed).toMatchObject({ code: 'BAD_USER_INPUT', field: 'schedule.endsAt' });

    const longName = await graphQLError(
      api.request(CREATE, { input: { id: 'x4', name: 'n'.repeat(201) } }),
    );
    expect(longName).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });

    const unknown = await graphQLError(api.request(LAUNCH, { id: 'no-such-campaign' }));
    expect(unknown).toMatchObject({ code: 'NOT_FOUND' });

    const stale = await graphQLError(
      api.request(UPDATE, { id: 'guarded', input: { name: 'New' }, expectedRevision: '7' }),
    );
    expect(stale).toMatchObject({
      code: 'CONFLICT',
      reason: 'REVISION_MISMATCH',
      field: 'expectedRevision',
    });

    const badRevision = await graphQLError(
      api.request(LAUNCH, { id: 'guarded', expectedRevision: 'seven' }),
    );
    expect(badRevision).toMatchObject({ code: 'BAD_USER_INPUT', field: 'expectedRevision' });

    await api.request(LAUNCH, { id: 'guarded' });
    const archiveActive = await graphQLError(api.request(ARCHIVE, { id: 'guarded' }));
    expect(archiveActive).toMatchObject({ code: 'CONFLICT', reason: 'ILLEGAL_TRANSITION' });
    const relaunch = await graphQLError(api.request(LAUNCH, { id: 'guarded' }));
    expect(relaunch).toMatchObject({ code: 'CONFLICT', reason: 'ILLEGAL_TRANSITION' });

    const malformed = await graphQLError(
      api.request('mutation { createCampaign(input: { name: "x" }'),
    );
    expect(malformed).toMatchObject({ code: 'GRAPHQL_PARSE_FAILED', status: 400 });
    const unknownField = await graphQLError(
      api.request(`query { campaign(id: "guarded") { nope } }`),
    );
    expect(unknownField).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED' });
    const wrongType = await graphQLError(api.request(LIST, { first: 'many' }));
    expect(wrongType).toMatchObject({ code: 'BAD_USER_INPUT' });
    const badCursor = await graphQLError(api.request(LIST, { after: 'not-a-cursor' }));
    expect(badCursor).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const tooMany = await graphQLError(api.request(LIST, { first: 1000 }));
    expect(tooMany).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });

    // Nothing above changed what is stored: the campaign is at revision 1 (created, launched).
    const events = await touchline.server.eventStore.readStream('campaign-errors:guarded');
    expect(events.map((event) => event.type)).toEqual(['CampaignCreated', 'CampaignLaunched']);
    for (const id of ['x1', 'x2', 'x3', 'x4']) {
      expect(await touchline.server.eventStore.readStream(`campaign-errors:${id}`)).toEqual([]);
    }
  });

  it('rejects an oversized body, and a request without a valid key, over plain HTTP', async () => {
    const authorization = await bearer(touchline);
    const big = await fetch(touchline.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query: `{ campaign(id: "${'x'.repeat(2_000_000)}") { id } }` }),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({
      errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
    });

    const notJson = await fetch(touchline.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: '{"query": ',
    });
    expect(notJson.status).toBe(400);

    for (const [headers, reason] of [
      [{}, 'MISSING_KEY'],
      [{ authorization: 'Bearer not valid!' }, 'INVALID_KEY'],
    ] as const) {
      const unauthenticated = await fetch(touchline.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: '{ campaigns { totalCount } }' }),
      });
      expect(unauthenticated.status).toBe(401);
      expect(await unauthenticated.json()).toMatchObject({
        errors: [{ extensions: { code: 'UNAUTHENTICATED', reason } }],
      });
    }
  });

  it('makes a command idempotent by its commandId', async () => {
    const api = touchline.client('idempotent');
    const input = { id: 'once', name: 'Once' };
    const first = await api.request<CreateResult>(CREATE, { input, commandId: 'create-once-1' });
    const again = await api.request<CreateResult>(CREATE, { input, commandId: 'create-once-1' });
    expect(again.createCampaign).toMatchObject({
      replayed: true,
      revision: first.createCampaign.revision,
      position: first.createCampaign.position,
    });
    expect(await touchline.server.eventStore.readStream('campaign-idempotent:once')).toHaveLength(
      1,
    );
    const different = await graphQLError(
      api.request(CREATE, { input, commandId: 'create-once-2' }),
    );
    expect(different).toMatchObject({ code: 'CONFLICT', reason: 'ALREADY_EXISTS' });
  });

  it('duplicates, pauses with a reason and reads its own writes by position', async () => {
    const api = touchline.client('lifecycle');
    await api.request(CREATE, { input: { ...spring, id: 'source' } });
    const copy = await api.request<{ duplicateCampaign: { campaignId: string; position: string } }>(
      gql`
        mutation {
          duplicateCampaign(id: "source", newId: "copy", name: "Spring sale (copy)") {
            campaignId
            position
          }
        }
      `,
    );
    const read = await api.request<{ campaign: CampaignView }>(ONE, {
      id: 'copy',
      minPosition: copy.duplicateCampaign.position,
    });
    expect(read.campaign).toMatchObject({
      name: 'Spring sale (copy)',
      status: 'DRAFT',
      duplicatedFrom: 'source',
      channels: spring.channels,
      budget: { amount: '1500.50', currency: 'EUR' },
    });
    await api.request(LAUNCH, { id: 'copy' });
    const paused = await api.request<{ pauseCampaign: { campaign: CampaignView } }>(PAUSE, {
      id: 'copy',
      reason: 'budget review',
    });
    expect(paused.pauseCampaign.campaign).toMatchObject({
      status: 'PAUSED',
      pauseReason: 'budget review',
    });
  });

  it('reports each projection and serves health and readiness', async () => {
    const status = await touchline.client().request<{
      projections: { name: string; state: string; position: string; lagMs: number }[];
    }>(gql`
      {
        projections {
          name
          state
          position
          headPosition
          lagMs
        }
      }
    `);
    expect(status.projections).toContainEqual(
      expect.objectContaining({ name: 'campaigns', state: 'running' }),
    );
    expect(status.projections.every((projection) => projection.state === 'running')).toBe(true);
    const healthz = await fetch(touchline.url.replace('/graphql', '/healthz'));
    expect(healthz.status).toBe(200);
    const readyz = await fetch(touchline.url.replace('/graphql', '/readyz'));
    expect(readyz.status).toBe(200);
    expect(await readyz.json()).toMatchObject({ ready: true, eventStore: true, readStore: true });
  });

  it('keeps everything after a restart on the same data, without re-applying events', async () => {
    const before = await touchline
      .client()
      .request<{ campaign: CampaignView }>(ONE, { id: 'spring-sale' });
    const key = await touchline.key();
    const dataDir = touchline.dataDir;
    await touchline.stop();
    touchline = await startTestServer(dataDir);
    // The key made before the restart still works: keys live in the log too.
    const after = await touchline
      .clientWithKey(key)
      .request<{ campaign: CampaignView }>(ONE, { id: 'spring-sale' });
    expect(after.campaign).toEqual(before.campaign);
    const [campaigns] = await touchline.server.manager.status();
    expect(campaigns.position).toBe(await touchline.server.eventStore.headPosition());
  });
});
