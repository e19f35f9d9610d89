/**
 * A changed funnel definition is recomputed from the log in a new generation, while the
 * previous one serves; the switch happens only once the new one has caught up.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  funnelDecider,
  funnelStreamId,
  type FunnelCommand,
  type FunnelDefinitionInput,
} from '../../src/domain/funnel';
import { contactStreamId } from '../../src/domain/tracking/tracking.events';
import { CommandHandler } from '../../src/infra/commands/command-handler';
import { ExpectedRevision } from '../../src/infra/event-store/event-store';
import { SqliteEventStore } from '../../src/infra/event-store/sqlite-event-store';
import { createLogger } from '../../src/infra/logger';
import { createProjectionManager } from '../../src/infra/projections/catalog';
import { ChangeFeed } from '../../src/infra/projections/change-feed';
import { ProjectionManager } from '../../src/infra/projections/projection-manager';
import { EmbeddedReadStore } from '../../src/infra/read-store/embedded-read-store';
import { funnelDefinitionsProjection } from '../../src/projections/funnels/funnel-definitions.projection';
import {
  funnelPeopleCollection,
  funnelPinsCollection,
  type FunnelPersonDocument,
  type FunnelPinDocument,
} from '../../src/projections/funnels/funnels.projection';

const workspaceId = 'w';
const hour = 60 * 60 * 1000;
const start = Date.parse('2026-05-01T00:00:00Z');

function definition(windowSeconds: number): FunnelDefinitionInput {
  return {
    name: 'signup',
    steps: [{ event: '$pageview' }, { event: 'Signed Up' }],
    windowSeconds,
  };
}

let dir: string;
let eventStore: SqliteEventStore;
let readStore: EmbeddedReadStore;
let changeFeed: ChangeFeed;
let manager: ProjectionManager;
const commands = () => new CommandHandler(eventStore);

async function command(type: FunnelCommand['type'], input?: FunnelDefinitionInput) {
  const data = input ? { funnelId: 'f', definition: input } : { funnelId: 'f' };
  const result = await commands().handle(funnelDecider, funnelStreamId(workspaceId, 'f'), {
    type,
    data,
    metadata: { workspaceId, commandId: `${type}-${Math.random()}`, now: new Date(start) },
  } as FunnelCommand);
  return result.position;
}

/** 300 people: a page view, then a sign-up k hours later (k = 0..299 % 48). */
async function traffic(): Promise<void> {
  await eventStore.appendMany(
    Array.from({ length: 300 }, (_, person) => {
      const at = start + person * 60_000;
      const call = (id: string, time: number, userId: string) => ({
        messageId: id,
        userId,
        anonymousId: null,
        occurredAt: new Date(time).toISOString(),
        receivedAt: new Date(time).toISOString(),
        sentAt: null,
        originalTimestamp: null,
        campaign: null,
        page: null,
        properties: {},
      });
      return {
        streamId: contactStreamId(workspaceId, `u${person}`),
        events: [
          {
            eventId: `p${person}`,
            type: 'PageViewed',
            data: { ...call(`p${person}`, at, `u${person}`), name: null },
            metadata: { workspaceId, schemaVersion: 1 },
          },
          {
            eventId: `s${person}`,
            type: 'EventTracked',
            data: {
              ...call(`s${person}`, at + (person % 48) * hour, `u${person}`),
              event: 'Signed Up',
            },
            metadata: { workspaceId, schemaVersion: 1 },
          },
        ],
        expected: ExpectedRevision.any,
      };
    }),
  );
}

async function serving(): Promise<{ version: number | null; converted: number }> {
  const pin = await readStore
    .collection<FunnelPinDocument>(manager.collection(funnelPinsCollection))
    .findOne({ _id: 'definitions' });
  const people = await readStore
    .collection<FunnelPersonDocument>(manager.collection(funnelPeopleCollection))
    .find({ reached: 2 });
  return { version: pin?.funnels[0]?.version ?? null, converted: people.length };
}

/** Converted people for a window of `hours` (end included): k ≤ hours for k = person % 48. */
function expectedConverted(hours: number): number {
  return Array.from({ length: 300 }, (_, person) => person % 48).filter((k) => k <= hours).length;
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-funnels-'));
  eventStore = SqliteEventStore.open({ path: path.join(dir, 'events.sqlite') });
  readStore = EmbeddedReadStore.open({ path: path.join(dir, 'read.sqlite') });
  changeFeed = new ChangeFeed();
  manager = createProjectionManager({
    eventStore,
    readStore,
    changeFeed,
    batchSize: 25,
    logger: createLogger('silent'),
  });
});

