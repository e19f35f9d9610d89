/**
 * The adapter's own logic (paging $all, resubscribing, closing) against a fake of the
 * client's reading calls; the real server is exercised by the contract suite when
 * TOUCHLINE_TEST_ESDB_URL is set.
 */
import { PassThrough, Readable } from 'node:stream';
import { UnavailableError } from '@eventstore/db-client';
import type {
  AllStreamResolvedEvent,
  AllStreamSubscription,
  Position,
  ReadAllOptions,
  SubscribeToAllOptions,
} from '@eventstore/db-client';
import { EsdbEventStore, type EsdbClient } from '../../src/infra/event-store/esdb-event-store';

function logEvent(commit: bigint, type: string, streamId = 'contact-1'): AllStreamResolvedEvent {
  return {
    event: {
      id: `00000000-0000-4000-8000-${commit.toString().padStart(12, '0')}`,
      streamId,
      revision: commit,
      type,
      created: new Date(0),
      isJson: true,
      data: { commit: commit.toString() },
      metadata: { workspaceId: 'ws', schemaVersion: 1 },
      position: { commit, prepare: commit },
    },
    commitPosition: commit,
  } as AllStreamResolvedEvent;
}

/** Reads of $all the way the server answers them: forwards inclusive, backwards exclusive. */
function readLog(log: readonly AllStreamResolvedEvent[], options: ReadAllOptions = {}) {
  const at = (resolved: AllStreamResolvedEvent) => (resolved.event?.position as Position).commit;
  const from = options.fromPosition;
  const count = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
  const page =
    options.direction === 'backwards'
      ? [...log]
          .reverse()
          .filter(
            (e) =>
              from === 'end' || from === undefined || (from !== 'start' && at(e) < from.commit),
          )
      : log.filter(
          (e) => from === 'start' || from === undefined || (from !== 'end' && at(e) >= from.commit),
        );
  return Object.assign(Readable.from(page.slice(0, count)), { cancel: async () => undefined });
}

interface FakeSubscription {
  readonly fromPosition: SubscribeToAllOptions['fromPosition'];
  readonly stream: PassThrough & { unsubscribe: () => Promise<void> };
  unsubscribed: boolean;
}

class FakeClient {
  readonly log: AllStreamResolvedEvent[] = [];
  readonly readAllCalls: ReadAllOptions[] = [];
  readonly subscriptions: FakeSubscription[] = [];
  disposed = false;

  readAll(options?: ReadAllOptions) {
    this.readAllCalls.push(options ?? {});
    return readLog(this.log, options);
  }

  subscribeToAll(options: SubscribeToAllOptions = {}) {
    const stream = Object.assign(new PassThrough({ objectMode: true }), {
      unsubscribe: async () => {
        subscription.unsubscribed = true;
      },
    });
    const subscription: FakeSubscription = {
      fromPosition: options.fromPosition,
      stream,
      unsubscribed: false,
    };
    this.subscriptions.push(subscription);
    return stream as unknown as AllStreamSubscription;
  }

  async dispose() {
    this.disposed = true;
  }

  asClient(): EsdbClient {
    return this as unknown as EsdbClient;
  }
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1_000 && !condition(); turn += 1) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (!condition()) throw new Error('condition never became true');
}

describe('EsdbEventStore.readAll', () => {
  it('pages through $all, skipping system events, the start event and filtered ones', async () => {
    const client = new FakeClient();
    for (let commit = 1n; commit <= 120n; commit += 1n) {
      const system = commit % 3n === 0n;
      client.log.push(
        system
          ? logEvent(commit, '$statsCollected', '$stats-node')
          : logEvent(commit, commit % 2n === 0n ? 'Even' : 'Odd'),
      );
    }
    const store = new EsdbEventStore(client.asClient());

    const odd = await store.readAll({ after: 10n, maxCount: 25, filter: { eventTypes: ['Odd'] } });

    const expected = client.log
      .map((resolved) => resolved.event!)
      .filter((event) => event.position.commit > 10n && event.type === 'Odd')
      .slice(0, 25)
      .map((event) => event.position.commit);
    expect(odd.map((event) => event.position)).toEqual(expected);
    expect(client.readAllCalls.length).toBeGreaterThan(1);
    expect(client.readAllCalls[0]?.fromPosition).toEqual({ commit: 10n, prepare: 10n });
  });

  it('reads nothing past the head and nothing for maxCount 0', async () => {
    const client = new FakeClient();
    client.log.push(logEvent(5n, 'A'));
    const store = new EsdbEventStore(client.asClient());

    await expect(store.readAll({ after: 5n })).resolves.toEqual([]);
    await expect(store.readAll({ maxCount: 0 })).resolves.toEqual([]);
  });
});

