import {
  ANY,
  AccessDeniedError,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  UnavailableError,
} from '@eventstore/db-client';
import {
  DuplicateEventError,
  ExpectedRevision,
  WrongExpectedRevisionError,
} from '../../src/infra/event-store/event-store';
import {
  EventDecodingError,
  assertAfter,
  assertEventsToAppend,
  assertStreamId,
  commitPositionOf,
  comparePositions,
  decodeRecordedEvent,
  escapeRegex,
  exactNamesRegex,
  explainRefusedAppend,
  fromEsdbCurrentRevision,
  isFatalSubscriptionError,
  isSystemEvent,
  matchStoredBatch,
  readAllPageSize,
  resolveResubscribePolicy,
  resubscribeDelayMs,
  revisionToCompare,
  satisfiesExpected,
  serverFilterFor,
  toEsdbExpectedRevision,
  toReadPosition,
  type EsdbRecordedEvent,
} from '../../src/infra/event-store/esdb-mapping';
import { UnknownSchemaVersionError } from '../../src/domain/shared/upcasting';

const ID_A = '8d3c1f0e-1b2a-4c5d-9e8f-0a1b2c3d4e5f';
const ID_B = '1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b';
const ID_C = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d';

describe('expected revisions', () => {
  it('maps each kind to the client constant or the exact bigint', () => {
    expect(toEsdbExpectedRevision(ExpectedRevision.any)).toBe(ANY);
    expect(toEsdbExpectedRevision(ExpectedRevision.noStream)).toBe(NO_STREAM);
    expect(toEsdbExpectedRevision(ExpectedRevision.streamExists)).toBe(STREAM_EXISTS);
    expect(toEsdbExpectedRevision(ExpectedRevision.exact(41n))).toBe(41n);
  });

  it('refuses a negative exact revision and a missing expectation', () => {
    expect(() => toEsdbExpectedRevision(ExpectedRevision.exact(-1n))).toThrow(/bigint >= 0n/);
    expect(() => toEsdbExpectedRevision(undefined as unknown as ExpectedRevision)).toThrow(
      /must be an ExpectedRevision/,
    );
    expect(() => toEsdbExpectedRevision({ kind: 'latest' } as unknown as ExpectedRevision)).toThrow(
      /unknown expected revision kind "latest"/,
    );
  });

  it('reports a missing stream as revision -1', () => {
    expect(fromEsdbCurrentRevision(NO_STREAM)).toBe(-1n);
    expect(fromEsdbCurrentRevision(7n)).toBe(7n);
  });

  it('tells which expectations a stream revision satisfies', () => {
    expect(satisfiesExpected(ExpectedRevision.any, -1n)).toBe(true);
    expect(satisfiesExpected(ExpectedRevision.noStream, -1n)).toBe(true);
    expect(satisfiesExpected(ExpectedRevision.noStream, 0n)).toBe(false);
    expect(satisfiesExpected(ExpectedRevision.streamExists, -1n)).toBe(false);
    expect(satisfiesExpected(ExpectedRevision.streamExists, 0n)).toBe(true);
    expect(satisfiesExpected(ExpectedRevision.exact(3n), 3n)).toBe(true);
    expect(satisfiesExpected(ExpectedRevision.exact(3n), 4n)).toBe(false);
  });
});

describe('explaining a refused append', () => {
  it('compares the stored event right after the expected revision when the stream moved on', () => {
    expect(revisionToCompare(ExpectedRevision.exact(4n), 6n)).toBe(5n);
    expect(revisionToCompare(ExpectedRevision.noStream, 1n)).toBe(0n);
    expect(revisionToCompare(ExpectedRevision.exact(4n), 2n)).toBeUndefined();
    expect(revisionToCompare(ExpectedRevision.exact(4n), undefined)).toBeUndefined();
    expect(revisionToCompare(ExpectedRevision.any, 6n)).toBeUndefined();
  });

  it('calls it a partial retry when the first id is the one stored there', () => {
    const error = explainRefusedAppend(
      's',
      ExpectedRevision.exact(0n),
      2n,
      ID_A,
      ID_A.toUpperCase(),
    );

    expect(error).toBeInstanceOf(DuplicateEventError);
    expect((error as DuplicateEventError).eventId).toBe(ID_A);
  });

  it('calls it a conflict otherwise, with the actual revision', () => {
    const error = explainRefusedAppend('s', ExpectedRevision.exact(0n), 2n, ID_A, ID_B);

    expect(error).toBeInstanceOf(WrongExpectedRevisionError);
    expect((error as WrongExpectedRevisionError).actual).toBe(2n);
    expect(explainRefusedAppend('s', ExpectedRevision.exact(5n), 2n, ID_A)).toBeInstanceOf(
      WrongExpectedRevisionError,
    );
  });
});

