/**
 * The event store contract: every adapter of the `EventStore` port passes this suite.
 *
 * It assumes nothing about the adapter beyond the port: the log may already hold events
 * (a shared EventStoreDB), positions may be large and need not be dense, and other test
 * files may write at the same time. So every test writes to streams with a random name,
 * uses event types of its own, reads the log from the head it saw before writing, and
 * compares positions only with each other.
 *
 * The suite closes the store after its last test, then calls the factory's `cleanup`. It
 * closes every subscription after each test, so closing one twice must be harmless.
 */
import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '../../src/domain/shared/events';
import {
  DuplicateEventError,
  ExpectedRevision,
  WrongExpectedRevisionError,
  type EventStore,
  type EventSubscription,
  type EventToAppend,
} from '../../src/infra/event-store/event-store';

export interface EventStoreUnderTest {
  readonly store: EventStore;
  /** Runs after the suite has closed the store: remove files, drop databases. */
  readonly cleanup?: () => Promise<void>;
}

const RECEIVE_TIMEOUT_MS = 5_000;

/** Names unique to one test, so tests never see each other's events. */
export function uniqueNames(label: string) {
  const id = randomUUID().slice(0, 8);
  return {
    stream: (name = 'main') => `contract_${label}_${id}-${name}`,
    streamPrefix: `contract_${label}_${id}-`,
    type: (name: string) => `Contract${name}_${id}`,
  };
}

export function newEvent(type: string, data: object = {}): EventToAppend {
  return {
    eventId: randomUUID(),
    type,
    data,
    metadata: { workspaceId: 'ws-contract', schemaVersion: 1 },
  };
}

export function idsOf(events: readonly Pick<RecordedEvent, 'eventId'>[]): string[] {
  return events.map((event) => event.eventId);
}

/**
 * Pulls events from a subscription without ending it, so a test can take some, append,
 * and take more. Each `take` fails with a clear message instead of hanging.
 */
export class SubscriptionReader {
  private readonly iterator: AsyncIterator<RecordedEvent>;

  constructor(readonly subscription: EventSubscription) {
    this.iterator = subscription[Symbol.asyncIterator]();
  }

  async take(count: number, timeoutMs = RECEIVE_TIMEOUT_MS): Promise<RecordedEvent[]> {
    const received: RecordedEvent[] = [];
    const collect = async (): Promise<RecordedEvent[]> => {
      while (received.length < count) {
        const next = await this.iterator.next();
        if (next.done) {
          throw new Error(`subscription ended after ${received.length} of ${count} events`);
        }
        received.push(next.value);
      }
      return received;
    };
    return withTimeout(collect(), timeoutMs, () => {
      const types = received.map((event) => event.type).join(', ');
      return `expected ${count} events within ${timeoutMs} ms, received ${received.length} [${types}]`;
    });
  }

  /** The next pull, resolved with `done` or an event; used to watch a pull that is pending. */
  nextResult(): Promise<IteratorResult<RecordedEvent>> {
    return this.iterator.next();
  }
}

/**
 * One turn of the event loop, not a timed sleep: lets a pull that was just started run its
 * read and park waiting, so the append that follows is delivered live rather than found
 * by that read.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Waits (a few ms) until the clock is past the event's record time, so the next one differs. */
async function clockPast(event: RecordedEvent): Promise<void> {
  while (Date.now() <= event.recordedAt.getTime() + 1) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** The position `positionAt` must answer, read off the events themselves. */
function lastRecordedAtOrBefore(log: readonly RecordedEvent[], instant: Date): bigint | undefined {
  let last: bigint | undefined;
  for (const event of log) {
    if (event.recordedAt.getTime() <= instant.getTime()) last = event.position;
  }
  return last;
}

export function withTimeout<T>(work: Promise<T>, timeoutMs: number, message: () => string) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function expectRejection<E extends Error>(
  work: Promise<unknown>,
  errorClass: new (...args: never[]) => E,
): Promise<E> {
  const error = await work.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof errorClass)) {
    throw new Error(
      `expected ${errorClass.name}, got ${error === undefined ? 'success' : String(error)}`,
    );
  }
  return error;
}

