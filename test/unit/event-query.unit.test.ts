import { EventEmitter } from 'node:events';
import type { GraphQLError } from 'graphql';
import type { RecordedEvent } from '../../src/domain/shared/events';
import {
  categoryOf,
  decodePositionCursor,
  encodePositionCursor,
  eventTime,
  eventsPageSize,
  matchesEventQuery,
  parseEventFilter,
  storeFilter,
  streamOfWorkspace,
  withContactStreams,
} from '../../src/graphql/history/event-query';
import { streamSteps, toJson } from '../../src/graphql/history/stream-states';
import { csvField, csvLine, ndjsonLine, write } from '../../src/infra/export/event-export';
import { exportParameters } from '../../src/infra/export/export-router';

const workspaceId = 'acme';

function recorded(overrides: Partial<RecordedEvent> & { data?: object }): RecordedEvent {
  return {
    eventId: 'e',
    type: 'EventTracked',
    data: {},
    metadata: { workspaceId, schemaVersion: 1 },
    streamId: 'contact-acme:ada',
    revision: 0n,
    position: 1n,
    recordedAt: new Date('2026-11-20T12:00:00.000Z'),
    ...overrides,
  };
}

function refusal(call: () => unknown): Record<string, unknown> {
  try {
    call();
  } catch (error) {
    return { message: (error as GraphQLError).message, ...(error as GraphQLError).extensions };
  }
  throw new Error('expected a refusal');
}

describe('parsing the events filter', () => {
  it('given no fields, then the whole workspace', () => {
    expect(parseEventFilter(workspaceId, {})).toEqual({ workspaceId });
    expect(storeFilter({ workspaceId })).toEqual({});
  });

  it('given every field, then a checked query with half-open ranges', () => {
    const query = parseEventFilter(workspaceId, {
      streamId: 'contact-acme:ada',
      category: 'contact',
      types: ['PageViewed', 'PageViewed', 'EventTracked'],
      occurredFrom: new Date('2026-01-01T00:00:00Z'),
      occurredTo: new Date('2026-02-01T00:00:00Z'),
      recordedFrom: new Date('2026-01-01T00:00:00Z'),
      recordedTo: null,
      contactId: 'ada',
      campaignId: 'spring',
    });
    expect(query).toEqual({
      workspaceId,
      streamId: 'contact-acme:ada',
      category: 'contact',
      types: ['PageViewed', 'EventTracked'],
      occurred: {
        from: Date.parse('2026-01-01T00:00:00Z'),
        to: Date.parse('2026-02-01T00:00:00Z'),
      },
      recorded: { from: Date.parse('2026-01-01T00:00:00Z') },
      contactId: 'ada',
      campaignId: 'spring',
    });
  });

  it.each([
    [{ category: 'nope' }, 'filter.category', 'INVALID_CATEGORY'],
    [{ streamId: '' }, 'filter.streamId', 'INVALID_INPUT'],
    [{ types: [''] }, 'filter.types.0', 'INVALID_INPUT'],
    [
      { occurredFrom: new Date('2026-02-01'), occurredTo: new Date('2026-01-01') },
      'filter.occurredTo',
      'INVALID_RANGE',
    ],
    [
      { recordedFrom: new Date('2026-02-01'), recordedTo: new Date('2026-01-01') },
      'filter.recordedTo',
      'INVALID_RANGE',
    ],
    [{ recordedFrom: new Date('nonsense') }, 'filter.recordedFrom', 'INVALID_DATE'],
  ])('given %p, then BAD_USER_INPUT on %s (%s)', (fields, field, reason) => {
    expect(refusal(() => parseEventFilter(workspaceId, fields))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field,
      reason,
    });
  });

  it('given a page size, then 1 to 500 with 50 by default', () => {
    expect(eventsPageSize(undefined)).toBe(50);
    expect(eventsPageSize(500)).toBe(500);
    for (const first of [0, 501, -1, 1.5]) {
      expect(refusal(() => eventsPageSize(first))).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'first',
        reason: 'INVALID_LIMIT',
      });
    }
  });

  it('given a cursor, then the position it names; anything else is INVALID_CURSOR', () => {
    expect(decodePositionCursor(encodePositionCursor(12345678901234n))).toBe(12345678901234n);
    expect(decodePositionCursor(null)).toBeUndefined();
    const notOurs = [
      'garbage',
      Buffer.from('["-1"]').toString('base64url'),
      Buffer.from('[1]').toString('base64url'),
    ];
    for (const cursor of notOurs) {
      expect(refusal(() => decodePositionCursor(cursor))).toMatchObject({
        field: 'after',
        reason: 'INVALID_CURSOR',
      });
    }
  });
});

