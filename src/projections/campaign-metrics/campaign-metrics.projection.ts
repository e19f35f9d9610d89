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
 * live in different collections, so a batch never mixes them on one document. Within a
 * batch, each whole document is read and written once (`batch-documents.ts`), the journeys
 * changed are re-credited once at its end, and the deltas are summed per bucket, so each
 * bucket gets one upsert per batch (`BucketDeltas`).
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
import type { Projection } from '../projection';
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
import { BatchDocuments } from './batch-documents';
import { BucketDeltas, type BucketDimensions } from './buckets';
import {
  emailKey,
  firstTouchId,
  isEarlier,
  type FirstTouch,
  type FirstTouchDocument,
  type UniqueKind,
} from './first-touches';
import {
  compactJourney,
  emptyJourney,
  journeyHit,
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
  live: true,
  // Under a burst, a batch of 5,000 costs about a third less per event than one of 200: the
  // hourly sums it rewrites are shared by many events.
  minBatchSize: 5_000,
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
    const batch: Batch = {
      journeys: new BatchDocuments(session, journeys),
      firsts: new BatchDocuments(session, firsts),
      orders: new BatchDocuments(session, orders),
      deltas: new BucketDeltas(),
    };
    for (const event of events) await projectEvent(event, batch);
    for (const journey of batch.journeys.changed()) recreditJourney(batch, journey);
    batch.journeys.flush();
    batch.firsts.flush();
    batch.orders.flush();
    for (const { filter, update } of batch.deltas.writes()) {
      session.update(buckets, filter, update, { upsert: true });
    }
  },
};

/** What the projection keeps while it handles one batch. */
interface Batch {
  readonly journeys: BatchDocuments<JourneyDocument>;
  readonly firsts: BatchDocuments<FirstTouchDocument>;
  readonly orders: BatchDocuments<OrderDocument>;
  readonly deltas: BucketDeltas;
}

async function projectEvent(recorded: RecordedEvent, batch: Batch): Promise<void> {
  switch (recorded.type) {
    case 'PageViewed':
      return projectPageView(recorded as RecordedEvent<PageViewed>, batch);
    case 'EventTracked':
      return projectTrack(recorded as RecordedEvent<EventTracked>, batch);
    case 'AdReportImported':
    case 'SpendRecorded':
      return projectCampaignEvent(recorded, batch);
    default:
      return;
  }
}

async function projectPageView(recorded: RecordedEvent<PageViewed>, batch: Batch): Promise<void> {
  const { data, metadata } = recorded;
  const journey = await loadJourney(batch, metadata.workspaceId, primaryIdentity(data));
  const next = withHit(
    journey,
    journeyHit({
      messageId: data.messageId,
      at: data.occurredAt,
      utm: data.campaign,
      referrer: data.page?.referrer ?? null,
      pageUrl: data.page?.url ?? null,
      campaignId: namedId(data.properties.campaign_id),
    }),
  );
  if (next !== journey) batch.journeys.set(next);
}

/** What every counted `track` call contributes: where and when it happened. */
interface CountedCall {
  readonly workspaceId: string;
  readonly data: EventTracked['data'];
  readonly variant: string | null;
  readonly time: number;
}

async function projectTrack(recorded: RecordedEvent<EventTracked>, batch: Batch): Promise<void> {
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
  if (promotion !== null) countPromotion(batch, call, promotion);
  if (email !== null) await countEmail(batch, call, email);
  if (conversion !== null) await addConversion(batch, call, conversion);
}

function countPromotion(
  batch: Batch,
  { workspaceId, variant, time }: CountedCall,
  promotion: PromotionEvent,
): void {
  if (promotion.campaignId === null) return;
  const counter: CounterName = promotion.kind === 'impression' ? 'impressions' : 'clicks';
  const channel = promotionChannel(promotion.channel);
  count(batch, { workspaceId, campaignId: promotion.campaignId, channel, variant }, time, {
    counts: { [counter]: 1 },
  });
}