describe('matching a batch against the stored stream', () => {
  const stored = [
    { eventId: ID_A, revision: 0n, position: 100n },
    { eventId: ID_B, revision: 1n, position: 200n },
  ];

  it('recognises a whole retry by its first id and answers its last event', () => {
    expect(matchStoredBatch(stored, [ID_A, ID_B])).toEqual({ kind: 'retry', last: stored[1] });
    expect(matchStoredBatch(stored, [ID_B.toUpperCase()])).toEqual({
      kind: 'retry',
      last: stored[1],
    });
  });

  it('names the first id when a retry is not whole', () => {
    expect(matchStoredBatch(stored, [ID_A, ID_C])).toEqual({ kind: 'duplicate', eventId: ID_A });
    expect(matchStoredBatch(stored, [ID_B, ID_C])).toEqual({ kind: 'duplicate', eventId: ID_B });
  });

  it('names the stored id when a new event is followed by a stored one', () => {
    expect(matchStoredBatch(stored, [ID_C, ID_B])).toEqual({ kind: 'duplicate', eventId: ID_B });
  });

  it('finds a batch of new ids new, also on an empty stream', () => {
    expect(matchStoredBatch(stored, [ID_C])).toEqual({ kind: 'new' });
    expect(matchStoredBatch([], [ID_A, ID_B])).toEqual({ kind: 'new' });
  });
});

describe('positions', () => {
  it('reads from the start when there is no position or the empty log head -1', () => {
    expect(toReadPosition(undefined)).toBe(START);
    expect(toReadPosition(-1n)).toBe(START);
  });

  it('maps a port position to the same commit and prepare offset', () => {
    expect(toReadPosition(1234n)).toEqual({ commit: 1234n, prepare: 1234n });
  });

  it('takes the commit offset, ignoring missing and "no position" markers', () => {
    expect(commitPositionOf({ commit: 77n, prepare: 70n })).toBe(77n);
    expect(commitPositionOf(undefined)).toBeUndefined();
    expect(commitPositionOf({ commit: 2n ** 64n - 1n, prepare: 2n ** 64n - 1n })).toBeUndefined();
    expect(commitPositionOf({ commit: -1n, prepare: -1n })).toBeUndefined();
  });

  it('orders positions by commit, then prepare', () => {
    expect(comparePositions({ commit: 1n, prepare: 9n }, { commit: 2n, prepare: 0n })).toBe(-1);
    expect(comparePositions({ commit: 2n, prepare: 1n }, { commit: 2n, prepare: 0n })).toBe(1);
    expect(comparePositions({ commit: 2n, prepare: 2n }, { commit: 2n, prepare: 2n })).toBe(0);
  });

  it('accepts after as a bigint from -1n', () => {
    expect(() => assertAfter(undefined)).not.toThrow();
    expect(() => assertAfter(-1n)).not.toThrow();
    expect(() => assertAfter(-2n)).toThrow(/after must be a bigint >= -1n/);
    expect(() => assertAfter(3)).toThrow(/after must be a bigint/);
  });

  it('sizes $all pages for what is still wanted, within bounds', () => {
    expect(readAllPageSize(1)).toBe(32);
    expect(readAllPageSize(100)).toBe(101);
    expect(readAllPageSize(Number.POSITIVE_INFINITY)).toBe(1000);
  });
});

describe('system events', () => {
  it('recognises the server’s own events by type or stream', () => {
    expect(isSystemEvent({ type: '$statsCollected', streamId: '$stats-127.0.0.1:2113' })).toBe(
      true,
    );
    expect(isSystemEvent({ type: '$>', streamId: '$ce-contact' })).toBe(true);
    expect(isSystemEvent({ type: '$metadata', streamId: '$$contact-1' })).toBe(true);
    expect(isSystemEvent({ type: '$streamDeleted', streamId: 'contact-1' })).toBe(true);
    expect(isSystemEvent({ type: 'ContactCreated', streamId: 'contact-1' })).toBe(false);
  });
});

