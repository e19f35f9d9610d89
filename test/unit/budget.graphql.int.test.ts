import { type ExecutionResult, graphql, parse, subscribe } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { BudgetResolver } from '../../src/graphql/budget/budget.resolver';
import {
  CampaignCommandResultResolver,
  CampaignResolver,
} from '../../src/graphql/campaign/campaign.resolver';
import type { Services, TouchlineContext } from '../../src/graphql/context';
import { mapErrors } from '../../src/graphql/errors';
import { createLoaders } from '../../src/graphql/loaders';
import { scalarsMap } from '../../src/graphql/shared/scalars';
import { AccessControl } from '../../src/infra/access/access-control';
import { loadConfig } from '../../src/infra/config';
import { SqliteEventStore } from '../../src/infra/event-store/sqlite-event-store';
import { createLogger } from '../../src/infra/logger';
import {
  type BudgetGuardRunner,
  createBudgetGuardRunner,
} from '../../src/infra/process-managers/budget-guard';
import { ChangeFeed } from '../../src/infra/projections/change-feed';
import { ProjectionManager } from '../../src/infra/projections/projection-manager';
import { EmbeddedReadStore } from '../../src/infra/read-store/embedded-read-store';
import { createServices } from '../../src/infra/services';
import { campaignsProjection } from '../../src/projections/campaigns/campaigns.projection';
import { randomUUID } from 'node:crypto';
import { TrackingService } from '../../src/infra/ingestion/tracking-service';

const workspaceId = 'acme';
const logger = createLogger('silent');
const WAIT_MS = 10_000;

const refuseTopics: PubSub = {
  publish() {
    throw new Error('not used');
  },
  subscribe() {
    throw new Error('not used');
  },
};

/** The next value of an iterator, or a failure after `WAIT_MS`. */
async function nextOf<T>(iterator: AsyncIterator<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`nothing arrived within ${WAIT_MS} ms`)), WAIT_MS);
  });
  try {
    const result = await Promise.race([iterator.next(), timeout]);
    if (result.done) throw new Error('the subscription ended');
    return result.value;
  } finally {
    clearTimeout(timer);
  }
}