describe('EsdbEventStore.headPosition', () => {
  it('finds the newest event behind a long run of system events', async () => {
    const client = new FakeClient();
    client.log.push(logEvent(7n, 'ContactCreated'));
    for (let commit = 8n; commit < 400n; commit += 1n) {
      client.log.push(logEvent(commit, '$statsCollected', '$stats-node'));
    }
    const store = new EsdbEventStore(client.asClient());

    await expect(store.headPosition()).resolves.toBe(7n);
  });

  it('answers -1 for a log holding only system events', async () => {
    const client = new FakeClient();
    client.log.push(logEvent(1n, '$ProjectionsInitialized', '$projections-$all'));
    await expect(new EsdbEventStore(client.asClient()).headPosition()).resolves.toBe(-1n);
  });
});

describe('EsdbEventStore.positionAt', () => {
  /** One event a second from 2025-03-01T00:00:00Z; every third one the server's own. */
  function timedLog(count: number): FakeClient {
    const client = new FakeClient();
    const base = Date.parse('2025-03-01T00:00:00.000Z');
    for (let n = 1; n <= count; n += 1) {
      const commit = BigInt(n);
      const resolved =
        n % 3 === 0 ? logEvent(commit, '$statsCollected', '$stats-node') : logEvent(commit, 'A');
      client.log.push({
        ...resolved,
        event: { ...resolved.event!, created: new Date(base + n * 1000) },
      } as AllStreamResolvedEvent);
    }
    return client;
  }

  it('reads $all backwards from the end, page after page, to the last event at or before the instant', async () => {
    const client = timedLog(2500);
    const store = new EsdbEventStore(client.asClient());

    // 10 s in: event 10; 12 s in: the system event 12 is passed over for 11.
    await expect(store.positionAt(new Date('2025-03-01T00:00:10.000Z'))).resolves.toBe(10n);
    await expect(store.positionAt(new Date('2025-03-01T00:00:12.500Z'))).resolves.toBe(11n);
    expect(client.readAllCalls.length).toBeGreaterThan(4); // 2,500 events, pages of 1,000
    expect(client.readAllCalls.every((call) => call.direction === 'backwards')).toBe(true);
    expect(client.readAllCalls[0]?.fromPosition).toBe('end');
    expect(client.readAllCalls.filter((call) => call.fromPosition === 'end')).toHaveLength(2);
  });

  it('answers the head after the last event and -1 before the first', async () => {
    const store = new EsdbEventStore(timedLog(10).asClient());

    await expect(store.positionAt(new Date('2030-01-01T00:00:00.000Z'))).resolves.toBe(10n);
    await expect(store.positionAt(new Date('2025-03-01T00:00:00.999Z'))).resolves.toBe(-1n);
    await expect(
      new EsdbEventStore(new FakeClient().asClient()).positionAt(new Date()),
    ).resolves.toBe(-1n);
  });
});

