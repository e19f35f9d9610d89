/**
 * The campaign metrics read model (ANALYTICS.md, Campaign metrics): per workspace × campaign
 * × channel × variant, in hour and day buckets (UTC) by EVENT time, the counters of
 * `metrics.ts`. A late event lands in the bucket of its own event time.
 *
 * - impressions / clicks: `Promotion Viewed` / `Promotion Clicked` naming a campaign, and
 *   ad-report rows (day buckets only; a re-imported row applies `new − previous`);
 * - sends, deliveries, opens, bounces, unsubscribes, complaints: email events naming the
 *   campaign, channel `email`; unique opens / clicks per (identity, email) in the bucket of
 *   the first one by event time (`first-touches.ts`);
 * - conversions and revenue: `Order Completed`, credited by `campaignForConversion` over the
 *   person's sessions and re-credited whenever their journey changes (`journey.ts`); a
 *   repeated `order_id` counts once, the first copy in log order;
 * - spend: ad-report rows (difference) and spend recorded by hand (day buckets only).
 *
 * Counters change through `$inc` upserts, never read first; the journey, first-touch and
 * order documents, which decide what to count, are read and written whole. The two kinds
 * live in different collections, so a batch never mixes them on one document.
 *
 * Identity is the call's own (userId, else anonymousId): uniques and journeys are keyed by
 * it, not by the contact that `alias` / `identify` join (the contacts read model owns that).
 */
import {
  isCampaignEvent,
  type AdReportImported,
  type CampaignChannel,
  type SpendRecorded,
} from '../../domain/campaign';
import type { RecordedEvent } from '../../domain/shared/events';
import type { Money } from '../../domain/shared/money';
import {
  primaryIdentity,
  type EventTracked,
  type JsonValue,
  type PageViewed,
} from '../../domain/tracking/tracking.events';
import type { Projection, ProjectionSession } from '../projection';
import { channels, type Channel } from '../touchpoints/channels';
import { parseInstant } from '../touchpoints/sessions';
import {
  readConversion,
  readEmailEvent,
  readPromotionEvent,
  readVariant,
  type Conversion,
  type EmailEvent,
  type EmailEventKind,
  type PromotionEvent,
} from '../touchpoints/vocabulary';
import {
  bucketGranularities,
  bucketStartOf,
  bucketWrite,
  type BucketDimensions,
  type BucketGranularity,
} from './buckets';
import {
  emailKey,
  firstTouchId,
  isEarlier,
  type FirstTouch,
  type FirstTouchDocument,
  type UniqueKind,
} from './first-touches';
import {
  emptyJourney,
  journeyId,
  recredit,
  withConversion,
  withHit,
  type CreditMove,
  type JourneyDocument,
} from './journey';
import { negate, type CounterName, type MetricDelta } from './metrics';

export const campaignMetricsProjectionName = 'campaign-metrics';

/** Logical collection names. */
export const campaignMetricsCollections = {
  /** The bucket documents every query reads. */
  buckets: 'campaign_metrics',
  /** One per identity: page hits, conversions and their current credit. */
  journeys: 'campaign_metrics_journeys',
  /** One per (identity, email, open | click): the first one by event time. */
  firsts: 'campaign_metrics_firsts',
  /** One per workspace × order id: the copy that counts. */
  orders: 'campaign_metrics_orders',
} as const;

export const campaignMetricsEventTypes = [
  'PageViewed',
  'EventTracked',
  'AdReportImported',
  'SpendRecorded',
] as const;

export type OrderDocument = {
  /** `${workspaceId}|${orderId}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly orderId: string;
  /** The identity and message of the copy that counts. */
  readonly identity: string;
  readonly messageId: string;
};

/**
 * A promotion that names no channel is a banner or ad shown on a page (display); a channel
 * word that is none of the touchpoint channels is `other`.
 */
export const promotionChannelWhenUnnamed: Channel = 'display';

const { buckets, journeys, firsts, orders } = campaignMetricsCollections;
const EMAIL: Channel = 'email';

