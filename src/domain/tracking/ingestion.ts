/**
 * Turns Segment-compatible tracking calls (ANALYTICS.md, Ingestion) into tracking events, or
 * throws a ValidationError naming the offending field with a stable reason code. Pure: the
 * arrival time and the id generator come in through the options.
 */
import { ValidationError } from '../shared/errors';
import { isSupportedCurrency } from '../shared/money';
import {
  primaryIdentity,
  SemanticEvents,
  type JsonObject,
  type JsonValue,
  type PageContext,
  type TrackedCall,
  type TrackingEvent,
  type Utm,
} from './tracking.events';

const dayMillis = 24 * 60 * 60 * 1000;

export const ingestionLimits = {
  /** One message, measured as UTF-8 JSON. */
  messageBytes: 32 * 1024,
  /** One `/v1/batch` body, measured as UTF-8 JSON. */
  batchBytes: 500 * 1024,
  batchMessages: 1000,
  /** userId, anonymousId, previousId, messageId, order_id. */
  idLength: 256,
  eventNameLength: 200,
  /** The `name` of a page or screen call. */
  nameLength: 200,
  utmLength: 500,
  /** url, referrer and path of a page. */
  urlLength: 2048,
  /** A page's title is prose, often longer than a name; refusing the whole hit for it would lose data. */
  pageTitleLength: 1000,
  /** Event times before this are clock garbage (an unset device clock reads 1970). */
  earliestEventTime: '2000-01-01T00:00:00.000Z',
  /** How far after its receivedAt an event may claim to have happened. Exactly this is accepted. */
  futureToleranceMs: dayMillis,
} as const;

export type CallType = 'track' | 'identify' | 'page' | 'screen' | 'alias';

const callTypes: readonly CallType[] = ['track', 'identify', 'page', 'screen', 'alias'];

export interface IngestionOptions {
  /** When Touchline received the request. */
  receivedAt: Date;
  /** Archive imports by a key with the import right keep the message's receivedAt. */
  keepReceivedAt: boolean;
  /** Used when a message has no messageId; called only for messages that are accepted. */
  newMessageId: () => string;
}

export interface BatchOptions extends IngestionOptions {
  /**
   * Size of the request body as received, in bytes. The HTTP layer knows it (and should stop
   * reading past the limit anyway); when absent, the body is measured here as UTF-8 JSON.
   */
  bodyBytes?: number;
}

export interface AcceptedMessage {
  index: number;
  event: TrackingEvent;
  /** The identity whose stream the event is appended to: `primaryIdentity(event.data)`. */
  streamIdentity: string;
}

export interface RejectedMessage {
  index: number;
  /** The message's own messageId, when it carried a usable one. */
  messageId: string | null;
  field: string;
  reason: string;
  message: string;
}

/**
 * Parses one call. `type` comes from the endpoint (`/v1/track` → 'track'); the message's own
 * `type` field is then ignored. With `null` (as in `/v1/batch`) the message's `type` is read.
 */
export function parseMessage(
  raw: unknown,
  type: CallType | null,
  options: IngestionOptions,
): TrackingEvent {
  const message = requireMessage(raw);
  assertMessageSize(message);
  return parseCall(message, type, options);
}

/**
 * Parses Segment's `{ batch: [...], context?, sentAt? }`. The batch-level `context` is merged
 * under each message's context (shallowly: a message's `context.campaign` replaces the batch's
 * whole, so UTM values of two origins are never mixed), and the batch-level `sentAt` applies to
 * messages without one. A body that breaks a batch-level rule throws; a bad message is
 * reported by its index and the others are accepted.
 */
