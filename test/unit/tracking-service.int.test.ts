/**
 * Tracking ingestion behind both the HTTP router and GraphQL: parse, then one appendMany,
 * against the embedded event store.
 */
import { ValidationError } from '../../src/domain/shared/errors';
import { contactStreamId } from '../../src/domain/tracking/tracking.events';
import {
  DuplicateEventError,
  type EventStore,
  type StreamWrite,
} from '../../src/infra/event-store/event-store';
import { SqliteEventStore } from '../../src/infra/event-store/sqlite-event-store';
import { trackingEventId } from '../../src/infra/ingestion/tracking-event-id';
import { TrackingService } from '../../src/infra/ingestion/tracking-service';
import { createLogger } from '../../src/infra/logger';

const NOW = new Date('2025-03-01T12:00:00.000Z');

function serviceOn(eventStore: EventStore): TrackingService {
  let ids = 0;
  return new TrackingService({
    eventStore,
    clock: () => NOW,
    newId: () => `generated-${++ids}`,
    logger: createLogger('silent'),
  });
}

describe('TrackingService', () => {
  let store: SqliteEventStore;
  let service: TrackingService;

  beforeEach(() => {
    store = SqliteEventStore.open({ path: ':memory:', synchronous: 'NORMAL' });
    service = serviceOn(store);
  });

  afterEach(() => store.close());

  it('stores accepted messages in one appendMany and answers the last position', async () => {
    const appendMany = jest.spyOn(store, 'appendMany');

    const result = await service.ingest(
      'ws1',
      [
        { type: 'page', anonymousId: 'a1', messageId: 'm1' },
        { type: 'track', userId: 'u1', messageId: 'm2' },
        { type: 'track', userId: 'u1', event: 'Signed Up', messageId: 'm3' },
      ],
      { source: 'graphql' },
    );

    const log = await store.readAll();
    expect(appendMany).toHaveBeenCalledTimes(1);
    expect(result).toEqual({
      accepted: 2,
      rejected: [expect.objectContaining({ index: 1, messageId: 'm2', reason: 'MISSING_EVENT' })],
      position: log[1]?.position,
    });
    expect(log.map((event) => [event.streamId, event.eventId, event.metadata])).toEqual([
      [
        contactStreamId('ws1', 'a1'),
        trackingEventId('ws1', 'm1'),
        { workspaceId: 'ws1', schemaVersion: 1, messageId: 'm1', source: 'graphql' },
      ],
      [
        contactStreamId('ws1', 'u1'),
        trackingEventId('ws1', 'm3'),
        { workspaceId: 'ws1', schemaVersion: 1, messageId: 'm3', source: 'graphql' },
      ],
    ]);
  });

  it('keeps one workspace apart from another under the same messageId', async () => {
    const message = { type: 'track', userId: 'u1', event: 'Signed Up', messageId: 'same' };

    await service.ingest('ws1', [message]);
    await service.ingest('ws2', [message]);

    expect(await store.readStream(contactStreamId('ws1', 'u1'))).toHaveLength(1);
    expect(await store.readStream(contactStreamId('ws2', 'u1'))).toHaveLength(1);
  });

  it('refuses a messageId reused for another person within one call, keeping the first', async () => {
    const result = await service.ingest('ws1', [
      { type: 'track', userId: 'u1', event: 'A', messageId: 'dup' },
      { type: 'track', userId: 'u1', event: 'A', messageId: 'dup' },
      { type: 'track', userId: 'u2', event: 'B', messageId: 'dup' },
    ]);

    expect(result.accepted).toBe(2);
    expect(result.rejected).toEqual([
      expect.objectContaining({ index: 2, field: 'messageId', reason: 'DUPLICATE_MESSAGE_ID' }),
    ]);
    expect((await store.readAll()).map((event) => event.streamId)).toEqual([
      contactStreamId('ws1', 'u1'),
    ]);
  });

  describe('group commit', () => {
    it('appends the requests that arrive together in one appendMany, answering each for its own messages', async () => {
      const appendMany = jest.spyOn(store, 'appendMany');

      const [first, second, third] = await Promise.all([
        service.ingest('ws1', [
          { type: 'track', userId: 'u1', event: 'A', messageId: 'a1' },
          { type: 'track', userId: 'u1', event: 'A', messageId: 'a2' },
        ]),
        service.ingest('ws2', [
          { type: 'track', userId: 'u2', event: 'B', messageId: 'b1' },
          { type: 'track', event: 'No Id', messageId: 'b2' },
        ]),
        service.ingest('ws1', [{ type: 'page', anonymousId: 'x', messageId: 'c1' }]),
      ]);

      expect(appendMany).toHaveBeenCalledTimes(1);
      const positions = new Map(
        (await store.readAll()).map((event) => [event.eventId, event.position]),
      );
      expect(first).toEqual({
        accepted: 2,
        rejected: [],
        position: positions.get(trackingEventId('ws1', 'a2')),
      });
      expect(second).toEqual({
        accepted: 1,
        rejected: [expect.objectContaining({ index: 1, reason: 'MISSING_ID' })],
        position: positions.get(trackingEventId('ws2', 'b1')),
      });
      expect(third).toEqual({
        accepted: 1,
        rejected: [],
        position: positions.get(trackingEventId('ws1', 'c1')),
      });
      expect(positions.size).toBe(4);
    });

    it('caps a group at about 2,000 messages of whole requests, so the next group waits queued behind it', async () => {
      const appendMany = jest.spyOn(store, 'appendMany');
      const request = (r: number) =>
        Array.from({ length: 500 }, (_, i) => ({
          type: 'track',
          userId: `u${i % 7}`,
          event: 'A',
          messageId: `r${r}-${i}`,
        }));

      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, r) => service.ingest('ws1', request(r))),
      );

      // Four requests fill the first group; the other two follow in the next one.
      expect(appendMany.mock.calls.map(([writes]) => writes.length)).toEqual([2_000, 1_000]);
      expect(answers.map((answer) => answer.accepted)).toEqual([500, 500, 500, 500, 500, 500]);
      expect(answers[3]!.position! < answers[4]!.position!).toBe(true);
      expect(await store.readAll()).toHaveLength(3_000);
    });

    it('gives a messageId claimed by two requests of a group to the first, as if it had been stored earlier', async () => {
      const [first, second, retry] = await Promise.all([
        service.ingest('ws1', [{ type: 'track', userId: 'u1', event: 'A', messageId: 'same' }]),
        service.ingest('ws1', [
          { type: 'track', userId: 'u2', event: 'A', messageId: 'same' },
          { type: 'track', userId: 'u2', event: 'A', messageId: 'own' },
        ]),
        service.ingest('ws1', [{ type: 'track', userId: 'u1', event: 'A', messageId: 'same' }]),
      ]);

      expect(first.accepted).toBe(1);
      expect(second).toEqual({
        accepted: 1,
        rejected: [
          expect.objectContaining({
            index: 0,
            reason: 'DUPLICATE_MESSAGE_ID',
            message: 'messageId "same" is already stored for another person',
          }),
        ],
        position: expect.any(BigInt),
      });
      // The same person's copy is a retry: stored once, answered with the first's position.
      expect(retry).toEqual({ accepted: 1, rejected: [], position: first.position });
      expect(await store.readStream(contactStreamId('ws1', 'u1'))).toHaveLength(1);
      expect(await store.readStream(contactStreamId('ws1', 'u2'))).toHaveLength(1);
    });

    it('refuses, in a later group, a messageId stored for another person, and stores the rest', async () => {
      await service.ingest('ws1', [
        { type: 'track', userId: 'u1', event: 'A', messageId: 'taken' },
      ]);

      const [clash, other] = await Promise.all([
        service.ingest('ws1', [
          { type: 'track', userId: 'u2', event: 'A', messageId: 'taken' },
          { type: 'track', userId: 'u2', event: 'A', messageId: 'free' },
        ]),
        service.ingest('ws1', [
          { type: 'track', userId: 'u3', event: 'A', messageId: 'also-free' },
        ]),
      ]);

      expect(clash.accepted).toBe(1);
      expect(clash.rejected).toEqual([
        expect.objectContaining({ index: 0, field: 'messageId', reason: 'DUPLICATE_MESSAGE_ID' }),
      ]);
      expect(other).toEqual(expect.objectContaining({ accepted: 1, rejected: [] }));
      expect((await store.readAll()).map((event) => event.data)).toEqual([
        expect.objectContaining({ userId: 'u1' }),
        expect.objectContaining({ userId: 'u2', messageId: 'free' }),
        expect.objectContaining({ userId: 'u3', messageId: 'also-free' }),
      ]);
    });

    it('with a store that appends asynchronously, keeps what arrives during an append for the next group', async () => {
      // given a store whose first append stays in flight until released
      const appendMany = store.appendMany.bind(store);
      let release = () => {};
      const inFlight = new Promise<void>((resolve) => (release = resolve));
      const spy = jest
        .spyOn(store, 'appendMany')
        .mockImplementationOnce(async (writes) => {
          await inFlight;
          return appendMany(writes);
        })
        .mockImplementation(appendMany);
      const track = (r: string) =>
        service.ingest('ws1', [{ type: 'track', userId: 'u1', event: 'A', messageId: r }]);

      // when two requests arrive while the first one's append is in flight
      const first = track('m1');
      await new Promise((resolve) => setImmediate(resolve));
      expect(spy).toHaveBeenCalledTimes(1);
      const later = [track('m2'), track('m3')];
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));

      // then they wait, and go together once it is done
      expect(spy).toHaveBeenCalledTimes(1);
      release();
      const answers = await Promise.all([first, ...later]);
      expect(spy.mock.calls.map(([writes]) => writes.length)).toEqual([1, 2]);
      expect(answers.map((answer) => answer.accepted)).toEqual([1, 1, 1]);
    });

    it('fails every request of a group whose append fails, and the next group goes on', async () => {
      const appendMany = jest
        .spyOn(store, 'appendMany')
        .mockRejectedValueOnce(new Error('disk full'));

      const failed = await Promise.allSettled([
        service.ingest('ws1', [{ type: 'track', userId: 'u1', event: 'A', messageId: 'x1' }]),
        service.ingest('ws1', [{ type: 'track', userId: 'u2', event: 'A', messageId: 'x2' }]),
      ]);
      const after = await service.ingest('ws1', [
        { type: 'track', userId: 'u1', event: 'A', messageId: 'x1' },
      ]);

      expect(failed.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
      expect(appendMany).toHaveBeenCalledTimes(2);
      expect(after.accepted).toBe(1);
      expect(await store.readAll()).toHaveLength(1);
    });
  });

  it('answers no position and stores nothing when every message is rejected', async () => {
    const appendMany = jest.spyOn(store, 'appendMany');

    const result = await service.ingest('ws1', [{ type: 'track', event: 'No Id' }]);

    expect(result).toEqual(expect.objectContaining({ accepted: 0, position: null }));
    expect(appendMany).not.toHaveBeenCalled();
  });

  it('throws a ValidationError for a malformed batch body or an invalid single message', async () => {
    await expect(service.ingestBatch('ws1', { batch: 'nope' })).rejects.toThrow(ValidationError);
    await expect(service.ingestMessage('ws1', { event: 'X' }, 'track')).rejects.toThrow(
      ValidationError,
    );
    expect(await store.headPosition()).toBe(-1n);
  });

  it('lets a store failure through rather than reporting messages as rejected', async () => {
    const failing = {
      appendMany: async (writes: readonly StreamWrite[]) => {
        throw new DuplicateEventError(`not-${writes[0]?.events[0]?.eventId}`);
      },
    } as unknown as EventStore;

    await expect(
      serviceOn(failing).ingest('ws1', [{ type: 'page', anonymousId: 'a1' }]),
    ).rejects.toThrow(DuplicateEventError);
  });
});
