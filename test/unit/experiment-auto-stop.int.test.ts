/**
 * The auto-stop policy at work: an experiment with a clear winner is stopped by the projector
 * through the normal command path (once), and the winner applier puts the content on the
 * campaign after `applyWinner`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { campaignDecider, campaignStreamId, type CampaignCommand } from '../../src/domain/campaign';
import {
  experimentDecider,
  experimentStreamId,
  type ExperimentCommand,
  type ExperimentState,
} from '../../src/domain/experiment';
import { contactStreamId } from '../../src/domain/tracking/tracking.events';
import { CommandHandler, deterministicEventId } from '../../src/infra/commands/command-handler';
import { ExpectedRevision } from '../../src/infra/event-store/event-store';
import { SqliteEventStore } from '../../src/infra/event-store/sqlite-event-store';
import { createLogger } from '../../src/infra/logger';
import { createProjectionManager } from '../../src/infra/projections/catalog';
import { ChangeFeed } from '../../src/infra/projections/change-feed';
import type { ProjectionManager } from '../../src/infra/projections/projection-manager';
import { createProcessManagers } from '../../src/infra/process-managers/process-managers';
import { EmbeddedReadStore } from '../../src/infra/read-store/embedded-read-store';
import { LeaseKeeper } from '../../src/infra/shared/lease-keeper';
import { random } from '../support/traffic';

const workspaceId = 'w';
const key = 'green-button';
const t0 = Date.parse('2026-07-01T00:00:00Z');
const logger = createLogger('silent');

let dir: string;
let eventStore: SqliteEventStore;
let readStore: EmbeddedReadStore;
let manager: ProjectionManager;
let leases: LeaseKeeper;
let commands: CommandHandler;
let sequence = 0;

function metadata() {
  sequence += 1;
  return { workspaceId, commandId: `c${sequence}`, now: new Date(t0) };
}

function experiment(command: Omit<ExperimentCommand, 'metadata'>) {
  return commands.handle(experimentDecider, experimentStreamId(workspaceId, key), {
    ...command,
    metadata: metadata(),
  } as ExperimentCommand);
}

function campaign(command: Omit<CampaignCommand, 'metadata'>) {
  return commands.handle(campaignDecider, campaignStreamId(workspaceId, 'spring'), {
    ...command,
    metadata: metadata(),
  } as CampaignCommand);
}

async function state(): Promise<ExperimentState> {
  return (await commands.load(experimentDecider, experimentStreamId(workspaceId, key))).state;
}

/** `units` contacts per variant exposed; conversions with the given rates, after exposure. */
async function traffic(units: number, rates: [number, number]): Promise<void> {
  const rand = random(42);
  const writes = [];
  for (let index = 0; index < 2 * units; index += 1) {
    const variant = index % 2;
    const contactId = `u${index}`;
    const exposedAt = new Date(t0 + 1000 + index).toISOString();
    const events = [
      {
        eventId: deterministicEventId(`x|${contactId}`),
        type: 'ExperimentExposed',
        data: {
          experimentKey: key,
          phase: 1,
          variant: variant === 0 ? 'control' : 'green',
          contactId,
          exposedAt,
        },
        metadata: { workspaceId, schemaVersion: 1 },
      },
    ];
    if (rand() < (rates[variant] as number)) {
      const at = new Date(t0 + 60_000 + index).toISOString();
      events.push({
        eventId: deterministicEventId(`o|${contactId}`),
        type: 'EventTracked',
        data: {
          messageId: `o-${contactId}`,
          userId: contactId,
          anonymousId: null,
          occurredAt: at,
          receivedAt: at,
          sentAt: null,
          originalTimestamp: null,
          campaign: null,
          page: null,
          event: 'Order Completed',
          properties: {},
        } as never,
        metadata: { workspaceId, schemaVersion: 1 },
      });
    }
    writes.push({
      streamId: contactStreamId(workspaceId, contactId),
      events,
      expected: ExpectedRevision.any,
    });
  }
  await eventStore.appendMany(writes);
}

/** Checks again each time the event loop turns, for at most 20 s. */
async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached within 20 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-experiments-'));
  eventStore = SqliteEventStore.open({ path: path.join(dir, 'events.sqlite') });
  readStore = EmbeddedReadStore.open({ path: path.join(dir, 'read.sqlite') });
  commands = new CommandHandler(eventStore);
  // One worker runs the projections and the process managers, as in a projector process.
  leases = new LeaseKeeper({ readStore, logger });
  manager = createProjectionManager({
    eventStore,
    readStore,
    changeFeed: new ChangeFeed(),
    batchSize: 200,
    logger,
    leases,
  });
  await campaign({
    type: 'CreateCampaign',
    data: { campaignId: 'spring', name: 'Spring', channels: ['EMAIL'] },
  });
  await experiment({
    type: 'CreateExperiment',
    data: {
      experimentId: key,
      definition: {
        name: 'Green button',
        hypothesis: 'Green sells more',
        campaignId: 'spring',
        surface: { kind: 'CTA', ref: 'checkout' },
        variants: [
          { key: 'control', weight: 50, content: { color: 'blue' } },
          { key: 'green', weight: 50, content: { color: 'green' } },
        ],
        primaryMetric: {
          key: 'orders',
          name: 'Orders',
          kind: 'conversion',
          event: 'Order Completed',
        },
        method: 'sequential',
        minSamplePerVariant: 500,
        autoStop: true,
      },
    },
  });
  await experiment({ type: 'StartExperiment', data: { experimentId: key } });
});

afterEach(async () => {
  await leases.stop();
  await manager.stop();
  await eventStore.close();
  await readStore.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('stops an experiment with a clear winner once, then applies the winner to the campaign', async () => {
  await traffic(3000, [0.1, 0.2]);
  const processManagers = createProcessManagers({
    eventStore,
    readStore,
    executeCampaignCommand: (command) =>
      commands.handle(
        campaignDecider,
        campaignStreamId(workspaceId, command.data.campaignId),
        command,
      ),
    batchSize: 200,
    logger,
    leases,
  });
  await manager.start();
  await processManagers.start();
  await leases.start();
  {
    await until(async () => (await state()).status === 'Stopped');
    const stopped = await state();
    expect(stopped).toMatchObject({
      status: 'Stopped',
      decision: { winner: 'green', decidedBy: 'auto' },
    });
    const stops = (await eventStore.readStream(experimentStreamId(workspaceId, key))).filter(
      (event) => event.type === 'ExperimentStopped',
    );
    expect(stops).toHaveLength(1);

    await experiment({ type: 'ApplyWinner', data: { experimentId: key } });
    await until(async () => {
      const { state: spring } = await commands.load(
        campaignDecider,
        campaignStreamId(workspaceId, 'spring'),
      );
      return JSON.stringify(spring).includes('"CTA:checkout":{"color":"green"}');
    });
  }
});

it('keeps running while the interval still includes 0', async () => {
  await traffic(600, [0.1, 0.1]);
  await manager.start();
  await leases.start();
  await manager.waitForPosition(await eventStore.headPosition(), 10_000);
  expect((await state()).status).toBe('Running');
});