describe('matching events', () => {
  it('given another workspace in the metadata, then never a match', () => {
    const foreign = recorded({ metadata: { workspaceId: 'other', schemaVersion: 1 } });
    expect(matchesEventQuery(foreign, { workspaceId })).toBe(false);
    expect(matchesEventQuery(recorded({}), { workspaceId })).toBe(true);
  });

  it('given a category, then the stream name before the first dash', () => {
    expect(categoryOf('segmentclock-acme')).toBe('segmentclock');
    const query = parseEventFilter(workspaceId, { category: 'segment' });
    expect(matchesEventQuery(recorded({ streamId: 'segment-acme:vip' }), query)).toBe(true);
    expect(matchesEventQuery(recorded({ streamId: 'segmentclock-acme' }), query)).toBe(false);
    expect(storeFilter(query)).toEqual({ streamPrefixes: ['segment-acme:'] });
  });

  it("given another workspace's stream, then nothing of it is read", () => {
    const query = parseEventFilter(workspaceId, { streamId: 'campaign-other:spring' });
    expect(storeFilter(query)).toEqual({ streamPrefixes: [] });
    expect(storeFilter(parseEventFilter(workspaceId, { category: 'attribution' }))).toEqual({
      streamPrefixes: ['attribution-settings-acme'],
    });
  });

  it("given the workspace's own stream of keys, then never a match", () => {
    const keys = recorded({ streamId: 'workspace-acme', type: 'ApiKeyIssued' });
    expect(matchesEventQuery(keys, { workspaceId })).toBe(false);
  });

  it('given event-time bounds, then occurredAt when the data has one, else record time', () => {
    const query = parseEventFilter(workspaceId, {
      occurredFrom: new Date('2026-11-01T00:00:00Z'),
      occurredTo: new Date('2026-11-02T00:00:00Z'),
    });
    const tracked = recorded({ data: { occurredAt: '2026-11-01T08:00:00.000Z' } });
    expect(eventTime(tracked).toISOString()).toBe('2026-11-01T08:00:00.000Z');
    expect(matchesEventQuery(tracked, query)).toBe(true);
    expect(matchesEventQuery(recorded({ data: {} }), query)).toBe(false);
    const atTheEnd = recorded({ data: { occurredAt: '2026-11-02T00:00:00.000Z' } });
    expect(matchesEventQuery(atTheEnd, query)).toBe(false);
  });

  it('given record-time bounds, then the record time', () => {
    const query = parseEventFilter(workspaceId, {
      recordedFrom: new Date('2026-11-20T12:00:00Z'),
    });
    expect(matchesEventQuery(recorded({}), query)).toBe(true);
    expect(
      matchesEventQuery(recorded({ recordedAt: new Date('2026-11-20T11:59:59Z') }), query),
    ).toBe(false);
  });

  it('given a contact, then the streams of its identities only', () => {
    const query = withContactStreams(parseEventFilter(workspaceId, { contactId: 'ada' }), [
      'ada',
      'anon-7',
    ]);
    expect(storeFilter(query)).toEqual({
      streamPrefixes: ['contact-acme:ada', 'contact-acme:anon-7'],
    });
    expect(matchesEventQuery(recorded({ streamId: 'contact-acme:anon-7' }), query)).toBe(true);
    expect(matchesEventQuery(recorded({ streamId: 'contact-acme:ada2' }), query)).toBe(false);
  });

  it('given a campaign, then its stream and the tracked calls naming it', () => {
    const query = parseEventFilter(workspaceId, { campaignId: 'spring' });
    expect(storeFilter(query)).toEqual({
      streamPrefixes: ['campaign-acme:spring', 'contact-acme:'],
    });
    const own = recorded({ streamId: 'campaign-acme:spring', type: 'CampaignCreated' });
    const byProperty = recorded({ data: { properties: { campaign_id: 'spring' } } });
    const byUtm = recorded({ data: { properties: {}, campaign: { name: 'spring' } } });
    const other = recorded({ data: { properties: { campaign_id: 'autumn' } } });
    const otherStream = recorded({ streamId: 'campaign-acme:springtime' });
    expect(
      [own, byProperty, byUtm, other, otherStream].map((e) => matchesEventQuery(e, query)),
    ).toEqual([true, true, true, false, false]);
  });

  it('given types and a stream, then both are asked of the store', () => {
    const query = parseEventFilter(workspaceId, {
      streamId: 'campaign-acme:spring',
      types: ['CampaignLaunched'],
    });
    expect(storeFilter(query)).toEqual({
      eventTypes: ['CampaignLaunched'],
      streamPrefixes: ['campaign-acme:spring'],
    });
    expect(matchesEventQuery(recorded({ streamId: 'campaign-acme:spring' }), query)).toBe(false);
  });

  it("given a stream name, then whether it is the workspace's", () => {
    expect(streamOfWorkspace('campaign-acme:spring', workspaceId)).toBe(true);
    expect(streamOfWorkspace('segmentclock-acme', workspaceId)).toBe(true);
    expect(streamOfWorkspace('attribution-settings-acme', workspaceId)).toBe(true);
    expect(streamOfWorkspace('campaign-acme2:spring', workspaceId)).toBe(false);
    expect(streamOfWorkspace('segmentclock-acme-2', workspaceId)).toBe(false);
    expect(streamOfWorkspace('unknown-acme:x', workspaceId)).toBe(false);
  });
});