async function countEmail(
  batch: Batch,
  { workspaceId, data, variant, time }: CountedCall,
  email: EmailEvent,
): Promise<void> {
  if (email.campaignId === null) return;
  const dimensions = { workspaceId, campaignId: email.campaignId, channel: EMAIL, variant };
  const counter = emailCounters[email.kind];
  if (counter !== null) count(batch, dimensions, time, { counts: { [counter]: 1 } });
  const unique = uniqueKinds[email.kind];
  if (unique === null) return;
  await countUnique(batch, {
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
  batch: Batch,
  { workspaceId, data, variant }: CountedCall,
  conversion: Conversion,
): Promise<void> {
  const identity = primaryIdentity(data);
  if (conversion.orderId !== null) {
    const orderKey = `${workspaceId}|${conversion.orderId}`;
    if ((await batch.orders.get(orderKey)) !== null) return;
    batch.orders.set({
      _id: orderKey,
      workspaceId,
      orderId: conversion.orderId,
      identity,
      messageId: data.messageId,
    });
  }
  const journey = await loadJourney(batch, workspaceId, identity);
  const next = withConversion(journey, {
    key: conversion.orderId ?? `message:${data.messageId}`,
    at: data.occurredAt,
    namedCampaignId: conversion.campaignId,
    variant,
    revenueMinor: conversion.revenueMinor,
    currency: conversion.currency,
  });
  if (next !== journey) batch.journeys.set(next);
}

function projectCampaignEvent(recorded: RecordedEvent, batch: Batch): void {
  const event = { type: recorded.type, data: recorded.data };
  if (!isCampaignEvent(event)) return;
  const { workspaceId } = recorded.metadata;
  if (event.type === 'AdReportImported') {
    const { data } = event;
    countDay(batch, adDimensions(workspaceId, data), data.day, adReportDelta(data));
  } else if (event.type === 'SpendRecorded') {
    const { data } = event;
    countDay(batch, adDimensions(workspaceId, data), data.day, {
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
  batch: Batch,
  candidate: Omit<FirstTouchDocument, '_id'>,
): Promise<void> {
  const { workspaceId, identity, kind } = candidate;
  const id = firstTouchId(workspaceId, identity, candidate.emailKey, kind);
  const current = await batch.firsts.get(id);
  if (current !== null && !isEarlier(candidate, current)) return;
  const delta: MetricDelta = { counts: { [uniqueCounter[kind]]: 1 } };
  if (current !== null) countAt(batch, workspaceId, current, negate(delta));
  countAt(batch, workspaceId, candidate, delta);
  batch.firsts.set({ _id: id, ...candidate });
}

function countAt(batch: Batch, workspaceId: string, touch: FirstTouch, delta: MetricDelta): void {
  const { campaignId, variant } = touch;
  count(batch, { workspaceId, campaignId, channel: EMAIL, variant }, parseInstant(touch.at), delta);
}

async function loadJourney(
  batch: Batch,
  workspaceId: string,
  identity: string,
): Promise<JourneyDocument> {
  const stored = await batch.journeys.get(journeyId(workspaceId, identity));
  return stored === null ? emptyJourney(workspaceId, identity) : compactJourney(stored);
}

/** Re-credits the journey's conversions, keeps it and applies the credits that moved. */
function recreditJourney(batch: Batch, changed: JourneyDocument): void {
  const { journey, moves } = recredit(changed);
  batch.journeys.set(journey);
  for (const move of moves) applyMove(batch, journey.workspaceId, move);
}

function applyMove(batch: Batch, workspaceId: string, move: CreditMove): void {
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
  if (from !== null) count(batch, dimensions(from), time, negate(delta));
  if (to !== null) count(batch, dimensions(to), time, delta);
}

/** Applies a delta to the hour and the day bucket of an instant. */
function count(batch: Batch, dimensions: BucketDimensions, time: number, delta: MetricDelta): void {
  batch.deltas.add(dimensions, 'HOUR', time, delta);
  batch.deltas.add(dimensions, 'DAY', time, delta);
}

/** Applies a delta to a day bucket only (ad reports and spend have no hour). */
function countDay(
  batch: Batch,
  dimensions: BucketDimensions,
  day: string,
  delta: MetricDelta,
): void {
  batch.deltas.add(dimensions, 'DAY', Date.parse(dayStart(day)), delta);
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