export function parseBatch(
  body: unknown,
  options: BatchOptions,
): { accepted: AcceptedMessage[]; rejected: RejectedMessage[] } {
  if (!isFields(body) || !Array.isArray(body.batch)) {
    throw new ValidationError(
      'batch',
      'the body must be an object with a `batch` array of messages',
      'INVALID_BATCH',
    );
  }
  const messages: readonly unknown[] = body.batch;
  if (messages.length > ingestionLimits.batchMessages) {
    throw new ValidationError(
      'batch',
      `a batch holds at most ${ingestionLimits.batchMessages} messages, got ${messages.length}`,
      'BATCH_TOO_LARGE',
    );
  }
  const bodyBytes = options.bodyBytes ?? jsonBytes(body);
  if (bodyBytes > ingestionLimits.batchBytes) {
    throw new ValidationError(
      'batch',
      `a batch is at most ${ingestionLimits.batchBytes} bytes, got ${bodyBytes}`,
      'BATCH_TOO_LARGE',
    );
  }
  const batchContext = optionalFields(body.context, 'context');
  // Checked once here, so a bad batch-level value is not reported against every message.
  optionalTimestamp(body.sentAt, 'sentAt');
  const batchSentAt = body.sentAt ?? null;

  const accepted: AcceptedMessage[] = [];
  const rejected: RejectedMessage[] = [];
  messages.forEach((raw, index) => {
    try {
      const message = requireMessage(raw);
      assertMessageSize(message);
      const event = parseCall(withBatchDefaults(message, batchContext, batchSentAt), null, options);
      accepted.push({ index, event, streamIdentity: primaryIdentity(event.data) });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      rejected.push({
        index,
        messageId: ownMessageId(raw),
        field: error.field ?? 'message',
        reason: error.reason,
        message: error.message,
      });
    }
  });
  return { accepted, rejected };
}

// ---- one call --------------------------------------------------------------------------------

type Fields = { readonly [key: string]: unknown };

function parseCall(
  message: Fields,
  endpointType: CallType | null,
  options: IngestionOptions,
): TrackingEvent {
  const type = endpointType ?? parseCallType(message.type);
  const userId = optionalId(message.userId, 'userId');
  const anonymousId = optionalId(message.anonymousId, 'anonymousId');
  const givenMessageId = optionalId(message.messageId, 'messageId');
  if (type === 'alias') {
    if (userId === null) {
      throw new ValidationError('userId', 'an alias call needs a userId', 'MISSING_ID');
    }
  } else if (userId === null && anonymousId === null) {
    throw new ValidationError(
      'userId',
      `a ${type} call needs a userId or an anonymousId`,
      'MISSING_ID',
    );
  }
  const context = optionalFields(message.context, 'context');
  const properties = type === 'identify' ? {} : jsonObject(message.properties, 'properties');
  const times = parseTimes(message, options);
  const campaign = parseUtm(context);
  const page = parsePage(context, type === 'page' ? properties : null);
  const build = parseCallSpecifics(type, message, properties);
  // Drawn last, so an id is spent only on a message that is stored.
  const messageId = givenMessageId ?? options.newMessageId();
  return build({ messageId, userId, anonymousId, ...times, campaign, page });
}

/** Checks what only this type of call carries, and returns how to build its event. */
function parseCallSpecifics(
  type: CallType,
  message: Fields,
  properties: JsonObject,
): (call: TrackedCall) => TrackingEvent {
  switch (type) {
    case 'track': {
      const event = parseEventName(message.event);
      const checked = event === SemanticEvents.orderCompleted ? checkOrder(properties) : properties;
      return (call) => ({ type: 'EventTracked', data: { ...call, event, properties: checked } });
    }
    case 'page':
    case 'screen': {
      const name = optionalText(message.name, 'name', ingestionLimits.nameLength);
      return (call) => ({ type: 'PageViewed', data: { ...call, name, properties } });
    }
    case 'identify': {
      const traits = jsonObject(message.traits, 'traits');
      return (call) => ({ type: 'ContactIdentified', data: { ...call, traits } });
    }
    case 'alias': {
      const previousId = optionalId(message.previousId, 'previousId');
      if (previousId === null) {
        throw new ValidationError('previousId', 'an alias call needs a previousId', 'MISSING_ID');
      }
      return (call) => ({ type: 'ContactAliased', data: { ...call, previousId } });
    }
    default: {
      const _exhaustive: never = type;
      throw new Error(`unhandled call type ${String(_exhaustive)}`);
    }
  }
}

function parseCallType(value: unknown): CallType {
  if (typeof value === 'string' && (callTypes as readonly string[]).includes(value)) {
    return value as CallType;
  }
  throw new ValidationError(
    'type',
    `type must be one of ${callTypes.join(', ')}, got ${describe(value)}`,
    'INVALID_TYPE',
  );
}