describe('server-side filters', () => {
  it('escapes every regex metacharacter', () => {
    const name = 'a.b*c+d?e^f$g|h(i)j[k]l{m}n\\o';
    expect(new RegExp(`^${escapeRegex(name)}$`).test(name)).toBe(true);
    expect(new RegExp(escapeRegex('a.b')).test('axb')).toBe(false);
  });

  it('matches exactly the listed type names, not their prefixes or extensions', () => {
    const regex = new RegExp(exactNamesRegex(['CampaignLaunched', 'Touch.Recorded', 'A|B']));

    expect(regex.test('CampaignLaunched')).toBe(true);
    expect(regex.test('Touch.Recorded')).toBe(true);
    expect(regex.test('A|B')).toBe(true);
    expect(regex.test('CampaignLaunchedV2')).toBe(false);
    expect(regex.test('XCampaignLaunched')).toBe(false);
    expect(regex.test('TouchxRecorded')).toBe(false);
    expect(regex.test('A')).toBe(false);
  });

  it('matches nothing for an empty list', () => {
    const regex = new RegExp(exactNamesRegex([]));
    expect(['', 'A', '$all'].some((name) => regex.test(name))).toBe(false);
  });

  it('filters by type when types are given, else by stream prefix, else out system events', () => {
    expect(serverFilterFor({ eventTypes: ['A'], streamPrefixes: ['s-'] })).toMatchObject({
      filterOn: 'eventType',
      regex: '^(?:A)$',
    });
    expect(serverFilterFor({ streamPrefixes: ['contact-', 'campaign-'] })).toMatchObject({
      filterOn: 'streamName',
      prefixes: ['contact-', 'campaign-'],
    });
    expect(serverFilterFor({ streamPrefixes: [] })).toMatchObject({
      filterOn: 'streamName',
      regex: '^(?!)',
    });
    const systemOut = serverFilterFor(undefined);
    expect(systemOut).toMatchObject({ filterOn: 'eventType' });
    expect(new RegExp((systemOut as { regex: string }).regex).test('$stats')).toBe(false);
    expect(new RegExp((systemOut as { regex: string }).regex).test('ContactCreated')).toBe(true);
  });
});