export const campaignMetricsProjection: Projection = {
  name: campaignMetricsProjectionName,
  version: 1,
  eventTypes: campaignMetricsEventTypes,
  collections: Object.values(campaignMetricsCollections),
  indexes: {
    [buckets]: [
      ['workspaceId', 'campaignId', 'granularity', 'bucketStart'],
      // topCampaigns ranks every campaign of a workspace over a range.
      ['workspaceId', 'granularity', 'bucketStart'],
    ],
  },
  async project(events, session) {
    for (const event of events) await projectEvent(event, session);
  },
};

async function projectEvent(recorded: RecordedEvent, session: ProjectionSession): Promise<void> {
  switch (recorded.type) {
    case 'PageViewed':
      return projectPageView(recorded as RecordedEvent<PageViewed>, session);
    case 'EventTracked':
      return projectTrack(recorded as RecordedEvent<EventTracked>, session);
    case 'AdReportImported':
    case 'SpendRecorded':
      return projectCampaignEvent(recorded, session);
    default:
      return;
  }
}

async function projectPageView(
  recorded: RecordedEvent<PageViewed>,
  session: ProjectionSession,
): Promise<void> {
  const { data, metadata } = recorded;
  const journey = await loadJourney(session, metadata.workspaceId, primaryIdentity(data));
  const next = withHit(journey, {
    messageId: data.messageId,
    at: data.occurredAt,
    utm: data.campaign,
    referrer: data.page?.referrer ?? null,
    pageUrl: data.page?.url ?? null,
    campaignId: namedId(data.properties.campaign_id),
  });
  if (next !== journey) saveJourney(session, next);
}

/** What every counted `track` call contributes: where and when it happened. */
interface CountedCall {
  readonly workspaceId: string;
  readonly data: EventTracked['data'];
  readonly variant: string | null;
  readonly time: number;
}

async function projectTrack(
  recorded: RecordedEvent<EventTracked>,
  session: ProjectionSession,
): Promise<void> {
  const { data } = recorded;
  const promotion = readPromotionEvent(data);
  const email = promotion === null ? readEmailEvent(data) : null;
  const conversion = promotion === null && email === null ? readConversion(data) : null;
  if (promotion === null && email === null && conversion === null) return;
  const call: CountedCall = {
    workspaceId: recorded.metadata.workspaceId,
    data,
    variant: readVariant(data.properties),
    time: parseInstant(data.occurredAt),
  };
  if (promotion !== null) countPromotion(session, call, promotion);
  if (email !== null) await countEmail(session, call, email);
  if (conversion !== null) await addConversion(session, call, conversion);
}

function countPromotion(
  session: ProjectionSession,
  { workspaceId, variant, time }: CountedCall,
  promotion: PromotionEvent,
): void {
  if (promotion.campaignId === null) return;
  const counter: CounterName = promotion.kind === 'impression' ? 'impressions' : 'clicks';
  const channel = promotionChannel(promotion.channel);
  count(session, { workspaceId, campaignId: promotion.campaignId, channel, variant }, time, {
    counts: { [counter]: 1 },
  });
}

async function countEmail(
  session: ProjectionSession,
  { workspaceId, data, variant, time }: CountedCall,
  email: EmailEvent,
): Promise<void> {
  if (email.campaignId === null) return;
  const dimensions = { workspaceId, campaignId: email.campaignId, channel: EMAIL, variant };
  const counter = emailCounters[email.kind];
  if (counter !== null) count(session, dimensions, time, { counts: { [counter]: 1 } });
  const unique = uniqueKinds[email.kind];
  if (unique === null) return;
  await countUnique(session, {
    workspaceId,
    identity: primaryIdentity(data),
    emailKey: emailKey(email.emailId, email.campaignId),
    kind: unique,
    at: data.occurredAt,
    messageId: data.messageId,
    campaignId: email.campaignId,
    variant,
  });
}