function parseEventName(value: unknown): string {
  if (value !== undefined && value !== null && typeof value !== 'string') {
    throw new ValidationError(
      'event',
      `event must be a string, got ${describe(value)}`,
      'INVALID_EVENT',
    );
  }
  const name = optionalText(value, 'event', ingestionLimits.eventNameLength);
  if (name === null) {
    throw new ValidationError(
      'event',
      'a track call needs a non-empty event name',
      'MISSING_EVENT',
    );
  }
  return name;
}

// ---- event vocabulary ------------------------------------------------------------------------

/**
 * `Order Completed` is a conversion whose value analytics sum, so a value that cannot be
 * summed is refused at the door. The currency is stored in its canonical upper-case form.
 */
function checkOrder(properties: JsonObject): JsonObject {
  const revenueField = isPresent(properties.revenue) ? 'revenue' : 'total';
  const revenue = properties[revenueField];
  if (isPresent(revenue)) {
    const field = `properties.${revenueField}`;
    if (typeof revenue !== 'number' || !Number.isFinite(revenue)) {
      throw new ValidationError(
        field,
        `${revenueField} must be a number, got ${describe(revenue)}`,
        'INVALID_REVENUE',
      );
    }
    if (revenue < 0) {
      throw new ValidationError(
        field,
        `${revenueField} must not be negative, got ${revenue}`,
        'NEGATIVE_REVENUE',
      );
    }
  }
  const orderId = properties.order_id;
  if (isPresent(orderId)) {
    if (typeof orderId !== 'string' && typeof orderId !== 'number') {
      throw new ValidationError(
        'properties.order_id',
        `order_id must be a string or a number, got ${describe(orderId)}`,
        'INVALID_ORDER_ID',
      );
    }
    assertMaxLength(String(orderId), 'properties.order_id', ingestionLimits.idLength);
  }
  const currency = properties.currency;
  if (!isPresent(currency)) return properties;
  const code = typeof currency === 'string' ? currency.trim().toUpperCase() : '';
  if (!isSupportedCurrency(code)) {
    throw new ValidationError(
      'properties.currency',
      `currency must be an ISO-4217 code such as "USD", got ${describe(currency)}`,
      'UNKNOWN_CURRENCY',
    );
  }
  return { ...properties, currency: code };
}

// ---- time ------------------------------------------------------------------------------------

type CallTimes = Pick<TrackedCall, 'occurredAt' | 'receivedAt' | 'sentAt' | 'originalTimestamp'>;

/**
 * Event time: `timestamp`; else receivedAt − (sentAt − originalTimestamp), which removes the
 * client clock's skew; else `originalTimestamp`; else receivedAt. It is bounded against the
 * receivedAt that is stored, so an archive replayed with its receivedAt kept is judged exactly
 * as the live traffic was.
 */
function parseTimes(message: Fields, options: IngestionOptions): CallTimes {
  const arrival = options.receivedAt.getTime();
  const timestamp = optionalTimestamp(message.timestamp, 'timestamp');
  const sentAt = optionalTimestamp(message.sentAt, 'sentAt');
  const originalTimestamp = optionalTimestamp(message.originalTimestamp, 'originalTimestamp');
  const keptReceivedAt = options.keepReceivedAt
    ? optionalTimestamp(message.receivedAt, 'receivedAt')
    : null;
  if (keptReceivedAt !== null) assertPlausible(keptReceivedAt, arrival, 'receivedAt');
  const receivedAt = keptReceivedAt ?? arrival;

  const [occurredAt, field] =
    timestamp !== null
      ? [timestamp, 'timestamp']
      : sentAt !== null && originalTimestamp !== null
        ? [receivedAt - (sentAt - originalTimestamp), 'originalTimestamp']
        : originalTimestamp !== null
          ? [originalTimestamp, 'originalTimestamp']
          : [receivedAt, 'receivedAt'];
  assertPlausible(occurredAt, receivedAt, field);
  return {
    occurredAt: occurredAt === arrival ? arrivalIso(options.receivedAt) : isoString(occurredAt),
    receivedAt: receivedAt === arrival ? arrivalIso(options.receivedAt) : isoString(receivedAt),
    sentAt: sentAt === null ? null : isoString(sentAt),
    originalTimestamp: originalTimestamp === null ? null : isoString(originalTimestamp),
  };
}

const earliestMillis = Date.parse(ingestionLimits.earliestEventTime);

/** The arrival time of a request as text, formatted once for all of its messages. */
const arrivalIsos = new WeakMap<Date, string>();

