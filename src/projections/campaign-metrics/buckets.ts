/**
 * Where a metric lands: one document per workspace × campaign × channel × variant × bucket,
 * for hour and day buckets in UTC, by event time. Counters change by `$inc` only, so a late
 * event simply increments the bucket of its own event time and nothing is read first.
 */
import {
  counterNames,
  isCurrencyCode,
  moneyNames,
  type CounterName,
  type MetricDelta,
  type MoneyByCurrency,
  type MoneyName,
} from './metrics';
import type { Filter, UpdateOperators } from '../read-store';

export const bucketGranularities = ['HOUR', 'DAY'] as const;
export type BucketGranularity = (typeof bucketGranularities)[number];

/** What a bucket is kept per, besides its time. */
export type BucketDimensions = {
  readonly workspaceId: string;
  readonly campaignId: string;
  readonly channel: string;
  readonly variant: string | null;
};

export type CampaignMetricsBucket = BucketDimensions & {
  /** `${ws}|${campaignId}|${channel}|${variant ?? '-'}|${granularity}|${bucketStart}`. */
  readonly _id: string;
  readonly granularity: BucketGranularity;
  /** ISO-8601 instant (UTC) the bucket starts at; ISO strings sort as time. */
  readonly bucketStart: string;
} & Readonly<Record<CounterName, number>> &
  Readonly<Record<MoneyName, MoneyByCurrency>>;

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

export function granularityMs(granularity: BucketGranularity): number {
  return granularity === 'HOUR' ? HOUR_MS : DAY_MS;
}

/** The start (ISO, UTC) of the bucket holding the instant `time` (ms since the epoch). */
export function bucketStartOf(time: number, granularity: BucketGranularity): string {
  const size = granularityMs(granularity);
  return new Date(Math.floor(time / size) * size).toISOString();
}

export function bucketId(
  dimensions: BucketDimensions,
  granularity: BucketGranularity,
  bucketStart: string,
): string {
  const { workspaceId, campaignId, channel, variant } = dimensions;
  return `${workspaceId}|${campaignId}|${channel}|${variant ?? '-'}|${granularity}|${bucketStart}`;
}

/** The prefix every bucket id of one campaign starts with. */
export function campaignBucketPrefix(workspaceId: string, campaignId: string): string {
  return `${workspaceId}|${campaignId}|`;
}

/**
 * The upsert that applies `delta` to one bucket, or null when the delta changes nothing.
 * Counters and currencies the delta does not touch are set to 0 / {} on insert, so every
 * bucket document has every field.
 */
export function bucketWrite(
  dimensions: BucketDimensions,
  granularity: BucketGranularity,
  bucketStart: string,
  delta: MetricDelta,
): { filter: Filter; update: UpdateOperators } | null {
  const increments: Record<string, number> = {};
  for (const name of counterNames) {
    const value = delta.counts?.[name] ?? 0;
    if (value !== 0) increments[name] = value;
  }
  const touchedMoney = new Set<MoneyName>();
  for (const name of moneyNames) {
    for (const [currency, amount] of Object.entries(delta[name] ?? {})) {
      if (amount === 0) continue;
      // Currency codes become field paths: anything else would write somewhere unintended.
      if (!isCurrencyCode(currency)) throw new Error(`not a currency code: "${currency}"`);
      increments[`${name}.${currency}`] = amount;
      touchedMoney.add(name);
    }
  }
  if (Object.keys(increments).length === 0) return null;

  const { workspaceId, campaignId, channel, variant } = dimensions;
  const onInsert: Record<string, unknown> = {
    campaignId,
    channel,
    variant,
    granularity,
    bucketStart,
  };
  for (const name of counterNames) if (!(name in increments)) onInsert[name] = 0;
  for (const name of moneyNames) if (!touchedMoney.has(name)) onInsert[name] = {};
  return {
    // workspaceId in the filter: the upsert inserts it, and the change feed reads it from there.
    filter: { _id: bucketId(dimensions, granularity, bucketStart), workspaceId },
    update: { $inc: increments, $setOnInsert: onInsert },
  };
}