describe('EsdbEventStore.subscribe', () => {
  it('resubscribes after a drop from the last delivered position, without duplicates', async () => {
    const client = new FakeClient();
    const store = new EsdbEventStore(client.asClient(), {
      resubscribe: { initialDelayMs: 0, maxAttempts: 3 },
    });
    const iterator = store.subscribe({ after: 10n })[Symbol.asyncIterator]();

    const first = iterator.next();
    await waitFor(() => client.subscriptions.length === 1);
    const [dropped] = client.subscriptions;
    dropped!.stream.write(logEvent(11n, 'A'));
    dropped!.stream.write(logEvent(12n, '$statsCollected', '$stats-node'));
    dropped!.stream.write(logEvent(13n, 'B'));
    expect((await first).value?.position).toBe(11n);
    expect((await iterator.next()).value?.position).toBe(13n);
    const third = iterator.next();
    dropped!.stream.destroy(new UnavailableError());

    await waitFor(() => client.subscriptions.length === 2);
    const resumed = client.subscriptions[1]!;
    resumed.stream.write(logEvent(13n, 'B'));
    resumed.stream.write(logEvent(14n, 'C'));

    expect((await third).value?.position).toBe(14n);
    expect(dropped!.unsubscribed).toBe(true);
    expect(client.subscriptions.map((s) => s.fromPosition)).toEqual([
      { commit: 10n, prepare: 10n },
      { commit: 13n, prepare: 13n },
    ]);
    await store.close();
  });

  it('surfaces the error once the attempts are used up', async () => {
    const client = new FakeClient();
    const store = new EsdbEventStore(client.asClient(), {
      resubscribe: { initialDelayMs: 0, maxAttempts: 2 },
    });
    const iterator = store.subscribe()[Symbol.asyncIterator]();
    const pull = iterator.next();

    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await waitFor(() => client.subscriptions.length === attempt);
      client.subscriptions[attempt - 1]!.stream.destroy(new UnavailableError());
    }

    await expect(pull).rejects.toBeInstanceOf(UnavailableError);
    expect(client.subscriptions.map((s) => s.fromPosition)).toEqual(['start', 'start', 'start']);
    await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
    await store.close();
  });

  it('treats a subscription the server ends as dropped', async () => {
    const client = new FakeClient();
    const store = new EsdbEventStore(client.asClient(), {
      resubscribe: { initialDelayMs: 0, maxAttempts: 1 },
    });
    const iterator = store.subscribe()[Symbol.asyncIterator]();
    const pull = iterator.next();

    await waitFor(() => client.subscriptions.length === 1);
    client.subscriptions[0]!.stream.end();
    await waitFor(() => client.subscriptions.length === 2);
    client.subscriptions[1]!.stream.write(logEvent(3n, 'A'));

    expect((await pull).value?.position).toBe(3n);
    await store.close();
  });

  it('ends a pending pull when closed, and the store closes its subscriptions', async () => {
    const client = new FakeClient();
    const store = new EsdbEventStore(client.asClient());
    const iterator = store.subscribe()[Symbol.asyncIterator]();
    const pending = iterator.next();
    await waitFor(() => client.subscriptions.length === 1);

    await store.close();

    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    expect(client.subscriptions[0]!.unsubscribed).toBe(true);
    expect(client.disposed).toBe(true);
    await expect(store.readAll()).rejects.toThrow(/closed/);
    expect(() => store.subscribe()).toThrow(/closed/);
    await expect(store.ping()).resolves.toBe(false);
  });

  it('stops the server subscription when a for-await loop breaks out', async () => {
    const client = new FakeClient();
    const store = new EsdbEventStore(client.asClient());
    const subscription = store.subscribe();
    const looping = (async () => {
      for await (const event of subscription) return event;
      return undefined;
    })();
    await waitFor(() => client.subscriptions.length === 1);
    client.subscriptions[0]!.stream.write(logEvent(1n, 'A'));

    await expect(looping).resolves.toMatchObject({ position: 1n });
    expect(client.subscriptions[0]!.unsubscribed).toBe(true);
    expect(() => subscription[Symbol.asyncIterator]()).toThrow(/only once/);
    await store.close();
  });
});

describe('EsdbEventStore.connect', () => {
  it('refuses a connection string the client cannot parse, without echoing it', () => {
    expect(() => EsdbEventStore.connect({ connectionString: 'http://admin:secret@x' })).toThrow(
      /invalid EventStoreDB connection string; expected esdb:\/\//,
    );
    expect(() => EsdbEventStore.connect({ connectionString: 'http://admin:secret@x' })).not.toThrow(
      /secret/,
    );
    expect(() => EsdbEventStore.connect({ connectionString: '' })).toThrow(/connectionString/);
  });

  it('refuses nonsensical options', () => {
    const client = new FakeClient().asClient();
    expect(() => new EsdbEventStore(client, { pingTimeoutMs: 0 })).toThrow(/pingTimeoutMs/);
    expect(() => new EsdbEventStore(client, { resubscribe: { maxAttempts: -2 } })).toThrow(
      /maxAttempts/,
    );
  });
});