function arrivalIso(receivedAt: Date): string {
  let iso = arrivalIsos.get(receivedAt);
  if (iso === undefined) {
    iso = receivedAt.toISOString();
    arrivalIsos.set(receivedAt, iso);
  }
  return iso;
}

function assertPlausible(millis: number, receivedAt: number, field: string): void {
  if (millis < earliestMillis) {
    throw new ValidationError(
      field,
      `the event time must not be before ${ingestionLimits.earliestEventTime}`,
      'TIMESTAMP_TOO_OLD',
    );
  }
  if (millis - receivedAt > ingestionLimits.futureToleranceMs) {
    throw new ValidationError(
      field,
      `the event time ${isoString(millis)} is more than 24 hours after receivedAt ${isoString(receivedAt)}`,
      'TIMESTAMP_IN_FUTURE',
    );
  }
}

/**
 * An ISO-8601 date-time with an offset (`Z`, `+02:00`, `+0200` or `+02`, as SDKs send them),
 * in milliseconds since the epoch. A bare date or a local time is refused: without an offset
 * the instant would depend on the server's zone. Digits past the millisecond are dropped.
 */
function optionalTimestamp(value: unknown, field: string): number | null {
  if (value === undefined || value === null) return null;
  const match = typeof value === 'string' ? timestampPattern.exec(value.trim()) : null;
  const millis = match ? instantOf(match) : null;
  if (millis === null) {
    throw new ValidationError(
      field,
      `${field} must be an ISO-8601 date-time such as 2025-01-31T09:00:00.000Z, got ${describe(value)}`,
      'INVALID_TIMESTAMP',
    );
  }
  return millis;
}

const timestampPattern =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:Z|([+-])(\d{2})(?::?(\d{2}))?)$/i;

/** Null when a field is out of range: `Date.parse` would roll 2025-02-30 over into March. */
function instantOf(match: RegExpExecArray): number | null {
  const [year, month, day, hour, minute, second] = match
    .slice(1, 7)
    .map((part) => Number(part ?? '0'));
  const millis = Number((match[7] ?? '').padEnd(3, '0').slice(0, 3));
  const offsetSign = match[8] === '-' ? -1 : 1;
  const offsetHours = Number(match[9] ?? '0');
  const offsetMinutes = Number(match[10] ?? '0');
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate();
  const leapDayInCommonYear = month === 2 && day === 29 && !isLeapYear(year);
  const valid =
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    !leapDayInCommonYear &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHours <= 23 &&
    offsetMinutes <= 59;
  if (!valid) return null;
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0..99 as 1900..1999.
  const local = new Date(0);
  local.setUTCFullYear(year, month - 1, day);
  local.setUTCHours(hour, minute, second, millis);
  return local.getTime() - offsetSign * (offsetHours * 60 + offsetMinutes) * 60 * 1000;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function isoString(millis: number): string {
  return new Date(millis).toISOString();
}

// ---- context ---------------------------------------------------------------------------------

function parseUtm(context: Fields | null): Utm | null {
  const campaign = optionalFields(context?.campaign, 'context.campaign');
  if (campaign === null) return null;
  const utm = (key: keyof Utm) =>
    optionalText(campaign[key], `context.campaign.${key}`, ingestionLimits.utmLength);
  const parsed: Utm = {
    source: utm('source'),
    medium: utm('medium'),
    name: utm('name'),
    term: utm('term'),
    content: utm('content'),
  };
  return Object.values(parsed).every((value) => value === null) ? null : parsed;
}

/**
 * `context.page`, field by field; for `page` calls a field it lacks is taken from the call's
 * properties (Segment's page spec puts url, referrer, path and title there).
 */
function parsePage(context: Fields | null, pageProperties: JsonObject | null): PageContext | null {
  const page = optionalFields(context?.page, 'context.page');
  const read = (key: keyof PageContext, maxLength: number): string | null =>
    optionalText(page?.[key], `context.page.${key}`, maxLength) ??
    (pageProperties === null
      ? null
      : optionalText(pageProperties[key], `properties.${key}`, maxLength));
  const parsed: PageContext = {
    url: read('url', ingestionLimits.urlLength),
    referrer: read('referrer', ingestionLimits.urlLength),
    path: read('path', ingestionLimits.urlLength),
    title: read('title', ingestionLimits.pageTitleLength),
  };
  return Object.values(parsed).every((value) => value === null) ? null : parsed;
}

// ---- batch -----------------------------------------------------------------------------------

function withBatchDefaults(
  message: Fields,
  batchContext: Fields | null,
  batchSentAt: unknown,
): Fields {
  const merged: { [key: string]: unknown } = { ...message };
  if (batchContext !== null && (message.context === undefined || message.context === null)) {
    merged.context = batchContext;
  } else if (batchContext !== null && isFields(message.context)) {
    merged.context = { ...batchContext, ...message.context };
  }
  if (batchSentAt !== null && (message.sentAt === undefined || message.sentAt === null)) {
    merged.sentAt = batchSentAt;
  }
  return merged;
}

/** What a rejection reports as the message's id: only an id the client actually sent. */
function ownMessageId(raw: unknown): string | null {
  if (!isFields(raw)) return null;
  try {
    return optionalId(raw.messageId, 'messageId');
  } catch {
    // An unusable messageId is itself the reason for (or beside) the rejection; report none.
    return null;
  }
}

// ---- shared checks ---------------------------------------------------------------------------

function requireMessage(raw: unknown): Fields {
  if (!isFields(raw)) {
    throw new ValidationError(
      'message',
      `a message must be a JSON object, got ${describe(raw)}`,
      'INVALID_MESSAGE',
    );
  }
  return raw;
}

function assertMessageSize(message: Fields): void {
  const bytes = jsonBytes(message);
  if (bytes > ingestionLimits.messageBytes) {
    throw new ValidationError(
      'message',
      `a message is at most ${ingestionLimits.messageBytes} bytes as JSON, got ${bytes}`,
      'MESSAGE_TOO_LARGE',
    );
  }
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/**
 * An id as Segment accepts it: a string, or a number turned into one. An empty string counts
 * as absent, as in Segment's libraries. Ids are opaque, so they are not trimmed.
 */
function optionalId(value: unknown, field: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') {
    throw new ValidationError(
      field,
      `${field} must be a string or a number, got ${describe(value)}`,
      'INVALID_ID',
    );
  }
  assertMaxLength(value, field, ingestionLimits.idLength);
  return value;
}

/** A trimmed string; absent, null or blank is null. */
function optionalText(value: unknown, field: string, maxLength: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    throw new ValidationError(
      field,
      `${field} must be a string, got ${describe(value)}`,
      'INVALID_STRING',
    );
  }
  const text = value.trim();
  if (text.length === 0) return null;
  assertMaxLength(text, field, maxLength);
  return text;
}