describe('stream states', () => {
  it('given a stream without a decider, then events without state', () => {
    expect(streamSteps('contact-acme:ada', [recorded({})])).toEqual([
      { event: recorded({}), state: null },
    ]);
  });

  it('given maps, sets and 64-bit numbers, then plain JSON', () => {
    expect(toJson({ m: new Map([['a', 1]]), s: new Set([1]), b: 2n, d: new Date(0) })).toEqual({
      m: { a: 1 },
      s: [1],
      b: '2',
      d: '1970-01-01T00:00:00.000Z',
    });
  });
});

describe('export lines and parameters', () => {
  it('given text with commas, quotes and line breaks, then RFC 4180 quoting', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });

  it('given an event, then one CSV row and one NDJSON line with the same fields', () => {
    const event = recorded({ data: { occurredAt: '2026-11-20T11:00:00.000Z', note: 'a,"b"' } });
    expect(csvLine(event)).toBe(
      '1,contact-acme:ada,0,EventTracked,1,2026-11-20T11:00:00.000Z,2026-11-20T12:00:00.000Z,' +
        '"{""occurredAt"":""2026-11-20T11:00:00.000Z"",""note"":""a,\\""b\\""""}",' +
        '"{""workspaceId"":""acme"",""schemaVersion"":1}"\r\n',
    );
    expect(JSON.parse(ndjsonLine(event))).toEqual({
      position: '1',
      streamId: 'contact-acme:ada',
      revision: '0',
      type: 'EventTracked',
      version: 1,
      occurredAt: '2026-11-20T11:00:00.000Z',
      recordedAt: '2026-11-20T12:00:00.000Z',
      data: event.data,
      metadata: event.metadata,
    });
  });

  it('given query parameters, then the format and the filter fields', () => {
    expect(
      exportParameters({
        format: 'csv',
        types: ['PageViewed,EventTracked', 'ContactIdentified'],
        category: 'contact',
        occurredFrom: '2026-11-20T00:00:00Z',
      }),
    ).toEqual({
      format: 'csv',
      fields: {
        category: 'contact',
        types: ['PageViewed', 'EventTracked', 'ContactIdentified'],
        occurredFrom: new Date('2026-11-20T00:00:00Z'),
        streamId: undefined,
        contactId: undefined,
        campaignId: undefined,
        occurredTo: undefined,
        recordedFrom: undefined,
        recordedTo: undefined,
      },
    });
    expect(exportParameters({}).format).toBe('ndjson');
  });

  it.each([
    [{ format: 'xml' }, 'format', 'INVALID_FORMAT'],
    [{ nope: '1' }, 'nope', 'UNKNOWN_PARAMETER'],
    [{ occurredFrom: 'yesterday' }, 'occurredFrom', 'INVALID_DATE'],
    [{ streamId: ['a', 'b'] }, 'streamId', 'INVALID_INPUT'],
  ])('given %p, then refused on %s', (query, field, reason) => {
    expect(refusal(() => exportParameters(query))).toMatchObject({ field, reason });
  });
});

describe('export back-pressure', () => {
  /** A response whose buffer is full until told otherwise. */
  function fullResponse() {
    const response = Object.assign(new EventEmitter(), {
      destroyed: false,
      chunks: [] as string[],
      write(chunk: string) {
        response.chunks.push(chunk);
        return false;
      },
    });
    return response;
  }

  it('given a full buffer, then the next page waits for drain', async () => {
    const response = fullResponse();
    let written = false;
    const pending = write(response as never, 'page 1').then(() => (written = true));
    for (let turn = 0; turn < 10; turn += 1) await new Promise(setImmediate);
    expect(written).toBe(false);

    response.emit('drain');
    await pending;

    expect(written).toBe(true);
    expect(response.chunks).toEqual(['page 1']);
    expect(response.listenerCount('drain') + response.listenerCount('close')).toBe(0);
  });

  it('given a client that left, then the wait ends', async () => {
    const response = fullResponse();
    const pending = write(response as never, 'page 1');
    response.emit('close');
    await expect(pending).resolves.toBeUndefined();
  });
});