/** A repeated order id counts once: the first copy in log order. */
async function addConversion(
  session: ProjectionSession,
  { workspaceId, data, variant }: CountedCall,
  conversion: Conversion,
): Promise<void> {
  const identity = primaryIdentity(data);
  if (conversion.orderId !== null) {
    const orderKey = `${workspaceId}|${conversion.orderId}`;
    if ((await session.get<OrderDocument>(orders, orderKey)) !== null) return;
    const order: OrderDocument = {
      _id: orderKey,
      workspaceId,
      orderId: conversion.orderId,
      identity,
      messageId: data.messageId,
    };
    session.put(orders, order);
  }
  const journey = await loadJourney(session, workspaceId, identity);
  const next = withConversion(journey, {
    key: conversion.orderId ?? `message:${data.messageId}`,
    at: data.occurredAt,
    namedCampaignId: conversion.campaignId,
    variant,
    revenueMinor: conversion.revenueMinor,
    currency: conversion.currency,
  });
  if (next !== journey) saveJourney(session, next);
}

function projectCampaignEvent(recorded: RecordedEvent, session: ProjectionSession): void {
  const event = { type: recorded.type, data: recorded.data };
  if (!isCampaignEvent(event)) return;
  const { workspaceId } = recorded.metadata;
  if (event.type === 'AdReportImported') {
    const { data } = event;
    countDay(session, adDimensions(workspaceId, data), data.day, adReportDelta(data));
  } else if (event.type === 'SpendRecorded') {
    const { data } = event;
    countDay(session, adDimensions(workspaceId, data), data.day, {
      spend: moneyMap([data.amount]),
    });
  }
}

/** A re-imported row replaces the earlier one: the difference of the two. */
function adReportDelta(data: AdReportImported['data']): MetricDelta {
  const { previous } = data;
  if (previous === null) {
    return {
      counts: { impressions: data.impressions, clicks: data.clicks },
      spend: moneyMap([data.spend]),
    };
  }
  const replacedSpend = { ...previous.spend, amountMinor: -previous.spend.amountMinor };
  return {
    counts: {
      impressions: data.impressions - previous.impressions,
      clicks: data.clicks - previous.clicks,
    },
    spend: moneyMap([data.spend, replacedSpend]),
  };
}

function adDimensions(
  workspaceId: string,
  data: AdReportImported['data'] | SpendRecorded['data'],
): BucketDimensions {
  return {
    workspaceId,
    campaignId: data.campaignId,
    channel: channelOfCampaignChannel[data.channel],
    variant: null,
  };
}

/**
 * Campaign channels (the campaign aggregate's words) are the touchpoint channels in capitals,
 * so ad-report rows and tracked events meet in the same buckets.
 */
const channelOfCampaignChannel: Readonly<Record<CampaignChannel, Channel>> = {
  EMAIL: 'email',
  PAID_SEARCH: 'paid_search',
  PAID_SOCIAL: 'paid_social',
  DISPLAY: 'display',
  AFFILIATE: 'affiliate',
  ORGANIC_SEARCH: 'organic_search',
  ORGANIC_SOCIAL: 'organic_social',
  REFERRAL: 'referral',
  DIRECT: 'direct',
  OTHER: 'other',
};

/** Clicks are ad clicks: an email link click feeds unique clicks only. */
const emailCounters: Readonly<Record<EmailEventKind, CounterName | null>> = {
  sent: 'sends',
  delivered: 'deliveries',
  opened: 'opens',
  clicked: null,
  bounced: 'bounces',
  complained: 'complaints',
  unsubscribed: 'unsubscribes',
};

const uniqueKinds: Readonly<Record<EmailEventKind, UniqueKind | null>> = {
  sent: null,
  delivered: null,
  opened: 'open',
  clicked: 'click',
  bounced: null,
  complained: null,
  unsubscribed: null,
};

const uniqueCounter: Readonly<Record<UniqueKind, CounterName>> = {
  open: 'uniqueOpens',
  click: 'uniqueClicks',
};

