import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '../../src/domain/shared/events';
import { ExpectedRevision } from '../../src/infra/event-store/event-store';
import { SqliteEventStore } from '../../src/infra/event-store/sqlite-event-store';
import { createLogger } from '../../src/infra/logger';
import { BatchScheduler } from '../../src/infra/projections/batch-scheduler';
import { ChangeFeed } from '../../src/infra/projections/change-feed';
import {
  ProjectionManager,
  type ProjectionStatus,
  type RebuildProgress,
  UnknownProjectionError,
} from '../../src/infra/projections/projection-manager';
import type { CommittedBatch } from '../../src/infra/projections/projection-runner';
import { EmbeddedReadStore } from '../../src/infra/read-store/embedded-read-store';
import { type Projection, documentProjection } from '../../src/projections/projection';
import type { Document } from '../../src/projections/read-store';

const workspaceId = 'acme';
const WAIT_MS = 10_000;

// ---- the log ------------------------------------------------------------------------------------

async function append(
  store: SqliteEventStore,
  streamId: string,
  type: string,
  count = 1,
): Promise<RecordedEvent> {
  for (let index = 0; index < count; index++) {
    await store.append(
      streamId,
      [
        {
          eventId: randomUUID(),
          type,
          data: { text: `${type} ${index}` },
          metadata: { workspaceId, schemaVersion: 1 },
        },
      ],
      ExpectedRevision.any,
    );
  }
  const [last] = await store.readAll({ after: (await store.headPosition()) - 1n });
  return last;
}

async function countInLog(store: SqliteEventStore, type: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const event of await store.readAll({ filter: { eventTypes: [type] } })) {
    counts.set(event.streamId, (counts.get(event.streamId) ?? 0) + 1);
  }
  return counts;
}

// ---- test projections ---------------------------------------------------------------------------

/** Holds the next `project()` call until released, once armed. */
class Gate {
  private armed = false;
  private enter: () => void = () => undefined;
  private leave: () => void = () => undefined;
  entered: Promise<void> = Promise.resolve();
  private left: Promise<void> = Promise.resolve();

  arm(): void {
    this.armed = true;
    this.entered = new Promise((resolve) => (this.enter = resolve));
    this.left = new Promise((resolve) => (this.leave = resolve));
  }

  release(): void {
    this.leave();
  }

  async pass(): Promise<void> {
    if (!this.armed) return;
    this.armed = false;
    this.enter();
    await this.left;
  }
}

/** Counts `Counted` events per stream; `step` is what one event adds (its "meaning"). */
function counterProjection({
  version = 1,
  step = 1,
  gate = new Gate(),
  collection = 'counts',
} = {}): Projection {
  return {
    name: 'counter',
    version,
    eventTypes: ['Counted'],
    collections: [collection],
    async project(events, session) {
      await gate.pass();
      for (const event of events) {
        session.update(
          collection,
          { _id: event.streamId, workspaceId: event.metadata.workspaceId },
          { $inc: { count: step } },
          { upsert: true },
        );
      }
    },
  };
}

const notesProjection = documentProjection<Document & { texts: string[]; revision: number }>({
  name: 'notes',
  version: 1,
  collection: 'notes',
  eventTypes: ['Noted'],
  documentId: (event) => event.streamId,
  evolve: (document, event) => {
    if (document && document.revision >= Number(event.revision)) return document;
    return {
      _id: event.streamId,
      workspaceId: event.metadata.workspaceId,
      texts: [...(document?.texts ?? []), (event.data as { text: string }).text],
      revision: Number(event.revision),
    };
  },
});

/** A projection that can never apply its events. */
function brokenProjection(called: () => void = () => undefined): Projection {
  return {
    name: 'broken',
    version: 1,
    eventTypes: ['Broken'],
    collections: ['wreckage'],
    async project() {
      called();
      throw new Error('always broken');
    },
  };
}

// ---- waiting ------------------------------------------------------------------------------------

/** Resolves once `condition` holds, checked now and after every published batch; bounded. */
function until(
  feed: ChangeFeed,
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unlisten();
      if (error) reject(error);
      else resolve();
    };
    const check = (): void => {
      Promise.resolve(condition()).then(
        (holds) => holds && settle(),
        (error: unknown) => settle(error as Error),
      );
    };
    const timer = setTimeout(() => settle(new Error(`timed out waiting for ${what}`)), timeoutMs);
    const unlisten = feed.listen(check);
    check();
  });
}