describe('budget over GraphQL', () => {
  let eventStore: SqliteEventStore;
  let readStore: EmbeddedReadStore;
  let manager: ProjectionManager;
  let guard: BudgetGuardRunner;
  let services: Services;
  let run: (source: string, variables?: Record<string, unknown>) => Promise<ExecutionResult>;
  let context: () => TouchlineContext;
  let schema: Awaited<ReturnType<typeof buildSchema>>;

  beforeAll(async () => {
    schema = await buildSchema({
      resolvers: [CampaignResolver, CampaignCommandResultResolver, BudgetResolver],
      scalarsMap,
      globalMiddlewares: [mapErrors],
      validate: false,
      pubSub: refuseTopics,
    });
  });

  beforeEach(async () => {
    eventStore = SqliteEventStore.open({ path: ':memory:', synchronous: 'NORMAL' });
    readStore = EmbeddedReadStore.open({ path: ':memory:' });
    const changeFeed = new ChangeFeed();
    manager = new ProjectionManager({
      eventStore,
      readStore,
      projections: [campaignsProjection],
      changeFeed,
      batchSize: 50,
      logger,
    });
    await manager.start();
    const config = loadConfig({ NODE_ENV: 'test' });
    const tracking = new TrackingService({
      eventStore,
      clock: () => new Date(),
      newId: randomUUID,
      logger,
    });
    services = createServices({
      config,
      eventStore,
      readStore,
      manager,
      changeFeed,
      tracking,
      accessControl: new AccessControl(eventStore, { cacheMs: 0 }),
      logger,
    });
    guard = createBudgetGuardRunner({
      eventStore,
      readStore,
      executeCampaignCommand: (command) => services.campaigns.execute(command, {}),
      batchSize: 50,
      logger,
    });
    guard.start();
    let requests = 0;
    context = () => ({
      workspaceId,
      requestId: `request-${(requests += 1)}`,
      services,
      loaders: createLoaders(services, workspaceId),
    });
    run = (source, variables) =>
      graphql({ schema, source, variableValues: variables, contextValue: context() });
  });

  afterEach(async () => {
    await guard.stop();
    await manager.stop();
    await eventStore.close();
    await readStore.close();
  });

  async function activeCampaign(id: string, budget: string): Promise<void> {
    const created = await run(
      `mutation ($id: ID!, $budget: String!) {
        createCampaign(input: { id: $id, name: "Spring", channels: [PAID_SEARCH], budget: { amount: $budget, currency: "USD" } }) { campaignId }
        launchCampaign(id: $id) { campaignId }
      }`,
      { id, budget },
    );
    expect(created.errors).toBeUndefined();
  }

  const importAdReport = `mutation ($input: AdReportInput!) {
    importAdReport(input: $input) { campaignId revision position replayed }
  }`;
  const recordSpend = `mutation ($input: SpendInput!, $commandId: String) {
    recordSpend(input: $input, commandId: $commandId) { campaignId position replayed }
  }`;
  const report = (campaignId: string, amount: string, currency = 'USD') => ({
    input: {
      campaignId,
      channel: 'PAID_SEARCH',
      day: '2025-03-01',
      source: 'google-ads',
      impressions: 1000,
      clicks: 20,
      spend: { amount, currency },
    },
  });

  it('given an active campaign, when spend crosses its budget, then alerts at 75, 90 and 100 %, the last one paused', async () => {
    // given an active campaign with a 1000 USD budget and a subscription to its alerts
    await activeCampaign('spring', '1000');
    const alerts = (await subscribe({
      schema,
      document: parse(`subscription {
        campaignAlerts(campaignId: "spring") {
          campaignId threshold spent { amount currency } budget { amount } reachedAt paused
        }
      }`),
      contextValue: context(),
    })) as AsyncGenerator<ExecutionResult>;
    const first = nextOf(alerts);

    // when an ad report brings the spend to 800
    const imported = await run(importAdReport, report('spring', '800'));
    expect(imported.errors).toBeUndefined();
    expect(imported.data?.importAdReport).toMatchObject({ campaignId: 'spring', replayed: false });

    // then the 75 % alert arrives
    expect((await first).data?.campaignAlerts).toEqual({
      campaignId: 'spring',
      threshold: 75,
      spent: { amount: '800.00', currency: 'USD' },
      budget: { amount: '1000.00' },
      reachedAt: expect.anything(), // a DateTime (a Date before JSON)
      paused: false,
    });

    // when 300 more is recorded by hand
    const recorded = await run(recordSpend, {
      input: {
        campaignId: 'spring',
        channel: 'DISPLAY',
        day: '2025-03-02',
        amount: { amount: '300', currency: 'USD' },
        entryId: 'invoice-1',
        note: 'sponsorship',
      },
      commandId: 'spend-1',
    });
    expect(recorded.errors).toBeUndefined();

    // then 90 % and 100 %, and at 100 % the campaign is already paused
    const ninety = (await nextOf(alerts)).data?.campaignAlerts;
    const hundred = (await nextOf(alerts)).data?.campaignAlerts;
    expect(ninety).toMatchObject({ threshold: 90, spent: { amount: '1100.00' } });
    expect(hundred).toMatchObject({ threshold: 100, spent: { amount: '1100.00' }, paused: true });
    await alerts.return(undefined);

    // and the campaign reads as paused for an exhausted budget
    const campaign = await run(`{ campaign(id: "spring") { status pauseReason } }`);
    expect(campaign.data?.campaign).toEqual({ status: 'PAUSED', pauseReason: 'budget exhausted' });
  });

  it('given spend in another currency than the budget, then BAD_USER_INPUT on spend.currency', async () => {
    await activeCampaign('spring', '1000');
    const result = await run(importAdReport, report('spring', '10', 'EUR'));
    expect(result.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'spend.currency',
      reason: 'CURRENCY_MISMATCH',
    });
  });

  it('given the same spend entry twice with the same command id, then the second is a replay', async () => {
    await activeCampaign('spring', '1000');
    const variables = {
      input: {
        campaignId: 'spring',
        channel: 'DISPLAY',
        day: '2025-03-02',
        amount: { amount: '10', currency: 'USD' },
        entryId: 'invoice-1',
      },
      commandId: 'spend-1',
    };
    await run(recordSpend, variables);
    const again = await run(recordSpend, variables);
    expect(again.data?.recordSpend).toMatchObject({ replayed: true });
  });
});