afterEach(async () => {
  await manager.stop();
  await eventStore.close();
  await readStore.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Resolves once `check` holds after some committed batch (checked after each one). */
function whenServing(check: (state: { version: number | null; converted: number }) => boolean) {
  return new Promise<void>((resolve, reject) => {
    const stop = changeFeed.listen(() => {
      void serving().then((state) => {
        if (check(state)) {
          stop();
          resolve();
        }
      }, reject);
    });
  });
}

it('serves the pinned version until the recomputed one has caught up, then switches', async () => {
  await traffic();
  await command('CreateFunnel', definition(12 * 60 * 60));
  await manager.start();
  await whenServing(
    ({ version, converted }) => version === 1 && converted === expectedConverted(12),
  );

  // Every state observed from now on is a whole version: the old numbers or the new ones.
  const observed: { version: number | null; converted: number }[] = [];
  const stopObserving = changeFeed.listen(
    () => void serving().then((state) => observed.push(state)),
  );
  const switched = whenServing(({ version }) => version === 2);
  await command('UpdateFunnel', definition(24 * 60 * 60));
  await switched;
  stopObserving();
  expect(await serving()).toEqual({ version: 2, converted: expectedConverted(24) });
  for (const state of observed) {
    expect([
      { version: 1, converted: expectedConverted(12) },
      { version: 2, converted: expectedConverted(24) },
    ]).toContainEqual(state);
  }
});

it('starts over when the definition changes again during a recompute', async () => {
  await traffic();
  await command('CreateFunnel', definition(6 * 60 * 60));
  await manager.start();
  await whenServing(({ version }) => version === 1);
  const settled = whenServing(({ version }) => version === 3);
  await command('UpdateFunnel', definition(24 * 60 * 60));
  await command('UpdateFunnel', definition(36 * 60 * 60));
  await settled;
  expect(await serving()).toEqual({ version: 3, converted: expectedConverted(36) });
});

it('recomputes at start when the definitions changed while it was stopped', async () => {
  await traffic();
  await command('CreateFunnel', definition(6 * 60 * 60));
  await manager.start();
  await whenServing(({ version }) => version === 1);
  await manager.stop();

  await command('UpdateFunnel', definition(24 * 60 * 60));
  manager = createProjectionManager({
    eventStore,
    readStore,
    changeFeed,
    batchSize: 25,
    logger: createLogger('silent'),
  });
  const settled = whenServing(({ version }) => version === 2);
  await manager.start();
  await settled;
  expect(await serving()).toEqual({ version: 2, converted: expectedConverted(24) });
});

it('reads no more tracked events once it pinned no funnel at all, and still reaches every position', async () => {
  await traffic();
  await manager.start();
  const head = await eventStore.headPosition();
  expect(await manager.waitForPosition(head, 10_000, ['funnels'])).toBe(true);
  // The first batch pinned an empty set of definitions: nothing can change this generation.
  await new Promise<void>((resolve) => {
    const narrowed = () => manager.snapshot().filters.funnels?.eventTypes?.length === 0;
    if (narrowed()) return resolve();
    const stop = changeFeed.listen(() => {
      if (!narrowed()) return;
      stop();
      resolve();
    });
  });
  await eventStore.appendMany([
    {
      streamId: contactStreamId(workspaceId, 'late'),
      events: [
        {
          eventId: 'late-1',
          type: 'PageViewed',
          data: { messageId: 'late-1', userId: 'late', anonymousId: null, name: null },
          metadata: { workspaceId, schemaVersion: 1 },
        },
      ],
      expected: ExpectedRevision.any,
    },
  ]);
  expect(await manager.waitForPosition(await eventStore.headPosition(), 1_000, ['funnels'])).toBe(
    true,
  );
  expect(await serving()).toEqual({ version: null, converted: 0 });
});

it('recomputes at start when the definitions read model moved on while the funnels did not', async () => {
  await traffic();
  await command('CreateFunnel', definition(6 * 60 * 60));
  await manager.start();
  await whenServing(({ version }) => version === 1);
  await manager.stop();

  // The definitions projection alone applies the update (as if the process stopped before the
  // funnels were recomputed): when everything starts again, no definition change is left to
  // announce, and only the check at start can see that the pinned version is stale.
  const updated = await command('UpdateFunnel', definition(24 * 60 * 60));
  const definitionsOnly = new ProjectionManager({
    eventStore,
    readStore,
    projections: [funnelDefinitionsProjection],
    changeFeed: new ChangeFeed(),
    batchSize: 25,
    logger: createLogger('silent'),
  });
  await definitionsOnly.start();
  expect(await definitionsOnly.waitForPosition(updated, 10_000)).toBe(true);
  await definitionsOnly.stop();

  manager = createProjectionManager({
    eventStore,
    readStore,
    changeFeed,
    batchSize: 25,
    logger: createLogger('silent'),
  });
  const settled = whenServing(({ version }) => version === 2);
  await manager.start();
  await settled;
  expect(await serving()).toEqual({ version: 2, converted: expectedConverted(24) });
});