export function describeEventStoreContract(
  adapterName: string,
  factory: () => Promise<EventStoreUnderTest>,
): void {
  describe(`EventStore contract: ${adapterName}`, () => {
    let store: EventStore;
    let cleanup: (() => Promise<void>) | undefined;
    const openSubscriptions: EventSubscription[] = [];

    /** A subscription the suite closes after the test even when the test fails midway. */
    function subscribe(...args: Parameters<EventStore['subscribe']>): SubscriptionReader {
      const subscription = store.subscribe(...args);
      openSubscriptions.push(subscription);
      return new SubscriptionReader(subscription);
    }

    beforeAll(async () => {
      ({ store, cleanup } = await factory());
    });

    afterEach(async () => {
      await Promise.all(openSubscriptions.splice(0).map((subscription) => subscription.close()));
    });

    afterAll(async () => {
      await store?.close();
      await cleanup?.();
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBe(true);
    });

    describe('append and readStream', () => {
      it('stores events in order with revisions from 0 and returns the last revision and position', async () => {
        const names = uniqueNames('order');
        const events = [
          newEvent(names.type('Created'), { name: 'spring sale', budget: { amount: '120.50' } }),
          newEvent(names.type('Renamed'), { name: 'summer sale' }),
          newEvent(names.type('Launched'), { channels: ['email', 'ads'] }),
        ];

        const result = await store.append(names.stream(), events, ExpectedRevision.noStream);

        const stored = await store.readStream(names.stream());
        expect(idsOf(stored)).toEqual(idsOf(events));
        expect(stored.map((event) => event.revision)).toEqual([0n, 1n, 2n]);
        expect(stored.map((event) => event.type)).toEqual(events.map((event) => event.type));
        expect(stored.map((event) => event.data)).toEqual(events.map((event) => event.data));
        expect(stored[0]?.metadata).toEqual(events[0]?.metadata);
        expect(stored.every((event) => event.streamId === names.stream())).toBe(true);
        expect(stored.every((event) => event.recordedAt instanceof Date)).toBe(true);
        expect(result).toEqual({ nextRevision: 2n, position: stored[2]?.position });
        expectStrictlyIncreasing(stored.map((event) => event.position));
      });

      it('continues the revisions on the next append', async () => {
        const names = uniqueNames('continue');
        await store.append(
          names.stream(),
          [newEvent(names.type('A')), newEvent(names.type('B'))],
          ExpectedRevision.noStream,
        );

        const result = await store.append(
          names.stream(),
          [newEvent(names.type('C'))],
          ExpectedRevision.exact(1n),
        );

        const stored = await store.readStream(names.stream());
        expect(stored.map((event) => event.revision)).toEqual([0n, 1n, 2n]);
        expect(result.nextRevision).toBe(2n);
      });

      it('reads a stream from a revision, at most maxCount events', async () => {
        const names = uniqueNames('slice');
        const events = [0, 1, 2, 3, 4].map((n) => newEvent(names.type('Step'), { n }));
        await store.append(names.stream(), events, ExpectedRevision.noStream);

        const slice = await store.readStream(names.stream(), { fromRevision: 1n, maxCount: 2 });
        const tail = await store.readStream(names.stream(), { fromRevision: 3n });

        expect(slice.map((event) => event.revision)).toEqual([1n, 2n]);
        expect(tail.map((event) => event.data)).toEqual([{ n: 3 }, { n: 4 }]);
      });

      it('reads a stream that does not exist as empty', async () => {
        await expect(store.readStream(uniqueNames('missing').stream())).resolves.toEqual([]);
      });

      it('accepts any, stream_exists and the exact revision when they hold', async () => {
        const names = uniqueNames('accepts');
        await store.append(names.stream(), [newEvent(names.type('A'))], ExpectedRevision.any);
        await store.append(names.stream(), [newEvent(names.type('B'))], ExpectedRevision.any);
        await store.append(
          names.stream(),
          [newEvent(names.type('C'))],
          ExpectedRevision.streamExists,
        );
        const result = await store.append(
          names.stream(),
          [newEvent(names.type('D'))],
          ExpectedRevision.exact(2n),
        );

        expect(result.nextRevision).toBe(3n);
        expect(await store.readStream(names.stream())).toHaveLength(4);
      });
    });

    describe('expected revision conflicts', () => {
      async function givenStreamAtRevision1() {
        const names = uniqueNames('conflict');
        await store.append(
          names.stream(),
          [newEvent(names.type('A')), newEvent(names.type('B'))],
          ExpectedRevision.noStream,
        );
        return names;
      }

      it('refuses no_stream when the stream exists, storing nothing', async () => {
        const names = await givenStreamAtRevision1();

        const error = await expectRejection(
          store.append(names.stream(), [newEvent(names.type('C'))], ExpectedRevision.noStream),
          WrongExpectedRevisionError,
        );

        expect(error.streamId).toBe(names.stream());
        expect(error.expected).toEqual(ExpectedRevision.noStream);
        expect(error.actual).toBe(1n);
        expect(await store.readStream(names.stream())).toHaveLength(2);
      });

      it('refuses a stale exact revision, storing nothing', async () => {
        const names = await givenStreamAtRevision1();

        const error = await expectRejection(
          store.append(names.stream(), [newEvent(names.type('C'))], ExpectedRevision.exact(0n)),
          WrongExpectedRevisionError,
        );

        expect(error.expected).toEqual(ExpectedRevision.exact(0n));
        expect(error.actual).toBe(1n);
        expect(await store.readStream(names.stream())).toHaveLength(2);
      });

      it('refuses an exact revision ahead of the stream', async () => {
        const names = await givenStreamAtRevision1();

        const error = await expectRejection(
          store.append(names.stream(), [newEvent(names.type('C'))], ExpectedRevision.exact(5n)),
          WrongExpectedRevisionError,
        );

        expect(error.actual).toBe(1n);
        expect(await store.readStream(names.stream())).toHaveLength(2);
      });

      it('refuses stream_exists and an exact revision on a missing stream, reporting -1', async () => {
        const names = uniqueNames('conflict-missing');

        const streamExists = await expectRejection(
          store.append(names.stream(), [newEvent(names.type('A'))], ExpectedRevision.streamExists),
          WrongExpectedRevisionError,
        );
        const exact = await expectRejection(
          store.append(names.stream(), [newEvent(names.type('A'))], ExpectedRevision.exact(0n)),
          WrongExpectedRevisionError,
        );

        expect(streamExists.actual).toBe(-1n);
        expect(exact.actual).toBe(-1n);
        expect(await store.readStream(names.stream())).toEqual([]);
      });
    });

    describe('idempotent appends', () => {
      it('stores a retried append once and answers the same result', async () => {
        const names = uniqueNames('retry');
        const events = [newEvent(names.type('A')), newEvent(names.type('B'))];

        const first = await store.append(names.stream(), events, ExpectedRevision.noStream);
        const retry = await store.append(names.stream(), events, ExpectedRevision.noStream);

        expect(retry).toEqual(first);
        expect(idsOf(await store.readStream(names.stream()))).toEqual(idsOf(events));
      });

      it('answers a retry with the exact revision it first expected after the stream moved on', async () => {
        const names = uniqueNames('retry-stale');
        await store.append(
          names.stream(),
          [newEvent(names.type('Opened'))],
          ExpectedRevision.noStream,
        );
        const batch = [newEvent(names.type('A')), newEvent(names.type('B'))];
        const first = await store.append(names.stream(), batch, ExpectedRevision.exact(0n));
        await store.append(
          names.stream(),
          [newEvent(names.type('Later'))],
          ExpectedRevision.exact(2n),
        );

        const retry = await store.append(names.stream(), batch, ExpectedRevision.exact(0n));

        expect(retry).toEqual(first);
        expect(first.nextRevision).toBe(2n);
        expect(await store.readStream(names.stream())).toHaveLength(4);
      });

      it('refuses a batch that repeats only some stored ids, storing nothing', async () => {
        const names = uniqueNames('partial');
        const [a, b] = [newEvent(names.type('A')), newEvent(names.type('B'))];
        await store.append(names.stream(), [a, b], ExpectedRevision.noStream);
        const fresh = newEvent(names.type('C'));

        await expectRejection(
          store.append(names.stream(), [fresh, b], ExpectedRevision.any),
          DuplicateEventError,
        );
        await expectRejection(
          store.append(names.stream(), [a, fresh], ExpectedRevision.any),
          DuplicateEventError,
        );

        expect(idsOf(await store.readStream(names.stream()))).toEqual(idsOf([a, b]));
      });
    });

    describe('appendMany', () => {
      it('handles a large call (many single-event writes, streams repeated) and its partial retry', async () => {
        const names = uniqueNames('bulk');
        const type = names.type('Tracked');
        const write = (stream: number) => ({
          streamId: names.stream(`s${stream}`),
          events: [newEvent(type, { stream })],
          expected: ExpectedRevision.any,
        });
        const first = Array.from({ length: 40 }, (_, index) => write(index % 10));
        const results = await store.appendMany(first);
        // The retry repeats half of the writes and mixes in new ones.
        const retried = [
          ...first.slice(20),
          ...Array.from({ length: 10 }, (_, index) => write(index)),
        ];
        const again = await store.appendMany(retried);
        expect(again.slice(0, 20)).toEqual(results.slice(20));
        for (let stream = 0; stream < 10; stream++) {
          const events = await store.readStream(names.stream(`s${stream}`));
          expect(events.map((event) => event.revision)).toEqual([0n, 1n, 2n, 3n, 4n]);
          expect(new Set(events.map((event) => event.eventId)).size).toBe(5);
        }
      });

      it('appends to several streams and answers each write in order', async () => {
        const names = uniqueNames('many');
        const type = names.type('Tracked');
        const start = await store.headPosition();
        const writes = ['a', 'b', 'c'].map((stream, n) => ({
          streamId: names.stream(stream),
          events: [newEvent(type, { n })],
          expected: ExpectedRevision.any,
        }));

        const results = await store.appendMany(writes);

        const log = await store.readAll({ after: start, filter: { eventTypes: [type] } });
        expect(idsOf(log)).toEqual(idsOf(writes.flatMap((write) => write.events)));
        expect(log.map((event) => event.streamId)).toEqual(writes.map((write) => write.streamId));
        expect(results).toEqual(
          log.map((event) => ({ nextRevision: 0n, position: event.position })),
        );
        expectStrictlyIncreasing(results.map((result) => result.position));
      });

      it('applies writes to the same stream in order, with consecutive revisions', async () => {
        const names = uniqueNames('many-same');
        const [first, second, third] = [names.type('A'), names.type('B'), names.type('C')];
        await store.append(names.stream(), [newEvent(first)], ExpectedRevision.noStream);
        const writes = [
          { streamId: names.stream(), events: [newEvent(second)], expected: ExpectedRevision.any },
          {
            streamId: names.stream('other'),
            events: [newEvent(second)],
            expected: ExpectedRevision.noStream,
          },
          {
            streamId: names.stream(),
            events: [newEvent(third), newEvent(third)],
            // Sees the write above, made earlier in the same call.
            expected: ExpectedRevision.exact(1n),
          },
        ];

        const results = await store.appendMany(writes);

        const stream = await store.readStream(names.stream());
        expect(stream.map((event) => event.revision)).toEqual([0n, 1n, 2n, 3n]);
        expect(stream.map((event) => event.type)).toEqual([first, second, third, third]);
        expect(results.map((result) => result.nextRevision)).toEqual([1n, 0n, 3n]);
        expect(results[2]?.position).toBe(stream[3]?.position);
      });

      it('stores a retried call once and answers the same results', async () => {
        const names = uniqueNames('many-retry');
        const type = names.type('Tracked');
        const start = await store.headPosition();
        const writes = ['a', 'b', 'a'].map((stream, n) => ({
          streamId: names.stream(stream),
          events: [newEvent(type, { n })],
          expected: ExpectedRevision.any,
        }));

        const first = await store.appendMany(writes);
        const retry = await store.appendMany(writes);

        expect(retry).toEqual(first);
        const log = await store.readAll({ after: start, filter: { eventTypes: [type] } });
        expect(idsOf(log)).toEqual(idsOf(writes.flatMap((write) => write.events)));
      });

      it('refuses a write whose expected revision does not hold', async () => {
        const names = uniqueNames('many-conflict');
        await store.append(names.stream(), [newEvent(names.type('A'))], ExpectedRevision.noStream);

        const error = await expectRejection(
          store.appendMany([
            {
              streamId: names.stream('fresh'),
              events: [newEvent(names.type('B'))],
              expected: ExpectedRevision.any,
            },
            {
              streamId: names.stream(),
              events: [newEvent(names.type('C'))],
              expected: ExpectedRevision.noStream,
            },
          ]),
          WrongExpectedRevisionError,
        );

        expect(error.streamId).toBe(names.stream());
        expect(error.actual).toBe(0n);
        expect(await store.readStream(names.stream())).toHaveLength(1);
      });

      it('answers an empty call with no results', async () => {
        await expect(store.appendMany([])).resolves.toEqual([]);
      });
    });

    describe('readAll', () => {
      it('reads the log after a position (exclusive), in append order across streams', async () => {
        const names = uniqueNames('all');
        const type = names.type('Tick');
        const start = await store.headPosition();
        const appends: Array<[string, EventToAppend]> = [
          [names.stream('a'), newEvent(type, { n: 0 })],
          [names.stream('b'), newEvent(type, { n: 1 })],
          [names.stream('a'), newEvent(type, { n: 2 })],
          [names.stream('c'), newEvent(type, { n: 3 })],
        ];
        const positions: bigint[] = [];
        for (const [stream, event] of appends) {
          positions.push((await store.append(stream, [event], ExpectedRevision.any)).position);
        }

        const all = await store.readAll({ after: start, filter: { eventTypes: [type] } });
        const afterSecond = await store.readAll({
          after: positions[1],
          filter: { eventTypes: [type] },
        });

        expectStrictlyIncreasing(positions);
        expect(idsOf(all)).toEqual(idsOf(appends.map(([, event]) => event)));
        expect(all.map((event) => event.position)).toEqual(positions);
        expect(all.map((event) => event.streamId)).toEqual(appends.map(([stream]) => stream));
        expect(afterSecond.map((event) => event.data)).toEqual([{ n: 2 }, { n: 3 }]);
      });

      it('reads at most maxCount events', async () => {
        const names = uniqueNames('all-max');
        const type = names.type('Tick');
        const start = await store.headPosition();
        const events = [0, 1, 2].map((n) => newEvent(type, { n }));
        await store.append(names.stream(), events, ExpectedRevision.noStream);

        const page = await store.readAll({
          after: start,
          maxCount: 2,
          filter: { eventTypes: [type] },
        });

        expect(idsOf(page)).toEqual(idsOf(events.slice(0, 2)));
      });

      it('filters by event type and by stream prefix, and by both together', async () => {
        const names = uniqueNames('all-filter');
        const other = uniqueNames('all-filter-other');
        const [kept, dropped] = [names.type('Kept'), names.type('Dropped')];
        const start = await store.headPosition();
        const a1 = newEvent(kept);
        const a2 = newEvent(dropped);
        const b1 = newEvent(kept);
        const outside = newEvent(kept);
        await store.append(names.stream('a'), [a1, a2], ExpectedRevision.any);
        await store.append(names.stream('b'), [b1], ExpectedRevision.any);
        await store.append(other.stream(), [outside], ExpectedRevision.any);

        const byType = await store.readAll({ after: start, filter: { eventTypes: [kept] } });
        const byPrefix = await store.readAll({
          after: start,
          filter: { streamPrefixes: [names.streamPrefix] },
        });
        const byBoth = await store.readAll({
          after: start,
          filter: { eventTypes: [dropped], streamPrefixes: [names.streamPrefix] },
        });
        const byTwoPrefixes = await store.readAll({
          after: start,
          filter: { streamPrefixes: [names.stream('b'), other.streamPrefix] },
        });

        expect(idsOf(byType)).toEqual(idsOf([a1, b1, outside]));
        expect(idsOf(byPrefix)).toEqual(idsOf([a1, a2, b1]));
        expect(idsOf(byBoth)).toEqual(idsOf([a2]));
        expect(idsOf(byTwoPrefixes)).toEqual(idsOf([b1, outside]));
      });

      it('reads nothing for an event type nobody wrote', async () => {
        const type = uniqueNames('all-none').type('Never');
        await expect(store.readAll({ filter: { eventTypes: [type] } })).resolves.toEqual([]);
      });
    });

    describe('headPosition', () => {
      it('moves to at least the position of the last append', async () => {
        const names = uniqueNames('head');
        const before = await store.headPosition();

        const result = await store.append(
          names.stream(),
          [newEvent(names.type('A'))],
          ExpectedRevision.any,
        );

        const after = await store.headPosition();
        expect(result.position).toBeGreaterThan(before);
        expect(after).toBeGreaterThanOrEqual(result.position);
      });
    });

    describe('positionAt', () => {
      it('answers -1n for an instant before anything was recorded, and on an empty log', async () => {
        await expect(store.positionAt(new Date(0))).resolves.toBe(-1n);

        // A fresh store of the adapter: empty for SQLite; a shared server never is.
        const fresh = await factory();
        try {
          if ((await fresh.store.headPosition()) === -1n) {
            await expect(fresh.store.positionAt(new Date(Date.now() + 60_000))).resolves.toBe(-1n);
          }
        } finally {
          await fresh.store.close();
          await fresh.cleanup?.();
        }
      });

      it('answers the last event recorded at or before an instant: before, at, between and after its events', async () => {
        const names = uniqueNames('position-at');
        const type = names.type('Tick');
        const start = await store.headPosition();
        // Single events and a batch (one record time), each recorded after the clock moved on.
        for (const batch of [[0], [1], [2, 3], [4]]) {
          await store.append(
            names.stream(),
            batch.map((n) => newEvent(type, { n })),
            ExpectedRevision.any,
          );
          const [last] = await store.readStream(names.stream(), {
            fromRevision: BigInt(batch[batch.length - 1] as number),
          });
          await clockPast(last as RecordedEvent);
        }
        // Every event recorded since `start`, other writers' included: the answer's oracle.
        const log = await store.readAll({ after: start });
        const mine = log.filter((event) => event.type === type);
        const times = mine.map((event) => event.recordedAt.getTime());
        const instants = [
          times[0]! - 1,
          ...times,
          ...times.slice(1).map((time, index) => (time + times[index]!) / 2),
          times[times.length - 1]! + 1,
        ].map((time) => new Date(Math.floor(time)));

        for (const instant of instants) {
          const expected = lastRecordedAtOrBefore(log, instant);
          const answer = await store.positionAt(instant);
          if (expected === undefined) expect(answer).toBeLessThanOrEqual(start);
          else expect({ instant, answer }).toEqual({ instant, answer: expected });
        }
        // The spelled-out cases: before the first, at each event, after the last.
        expect(await store.positionAt(new Date(times[0]! - 1))).toBeLessThan(mine[0]!.position);
        for (const event of mine) {
          expect(await store.positionAt(event.recordedAt)).toBeGreaterThanOrEqual(event.position);
        }
        expect(await store.positionAt(mine[2]!.recordedAt)).toBe(mine[3]!.position);
        const headBefore = await store.headPosition();
        const afterLast = await store.positionAt(new Date(Date.now() + 60_000));
        const headAfter = await store.headPosition();
        expect(afterLast).toBeGreaterThanOrEqual(headBefore);
        expect(afterLast).toBeLessThanOrEqual(headAfter);
      });
    });

    describe('subscribe', () => {
      it('catches up on stored events, then delivers live ones', async () => {
        const names = uniqueNames('sub-live');
        const type = names.type('Tick');
        const start = await store.headPosition();
        const stored = [newEvent(type, { n: 0 }), newEvent(type, { n: 1 })];
        await store.append(names.stream(), stored, ExpectedRevision.noStream);
        const reader = subscribe({ after: start, filter: { eventTypes: [type] } });

        const caughtUp = await reader.take(2);
        const live = newEvent(type, { n: 2 });
        const receiving = reader.take(1);
        await nextTurn();
        await store.append(names.stream(), [live], ExpectedRevision.exact(1n));
        const delivered = await receiving;

        expect(idsOf(caughtUp)).toEqual(idsOf(stored));
        expect(idsOf(delivered)).toEqual(idsOf([live]));
        expect(delivered[0]?.revision).toBe(2n);
        expect(delivered[0]?.position).toBeGreaterThan(caughtUp[1]?.position ?? 0n);
      });

      it('starts from the beginning of the log when no position is given', async () => {
        const names = uniqueNames('sub-start');
        const type = names.type('Tick');
        const event = newEvent(type);
        await store.append(names.stream(), [event], ExpectedRevision.noStream);

        const received = await subscribe({ filter: { eventTypes: [type] } }).take(1);

        expect(idsOf(received)).toEqual(idsOf([event]));
      });

      it('delivers only events after the given position', async () => {
        const names = uniqueNames('sub-after');
        const type = names.type('Tick');
        const events = [0, 1, 2].map((n) => newEvent(type, { n }));
        await store.append(names.stream(), events, ExpectedRevision.noStream);
        const [first] = await store.readStream(names.stream(), { maxCount: 1 });

        const received = await subscribe({
          after: first?.position,
          filter: { eventTypes: [type] },
        }).take(2);

        expect(idsOf(received)).toEqual(idsOf(events.slice(1)));
      });

      it('delivers only events matching its filter, stored or live', async () => {
        const names = uniqueNames('sub-filter');
        const elsewhere = uniqueNames('sub-filter-other');
        const type = names.type('Tick');
        const start = await store.headPosition();
        const storedMatch = newEvent(type, { n: 0 });
        await store.append(elsewhere.stream(), [newEvent(type)], ExpectedRevision.any);
        await store.append(names.stream(), [storedMatch], ExpectedRevision.any);
        const reader = subscribe({
          after: start,
          filter: { streamPrefixes: [names.streamPrefix] },
        });

        const caughtUp = await reader.take(1);
        // Appended first, so a subscription that ignored its filter would deliver it first.
        await store.append(elsewhere.stream(), [newEvent(type)], ExpectedRevision.any);
        await store.append(
          names.stream('other'),
          [newEvent(names.type('Other'), { n: 1 })],
          ExpectedRevision.any,
        );
        const live = await reader.take(1);

        expect(idsOf(caughtUp)).toEqual(idsOf([storedMatch]));
        expect(live[0]?.data).toEqual({ n: 1 });
        expect(live[0]?.streamId).toBe(names.stream('other'));
      });

      it('ends a pending pull and a for-await loop when closed', async () => {
        const names = uniqueNames('sub-close');
        const type = names.type('Tick');
        const pending = subscribe({ filter: { eventTypes: [type] } });
        const looped = store.subscribe({ filter: { eventTypes: [type] } });
        openSubscriptions.push(looped);
        const seen: RecordedEvent[] = [];
        let firstSeen: () => void = () => undefined;
        const gotFirst = new Promise<void>((resolve) => (firstSeen = resolve));
        const loop = (async () => {
          for await (const event of looped) {
            seen.push(event);
            firstSeen();
          }
        })();
        const pendingPull = pending.nextResult();

        await store.append(
          names.stream(),
          [newEvent(names.type('Unrelated'))],
          ExpectedRevision.any,
        );
        await store.append(names.stream(), [newEvent(type)], ExpectedRevision.any);
        await withTimeout(gotFirst, RECEIVE_TIMEOUT_MS, () => 'the loop received nothing');
        const firstPull = await withTimeout(pendingPull, RECEIVE_TIMEOUT_MS, () => 'no event');
        const secondPull = pending.nextResult();
        await nextTurn();
        await Promise.all([pending.subscription.close(), looped.close()]);

        expect(firstPull.done).toBe(false);
        await expect(looped.close()).resolves.toBeUndefined();
        await expect(
          withTimeout(secondPull, RECEIVE_TIMEOUT_MS, () => 'close left a pull pending'),
        ).resolves.toEqual(expect.objectContaining({ done: true }));
        await withTimeout(loop, RECEIVE_TIMEOUT_MS, () => 'close left the for-await loop running');
        expect(seen).toHaveLength(1);
      });

      it('serves two subscriptions at once, each receiving every event in order', async () => {
        const names = uniqueNames('sub-two');
        const type = names.type('Tick');
        const start = await store.headPosition();
        const first = subscribe({ after: start, filter: { eventTypes: [type] } });
        const second = subscribe({ after: start, filter: { eventTypes: [type] } });
        const events = [0, 1, 2, 3].map((n) => newEvent(type, { n }));

        const receiving = Promise.all([first.take(4), second.take(4)]);
        await nextTurn();
        for (const [index, event] of events.entries()) {
          await store.append(names.stream(`s${index % 2}`), [event], ExpectedRevision.any);
        }
        const [fromFirst, fromSecond] = await receiving;

        expect(idsOf(fromFirst)).toEqual(idsOf(events));
        expect(idsOf(fromSecond)).toEqual(idsOf(events));
        expectStrictlyIncreasing(fromFirst.map((event) => event.position));
      });

      it('resumes after the last seen position with no gap and no duplicate', async () => {
        const names = uniqueNames('sub-resume');
        const type = names.type('Tick');
        const start = await store.headPosition();
        const events = [0, 1, 2, 3, 4].map((n) => newEvent(type, { n }));
        await store.append(names.stream(), events, ExpectedRevision.noStream);
        const firstRun = subscribe({ after: start, filter: { eventTypes: [type] } });
        const seenFirst = await firstRun.take(3);
        await firstRun.subscription.close();

        const lastSeen = seenFirst[seenFirst.length - 1]?.position;
        const secondRun = subscribe({ after: lastSeen, filter: { eventTypes: [type] } });
        const seenSecond = await secondRun.take(2);
        const later = newEvent(type, { n: 5 });
        await store.append(names.stream(), [later], ExpectedRevision.exact(4n));
        const seenLive = await secondRun.take(1);

        expect(idsOf([...seenFirst, ...seenSecond, ...seenLive])).toEqual(
          idsOf([...events, later]),
        );
      });
    });
  });
}

function expectStrictlyIncreasing(values: readonly bigint[]): void {
  values.slice(1).forEach((value, index) => {
    expect(value).toBeGreaterThan(values[index] as bigint);
  });
}