describe('resubscribe backoff', () => {
  it('doubles the delay from the initial one up to the ceiling', () => {
    const policy = resolveResubscribePolicy({ initialDelayMs: 100, maxDelayMs: 1_000 });

    const schedule = [1, 2, 3, 4, 5, 6].map((attempt) => resubscribeDelayMs(attempt, policy));

    expect(schedule).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('fills in defaults and keeps given values', () => {
    expect(resolveResubscribePolicy()).toEqual({
      initialDelayMs: 250,
      maxDelayMs: 10_000,
      maxAttempts: 10,
    });
    expect(resolveResubscribePolicy({ maxAttempts: 0, initialDelayMs: undefined })).toEqual({
      initialDelayMs: 250,
      maxDelayMs: 10_000,
      maxAttempts: 0,
    });
  });

  it('never waits when the initial delay is 0, however many attempts', () => {
    const policy = resolveResubscribePolicy({ initialDelayMs: 0 });
    expect(resubscribeDelayMs(2_000, policy)).toBe(0);
  });

  it('refuses nonsensical settings', () => {
    expect(() => resolveResubscribePolicy({ maxAttempts: -1 })).toThrow(/maxAttempts/);
    expect(() => resolveResubscribePolicy({ initialDelayMs: 1.5 })).toThrow(/initialDelayMs/);
    expect(() => resolveResubscribePolicy({ initialDelayMs: 500, maxDelayMs: 100 })).toThrow(
      /maxDelayMs/,
    );
    expect(() => resubscribeDelayMs(0, resolveResubscribePolicy())).toThrow(/attempt/);
  });

  it('retries dropped connections but not refusals or undecodable events', () => {
    expect(isFatalSubscriptionError(new UnavailableError())).toBe(false);
    expect(isFatalSubscriptionError(new Error('socket hang up'))).toBe(false);
    expect(isFatalSubscriptionError(new AccessDeniedError())).toBe(true);
    expect(isFatalSubscriptionError(new EventDecodingError(ID_A, 's', 'bad'))).toBe(true);
  });
});

describe('decoding recorded events', () => {
  const recorded: EsdbRecordedEvent = {
    id: ID_A,
    streamId: 'contact-1',
    revision: 3n,
    type: 'ContactCreated',
    created: new Date('2025-01-02T03:04:05.678Z'),
    isJson: true,
    data: { email: 'a@example.com' },
    metadata: { workspaceId: 'ws-1', schemaVersion: 1 },
    position: { commit: 900n, prepare: 900n },
  };

  it('maps the client event onto the port’s RecordedEvent', () => {
    expect(decodeRecordedEvent(recorded, 900n)).toEqual({
      eventId: ID_A,
      type: 'ContactCreated',
      data: { email: 'a@example.com' },
      metadata: { workspaceId: 'ws-1', schemaVersion: 1 },
      streamId: 'contact-1',
      revision: 3n,
      position: 900n,
      recordedAt: new Date('2025-01-02T03:04:05.678Z'),
    });
  });

  it('refuses binary events and data or metadata that are not JSON objects', () => {
    expect(() => decodeRecordedEvent({ ...recorded, isJson: false }, 1n)).toThrow(
      /not application\/json/,
    );
    expect(() => decodeRecordedEvent({ ...recorded, data: '{broken' }, 1n)).toThrow(
      /data is not a JSON object/,
    );
    expect(() => decodeRecordedEvent({ ...recorded, metadata: new Uint8Array([1]) }, 1n)).toThrow(
      /metadata is not a JSON object/,
    );
    expect(() => decodeRecordedEvent({ ...recorded, metadata: undefined }, 1n)).toThrow(
      EventDecodingError,
    );
  });

  const scheduledV1: EsdbRecordedEvent = {
    ...recorded,
    streamId: 'campaign-ws-1:spring-sale',
    type: 'CampaignScheduled',
    data: {
      campaignId: 'spring-sale',
      startsAt: '2025-04-01T00:00:00.000Z',
      endsAt: null,
      scheduledAt: '2025-02-02T00:00:00.000Z',
    },
    metadata: { workspaceId: 'ws-1', schemaVersion: 1 },
  };

  it('hands out an event stored in an older shape upcast to the current one, leaving the stored one as it is', () => {
    const decoded = decodeRecordedEvent(scheduledV1, 900n);

    expect(decoded.data).toEqual({
      campaignId: 'spring-sale',
      schedule: { startsAt: '2025-04-01T00:00:00.000Z', endsAt: null },
      scheduledAt: '2025-02-02T00:00:00.000Z',
    });
    expect(decoded.metadata).toEqual({
      workspaceId: 'ws-1',
      schemaVersion: 2,
      storedSchemaVersion: 1,
    });
    expect(scheduledV1.metadata).toEqual({ workspaceId: 'ws-1', schemaVersion: 1 });
  });

  it('refuses an event stored by a later build, and a subscription does not retry it', () => {
    const future = { ...scheduledV1, metadata: { workspaceId: 'ws-1', schemaVersion: 3 } };

    expect(() => decodeRecordedEvent(future, 900n)).toThrow(UnknownSchemaVersionError);
    let error: unknown;
    try {
      decodeRecordedEvent(future, 900n);
    } catch (thrown) {
      error = thrown;
    }
    expect(isFatalSubscriptionError(error)).toBe(true);
  });
});

describe('validating appends', () => {
  const event = {
    eventId: ID_A,
    type: 'ContactCreated',
    data: {},
    metadata: { workspaceId: 'ws-1', schemaVersion: 1 },
  };

  it('accepts well-formed batches, empty ones included', () => {
    expect(() => assertEventsToAppend([event, { ...event, eventId: ID_B }])).not.toThrow();
    expect(() => assertEventsToAppend([])).not.toThrow();
  });

  it('refuses malformed ids, types, data and repeated ids', () => {
    expect(() => assertEventsToAppend([{ ...event, eventId: 'cmd-1' }])).toThrow(/UUID/);
    expect(() => assertEventsToAppend([event, { ...event, eventId: ID_A.toUpperCase() }])).toThrow(
      /events\[1\] repeats event id/,
    );
    expect(() => assertEventsToAppend([{ ...event, type: '$metadata' }])).toThrow(/type/);
    expect(() => assertEventsToAppend([{ ...event, data: null }])).toThrow(
      /events\[0\]\.data must be an object/,
    );
    expect(() => assertEventsToAppend([{ ...event, data: { amountMinor: 12n } }])).toThrow(
      /events\[0\]\.data is not JSON/,
    );
    expect(() => assertEventsToAppend('nope')).toThrow(/must be an array/);
  });

  it('refuses stream ids that are empty or belong to the server', () => {
    expect(() => assertStreamId('contact-1')).not.toThrow();
    expect(() => assertStreamId('')).toThrow(/stream id/);
    expect(() => assertStreamId('$all')).toThrow(/stream id/);
  });
});
