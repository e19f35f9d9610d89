import { ValidationError } from '../../src/domain/shared/errors';
import {
  ingestionLimits,
  parseBatch,
  parseMessage,
  type BatchOptions,
  type CallType,
  type IngestionOptions,
} from '../../src/domain/tracking/ingestion';
import type { TrackingEvent } from '../../src/domain/tracking/tracking.events';

// ---- given -----------------------------------------------------------------------------------

const arrival = '2025-03-01T12:00:10.000Z';

/** Options whose id generator hands out generated-1, generated-2, … and records each call. */
function optionsWith(overrides: Partial<BatchOptions> = {}): BatchOptions & { drawn: string[] } {
  const drawn: string[] = [];
  return {
    receivedAt: new Date(arrival),
    keepReceivedAt: false,
    newMessageId: () => {
      const id = `generated-${drawn.length + 1}`;
      drawn.push(id);
      return id;
    },
    ...overrides,
    drawn,
  };
}

const importOptions = (): IngestionOptions => optionsWith({ keepReceivedAt: true });

function parse(raw: Record<string, unknown>, type: CallType | null = 'track'): TrackingEvent {
  return parseMessage(raw, type, optionsWith());
}

function track(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { userId: 'user-1', event: 'Signed Up', ...extra };
}

function errorOf(action: () => unknown): ValidationError {
  try {
    action();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError, but nothing was thrown');
}

function rejection(action: () => unknown): { field: string | undefined; reason: string } {
  const { field, reason } = errorOf(action);
  return { field, reason };
}

/** A message padded through a property so that its JSON is exactly `bytes` long. */
function messageOfBytes(bytes: number, padCharacter = 'x'): Record<string, unknown> {
  const base = Buffer.byteLength(JSON.stringify(track({ properties: { pad: '' } })));
  const characterBytes = Buffer.byteLength(padCharacter);
  const padCount = Math.floor((bytes - base) / characterBytes);
  const rest = 'x'.repeat(bytes - base - padCount * characterBytes);
  const message = track({ properties: { pad: padCharacter.repeat(padCount) + rest } });
  expect(Buffer.byteLength(JSON.stringify(message))).toBe(bytes);
  return message;
}

// ---- parseMessage: the call types ------------------------------------------------------------

describe('parseMessage: call types', () => {
  it('given a track call, then an EventTracked with every stored field', () => {
    const event = parseMessage(
      {
        messageId: 'm-1',
        userId: 'user-1',
        anonymousId: 'anon-1',
        event: 'Signed Up',
        properties: { plan: 'pro', seats: 3, tags: ['a'], nested: { ok: true } },
        timestamp: '2025-03-01T11:59:00Z',
        context: { campaign: { source: 'newsletter' }, page: { url: 'https://acme.test/signup' } },
      },
      'track',
      optionsWith(),
    );

    expect(event).toEqual({
      type: 'EventTracked',
      data: {
        messageId: 'm-1',
        userId: 'user-1',
        anonymousId: 'anon-1',
        occurredAt: '2025-03-01T11:59:00.000Z',
        receivedAt: arrival,
        sentAt: null,
        originalTimestamp: null,
        campaign: { source: 'newsletter', medium: null, name: null, term: null, content: null },
        page: { url: 'https://acme.test/signup', referrer: null, path: null, title: null },
        event: 'Signed Up',
        properties: { plan: 'pro', seats: 3, tags: ['a'], nested: { ok: true } },
      },
    });
  });

  it('given an identify call, then a ContactIdentified that keeps the traits', () => {
    const event = parseMessage(
      {
        userId: 'user-1',
        anonymousId: 'anon-1',
        traits: { email: 'ada@acme.test', plan: 'pro' },
        properties: { ignored: true },
      },
      'identify',
      optionsWith(),
    );

    expect(event.type).toBe('ContactIdentified');
    expect(event.data).toMatchObject({
      userId: 'user-1',
      anonymousId: 'anon-1',
      traits: { email: 'ada@acme.test', plan: 'pro' },
    });
    expect(event.data).not.toHaveProperty('properties');
  });

  it('given an identify call without traits, then the traits are empty', () => {
    const event = parse({ userId: 'user-1' }, 'identify');

    expect(event.data).toMatchObject({ traits: {} });
  });

  it('given a page call, then a PageViewed with its name and properties', () => {
    const event = parse(
      { anonymousId: 'anon-1', name: ' Pricing ', properties: { plan: 'pro' } },
      'page',
    );

    expect(event).toMatchObject({
      type: 'PageViewed',
      data: { anonymousId: 'anon-1', userId: null, name: 'Pricing', properties: { plan: 'pro' } },
    });
  });

  it('given a page call without a name, then the name is null', () => {
    expect(parse({ anonymousId: 'anon-1' }, 'page').data).toMatchObject({ name: null });
  });

  it('given a screen call, then a PageViewed named after the screen', () => {
    const event = parse({ userId: 'user-1', name: 'Home' }, 'screen');

    expect(event).toMatchObject({ type: 'PageViewed', data: { name: 'Home', properties: {} } });
  });

  it('given a page name over 200 characters, then TOO_LONG on name', () => {
    expect(rejection(() => parse({ userId: 'u', name: 'n'.repeat(201) }, 'page'))).toEqual({
      field: 'name',
      reason: 'TOO_LONG',
    });
  });

  it('given an alias call, then a ContactAliased joining previousId to userId', () => {
    const event = parse({ userId: 'user-1', previousId: 'anon-1' }, 'alias');

    expect(event).toMatchObject({
      type: 'ContactAliased',
      data: { userId: 'user-1', anonymousId: null, previousId: 'anon-1' },
    });
  });

  it('given an alias call without previousId, then MISSING_ID on previousId', () => {
    expect(rejection(() => parse({ userId: 'user-1' }, 'alias'))).toEqual({
      field: 'previousId',
      reason: 'MISSING_ID',
    });
  });

  it('given an alias call with only an anonymousId, then MISSING_ID on userId', () => {
    expect(
      rejection(() => parse({ anonymousId: 'anon-1', previousId: 'anon-0' }, 'alias')),
    ).toEqual({ field: 'userId', reason: 'MISSING_ID' });
  });

  it('given a numeric previousId, then it is stored as a string', () => {
    expect(parse({ userId: 'user-1', previousId: 77 }, 'alias').data).toMatchObject({
      previousId: '77',
    });
  });

  it('given the endpoint type, then the message type field is ignored', () => {
    expect(parse(track({ type: 'page' }), 'track').type).toBe('EventTracked');
  });

  it.each([
    ['track', 'EventTracked'],
    ['identify', 'ContactIdentified'],
    ['page', 'PageViewed'],
    ['screen', 'PageViewed'],
  ])('given no endpoint type and type %s in the message, then %s', (type, eventType) => {
    expect(parse(track({ type }), null).type).toBe(eventType);
  });

  it.each([['group'], [undefined], [42], ['Track']])(
    'given no endpoint type and message type %p, then INVALID_TYPE on type',
    (type) => {
      expect(rejection(() => parse(track({ type }), null))).toEqual({
        field: 'type',
        reason: 'INVALID_TYPE',
      });
    },
  );

  it.each([[null], ['a string'], [['an', 'array']], [42]])(
    'given a message that is %p, then INVALID_MESSAGE',
    (raw) => {
      expect(rejection(() => parseMessage(raw, 'track', optionsWith()))).toEqual({
        field: 'message',
        reason: 'INVALID_MESSAGE',
      });
    },
  );
});

// ---- parseMessage: identities ----------------------------------------------------------------

describe('parseMessage: identities', () => {
  it('given neither userId nor anonymousId, then MISSING_ID on userId', () => {
    const error = errorOf(() => parse({ event: 'Signed Up' }));

    expect(error).toMatchObject({ kind: 'BAD_USER_INPUT', field: 'userId', reason: 'MISSING_ID' });
  });

  it('given empty-string ids, then they count as absent', () => {
    expect(rejection(() => parse({ event: 'x', userId: '', anonymousId: '' }))).toEqual({
      field: 'userId',
      reason: 'MISSING_ID',
    });
  });

  it('given only an anonymousId, then the call is accepted with a null userId', () => {
    expect(parse({ event: 'x', anonymousId: 'anon-1' }).data).toMatchObject({
      userId: null,
      anonymousId: 'anon-1',
    });
  });

  it('given numeric ids, then they are stored as strings (0 included)', () => {
    expect(parse({ event: 'x', userId: 42, anonymousId: 0 }).data).toMatchObject({
      userId: '42',
      anonymousId: '0',
    });
  });

  it('given an id of exactly 256 characters, then it is kept as sent', () => {
    const id = ` ${'u'.repeat(254)} `;

    expect(parse({ event: 'x', userId: id }).data).toMatchObject({ userId: id });
  });

  it.each([
    ['userId', 'u'.repeat(257), 'TOO_LONG'],
    ['anonymousId', 'a'.repeat(257), 'TOO_LONG'],
    ['userId', { id: 1 }, 'INVALID_ID'],
    ['anonymousId', true, 'INVALID_ID'],
    ['userId', Number.NaN, 'INVALID_ID'],
  ])('given %s = %p, then %s on it', (field, value, reason) => {
    expect(rejection(() => parse({ event: 'x', userId: 'u', [field]: value }))).toEqual({
      field,
      reason,
    });
  });
});

// ---- parseMessage: messageId -----------------------------------------------------------------

describe('parseMessage: messageId', () => {
  it('given a messageId, then it is kept and none is generated', () => {
    const options = optionsWith();

    const event = parseMessage(track({ messageId: 'm-1' }), 'track', options);

    expect(event.data.messageId).toBe('m-1');
    expect(options.drawn).toEqual([]);
  });

  it('given no messageId, then one is generated', () => {
    expect(parse(track()).data.messageId).toBe('generated-1');
  });

  it('given a numeric messageId, then it is stored as a string', () => {
    expect(parse(track({ messageId: 123 })).data.messageId).toBe('123');
  });

  it('given a messageId over 256 characters, then TOO_LONG on messageId', () => {
    expect(rejection(() => parse(track({ messageId: 'm'.repeat(257) })))).toEqual({
      field: 'messageId',
      reason: 'TOO_LONG',
    });
  });

  it('given a message that is rejected, then no messageId is drawn for it', () => {
    const options = optionsWith();

    errorOf(() => parseMessage({ userId: 'user-1' }, 'track', options));

    expect(options.drawn).toEqual([]);
  });
});

// ---- parseMessage: track event names and JSON objects ----------------------------------------

describe('parseMessage: event names, properties and traits', () => {
  it('given an event name with spaces around it, then it is trimmed', () => {
    expect(parse(track({ event: '  Signed Up ' })).data).toMatchObject({ event: 'Signed Up' });
  });

  it('given an event name of exactly 200 characters, then it is accepted', () => {
    const event = 'e'.repeat(200);

    expect(parse(track({ event })).data).toMatchObject({ event });
  });

  it.each([
    [undefined, 'MISSING_EVENT'],
    [null, 'MISSING_EVENT'],
    ['   ', 'MISSING_EVENT'],
    [42, 'INVALID_EVENT'],
    ['e'.repeat(201), 'TOO_LONG'],
  ])('given event %p, then %s on event', (event, reason) => {
    expect(rejection(() => parse(track({ event })))).toEqual({ field: 'event', reason });
  });

  it('given no or null properties, then they are empty', () => {
    expect(parse(track()).data).toMatchObject({ properties: {} });
    expect(parse(track({ properties: null })).data).toMatchObject({ properties: {} });
  });

  it.each([[['a']], ['text'], [3]])('given properties %p, then INVALID_OBJECT', (properties) => {
    expect(rejection(() => parse(track({ properties })))).toEqual({
      field: 'properties',
      reason: 'INVALID_OBJECT',
    });
  });

  it('given traits that are not an object, then INVALID_OBJECT on traits', () => {
    expect(rejection(() => parse({ userId: 'u', traits: ['vip'] }, 'identify'))).toEqual({
      field: 'traits',
      reason: 'INVALID_OBJECT',
    });
  });

  it.each([
    [{ revenue: Number.NaN }, 'properties.revenue'],
    [{ list: [1, Number.POSITIVE_INFINITY] }, 'properties.list.1'],
    [{ nested: { callback: () => 1 } }, 'properties.nested.callback'],
  ])('given properties %p that JSON cannot carry, then INVALID_JSON on %s', (properties, field) => {
    expect(rejection(() => parse(track({ properties })))).toEqual({
      field,
      reason: 'INVALID_JSON',
    });
  });

  it('given an undefined property, then it is dropped as JSON would drop it', () => {
    const event = parse(track({ properties: { a: 1, b: undefined } }));

    expect(event.type === 'EventTracked' && Object.keys(event.data.properties)).toEqual(['a']);
  });

  it('given properties, then the event holds a copy the caller cannot change later', () => {
    const properties = { nested: { plan: 'pro' } };

    const event = parse(track({ properties }));
    properties.nested.plan = 'free';

    expect(event.data).toMatchObject({ properties: { nested: { plan: 'pro' } } });
  });
});

// ---- parseMessage: size ----------------------------------------------------------------------

describe('parseMessage: message size', () => {
  it('given a message of exactly 32 KiB as JSON, then it is accepted', () => {
    expect(parse(messageOfBytes(32 * 1024)).type).toBe('EventTracked');
  });

  it('given a message of 32 KiB + 1 byte, then MESSAGE_TOO_LARGE', () => {
    expect(rejection(() => parse(messageOfBytes(32 * 1024 + 1)))).toEqual({
      field: 'message',
      reason: 'MESSAGE_TOO_LARGE',
    });
  });

  it('given multi-byte characters, then bytes are counted, not characters', () => {
    const message = messageOfBytes(32 * 1024 + 2, 'é');

    expect(JSON.stringify(message).length).toBeLessThan(32 * 1024);
    expect(rejection(() => parse(message)).reason).toBe('MESSAGE_TOO_LARGE');
  });
});

// ---- parseMessage: event time ----------------------------------------------------------------

describe('parseMessage: event time', () => {
  it('given a timestamp, then it is the event time whatever else is sent', () => {
    const event = parse(
      track({
        timestamp: '2025-03-01T11:00:00Z',
        sentAt: '2025-03-01T12:00:05Z',
        originalTimestamp: '2025-03-01T12:00:00Z',
      }),
    );

    expect(event.data.occurredAt).toBe('2025-03-01T11:00:00.000Z');
  });

  it('given sentAt and originalTimestamp, then the client clock skew is removed', () => {
    // receivedAt 12:00:10 − (sentAt 12:00:05 − originalTimestamp 12:00:00) = 12:00:05
    const event = parse(
      track({ sentAt: '2025-03-01T12:00:05Z', originalTimestamp: '2025-03-01T12:00:00Z' }),
    );

    expect(event.data).toMatchObject({
      occurredAt: '2025-03-01T12:00:05.000Z',
      receivedAt: arrival,
      sentAt: '2025-03-01T12:00:05.000Z',
      originalTimestamp: '2025-03-01T12:00:00.000Z',
    });
  });

  it('given a client clock one hour slow, then the event time is still the server-side instant', () => {
    // the client recorded at 10:59:55 and sent at 10:59:58 by its own clock: 3 s in the queue;
    // receivedAt 12:00:10 − 3 s = 12:00:07
    const event = parse(
      track({ originalTimestamp: '2025-03-01T10:59:55Z', sentAt: '2025-03-01T10:59:58Z' }),
    );

    expect(event.data.occurredAt).toBe('2025-03-01T12:00:07.000Z');
  });

  it('given only originalTimestamp, then it is the event time', () => {
    const event = parse(track({ originalTimestamp: '2025-03-01T09:30:00Z' }));

    expect(event.data.occurredAt).toBe('2025-03-01T09:30:00.000Z');
  });

  it('given only sentAt, then the event time is receivedAt', () => {
    const event = parse(track({ sentAt: '2025-03-01T09:30:00Z' }));

    expect(event.data).toMatchObject({ occurredAt: arrival, sentAt: '2025-03-01T09:30:00.000Z' });
  });

  it('given no timestamps, then the event time is receivedAt', () => {
    expect(parse(track()).data).toMatchObject({
      occurredAt: arrival,
      receivedAt: arrival,
      sentAt: null,
      originalTimestamp: null,
    });
  });

  it.each([
    ['2025-03-01T13:00:00+01:00', '2025-03-01T12:00:00.000Z'],
    ['2025-03-01T13:00:00+0100', '2025-03-01T12:00:00.000Z'],
    ['2025-03-01T07:00:00-05', '2025-03-01T12:00:00.000Z'],
    ['2025-03-01T12:00Z', '2025-03-01T12:00:00.000Z'],
    ['2025-03-01T12:00:00.123456Z', '2025-03-01T12:00:00.123Z'],
    ['2025-03-01T12:00:00.5Z', '2025-03-01T12:00:00.500Z'],
    ['2024-02-29T12:00:00Z', '2024-02-29T12:00:00.000Z'],
  ])('given timestamp %s, then it is stored as %s', (timestamp, stored) => {
    expect(parse(track({ timestamp })).data.occurredAt).toBe(stored);
  });

  it.each([
    ['timestamp', 'yesterday'],
    ['timestamp', '2025-02-30T12:00:00Z'],
    ['timestamp', '2025-02-29T12:00:00Z'],
    ['timestamp', '2025-03-01'],
    ['timestamp', '2025-03-01T12:00:00'],
    ['timestamp', '2025-03-01T24:00:00Z'],
    ['timestamp', 1740830400000],
    ['sentAt', 'soon'],
    ['originalTimestamp', '2025-13-01T00:00:00Z'],
  ])('given %s = %p, then INVALID_TIMESTAMP on it', (field, value) => {
    expect(rejection(() => parse(track({ [field]: value })))).toEqual({
      field,
      reason: 'INVALID_TIMESTAMP',
    });
  });

  it('given a sentAt that cannot be read beside a timestamp, then it is still refused', () => {
    expect(
      rejection(() => parse(track({ timestamp: '2025-03-01T12:00:00Z', sentAt: 'later' }))),
    ).toEqual({ field: 'sentAt', reason: 'INVALID_TIMESTAMP' });
  });

  it('given an event time of exactly 2000-01-01T00:00:00Z, then it is accepted', () => {
    expect(parse(track({ timestamp: '2000-01-01T00:00:00Z' })).data.occurredAt).toBe(
      '2000-01-01T00:00:00.000Z',
    );
  });

  it.each([
    ['timestamp', { timestamp: '1999-12-31T23:59:59.999Z' }],
    ['originalTimestamp', { originalTimestamp: '1970-01-01T00:00:00Z' }],
    // 12:00:10 − (2025-03-01 − 1990-01-01) lands in 1954
    [
      'originalTimestamp',
      { originalTimestamp: '1990-01-01T00:00:00Z', sentAt: '2025-03-01T12:00:00Z' },
    ],
  ])('given an event time before 2000, then TIMESTAMP_TOO_OLD on %s', (field, times) => {
    expect(rejection(() => parse(track(times)))).toEqual({ field, reason: 'TIMESTAMP_TOO_OLD' });
  });

  it('given an event time exactly 24 h after receivedAt, then it is accepted', () => {
    expect(parse(track({ timestamp: '2025-03-02T12:00:10Z' })).data.occurredAt).toBe(
      '2025-03-02T12:00:10.000Z',
    );
  });

  it('given an event time 24 h and 1 ms after receivedAt, then TIMESTAMP_IN_FUTURE', () => {
    expect(rejection(() => parse(track({ timestamp: '2025-03-02T12:00:10.001Z' })))).toEqual({
      field: 'timestamp',
      reason: 'TIMESTAMP_IN_FUTURE',
    });
  });

  it('given an originalTimestamp two days ahead, then TIMESTAMP_IN_FUTURE on it', () => {
    expect(rejection(() => parse(track({ originalTimestamp: '2025-03-03T12:00:11Z' })))).toEqual({
      field: 'originalTimestamp',
      reason: 'TIMESTAMP_IN_FUTURE',
    });
  });
});

// ---- parseMessage: receivedAt ----------------------------------------------------------------

describe('parseMessage: receivedAt', () => {
  const archived = '2023-06-01T08:00:00.000Z';

  it('given live traffic carrying a receivedAt, then Touchline stamps its own and ignores it', () => {
    const event = parse(track({ receivedAt: archived }));

    expect(event.data).toMatchObject({ receivedAt: arrival, occurredAt: arrival });
  });

  it('given live traffic with an unreadable receivedAt, then it is ignored, not refused', () => {
    expect(parse(track({ receivedAt: 'whenever' })).data.receivedAt).toBe(arrival);
  });

  it('given an archive import with a receivedAt, then it is kept and is the fallback event time', () => {
    const event = parseMessage(track({ receivedAt: archived }), 'track', importOptions());

    expect(event.data).toMatchObject({ receivedAt: archived, occurredAt: archived });
  });

  it('given an archive import, then the skew correction uses the kept receivedAt', () => {
    // 08:00:00 − (07:59:50 − 07:59:45) = 07:59:55
    const event = parseMessage(
      track({
        receivedAt: archived,
        sentAt: '2023-06-01T07:59:50Z',
        originalTimestamp: '2023-06-01T07:59:45Z',
      }),
      'track',
      importOptions(),
    );

    expect(event.data.occurredAt).toBe('2023-06-01T07:59:55.000Z');
  });

  it('given an archive import, then the 24 h bound is measured from the kept receivedAt', () => {
    expect(
      rejection(() =>
        parseMessage(
          track({ receivedAt: archived, timestamp: '2023-06-03T08:00:00Z' }),
          'track',
          importOptions(),
        ),
      ),
    ).toEqual({ field: 'timestamp', reason: 'TIMESTAMP_IN_FUTURE' });
  });

  it('given an archive import without a receivedAt, then the arrival time is stamped', () => {
    expect(parseMessage(track(), 'track', importOptions()).data.receivedAt).toBe(arrival);
  });

  it.each([
    ['whenever', 'INVALID_TIMESTAMP'],
    ['1999-01-01T00:00:00Z', 'TIMESTAMP_TOO_OLD'],
    ['2025-03-02T12:00:10.001Z', 'TIMESTAMP_IN_FUTURE'],
  ])('given an archive import with receivedAt %s, then %s on receivedAt', (value, reason) => {
    expect(
      rejection(() => parseMessage(track({ receivedAt: value }), 'track', importOptions())),
    ).toEqual({ field: 'receivedAt', reason });
  });
});

// ---- parseMessage: UTM and page --------------------------------------------------------------

describe('parseMessage: UTM parameters', () => {
  it('given all five UTM values, then they are read and trimmed', () => {
    const campaign = {
      source: ' google ',
      medium: 'cpc',
      name: 'spring-sale',
      term: 'running shoes',
      content: 'banner-a',
    };

    expect(parse(track({ context: { campaign } })).data.campaign).toEqual({
      source: 'google',
      medium: 'cpc',
      name: 'spring-sale',
      term: 'running shoes',
      content: 'banner-a',
    });
  });

  it('given some UTM values, then the absent ones are null', () => {
    const context = { campaign: { source: 'newsletter', medium: 'email', term: '  ' } };

    expect(parse(track({ context })).data.campaign).toEqual({
      source: 'newsletter',
      medium: 'email',
      name: null,
      term: null,
      content: null,
    });
  });

  it.each([
    ['no context', {}],
    ['a context without campaign', { context: { library: { name: 'analytics.js' } } }],
    ['an empty campaign', { context: { campaign: {} } }],
    ['only blank values', { context: { campaign: { source: ' ', name: null } } }],
  ])('given %s, then the campaign is null', (_case, extra) => {
    expect(parse(track(extra)).data.campaign).toBeNull();
  });

  it('given a UTM value of exactly 500 characters, then it is accepted', () => {
    const term = 't'.repeat(500);

    expect(parse(track({ context: { campaign: { term } } })).data.campaign?.term).toBe(term);
  });

  it.each([
    ['context', 'not an object', 'context', 'INVALID_OBJECT'],
    ['context.campaign', ['utm'], 'context.campaign', 'INVALID_OBJECT'],
    ['context.campaign.source', 42, 'context.campaign.source', 'INVALID_STRING'],
    ['context.campaign.content', 'c'.repeat(501), 'context.campaign.content', 'TOO_LONG'],
  ])('given a bad %s, then %s %s', (path, value, field, reason) => {
    const [, second, third] = path.split('.');
    const context =
      second === undefined ? value : { [second]: third === undefined ? value : { [third]: value } };

    expect(rejection(() => parse(track({ context })))).toEqual({ field, reason });
  });
});

describe('parseMessage: page context', () => {
  const page = {
    url: 'https://acme.test/pricing?utm_source=x',
    referrer: 'https://www.google.com/',
    path: '/pricing',
    title: 'Pricing',
  };

  it('given context.page, then url, referrer, path and title are read', () => {
    expect(parse(track({ context: { page } })).data.page).toEqual(page);
  });

  it('given no context.page, then the page is null', () => {
    expect(parse(track()).data.page).toBeNull();
  });

  it('given a page call with the page in its properties, then it is read from there', () => {
    const event = parse({ anonymousId: 'a', properties: { ...page, plan: 'pro' } }, 'page');

    expect(event.data.page).toEqual(page);
  });

  it('given a page call with both, then context.page wins field by field', () => {
    const event = parse(
      {
        anonymousId: 'a',
        properties: { url: 'https://acme.test/old', title: 'From properties' },
        context: { page: { url: 'https://acme.test/new' } },
      },
      'page',
    );

    expect(event.data.page).toEqual({
      url: 'https://acme.test/new',
      referrer: null,
      path: null,
      title: 'From properties',
    });
  });

  it('given a track call with a url in its properties, then it is not taken for the page', () => {
    expect(parse(track({ properties: { url: 'https://acme.test/' } })).data.page).toBeNull();
  });

  it.each([
    [{ context: { page: { url: `https://acme.test/${'p'.repeat(2031)}` } } }, 'context.page.url'],
    [{ context: { page: { title: 't'.repeat(1001) } } }, 'context.page.title'],
    [{ properties: { referrer: `https://r.test/${'p'.repeat(2035)}` } }, 'properties.referrer'],
  ])('given a page field over its limit, then TOO_LONG on it', (extra, field) => {
    expect(rejection(() => parse({ anonymousId: 'a', ...extra }, 'page'))).toEqual({
      field,
      reason: 'TOO_LONG',
    });
  });

  it('given a url of exactly 2048 characters, then it is accepted', () => {
    const url = `https://acme.test/${'p'.repeat(2048 - 18)}`;

    expect(url).toHaveLength(2048);
    expect(parse(track({ context: { page: { url } } })).data.page?.url).toBe(url);
  });

  it('given a page that is not an object, then INVALID_OBJECT on context.page', () => {
    expect(rejection(() => parse(track({ context: { page: 'https://acme.test' } })))).toEqual({
      field: 'context.page',
      reason: 'INVALID_OBJECT',
    });
  });
});

// ---- parseMessage: Order Completed -----------------------------------------------------------

describe('parseMessage: Order Completed', () => {
  const order = (properties: Record<string, unknown>) =>
    track({ event: 'Order Completed', properties });

  it('given a well-formed order, then its properties are stored', () => {
    const properties = { order_id: 'o-1', revenue: 49.9, currency: 'EUR', products: [] };

    expect(parse(order(properties)).data).toMatchObject({ event: 'Order Completed', properties });
  });

  it.each([[{ revenue: 0 }], [{ total: 12 }], [{ order_id: 1001 }], [{}]])(
    'given %p, then the order is accepted',
    (properties) => {
      expect(parse(order(properties)).data).toMatchObject({ properties });
    },
  );

  it('given a lower-case currency, then it is stored in its canonical form', () => {
    expect(parse(order({ revenue: 10, currency: ' usd' })).data).toMatchObject({
      properties: { revenue: 10, currency: 'USD' },
    });
  });

  it.each([
    [{ revenue: -1 }, 'properties.revenue', 'NEGATIVE_REVENUE'],
    [{ revenue: '12.50' }, 'properties.revenue', 'INVALID_REVENUE'],
    [{ total: -0.01 }, 'properties.total', 'NEGATIVE_REVENUE'],
    [{ total: { amount: 3 } }, 'properties.total', 'INVALID_REVENUE'],
    [{ currency: 'XYZ' }, 'properties.currency', 'UNKNOWN_CURRENCY'],
    [{ currency: 840 }, 'properties.currency', 'UNKNOWN_CURRENCY'],
    [{ order_id: { id: 1 } }, 'properties.order_id', 'INVALID_ORDER_ID'],
    [{ order_id: 'o'.repeat(257) }, 'properties.order_id', 'TOO_LONG'],
  ])('given %p, then %s %s', (properties, field, reason) => {
    expect(rejection(() => parse(order(properties)))).toEqual({ field, reason });
  });

  it('given a revenue, then the total is not read and so not checked', () => {
    expect(parse(order({ revenue: 5, total: -5 })).data).toMatchObject({
      properties: { revenue: 5, total: -5 },
    });
  });

  it('given another event with a negative revenue, then it is not checked', () => {
    expect(parse(track({ event: 'Refund Issued', properties: { revenue: -5 } })).type).toBe(
      'EventTracked',
    );
  });
});

// ---- parseBatch --------------------------------------------------------------------------------

describe('parseBatch', () => {
  it('given good and bad messages, then the good are accepted and the bad reported by index', () => {
    const options = optionsWith();

    const { accepted, rejected } = parseBatch(
      {
        batch: [
          { type: 'track', userId: 'user-1', anonymousId: 'anon-1', event: 'Signed Up' },
          { type: 'track', messageId: 'm-2', anonymousId: 'anon-2' },
          { type: 'page', anonymousId: 'anon-3', messageId: 'm-3' },
          { type: 'group', userId: 'user-4', groupId: 'g' },
          'not a message',
          { type: 'identify', userId: 'user-6', traits: { plan: 'pro' } },
        ],
      },
      options,
    );

    expect(
      accepted.map(({ index, streamIdentity, event }) => [index, streamIdentity, event.type]),
    ).toEqual([
      [0, 'user-1', 'EventTracked'],
      [2, 'anon-3', 'PageViewed'],
      [5, 'user-6', 'ContactIdentified'],
    ]);
    expect(accepted.map(({ event }) => event.data.messageId)).toEqual([
      'generated-1',
      'm-3',
      'generated-2',
    ]);
    expect(rejected).toEqual([
      {
        index: 1,
        messageId: 'm-2',
        field: 'event',
        reason: 'MISSING_EVENT',
        message: expect.any(String),
      },
      {
        index: 3,
        messageId: null,
        field: 'type',
        reason: 'INVALID_TYPE',
        message: expect.any(String),
      },
      {
        index: 4,
        messageId: null,
        field: 'message',
        reason: 'INVALID_MESSAGE',
        message: expect.any(String),
      },
    ]);
    expect(options.drawn).toEqual(['generated-1', 'generated-2']);
  });

  it('given a message whose messageId is itself unusable, then it is reported without one', () => {
    const { rejected } = parseBatch(
      { batch: [{ type: 'track', userId: 'u', event: 'x', messageId: 'm'.repeat(257) }] },
      optionsWith(),
    );

    expect(rejected).toMatchObject([{ index: 0, messageId: null, field: 'messageId' }]);
  });

  it('given an empty batch, then nothing is accepted or rejected', () => {
    expect(parseBatch({ batch: [] }, optionsWith())).toEqual({ accepted: [], rejected: [] });
  });

  it('given a batch-level context, then it is merged under each message context', () => {
    const { accepted } = parseBatch(
      {
        context: {
          campaign: { source: 'newsletter', medium: 'email' },
          page: { url: 'https://acme.test/batch' },
        },
        batch: [
          { type: 'track', userId: 'u', event: 'a' },
          { type: 'track', userId: 'u', event: 'b', context: { page: { url: 'https://own' } } },
          { type: 'track', userId: 'u', event: 'c', context: { campaign: { source: 'ads' } } },
        ],
      },
      optionsWith(),
    );

    expect(
      accepted.map(({ event }) => [event.data.campaign?.source, event.data.page?.url]),
    ).toEqual([
      ['newsletter', 'https://acme.test/batch'],
      ['newsletter', 'https://own'],
      ['ads', 'https://acme.test/batch'],
    ]);
    // A message's own campaign replaces the batch's whole: UTM values are not mixed.
    expect(accepted[2].event.data.campaign?.medium).toBeNull();
  });

  it('given a batch-level sentAt, then it applies to messages without their own', () => {
    const { accepted } = parseBatch(
      {
        sentAt: '2025-03-01T12:00:05Z',
        batch: [
          { type: 'track', userId: 'u', event: 'a', originalTimestamp: '2025-03-01T12:00:00Z' },
          {
            type: 'track',
            userId: 'u',
            event: 'b',
            originalTimestamp: '2025-03-01T12:00:00Z',
            sentAt: '2025-03-01T12:00:08Z',
          },
        ],
      },
      optionsWith(),
    );

    // 12:00:10 − (12:00:05 − 12:00:00) = 12:00:05; 12:00:10 − (12:00:08 − 12:00:00) = 12:00:02
    expect(accepted.map(({ event }) => [event.data.sentAt, event.data.occurredAt])).toEqual([
      ['2025-03-01T12:00:05.000Z', '2025-03-01T12:00:05.000Z'],
      ['2025-03-01T12:00:08.000Z', '2025-03-01T12:00:02.000Z'],
    ]);
  });

  it('given an import batch, then each message keeps its receivedAt', () => {
    const { accepted } = parseBatch(
      { batch: [{ type: 'track', userId: 'u', event: 'a', receivedAt: '2023-06-01T08:00:00Z' }] },
      optionsWith({ keepReceivedAt: true }),
    );

    expect(accepted[0].event.data.receivedAt).toBe('2023-06-01T08:00:00.000Z');
  });

  it.each([
    [null, 'batch', 'INVALID_BATCH'],
    [[{ type: 'track' }], 'batch', 'INVALID_BATCH'],
    [{ messages: [] }, 'batch', 'INVALID_BATCH'],
    [{ batch: { type: 'track' } }, 'batch', 'INVALID_BATCH'],
    [{ batch: [], context: 'web' }, 'context', 'INVALID_OBJECT'],
    [{ batch: [], sentAt: 'now' }, 'sentAt', 'INVALID_TIMESTAMP'],
  ])('given the body %p, then %s %s', (body, field, reason) => {
    expect(rejection(() => parseBatch(body, optionsWith()))).toEqual({ field, reason });
  });

  it('given exactly 1,000 messages, then all are parsed', () => {
    const batch = Array.from({ length: 1000 }, (_, i) => ({
      type: 'track',
      userId: `u-${i}`,
      event: 'x',
    }));

    expect(parseBatch({ batch }, optionsWith()).accepted).toHaveLength(1000);
  });

  it('given 1,001 messages, then BATCH_TOO_LARGE on batch', () => {
    const batch = Array.from({ length: 1001 }, () => ({ type: 'track', userId: 'u', event: 'x' }));

    expect(rejection(() => parseBatch({ batch }, optionsWith()))).toEqual({
      field: 'batch',
      reason: 'BATCH_TOO_LARGE',
    });
  });

  it('given the body size from the caller over 500 KiB, then BATCH_TOO_LARGE', () => {
    const options = optionsWith({ bodyBytes: ingestionLimits.batchBytes + 1 });

    expect(rejection(() => parseBatch({ batch: [] }, options))).toEqual({
      field: 'batch',
      reason: 'BATCH_TOO_LARGE',
    });
    expect(parseBatch({ batch: [] }, optionsWith({ bodyBytes: 500 * 1024 }))).toEqual({
      accepted: [],
      rejected: [],
    });
  });

  it('given no body size, then the body is measured as JSON', () => {
    // 16 messages of 32,000 bytes: each within its limit, together over 500 KiB
    const batch = Array.from({ length: 16 }, () => ({ ...messageOfBytes(32_000), type: 'track' }));

    expect(rejection(() => parseBatch({ batch }, optionsWith()))).toEqual({
      field: 'batch',
      reason: 'BATCH_TOO_LARGE',
    });
    expect(parseBatch({ batch: batch.slice(0, 15) }, optionsWith()).accepted).toHaveLength(15);
  });

  it('given one message over 32 KiB, then only it is rejected', () => {
    const big = { ...messageOfBytes(32 * 1024), type: 'track' };

    const { accepted, rejected } = parseBatch(
      { batch: [{ type: 'track', userId: 'u', event: 'x' }, big] },
      optionsWith(),
    );

    expect(accepted.map(({ index }) => index)).toEqual([0]);
    expect(rejected).toMatchObject([{ index: 1, field: 'message', reason: 'MESSAGE_TOO_LARGE' }]);
  });

  it('given a large batch-level context, then it does not count against each message', () => {
    const context = { library: { name: 'x'.repeat(30 * 1024) } };

    const { accepted } = parseBatch(
      { context, batch: [{ ...messageOfBytes(30 * 1024), type: 'track' }] },
      optionsWith(),
    );

    expect(accepted).toHaveLength(1);
  });

  it('given an error that is not a validation error, then it is not swallowed', () => {
    const options = optionsWith({
      newMessageId: () => {
        throw new Error('id source down');
      },
    });

    expect(() =>
      parseBatch({ batch: [{ type: 'track', userId: 'u', event: 'x' }] }, options),
    ).toThrow('id source down');
  });
});