async function countUnique(
  session: ProjectionSession,
  candidate: Omit<FirstTouchDocument, '_id'>,
): Promise<void> {
  const { workspaceId, identity, kind } = candidate;
  const id = firstTouchId(workspaceId, identity, candidate.emailKey, kind);
  const current = await session.get<FirstTouchDocument>(firsts, id);
  if (current !== null && !isEarlier(candidate, current)) return;
  const delta: MetricDelta = { counts: { [uniqueCounter[kind]]: 1 } };
  if (current !== null) countAt(session, workspaceId, current, negate(delta));
  countAt(session, workspaceId, candidate, delta);
  session.put(firsts, { _id: id, ...candidate });
}

function countAt(
  session: ProjectionSession,
  workspaceId: string,
  touch: FirstTouch,
  delta: MetricDelta,
): void {
  const { campaignId, variant } = touch;
  count(
    session,
    { workspaceId, campaignId, channel: EMAIL, variant },
    parseInstant(touch.at),
    delta,
  );
}

async function loadJourney(
  session: ProjectionSession,
  workspaceId: string,
  identity: string,
): Promise<JourneyDocument> {
  const id = journeyId(workspaceId, identity);
  return (await session.get<JourneyDocument>(journeys, id)) ?? emptyJourney(workspaceId, identity);
}

/** Re-credits the journey's conversions, stores it and applies the credits that moved. */
function saveJourney(session: ProjectionSession, changed: JourneyDocument): void {
  const { journey, moves } = recredit(changed);
  session.put(journeys, journey);
  for (const move of moves) applyMove(session, journey.workspaceId, move);
}

function applyMove(session: ProjectionSession, workspaceId: string, move: CreditMove): void {
  const { conversion, from, to } = move;
  const delta: MetricDelta = {
    counts: { conversions: 1 },
    revenue: { [conversion.currency]: conversion.revenueMinor },
  };
  const time = parseInstant(conversion.at);
  const dimensions = (credit: NonNullable<CreditMove['to']>): BucketDimensions => ({
    workspaceId,
    campaignId: credit.campaignId,
    channel: credit.channel,
    variant: conversion.variant,
  });
  if (from !== null) count(session, dimensions(from), time, negate(delta));
  if (to !== null) count(session, dimensions(to), time, delta);
}

/** Applies a delta to the hour and the day bucket of an instant. */
function count(
  session: ProjectionSession,
  dimensions: BucketDimensions,
  time: number,
  delta: MetricDelta,
): void {
  for (const granularity of bucketGranularities) {
    write(session, dimensions, granularity, bucketStartOf(time, granularity), delta);
  }
}

/** Applies a delta to a day bucket only (ad reports and spend have no hour). */
function countDay(
  session: ProjectionSession,
  dimensions: BucketDimensions,
  day: string,
  delta: MetricDelta,
): void {
  write(session, dimensions, 'DAY', dayStart(day), delta);
}

function write(
  session: ProjectionSession,
  dimensions: BucketDimensions,
  granularity: BucketGranularity,
  bucketStart: string,
  delta: MetricDelta,
): void {
  const upsert = bucketWrite(dimensions, granularity, bucketStart, delta);
  if (upsert !== null) session.update(buckets, upsert.filter, upsert.update, { upsert: true });
}

/** `YYYY-MM-DD` → the ISO instant of that UTC midnight. */
export function dayStart(day: string): string {
  const start = `${day}T00:00:00.000Z`;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(start))) {
    throw new RangeError(`not a calendar day (YYYY-MM-DD): "${day}"`);
  }
  return start;
}

function promotionChannel(word: string | null): Channel {
  if (word === null) return promotionChannelWhenUnnamed;
  const normalised = word
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  return (channels as readonly string[]).includes(normalised) ? (normalised as Channel) : 'other';
}

function moneyMap(amounts: readonly Money[]): Record<string, number> {
  const map: Record<string, number> = {};
  for (const { amountMinor, currency } of amounts) {
    map[currency] = (map[currency] ?? 0) + amountMinor;
  }
  return map;
}

/** A campaign id a page call names (`properties.campaign_id`): a non-blank string or an integer. */
function namedId(value: JsonValue | undefined): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}
