/**
 * EsdbEventStore.appendMany against a fake of the client's stream calls: the order of the
 * writes, their idempotent retry, and what is left stored when one fails. The real server
 * runs the shared contract when TOUCHLINE_TEST_ESDB_URL is set.
 */
import { randomUUID } from 'node:crypto';
import { StreamNotFoundError, WrongExpectedVersionError } from '@eventstore/db-client';
import type { AppendExpectedRevision, EventData } from '@eventstore/db-client';
import { EsdbEventStore, type EsdbClient } from '../../src/infra/event-store/esdb-event-store';
import {
  ExpectedRevision,
  WrongExpectedRevisionError,
  type StreamWrite,
} from '../../src/infra/event-store/event-store';

interface StoredEvent {
  readonly id: string;
  readonly type: string;
  readonly revision: bigint;
  readonly commit: bigint;
}

/** Streams in memory with the server's expected-revision check. */
class FakeStreams {
  readonly streams = new Map<string, StoredEvent[]>();
  readonly appends: Array<{ streamId: string; expectedRevision: AppendExpectedRevision }> = [];
  private commit = 100n;

  appendToStream(
    streamId: string,
    events: EventData | EventData[],
    options: { expectedRevision: AppendExpectedRevision },
  ) {
    this.appends.push({ streamId, expectedRevision: options.expectedRevision });
    const stored = this.streams.get(streamId) ?? [];
    const current = BigInt(stored.length) - 1n;
    const expected = options.expectedRevision;
    const holds =
      expected === 'any' ||
      (expected === 'no_stream' && current === -1n) ||
      (expected === 'stream_exists' && current >= 0n) ||
      expected === current;
    if (!holds) {
      const error = Object.create(WrongExpectedVersionError.prototype) as WrongExpectedVersionError;
      return Promise.reject(
        Object.assign(error, {
          streamName: streamId,
          expectedVersion: expected,
          actualVersion: current,
        }),
      );
    }
    for (const event of [events].flat()) {
      this.commit += 10n;
      stored.push({
        id: event.id,
        type: event.type,
        revision: BigInt(stored.length),
        commit: this.commit,
      });
    }
    this.streams.set(streamId, stored);
    const last = stored[stored.length - 1] as StoredEvent;
    return Promise.resolve({
      success: true,
      nextExpectedRevision: last.revision,
      position: { commit: last.commit, prepare: last.commit },
    });
  }

  readStream(streamId: string, options: { fromRevision?: bigint | 'end'; maxCount?: number } = {}) {
    const stored = this.streams.get(streamId);
    return (async function* () {
      if (!stored) throw new StreamNotFoundError(undefined, streamId);
      const from = typeof options.fromRevision === 'bigint' ? Number(options.fromRevision) : 0;
      const slice = stored.slice(from, from + (options.maxCount ?? stored.length));
      for (const event of slice) {
        yield {
          event: {
            id: event.id,
            revision: event.revision,
            type: event.type,
            position: { commit: event.commit, prepare: event.commit },
          },
        };
      }
    })();
  }

  dispose() {
    return Promise.resolve();
  }
}

function write(streamId: string, expected = ExpectedRevision.any): StreamWrite {
  return {
    streamId,
    events: [
      {
        eventId: randomUUID(),
        type: 'Tracked',
        data: {},
        metadata: { workspaceId: 'ws', schemaVersion: 1 },
      },
    ],
    expected,
  };
}

describe('EsdbEventStore.appendMany', () => {
  let fake: FakeStreams;
  let store: EsdbEventStore;

  beforeEach(() => {
    fake = new FakeStreams();
    store = new EsdbEventStore(fake as unknown as EsdbClient);
  });

  it('appends the writes one after another, in order, each after the revision it read', async () => {
    const results = await store.appendMany([write('a'), write('b'), write('a')]);

    expect(fake.appends).toEqual([
      { streamId: 'a', expectedRevision: 'no_stream' },
      { streamId: 'b', expectedRevision: 'no_stream' },
      { streamId: 'a', expectedRevision: 0n },
    ]);
    expect(results).toEqual([
      { nextRevision: 0n, position: 110n },
      { nextRevision: 0n, position: 120n },
      { nextRevision: 1n, position: 130n },
    ]);
  });

  it('answers a retried call from the stored events without appending again', async () => {
    const writes = [write('a'), write('b'), write('a')];
    const first = await store.appendMany(writes);
    fake.appends.length = 0;

    const retry = await store.appendMany(writes);

    expect(retry).toEqual(first);
    expect(fake.appends).toEqual([]);
  });

  it('keeps the writes before a refused one and tries none after it', async () => {
    await store.append('a', write('a').events, ExpectedRevision.noStream);
    fake.appends.length = 0;

    await expect(
      store.appendMany([write('b'), write('a', ExpectedRevision.noStream), write('c')]),
    ).rejects.toBeInstanceOf(WrongExpectedRevisionError);

    expect(fake.streams.get('b')).toHaveLength(1);
    expect(fake.streams.has('c')).toBe(false);
  });

  it('checks every write before sending the first one', async () => {
    const malformed = { ...write('b'), events: [{ ...write('b').events[0], eventId: 'x' }] };

    await expect(store.appendMany([write('a'), malformed as StreamWrite])).rejects.toThrow(
      TypeError,
    );
    expect(fake.appends).toEqual([]);
    await expect(store.appendMany([])).resolves.toEqual([]);
  });
});