function assertMaxLength(text: string, field: string, maxLength: number): void {
  if (text.length > maxLength) {
    throw new ValidationError(
      field,
      `${field} must be at most ${maxLength} characters, got ${text.length}`,
      'TOO_LONG',
    );
  }
}

/** An object field; absent or null is null. */
function optionalFields(value: unknown, field: string): Fields | null {
  if (value === undefined || value === null) return null;
  if (!isFields(value)) {
    throw new ValidationError(
      field,
      `${field} must be a JSON object, got ${describe(value)}`,
      'INVALID_OBJECT',
    );
  }
  return value;
}

/**
 * Properties or traits: a JSON object, `{}` when absent. Copied value by value, so the event
 * holds only JSON values and shares nothing with the caller's input; a value JSON cannot carry
 * (NaN, Infinity, a function) is refused rather than silently turned into null as
 * `JSON.stringify` would.
 */
function jsonObject(value: unknown, field: string): JsonObject {
  const fields = optionalFields(value, field);
  return fields === null ? {} : copyFields(fields, field);
}

function copyFields(fields: Fields, field: string): JsonObject {
  const copy: { [key: string]: JsonValue } = {};
  for (const [key, value] of Object.entries(fields)) {
    // Dropped, as JSON drops it: an undefined member is not part of the message.
    if (value !== undefined) copy[key] = copyJson(value, `${field}.${key}`);
  }
  return copy;
}

function copyJson(value: unknown, field: string): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (Array.isArray(value)) return value.map((item, index) => copyJson(item, `${field}.${index}`));
  if (isFields(value)) return copyFields(value, field);
  throw new ValidationError(
    field,
    `${field} must be a JSON value, got ${describe(value)}`,
    'INVALID_JSON',
  );
}

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (typeof value === 'object') return 'an object';
  return String(value);
}
