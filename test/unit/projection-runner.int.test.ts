import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '../../src/domain/shared/events';
import { ExpectedRevision } from '../../src/infra/event-store/event-store';
import { SqliteEventStore } from '../../src/infra/event-store/sqlite-event-store';
import { createLogger } from '../../src/infra/logger';
import { BatchSession } from '../../src/infra/projections/batch-session';
import { batches } from '../../src/infra/projections/batches';
import {
  type CommittedBatch,
  ProjectionRunner,
} from '../../src/infra/projections/projection-runner';
import { EmbeddedReadStore } from '../../src/infra/read-store/embedded-read-store';
import { AsyncQueue } from '../../src/infra/shared/async-queue';
import { type Projection, documentProjection } from '../../src/projections/projection';
import { type Document, StaleCheckpointError } from '../../src/projections/read-store';
import { countReads } from '../support/read-counts';

const workspaceId = 'acme';
const logger = createLogger('silent');
const WAIT_MS = 10_000;

// ---- the log ------------------------------------------------------------------------------------

/** Appends `count` events of `type` to `streamId`, one append each; returns the last position. */
async function append(
  store: SqliteEventStore,
  streamId: string,
  type: string,
  count = 1,
): Promise<bigint> {
  let position = -1n;
  for (let index = 0; index < count; index++) {
    const result = await store.append(
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
    position = result.position;
  }
  return position;
}

/** Events per stream of the given types, counted from the log itself. */
async function countInLog(
  store: SqliteEventStore,
  types: readonly string[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const event of await store.readAll({ filter: { eventTypes: types } })) {
    counts.set(event.streamId, (counts.get(event.streamId) ?? 0) + 1);
  }
  return counts;
}

// ---- test projections ---------------------------------------------------------------------------

interface CounterOptions {
  /** Every batch handed to `project`, as its events' positions. */
  readonly seen?: bigint[][];
  /** Runs before the batch is projected; may throw or wait. */
  readonly before?: (events: readonly RecordedEvent[]) => Promise<void> | void;
}

/** Counts `Counted` events per stream with `$inc`: applied twice, a count would show it. */
function counterProjection(options: CounterOptions = {}): Projection {
  return {
    name: 'counter',
    version: 1,
    eventTypes: ['Counted'],
    collections: ['counts'],
    async project(events, session) {
      options.seen?.push(events.map((event) => event.position));
      await options.before?.(events);
      for (const event of events) {
        session.update(
          'counts',
          { _id: event.streamId, workspaceId: event.metadata.workspaceId },
          { $inc: { count: 1 }, $max: { lastPosition: Number(event.position) } },
          { upsert: true },
        );
      }
    },
  };
}

interface NoteDocument extends Document {
  workspaceId: string;
  texts: string[];
  revision: number;
}

/** One document per stream listing its `Noted` texts; skips an event it has already seen. */
const notesProjection = documentProjection<NoteDocument>({
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

// ---- running ------------------------------------------------------------------------------------

/** Committed batches of a runner, with a bounded wait for a position. */
class Commits {
  readonly batches: CommittedBatch[] = [];
  private readonly waiters = new Set<() => void>();

  readonly record = (batch: CommittedBatch): void => {
    this.batches.push(batch);
    for (const waiter of this.waiters) waiter();
  };

  get position(): bigint {
    return this.batches.at(-1)?.position ?? -1n;
  }

  /** Resolves once a committed batch reached `position`; fails after `timeoutMs`. */
  until(position: bigint, timeoutMs = WAIT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.position < position) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(`runner did not reach ${position} in ${timeoutMs} ms (at ${this.position})`),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}

interface Stores {
  readonly eventStore: SqliteEventStore;
  readonly readStore: EmbeddedReadStore;
}

function runner(
  stores: Stores,
  projection: Projection,
  onCommitted: (batch: CommittedBatch) => void,
  batchSize = 4,
): ProjectionRunner {
  return new ProjectionRunner({
    projection,
    checkpointName: `${projection.name}@g1`,
    physical: (logical) => `${logical}_g1`,
    eventStore: stores.eventStore,
    readStore: stores.readStore,
    batchSize,
    logger,
    onCommitted,
  });
}

async function countsOf(readStore: EmbeddedReadStore): Promise<Map<string, number>> {
  const documents = await readStore.collection<Document & { count: number }>('counts_g1').find({});
  return new Map(documents.map((document) => [document._id, document.count]));
}

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Holds each `project()` call (by call number) until the test releases it. */
function turnstile(calls = 4): {
  entered: Promise<void>[];
  release: (() => void)[];
  options: CounterOptions;
} {
  const entered = Array.from({ length: calls }, () => gate());
  const released = Array.from({ length: calls }, () => gate());
  let call = 0;
  return {
    entered: entered.map((signal) => signal.opened),
    release: released.map((signal) => signal.open),
    options: {
      before: async () => {
        const current = call++;
        entered[current].open();
        await released[current].opened;
      },
    },
  };
}

/** Lets pending I/O callbacks and timers of zero delay run, a few rounds. */
async function turnsOfTheEventLoop(rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('ProjectionRunner', () => {
  let stores: Stores;
  const running: ProjectionRunner[] = [];

  beforeEach(() => {
    stores = {
      eventStore: SqliteEventStore.open({ path: ':memory:', synchronous: 'NORMAL' }),
      readStore: EmbeddedReadStore.open({ path: ':memory:' }),
    };
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((started) => started.stop()));
    await stores.eventStore.close();
    await stores.readStore.close();
  });

  function started(projection: Projection, commits: Commits, batchSize = 4): ProjectionRunner {
    const started = runner(stores, projection, commits.record, batchSize);
    running.push(started);
    started.start();
    return started;
  }

  describe('applying', () => {
    it('applies each event once and checkpoints the position of the last one applied', async () => {
      // given a log of counted events on three streams, mixed with events it does not handle
      const { eventStore, readStore } = stores;
      await append(eventStore, 'thing-a', 'Counted', 5);
      await append(eventStore, 'thing-b', 'Counted', 3);
      await append(eventStore, 'thing-a', 'Ignored', 2);
      await append(eventStore, 'thing-c', 'Counted', 6);
      const lastCounted = await append(eventStore, 'thing-b', 'Counted', 4);
      await append(eventStore, 'thing-c', 'Ignored', 1);
      const seen: bigint[][] = [];
      const commits = new Commits();

      // when the runner runs until it has applied the last counted event
      const counter = started(counterProjection({ seen }), commits, 4);
      await commits.until(lastCounted);

      // then every counted event was handed over exactly once, in log order, in batches of at most 4
      const counted = await eventStore.readAll({ filter: { eventTypes: ['Counted'] } });
      expect(seen.flat()).toEqual(counted.map((event) => event.position));
      expect(Math.max(...seen.map((batch) => batch.length))).toBeLessThanOrEqual(4);
      // and the read model counts each stream's events
      expect(await countsOf(readStore)).toEqual(await countInLog(eventStore, ['Counted']));
      // and the checkpoint is the last applied position
      expect((await readStore.getCheckpoint('counter@g1'))?.position).toBe(lastCounted);
      expect(counter.position).toBe(lastCounted);
      expect(counter.eventsProcessed).toBe(18);
      expect(counter.state).toBe('running');
      expect(commits.batches.reduce((sum, batch) => sum + batch.events, 0)).toBe(18);
    });

    it('applies live events appended after it caught up', async () => {
      // given a runner that has caught up with a short log
      const { eventStore, readStore } = stores;
      const commits = new Commits();
      await append(eventStore, 'thing-a', 'Counted', 2);
      started(counterProjection(), commits);
      await commits.until(2n);

      // when more events are appended
      const last = await append(eventStore, 'thing-b', 'Counted', 3);
      await commits.until(last);

      // then they are applied too
      expect(await countsOf(readStore)).toEqual(
        new Map([
          ['thing-a', 2],
          ['thing-b', 3],
        ]),
      );
    });

    it('builds a document projection event by event', async () => {
      // given notes on two streams
      const { eventStore, readStore } = stores;
      await append(eventStore, 'thing-a', 'Noted', 3);
      await append(eventStore, 'thing-b', 'Noted', 1);
      const last = await append(eventStore, 'thing-a', 'Noted', 1);
      const commits = new Commits();

      // when the notes projection runs
      started(notesProjection, commits, 2);
      await commits.until(last);

      // then each stream's document lists its notes in order
      expect(await readStore.collection('notes_g1').find({}, { sort: { _id: 1 } })).toEqual([
        {
          _id: 'thing-a',
          workspaceId,
          texts: ['Noted 0', 'Noted 1', 'Noted 2', 'Noted 0'],
          revision: 3,
        },
        { _id: 'thing-b', workspaceId, texts: ['Noted 0'], revision: 0 },
      ]);
      // and the published changes name the documents with their workspace
      expect(commits.batches.flatMap((batch) => batch.changes)).toContainEqual({
        collection: 'notes',
        id: 'thing-b',
        workspaceId,
      });
    });
  });

  describe('crash safety', () => {
    it('refuses to commit the same batch twice and changes nothing', async () => {
      // given a batch of counted events projected and committed with its checkpoint
      const { eventStore, readStore } = stores;
      await append(eventStore, 'thing-a', 'Counted', 3);
      const events = await eventStore.readAll();
      const projection = counterProjection();
      const commitBatch = async (batch: readonly RecordedEvent[]): Promise<void> => {
        const session = new BatchSession(readStore, (logical) => `${logical}_g1`);
        await projection.project(batch, session);
        await readStore.commit({
          operations: session.operations(),
          checkpoint: { name: 'counter@g1', position: batch[batch.length - 1].position },
        });
      };
      await commitBatch(events);

      // when the same batch, or an older one, is committed again
      const again = commitBatch(events);
      const older = commitBatch(events.slice(0, 2));

      // then both are refused as stale
      await expect(again).rejects.toBeInstanceOf(StaleCheckpointError);
      await expect(again).rejects.toMatchObject({ stored: 3n, attempted: 3n });
      await expect(older).rejects.toMatchObject({ stored: 3n, attempted: 2n });
      // and neither the read model nor the checkpoint changed
      expect(await countsOf(readStore)).toEqual(new Map([['thing-a', 3]]));
      expect((await readStore.getCheckpoint('counter@g1'))?.position).toBe(3n);
    });

    it('never applies an event twice when two workers share a checkpoint and their batches overlap', async () => {
      // given five counted events, and two workers of the counter sharing one checkpoint, each
      // holding every batch until the test lets it through: A takes 3 events a batch, B takes 5
      const { eventStore, readStore } = stores;
      const last = await append(eventStore, 'thing-a', 'Counted', 5);
      const a = turnstile();
      const b = turnstile();
      const aCommits = new Commits();
      const bCommits = new Commits();
      const workerA = started(counterProjection(a.options), aCommits, 3);
      const workerB = started(counterProjection(b.options), bCommits, 5);
      await Promise.all([a.entered[0], b.entered[0]]);

      // when A commits events 1-3 first, and B then tries to commit events 1-5
      a.release[0]();
      await aCommits.until(3n);
      b.release[0]();
      b.release[1]();
      await bCommits.until(last);
      a.release[1]();

      // then no event was counted twice
      expect(await countsOf(readStore)).toEqual(new Map([['thing-a', 5]]));
      expect(workerA.position).toBeLessThanOrEqual(last);
      expect(workerB.position).toBe(last);
    });

    it('continues after its checkpoint when restarted: nothing applied twice, nothing skipped', async () => {
      // given a runner that applied part of the log and was stopped while events kept coming
      const { eventStore, readStore } = stores;
      const seenByFirst: bigint[][] = [];
      const firstCommits = new Commits();
      await append(eventStore, 'thing-a', 'Counted', 10);
      await append(eventStore, 'thing-b', 'Counted', 10);
      const first = started(counterProjection({ seen: seenByFirst }), firstCommits, 3);
      await firstCommits.until(5n);
      await append(eventStore, 'thing-c', 'Counted', 10);
      await first.stop();
      const stoppedAt = (await readStore.getCheckpoint('counter@g1'))?.position ?? -1n;
      await append(eventStore, 'thing-a', 'Counted', 5);
      await append(eventStore, 'thing-c', 'Ignored', 3);
      const last = await append(eventStore, 'thing-d', 'Counted', 4);

      // when a new runner starts on the same stores
      const seenBySecond: bigint[][] = [];
      const secondCommits = new Commits();
      started(counterProjection({ seen: seenBySecond }), secondCommits, 3);
      await secondCommits.until(last);

      // then the first runner had committed everything it was handed, and the second began after it
      expect(stoppedAt).toBe(first.position);
      expect(seenByFirst.flat().at(-1)).toBe(stoppedAt);
      expect(seenBySecond.flat().every((position) => position > stoppedAt)).toBe(true);
      // and across both runners every counted event was applied exactly once, in order
      const counted = await eventStore.readAll({ filter: { eventTypes: ['Counted'] } });
      expect([...seenByFirst.flat(), ...seenBySecond.flat()]).toEqual(
        counted.map((event) => event.position),
      );
      expect(await countsOf(readStore)).toEqual(await countInLog(eventStore, ['Counted']));
      expect((await readStore.getCheckpoint('counter@g1'))?.position).toBe(last);
    });

    it('retries the whole batch when it fails between project() and the commit', async () => {
      // given a log of 20 counted events, and a projection that fails on the 7th event the first time
      const { eventStore, readStore } = stores;
      await append(eventStore, 'thing-a', 'Counted', 12);
      const last = await append(eventStore, 'thing-b', 'Counted', 8);
      const seen: bigint[][] = [];
      let failures = 0;
      const projection = counterProjection({ seen });
      const crashing: Projection = {
        ...projection,
        async project(events, session) {
          // the projection writes the batch into the session, then dies before the commit
          await projection.project(events, session);
          if (failures === 0 && events.some((event) => event.position === 7n)) {
            failures += 1;
            throw new Error('killed before the commit');
          }
        },
      };
      const commits = new Commits();

      // when the runner runs (batches of 5)
      const counter = started(crashing, commits, 5);
      await commits.until(last);

      // then the failed batch was handed over again from its first event
      const failedBatch = seen.findIndex((batch) => batch.includes(7n));
      expect(failures).toBe(1);
      expect(seen[failedBatch][0]).toBe(6n);
      expect(seen[failedBatch + 1][0]).toBe(6n);
      // and the read model is exact: the failed attempt's writes were never committed
      expect(await countsOf(readStore)).toEqual(
        new Map([
          ['thing-a', 12],
          ['thing-b', 8],
        ]),
      );
      expect(commits.batches.map((batch) => batch.position)).toEqual([5n, 10n, 15n, 20n]);
      expect(counter.lastError).toBeNull();
      expect(counter.state).toBe('running');
    });
  });

  describe('stopping', () => {
    it('resolves stop() only after the batch in progress is committed, and starts no other', async () => {
      // given a runner in the middle of its first batch of 3, with more batches waiting
      const { eventStore, readStore } = stores;
      await append(eventStore, 'thing-a', 'Counted', 9);
      const inProgress = gate();
      const release = gate();
      const order: string[] = [];
      const counter = runner(
        stores,
        counterProjection({
          before: async () => {
            inProgress.open();
            await release.opened;
          },
        }),
        (batch) => order.push(`committed ${batch.position}`),
        3,
      );
      counter.start();
      await inProgress.opened;

      // when it is asked to stop
      let stopped = false;
      const stopping = counter.stop().then(() => {
        stopped = true;
        order.push('stopped');
      });
      await turnsOfTheEventLoop(10);

      // then it has not stopped while the batch is held
      expect(stopped).toBe(false);
      expect(await readStore.getCheckpoint('counter@g1')).toBeNull();

      // when the batch completes
      release.open();
      await stopping;

      // then the batch was committed before stop() resolved, and no further batch was started
      expect(order).toEqual(['committed 3', 'stopped']);
      expect((await readStore.getCheckpoint('counter@g1'))?.position).toBe(3n);
      expect(await countsOf(readStore)).toEqual(new Map([['thing-a', 3]]));
      expect(counter.state).toBe('stopped');
    });

    it('stops while waiting for new events', async () => {
      // given a runner that has caught up and waits for events
      const { eventStore } = stores;
      const last = await append(eventStore, 'thing-a', 'Counted', 2);
      const commits = new Commits();
      const counter = runner(stores, counterProjection(), commits.record);
      counter.start();
      await commits.until(last);

      // when it is stopped
      await counter.stop();

      // then it is stopped and ignores what comes next
      expect(counter.state).toBe('stopped');
      await append(eventStore, 'thing-a', 'Counted', 1);
      expect(counter.position).toBe(last);
    });

    it('stops when asked right after it started, on an empty log', async () => {
      // given a runner just started on an empty log
      const counter = runner(stores, counterProjection(), () => undefined);
      counter.start();

      // when it is stopped at once
      const outcome = await Promise.race([
        counter.stop().then(() => 'stopped'),
        new Promise((resolve) => setTimeout(resolve, 1_000, 'still running')),
      ]);

      // then stop() resolves
      expect(outcome).toBe('stopped');
    });
  });
});

describe('batches', () => {
  async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
    const items: T[] = [];
    for await (const item of iterable) items.push(item);
    return items;
  }

  it('groups items that are ready into batches of at most maxSize and ends with the source', async () => {
    // given a source with 7 items ready, then its end
    const source = new AsyncQueue<number>();
    for (let item = 1; item <= 7; item++) source.push(item);
    source.close();

    // when it is read in batches of 3
    const grouped = await collect(batches(source, 3));

    // then the batches are full except the last
    expect(grouped).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it('yields a partial batch when the source has nothing more ready, and loses nothing after it', async () => {
    // given an open source with two items ready
    const source = new AsyncQueue<string>();
    source.push('a');
    source.push('b');
    const grouped = batches(source, 10);

    // when a batch is asked for
    const first = await grouped.next();

    // then the two ready items come without waiting for more
    expect(first).toEqual({ done: false, value: ['a', 'b'] });

    // when items arrive later (the reader is already waiting for the next one)
    source.push('c');
    source.push('d');
    source.push('e');
    const second = await grouped.next();

    // then they form the next batch
    expect(second).toEqual({ done: false, value: ['c', 'd', 'e'] });

    // when the source ends
    source.close();

    // then so do the batches
    expect(await grouped.next()).toEqual({ done: true, value: undefined });
  });

  it('ends without a batch when the source is empty and ends', async () => {
    // given an ended, empty source
    const source = new AsyncQueue<number>();
    source.close();

    // when it is read in batches
    // then there are none
    expect(await collect(batches(source, 5))).toEqual([]);
  });

  it('closes the source when the reader stops early', async () => {
    // given an open source read in batches
    let closed = false;
    const source = new AsyncQueue<number>(() => (closed = true));
    source.push(1);
    const grouped = batches(source, 5);
    await grouped.next();

    // when the reader stops
    await grouped.return(undefined);

    // then the source was closed (a subscription would be released)
    expect(closed).toBe(true);
  });
});

describe('BatchSession', () => {
  let readStore: EmbeddedReadStore;
  let session: BatchSession;
  const physical = (logical: string): string => `${logical}_g7`;

  beforeEach(async () => {
    readStore = EmbeddedReadStore.open({ path: ':memory:' });
    await readStore.commit({
      operations: [
        {
          kind: 'replaceOne',
          collection: 'things_g7',
          document: { _id: 'stored', workspaceId, size: 1 },
        },
      ],
    });
    session = new BatchSession(readStore, physical);
  });

  afterEach(async () => {
    await readStore.close();
  });

  it('reads through to the physical collection of the generation', async () => {
    // given a document committed in things_g7
    // when it is read by its logical collection name
    // then it is found
    expect(await session.get('things', 'stored')).toEqual({ _id: 'stored', workspaceId, size: 1 });
    expect(await session.get('things', 'missing')).toBeNull();
  });

  it('sees its own put() and delete() before they are committed', async () => {
    // given a put of a new document and a delete of a stored one
    session.put('things', { _id: 'new', workspaceId, size: 2 });
    session.delete('things', 'stored');

    // when they are read in the same batch
    const fresh = await session.get<Document & { size: number }>('things', 'new');
    const deleted = await session.get('things', 'stored');

    // then the batch's own writes are seen
    expect(fresh).toEqual({ _id: 'new', workspaceId, size: 2 });
    expect(deleted).toBeNull();
    // and what get() returns is a copy: changing it changes nothing written
    if (fresh) fresh.size = 99;
    expect(await session.get('things', 'new')).toMatchObject({ size: 2 });
    // while the store itself is untouched until the commit
    expect(await readStore.collection('things_g7').findOne({ _id: 'new' })).toBeNull();
  });

  it('reads many documents in their order, its own writes as they stand, in reads of 1,000 ids', async () => {
    // given 2,500 stored documents besides the first, a put and a delete in the batch
    await readStore.commit({
      operations: Array.from({ length: 2_500 }, (_, i) => ({
        kind: 'replaceOne' as const,
        collection: 'things_g7',
        document: { _id: `d${i}`, workspaceId, size: i },
      })),
    });
    session.put('things', { _id: 'new', workspaceId, size: -1 });
    session.delete('things', 'd1');
    const reads = countReads(readStore);

    // when they are read together, with a missing id and one named twice
    const ids = [
      'new',
      'stored',
      'missing',
      'd1',
      ...Array.from({ length: 2_500 }, (_, i) => `d${i}`),
      'd7',
    ];
    const found = await session.getMany<Document & { size: number }>('things', ids);

    // then each answer stands at its id's place: the batch's own writes first, null if none
    expect(found).toHaveLength(ids.length);
    expect(found.slice(0, 5)).toEqual([
      { _id: 'new', workspaceId, size: -1 },
      { _id: 'stored', workspaceId, size: 1 },
      null,
      null,
      { _id: 'd0', workspaceId, size: 0 },
    ]);
    expect(found[5]).toBeNull();
    expect(found.slice(6, ids.length - 1).map((document) => document?.size)).toEqual(
      Array.from({ length: 2_498 }, (_, i) => i + 2),
    );
    expect(found[ids.length - 1]).toEqual({ _id: 'd7', workspaceId, size: 7 });
    // and the 2,501 ids not written in the batch took three reads of the store
    expect(reads).toEqual({ one: 0, many: 3 });
    // and an answer is a copy: changing it changes nothing written
    found[0]!.size = 99;
    expect(await session.get('things', 'new')).toMatchObject({ size: -1 });
  });

  it('refuses get() or put() of a document it has updated by operators in the same batch', async () => {
    // given an operator update of a document
    session.update('things', { _id: 'stored', workspaceId }, { $inc: { size: 1 } });

    // when the same document is read or replaced
    // then it is refused, since the update has not been applied yet
    await expect(session.get('things', 'stored')).rejects.toThrow(/things\/stored/);
    expect(() => session.put('things', { _id: 'stored', size: 5 })).toThrow(/things\/stored/);
    // while another document is still readable
    expect(await session.get('things', 'other')).toBeNull();
  });

  it('refuses delete() of a document it has updated by operators in the same batch', async () => {
    // given an upserting operator update of a document
    session.update(
      'things',
      { _id: 'fresh', workspaceId },
      { $inc: { size: 1 } },
      { upsert: true },
    );

    // when the projection then deletes that document in the same batch
    const deleting = (): void => session.delete('things', 'fresh');

    // then it is refused like get() and put(): whole-document writes are applied before the
    // operator updates, so the delete would run first and the upsert would bring the document back
    expect(deleting).toThrow(/things\/fresh/);
  });

  it('lists whole documents first, then operator updates in call order, in physical names', () => {
    // given an update, a put, a delete and another update, in that order
    session.update('things', { _id: 'a' }, { $inc: { size: 1 } }, { upsert: true });
    session.put('things', { _id: 'b', workspaceId, size: 2 });
    session.delete('others', 'c');
    session.update('things', { _id: 'd' }, { $set: { size: 4 } });

    // when the operations are taken
    const operations = session.operations();

    // then whole documents come first, then the updates as they were made
    expect(operations).toEqual([
      {
        kind: 'replaceOne',
        collection: 'things_g7',
        document: { _id: 'b', workspaceId, size: 2 },
      },
      { kind: 'deleteOne', collection: 'others_g7', id: 'c' },
      {
        kind: 'updateOne',
        collection: 'things_g7',
        filter: { _id: 'a' },
        update: { $inc: { size: 1 } },
        upsert: true,
      },
      {
        kind: 'updateOne',
        collection: 'things_g7',
        filter: { _id: 'd' },
        update: { $set: { size: 4 } },
        upsert: false,
      },
    ]);
  });

  it('writes a document put twice once, as its last version', async () => {
    // given a document put twice
    session.put('things', { _id: 'b', workspaceId, size: 1 });
    session.put('things', { _id: 'b', workspaceId, size: 2 });

    // when the operations are taken
    // then there is one replace with the last version
    expect(session.operations()).toEqual([
      {
        kind: 'replaceOne',
        collection: 'things_g7',
        document: { _id: 'b', workspaceId, size: 2 },
      },
    ]);
  });

  it('lists each changed document once, by logical collection, with its workspace', () => {
    // given documents put, updated by id, and deleted, one of them twice
    session.put('things', { _id: 'b', workspaceId, size: 2 });
    session.put('things', { _id: 'b', workspaceId, size: 3 });
    session.update('counters', { _id: 'x', workspaceId: 'globex' }, { $inc: { n: 1 } });
    session.delete('others', 'c');

    // when the changes are taken
    const changes = session.changed();

    // then each document is listed once
    expect(changes).toEqual([
      { collection: 'things', id: 'b', workspaceId },
      { collection: 'counters', id: 'x', workspaceId: 'globex' },
      { collection: 'others', id: 'c' },
    ]);
  });
});
