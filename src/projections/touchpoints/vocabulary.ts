/**
 * Readers of Segment's semantic events (ANALYTICS.md, Event vocabulary): what a tracked
 * event means for the campaign metrics, funnels and attribution. Event names match exactly
 * (Segment's spelling); property names are snake_case as in Segment's specs.
 *
 * Where ANALYTICS.md is silent:
 * - an id (`order_id`, `campaign_id`, `email_id`, `promotion_id`, `variant`) is a non-blank
 *   string, kept as sent, or a safe integer, written in decimal; anything else is absent;
 * - other strings (`link_url`, `creative`, `channel`) are non-blank strings, kept as sent;
 * - an amount is a finite number or a decimal string (`"19.99"`, `"-5"`, `"1e3"`; no grouping
 *   commas); `revenue` is used when it is an amount, else `total`, else 0; an amount whose
 *   minor units are beyond a safe integer is not kept exact, so the revenue is 0;
 * - a currency that is no ISO-4217 code the runtime knows is not guessed at: the conversion
 *   still counts, with revenue 0 in the default currency (as GA4 drops the value of an event
 *   whose currency is invalid).
 */
import { currencyFractionDigits, isSupportedCurrency } from '../../domain/shared/money';
import {
  SemanticEvents,
  type EventTracked,
  type JsonObject,
  type JsonValue,
} from '../../domain/tracking/tracking.events';

export type TrackedEventData = Pick<EventTracked['data'], 'event' | 'properties'>;

export interface Conversion {
  readonly orderId: string | null;
  /** Integer minor units of `currency`, rounded half away from zero. */
  readonly revenueMinor: number;
  /** ISO-4217, upper case. */
  readonly currency: string;
  readonly campaignId: string | null;
}

export const emailEventKinds = [
  'sent',
  'delivered',
  'opened',
  'clicked',
  'bounced',
  'complained',
  'unsubscribed',
] as const;
export type EmailEventKind = (typeof emailEventKinds)[number];

export interface EmailEvent {
  readonly kind: EmailEventKind;
  readonly campaignId: string | null;
  readonly emailId: string | null;
  readonly linkUrl: string | null;
}

export type PromotionEventKind = 'impression' | 'click';

export interface PromotionEvent {
  readonly kind: PromotionEventKind;
  readonly campaignId: string | null;
  readonly promotionId: string | null;
  readonly creative: string | null;
  /** `properties.channel` as sent (the ad platform's word, not a classified Channel). */
  readonly channel: string | null;
}

export const defaultCurrency = 'USD';

const emailKindByEvent: ReadonlyMap<string, EmailEventKind> = new Map([
  [SemanticEvents.emailSent, 'sent'],
  [SemanticEvents.emailDelivered, 'delivered'],
  [SemanticEvents.emailOpened, 'opened'],
  [SemanticEvents.emailLinkClicked, 'clicked'],
  [SemanticEvents.emailBounced, 'bounced'],
  [SemanticEvents.emailMarkedAsSpam, 'complained'],
  [SemanticEvents.unsubscribed, 'unsubscribed'],
]);

const promotionKindByEvent: ReadonlyMap<string, PromotionEventKind> = new Map([
  [SemanticEvents.promotionViewed, 'impression'],
  [SemanticEvents.promotionClicked, 'click'],
]);

/** `Order Completed`: the order, its revenue in minor units and the campaign it names. */
export function readConversion(data: TrackedEventData): Conversion | null {
  if (data.event !== SemanticEvents.orderCompleted) return null;
  const { properties } = data;
  const currency = readCurrency(properties.currency);
  const amount = readAmount(properties.revenue) ?? readAmount(properties.total);
  const revenueMinor =
    currency === null || amount === null
      ? 0
      : (decimalToMinorUnits(amount, currencyFractionDigits(currency)) ?? 0);
  return {
    orderId: readId(properties.order_id),
    revenueMinor,
    currency: currency ?? defaultCurrency,
    campaignId: readId(properties.campaign_id),
  };
}

/** The email lifecycle: `Email Sent` … `Unsubscribed`. */
export function readEmailEvent(data: TrackedEventData): EmailEvent | null {
  const kind = emailKindByEvent.get(data.event);
  if (kind === undefined) return null;
  const { properties } = data;
  return {
    kind,
    campaignId: readId(properties.campaign_id),
    emailId: readId(properties.email_id),
    linkUrl: readText(properties.link_url),
  };
}

/** `Promotion Viewed` (an impression) and `Promotion Clicked` (an ad click). */
export function readPromotionEvent(data: TrackedEventData): PromotionEvent | null {
  const kind = promotionKindByEvent.get(data.event);
  if (kind === undefined) return null;
  const { properties } = data;
  return {
    kind,
    campaignId: readId(properties.campaign_id),
    promotionId: readId(properties.promotion_id),
    creative: readText(properties.creative),
    channel: readText(properties.channel),
  };
}

/**
 * The campaign variant (A/B creative of a campaign) an event belongs to: `properties.variant`.
 * `variation_id` is not read here: it names an experiment's arm on `Experiment Viewed`, which
 * the experiments read model owns.
 */
export function readVariant(properties: JsonObject): string | null {
  return readId(properties.variant);
}

function readId(value: JsonValue | undefined): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return readText(value);
}

function readText(value: JsonValue | undefined): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** A missing or blank currency is the default; an unknown one is null. */
function readCurrency(value: JsonValue | undefined): string | null {
  if (value === undefined || value === null) return defaultCurrency;
  if (typeof value !== 'string') return null;
  const code = value.trim().toUpperCase();
  if (code === '') return defaultCurrency;
  return isSupportedCurrency(code) ? code : null;
}

/** The decimal text of an amount, or null when the value is no amount. */
function readAmount(value: JsonValue | undefined): string | null {
  // String(number) is the shortest text that reads back as the same double, so 1.005 stays
  // "1.005" and rounds as the decimal the client meant, not as 1.00499999… .
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'string' && amountPattern.test(value.trim())) return value.trim();
  return null;
}

const amountPattern = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i;

/** Largest decimal exponent worth expanding: 10^16 minor units is beyond a safe integer. */
const maxWholeDigits = 16;

/**
 * Exact decimal → integer minor units, rounded half away from zero; null when the text is no
 * amount or the result is not a safe integer.
 */
function decimalToMinorUnits(text: string, fractionDigits: number): number | null {
  const match = amountPattern.exec(text);
  if (match === null) return null;
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match;
  if (whole === '' && fraction === '') return null;
  const significant = (whole + fraction).replace(/^0+/, '');
  if (significant === '') return 0;
  const leadingZeros = whole.length + fraction.length - significant.length;
  // Position of the decimal point in `significant` once scaled to minor units.
  const point = whole.length - leadingZeros + Number(exponent) + fractionDigits;
  if (point > maxWholeDigits) return null;
  const kept = point <= 0 ? '0' : significant.slice(0, point).padEnd(point, '0');
  const firstDropped = point < 0 ? '0' : (significant[point] ?? '0');
  const magnitude = BigInt(kept) + (firstDropped >= '5' ? 1n : 0n);
  if (magnitude > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  if (magnitude === 0n) return 0;
  return sign === '-' ? -Number(magnitude) : Number(magnitude);
}