/** A promise that fails after `timeoutMs` instead of hanging the test. */
function within<T>(promise: Promise<T>, what: string, timeoutMs = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('ProjectionManager', () => {
  let eventStore: SqliteEventStore;
  let readStore: EmbeddedReadStore;
  let changeFeed: ChangeFeed;
  const managers: ProjectionManager[] = [];

  beforeEach(() => {
    eventStore = SqliteEventStore.open({ path: ':memory:', synchronous: 'NORMAL' });
    readStore = EmbeddedReadStore.open({ path: ':memory:' });
    changeFeed = new ChangeFeed();
  });

  afterEach(async () => {
    await Promise.all(managers.splice(0).map((manager) => within(manager.stop(), 'stop')));
    await eventStore.close();
    await readStore.close();
  });

  function manager(
    projections: readonly Projection[],
    options: {
      now?: () => number;
      logger?: ReturnType<typeof createLogger>;
      scheduler?: BatchScheduler;
    } = {},
  ): ProjectionManager {
    const created = new ProjectionManager({
      eventStore,
      readStore,
      projections,
      changeFeed,
      batchSize: 5,
      logger: options.logger ?? createLogger('silent'),
      ...(options.now && { now: options.now }),
      ...(options.scheduler && { scheduler: options.scheduler }),
    });
    managers.push(created);
    return created;
  }

  async function stop(stopped: ProjectionManager): Promise<void> {
    managers.splice(managers.indexOf(stopped), 1);
    await within(stopped.stop(), 'stop');
  }

  const counts = async (collection: string): Promise<Map<string, number>> =>
    new Map(
      (await readStore.collection<Document & { count: number }>(collection).find({})).map(
        (document) => [document._id, document.count],
      ),
    );

  const registry = (name: string) =>
    readStore.collection('projection_registry').findOne({ _id: name });

  const statusOf = async (
    managed: ProjectionManager,
    name: string,
  ): Promise<ProjectionStatus | undefined> =>
    (await managed.status()).find((status) => status.name === name);

  describe('starting', () => {
    it('registers each projection and runs its generation 1 under physical names', async () => {
      // given counted events and notes in the log
      await append(eventStore, 'thing-a', 'Counted', 3);
      const last = await append(eventStore, 'thing-b', 'Noted', 2);
      const projections = manager([counterProjection(), notesProjection]);

      // when the manager starts and the projections catch up
      await projections.start();
      expect(await projections.waitForPosition(last.position, WAIT_MS)).toBe(true);

      // then the registry holds generation 1 of each, at its version
      expect(await registry('counter')).toEqual({
        _id: 'counter',
        version: 1,
        generation: 1,
        collections: ['counts'],
      });
      expect(await registry('notes')).toEqual({
        _id: 'notes',
        version: 1,
        generation: 1,
        collections: ['notes'],
      });
      // and logical collections map to generation 1's physical ones, which hold the read models
      expect(projections.collection('counts')).toBe('counts_g1');
      expect(projections.collection('notes')).toBe('notes_g1');
      expect(await counts('counts_g1')).toEqual(new Map([['thing-a', 3]]));
      expect(await readStore.collection('notes_g1').count()).toBe(1);
      expect(await readStore.listCollections()).toEqual(
        expect.arrayContaining(['projection_registry', 'counts_g1', 'notes_g1']),
      );
      expect(projections.names()).toEqual(['counter', 'notes']);
      expect(() => projections.collection('nobody-owns-this')).toThrow(/nobody-owns-this/);
      expect(() => projections.rebuildProgress('nobody')).toThrow(UnknownProjectionError);
    });
  });

  describe('batch sizes', () => {
    it("gathers at least a projection's minBatchSize events per batch when they are waiting", async () => {
      // given 30 events waiting, a manager batch size of 5, and two projections that record
      // their batch sizes, one asking for batches of at least 40
      const last = await append(eventStore, 'thing-a', 'Counted', 30);
      const sizes = { large: [] as number[], plain: [] as number[] };
      const recording = (name: 'large' | 'plain', minBatchSize?: number): Projection => ({
        name,
        version: 1,
        eventTypes: ['Counted'],
        collections: [name],
        ...(minBatchSize !== undefined && { minBatchSize }),
        async project(events) {
          sizes[name].push(events.length);
        },
      });
      const projections = manager([recording('large', 40), recording('plain')]);

      // when both catch up
      await projections.start();
      expect(await projections.waitForPosition(last.position, WAIT_MS)).toBe(true);

      // then the one that asked got the waiting events in one batch, the other in fives
      expect(sizes.large).toEqual([30]);
      expect(sizes.plain.every((size) => size <= 5)).toBe(true);
      expect(sizes.plain.reduce((sum, size) => sum + size, 0)).toBe(30);
    });
  });

  describe('batch order', () => {
    it('runs a live projection while background ones wait for ingestion to be idle', async () => {
      // given counted and noted events, ingestion busy, and no trickle within the test
      await append(eventStore, 'thing-a', 'Counted', 3);
      const last = await append(eventStore, 'thing-b', 'Noted', 2);
      const scheduler = new BatchScheduler({ trickleMs: 60_000 });
      scheduler.ingestionBusy(true);
      const projections = manager([{ ...counterProjection(), live: true }, notesProjection], {
        scheduler,
      });

      // when the manager starts
      await projections.start();

      // then the live counter catches up and the background notes have not started
      expect(await projections.waitForPosition(last.position, WAIT_MS, ['counter'])).toBe(true);
      expect(await counts('counts_g1')).toEqual(new Map([['thing-a', 3]]));
      expect(await projections.waitForPosition(last.position, 200, ['notes'])).toBe(false);
      expect((await statusOf(projections, 'notes'))?.position).toBe(-1n);

      // and once ingestion is idle the notes catch up too
      scheduler.ingestionBusy(false);
      expect(await projections.waitForPosition(last.position, WAIT_MS, ['notes'])).toBe(true);
    });

    it('stops at once while a background batch waits for its turn', async () => {
      // given a background projection with events waiting and ingestion busy
      await append(eventStore, 'thing-b', 'Noted', 2);
      const scheduler = new BatchScheduler({ trickleMs: 60_000 });
      scheduler.ingestionBusy(true);
      const waiting = new Promise<void>((resolve) => {
        const turn = scheduler.backgroundTurn.bind(scheduler);
        jest.spyOn(scheduler, 'backgroundTurn').mockImplementation(() => {
          resolve();
          return turn();
        });
      });
      const projections = manager([notesProjection], { scheduler });
      await projections.start();
      await within(waiting, 'a batch waiting for its turn');

      // when it is stopped, then it does not wait for the turn (within() fails after 10 s)
      const started = Date.now();
      await stop(projections);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await registry('notes'))?.generation).toBe(1);
    });

    it('runs a rebuild of a background projection while its serving runner waits for a turn', async () => {
      // given a background projection caught up, then more events while ingestion is busy
      await append(eventStore, 'thing-a', 'Counted', 3);
      const scheduler = new BatchScheduler({ trickleMs: 60_000 });
      const projections = manager([counterProjection()], { scheduler });
      await projections.start();
      const first = await append(eventStore, 'thing-a', 'Counted');
      expect(await projections.waitForPosition(first.position, WAIT_MS)).toBe(true);
      scheduler.ingestionBusy(true);
      const last = await append(eventStore, 'thing-b', 'Counted', 2);

      // when it is rebuilt, then the rebuild catches up and serves without waiting its turn
      await projections.rebuild('counter');
      await until(changeFeed, () => projections.collection('counts') === 'counts_g2', 'switch');
      expect(projections.rebuildProgress('counter')).toMatchObject({
        position: last.position,
        done: true,
      });
      expect(await counts('counts_g2')).toEqual(
        new Map([
          ['thing-a', 4],
          ['thing-b', 2],
        ]),
      );
    });

    it('tells the scheduler after each live batch whether it was full', async () => {
      // given 7 counted events and batches of 5
      const last = await append(eventStore, 'thing-a', 'Counted', 7);
      const scheduler = new BatchScheduler();
      const liveBatch = jest.spyOn(scheduler, 'liveBatch');
      const projections = manager([{ ...counterProjection(), live: true }, notesProjection], {
        scheduler,
      });

      // when the live counter catches up
      await projections.start();
      expect(await projections.waitForPosition(last.position, WAIT_MS)).toBe(true);

      // then its full batch marked it behind and its last batch not; the notes said nothing
      expect(liveBatch.mock.calls.map(([, full]) => full)).toEqual([true, false]);
      expect(new Set(liveBatch.mock.calls.map(([runner]) => runner)).size).toBe(1);
      expect(scheduler.contended).toBe(false);
    });

    it('tells the scheduler how long each background batch took from its turn, and nothing of rebuilds or live ones', async () => {
      // given 7 counted events, batches of 5, a background counter and a live notes projection
      const last = await append(eventStore, 'thing-a', 'Counted', 7);
      await append(eventStore, 'thing-a', 'Noted', 1);
      const scheduler = new BatchScheduler();
      const backgroundBatch = jest.spyOn(scheduler, 'backgroundBatch');
      // a clock each counter batch moves on by 30 ms
      let clock = 1_000_000;
      const counter = counterProjection();
      const timed = (projection: Projection, ms: number): Projection => ({
        ...projection,
        project: async (events, session) => {
          clock += ms;
          await projection.project(events, session);
        },
      });
      const projections = manager([timed(counter, 30), { ...notesProjection, live: true }], {
        scheduler,
        now: () => clock,
      });

      // when both catch up
      await projections.start();
      expect(await projections.waitForPosition(last.position, WAIT_MS)).toBe(true);

      // then the counter's two batches were timed from their turns, the notes' one not at all
      expect(backgroundBatch.mock.calls).toEqual([[30], [30]]);
    });

    it('counts a live batch of larger pages (minBatchSize) as behind from the configured batch size', async () => {
      // given 7 counted events, batches of 5, and a live counter that reads pages of 100
      const last = await append(eventStore, 'thing-a', 'Counted', 7);
      const scheduler = new BatchScheduler();
      const liveBatch = jest.spyOn(scheduler, 'liveBatch');
      const projections = manager(
        [{ ...counterProjection(), live: true, minBatchSize: 100 }, notesProjection],
        { scheduler },
      );

      // when it catches up in one batch of 7
      await projections.start();
      expect(await projections.waitForPosition(last.position, WAIT_MS)).toBe(true);

      // then that batch, short of its page but more than the projector's batch, was behind
      expect(liveBatch.mock.calls.map(([, full]) => full)).toEqual([true]);
    });
  });

  describe('waitForPosition', () => {
    it('resolves true once the projections have applied the position', async () => {
      // given a running manager
      const projections = manager([counterProjection(), notesProjection]);
      await projections.start();

      // when events are appended and their position is awaited
      await append(eventStore, 'thing-a', 'Noted', 2);
      const last = await append(eventStore, 'thing-a', 'Counted', 4);
      const reached = await projections.waitForPosition(last.position, WAIT_MS);

      // then it is reached and the read models already show the events (read-your-writes)
      expect(reached).toBe(true);
      expect(await counts('counts_g1')).toEqual(new Map([['thing-a', 4]]));
      expect(await readStore.collection('notes_g1').findOne({ _id: 'thing-a' })).toMatchObject({
        texts: ['Noted 0', 'Noted 1'],
      });
    });

    it('resolves true at once for a position whose events the projection does not handle', async () => {
      // given a manager that has caught up with the log
      const projections = manager([counterProjection(), notesProjection]);
      await projections.start();
      const counted = await append(eventStore, 'thing-a', 'Counted', 2);
      expect(await projections.waitForPosition(counted.position, WAIT_MS)).toBe(true);

      // when events no projection handles are appended, and a counted one only notes ignores
      const ignored = await append(eventStore, 'thing-a', 'Ignored', 3);

      // then waiting for them needs no time at all (a zero timeout would answer false)
      expect(await projections.waitForPosition(ignored.position, 0)).toBe(true);
      expect(await projections.waitForPosition(counted.position, 0, ['notes'])).toBe(true);
    });

    it('resolves false after the timeout when a projection cannot reach the position', async () => {
      // given a projection that fails on every batch, beside a healthy one
      const projections = manager([counterProjection(), brokenProjection()]);
      await projections.start();
      const broken = await append(eventStore, 'thing-a', 'Broken');
      const counted = await append(eventStore, 'thing-a', 'Counted');

      // when its position is awaited for 300 ms
      const startedAt = Date.now();
      const reached = await projections.waitForPosition(broken.position, 300);

      // then the answer is false, after the timeout
      expect(reached).toBe(false);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(290);
      // while the healthy projection alone reaches it
      expect(await projections.waitForPosition(counted.position, WAIT_MS, ['counter'])).toBe(true);
    });
  });

  describe('rebuilding', () => {
    it('builds generation 2 from the log while generation 1 serves, then switches over', async () => {
      // given a counter that has applied 12 events on three streams, and notes beside it
      const gate = new Gate();
      await append(eventStore, 'thing-a', 'Counted', 5);
      await append(eventStore, 'thing-b', 'Noted', 2);
      await append(eventStore, 'thing-b', 'Counted', 4);
      const last = await append(eventStore, 'thing-c', 'Counted', 3);
      const projections = manager([counterProjection({ gate }), notesProjection]);
      await projections.start();
      expect(await projections.waitForPosition(last.position, WAIT_MS)).toBe(true);
      const served = await counts('counts_g1');
      const progressSeen: (RebuildProgress | null)[] = [];
      changeFeed.listen((batch) => {
        if (batch.projection === 'counter')
          progressSeen.push(projections.rebuildProgress('counter'));
      });

      // when it is rebuilt, and the new generation is held in its first batch
      gate.arm();
      const started = await projections.rebuild('counter');
      await within(gate.entered, 'the rebuild to start its first batch');

      // then the rebuild reports where it is going
      expect(started).toMatchObject({
        projection: 'counter',
        generation: 2,
        eventsProcessed: 0,
        position: -1n,
        targetPosition: last.position,
        done: false,
      });
      // and asking again returns the rebuild in progress
      expect(await projections.rebuild('counter')).toMatchObject({ generation: 2, done: false });
      // and generation 1 still serves reads
      expect(projections.collection('counts')).toBe('counts_g1');
      expect(await counts('counts_g1')).toEqual(served);
      expect(await registry('counter')).toMatchObject({ generation: 1 });
      expect(await statusOf(projections, 'counter')).toMatchObject({
        generation: 1,
        state: 'running',
        position: last.position,
        rebuild: { generation: 2, done: false },
      });

      // when the new generation goes on and catches up
      gate.release();
      await until(changeFeed, () => projections.collection('counts') === 'counts_g2', 'switch');

      // then generation 2 serves, with exactly the log's counts
      expect(await counts('counts_g2')).toEqual(await countInLog(eventStore, 'Counted'));
      expect(await registry('counter')).toEqual({
        _id: 'counter',
        version: 1,
        generation: 2,
        collections: ['counts'],
      });
      // and generation 1 is gone: its collections and its checkpoint
      expect(await readStore.listCollections()).not.toContain('counts_g1');
      expect(await readStore.collection('counts_g1').count()).toBe(0);
      expect(await readStore.getCheckpoint('counter@g1')).toBeNull();
      expect((await readStore.getCheckpoint('counter@g2'))?.position).toBe(last.position);
      // and the other projection was left alone
      expect(projections.collection('notes')).toBe('notes_g1');
      // and progress was reported after each batch, not done until the switch, then done
      expect(progressSeen.length).toBeGreaterThanOrEqual(2);
      expect(progressSeen.slice(0, -1).every((progress) => progress?.done === false)).toBe(true);
      const finished = {
        projection: 'counter',
        generation: 2,
        eventsProcessed: 12,
        position: last.position,
        targetPosition: last.position,
        etaSeconds: 0,
        done: true,
      };
      expect(progressSeen.at(-1)).toMatchObject(finished);
      expect(projections.rebuildProgress('counter')).toMatchObject(finished);
      expect(await statusOf(projections, 'counter')).toMatchObject({
        generation: 2,
        state: 'running',
        position: last.position,
        rebuild: { generation: 2, done: true },
      });

      // when more events come after the switch
      const later = await append(eventStore, 'thing-a', 'Counted', 2);
      expect(await projections.waitForPosition(later.position, WAIT_MS)).toBe(true);

      // then generation 2 applies them
      expect((await counts('counts_g2')).get('thing-a')).toBe(7);
    });

    it('switches at once when the log is empty, and reports the rebuild as done', async () => {
      // given a running manager on an empty log
      const projections = manager([counterProjection()]);
      await projections.start();

      // when a projection is rebuilt
      const progress = await projections.rebuild('counter');

      // then generation 2 serves already
      expect(projections.collection('counts')).toBe('counts_g2');
      expect(await registry('counter')).toMatchObject({ generation: 2 });
      // and the answer says it is done (rather than nothing at all)
      const finished = {
        projection: 'counter',
        generation: 2,
        eventsProcessed: 0,
        position: -1n,
        targetPosition: -1n,
        done: true,
      };
      expect(progress).toMatchObject(finished);
      expect(projections.rebuildProgress('counter')).toMatchObject(finished);
    });

    it('rebuilds on start a projection whose version changed, serving the old generation until the switch', async () => {
      // given version 1 of the counter ran over 6 events and stopped
      await append(eventStore, 'thing-a', 'Counted', 4);
      const last = await append(eventStore, 'thing-b', 'Counted', 2);
      const first = manager([counterProjection({ version: 1, step: 1 })]);
      await first.start();
      expect(await first.waitForPosition(last.position, WAIT_MS)).toBe(true);
      await stop(first);

      // when version 2 (each event now counts 10) starts, its rebuild held in the first batch
      const gate = new Gate();
      gate.arm();
      const second = manager([counterProjection({ version: 2, step: 10, gate })]);
      await second.start();
      await within(gate.entered, 'the rebuild to start');

      // then the old generation serves, marked outdated, while generation 2 is built
      expect(second.collection('counts')).toBe('counts_g1');
      expect(await counts('counts_g1')).toEqual(
        new Map([
          ['thing-a', 4],
          ['thing-b', 2],
        ]),
      );
      // (with the rebuild in progress, for a worker that takes the projection over)
      expect(await registry('counter')).toEqual({
        _id: 'counter',
        version: 1,
        generation: 1,
        collections: ['counts'],
        rebuilding: {
          generation: 2,
          target: last.position.toString(),
          startedAt: expect.any(Number),
        },
      });
      expect(await statusOf(second, 'counter')).toMatchObject({
        version: 1,
        generation: 1,
        state: 'outdated',
        rebuild: { generation: 2, targetPosition: last.position, done: false },
      });

      // when the rebuild catches up
      gate.release();
      await until(changeFeed, () => second.collection('counts') === 'counts_g2', 'switch');

      // then version 2 serves from generation 2, and generation 1 is dropped
      expect(await counts('counts_g2')).toEqual(
        new Map([
          ['thing-a', 40],
          ['thing-b', 20],
        ]),
      );
      expect(await registry('counter')).toEqual({
        _id: 'counter',
        version: 2,
        generation: 2,
        collections: ['counts'],
      });
      expect(await readStore.listCollections()).not.toContain('counts_g1');
      expect(await statusOf(second, 'counter')).toMatchObject({
        version: 2,
        generation: 2,
        state: 'running',
      });

      // when the same version starts again
      await stop(second);
      const third = manager([counterProjection({ version: 2, step: 10 })]);
      await third.start();

      // then it is not rebuilt again
      expect(third.collection('counts')).toBe('counts_g2');
      expect(third.rebuildProgress('counter')).toBeNull();
    });
  });

  it('drops the collections of the retired generation also when the new version owns others', async () => {
    // given version 1 kept its counts in `counts`
    const last = await append(eventStore, 'thing-a', 'Counted', 3);
    const first = manager([counterProjection({ version: 1 })]);
    await first.start();
    expect(await first.waitForPosition(last.position, WAIT_MS)).toBe(true);
    await stop(first);

    // when version 2 keeps them in `tallies`
    const second = manager([counterProjection({ version: 2, collection: 'tallies' })]);
    await second.start();
    await until(changeFeed, () => second.collection('tallies') === 'tallies_g2', 'switch');

    // then generation 1's `counts` is gone with it
    const collections = await readStore.listCollections();
    expect(collections).toContain('tallies_g2');
    expect(collections).not.toContain('counts_g1');
    await stop(second);
  });

  describe('status', () => {
    it('reports position, head, lag and state of each projection', async () => {
      // given a healthy counter and a projection that keeps failing, on a clock the test holds
      let clock = Date.now();
      let failures = 0;
      let failed: () => void = () => undefined;
      const failedTwice = new Promise<void>((resolve) => (failed = resolve));
      const logged = {
        write(line: string) {
          if (line.includes('projection batch failed') && ++failures === 2) failed();
        },
      };
      const counted = await append(eventStore, 'thing-a', 'Counted', 3);
      const broken = await append(eventStore, 'thing-b', 'Broken');
      const head = await append(eventStore, 'thing-a', 'Ignored');
      const projections = manager([counterProjection(), brokenProjection()], {
        now: () => clock,
        logger: createLogger('error', logged),
      });

      // when they have run: the counter caught up, the broken one failed (twice, to be sure)
      await projections.start();
      expect(await projections.waitForPosition(head.position, WAIT_MS, ['counter'])).toBe(true);
      await within(failedTwice, 'the broken projection to fail twice');
      clock = broken.recordedAt.getTime() + 5_000;
      const statuses = await projections.status();

      // then the counter is running, caught up, without lag
      expect(statuses.find((status) => status.name === 'counter')).toEqual({
        name: 'counter',
        version: 1,
        generation: 1,
        state: 'running',
        position: counted.position,
        headPosition: head.position,
        lagMs: 0,
        lastError: null,
        rebuild: null,
        // the worker holding its lease: this manager's own keeper
        worker: expect.stringContaining(`:${process.pid}:`),
      });
      // and the broken one is retrying, has applied nothing, and lags by its oldest event's age
      expect(statuses.find((status) => status.name === 'broken')).toMatchObject({
        state: 'retrying',
        position: -1n,
        headPosition: head.position,
        lagMs: 5_000,
        lastError: 'always broken',
      });
    });
  });

  describe('change feed', () => {
    it('publishes each committed batch with the documents it changed', async () => {
      // given a subscriber to the change feed
      const feed = changeFeed.subscribe();
      const projections = manager([counterProjection(), notesProjection]);
      await projections.start();

      // when events are appended and applied
      await append(eventStore, 'thing-a', 'Counted', 2);
      await append(eventStore, 'thing-b', 'Counted');
      const noted = await append(eventStore, 'thing-a', 'Noted');
      expect(await projections.waitForPosition(noted.position, WAIT_MS)).toBe(true);

      // then the subscriber got batches naming the projection, position and changed documents
      const received: CommittedBatch[] = [];
      const reachedBoth = async (): Promise<void> => {
        for await (const batch of feed) {
          received.push(batch);
          const positions = (name: string) =>
            received.filter((item) => item.projection === name).map((item) => item.position);
          if (positions('counter').includes(3n) && positions('notes').includes(noted.position))
            break;
        }
      };
      await within(reachedBoth(), 'batches of both projections');
      const counter = received.filter((batch) => batch.projection === 'counter');
      expect(counter.reduce((sum, batch) => sum + batch.events, 0)).toBe(3);
      expect(counter.flatMap((batch) => batch.changes)).toEqual(
        expect.arrayContaining([
          { collection: 'counts', id: 'thing-a', workspaceId },
          { collection: 'counts', id: 'thing-b', workspaceId },
        ]),
      );
      expect(received.find((batch) => batch.projection === 'notes')).toEqual({
        projection: 'notes',
        position: noted.position,
        events: 1,
        changes: [{ collection: 'notes', id: 'thing-a', workspaceId }],
      });
      // and leaving the loop unsubscribed it
      expect(changeFeed.subscriberCount).toBe(0);
    });

    it('delivers to listeners until they unlisten', () => {
      // given a feed with a listener and a subscriber
      const feed = new ChangeFeed();
      const heard: bigint[] = [];
      const unlisten = feed.listen((batch) => heard.push(batch.position));
      const queue = feed.subscribe();
      const batch = (position: bigint): CommittedBatch => ({
        projection: 'counter',
        position,
        events: 1,
        changes: [],
      });

      // when batches are published before and after the listener leaves
      feed.publish(batch(1n));
      unlisten();
      feed.publish(batch(2n));

      // then the listener heard only the first, the subscriber has both queued
      expect(heard).toEqual([1n]);
      expect(queue.size).toBe(2);
      expect(feed.subscriberCount).toBe(1);
      void queue.return();
      expect(feed.subscriberCount).toBe(0);
    });
  });
});
