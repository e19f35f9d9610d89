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

/** One upsert of a bucket document. */
export interface BucketWrite {
  readonly filter: Filter;
  readonly update: UpdateOperators;
}

interface PendingBucket {
  readonly dimensions: BucketDimensions;
  readonly granularity: BucketGranularity;
  readonly start: number;
  /** `$inc` field path → amount. */
  readonly increments: Map<string, number>;
}

/**
 * The deltas of a batch summed per bucket, so a batch writes each bucket it touches once.
 * `$inc` commutes, so the sum gives the document the deltas one by one would have given; a
 * field a non-zero delta touched is written even when its sum is 0, as one by one it would
 * have been.
 */
export class BucketDeltas {
  private readonly pending = new Map<string, PendingBucket>();

  /** Adds `delta` to the bucket of `granularity` that holds the instant `time` (ms). */
  add(
    dimensions: BucketDimensions,
    granularity: BucketGranularity,
    time: number,
    delta: MetricDelta,
  ): void {
    const size = granularityMs(granularity);
    const start = Math.floor(time / size) * size;
    const { workspaceId, campaignId, channel, variant } = dimensions;
    // The parts of `bucketId`, with the start as a number: one key per bucket document.
    const key = `${workspaceId}|${campaignId}|${channel}|${variant ?? '-'}|${granularity}|${start}`;
    let bucket = this.pending.get(key);
    for (const name of counterNames) {
      const value = delta.counts?.[name] ?? 0;
      if (value === 0) continue;
      bucket ??= this.open(key, dimensions, granularity, start);
      addTo(bucket.increments, name, value);
    }
    for (const name of moneyNames) {
      const money = delta[name];
      if (money === undefined) continue;
      for (const currency of Object.keys(money)) {
        const amount = money[currency];
        if (amount === 0) continue;
        // Currency codes become field paths: anything else would write somewhere unintended.
        if (!isCurrencyCode(currency)) throw new Error(`not a currency code: "${currency}"`);
        bucket ??= this.open(key, dimensions, granularity, start);
        addTo(bucket.increments, `${name}.${currency}`, amount);
      }
    }
  }

  /**
   * One upsert per bucket touched. Counters and currencies it does not increment are set to
   * 0 / {} on insert, so every bucket document has every field.
   */
  writes(): BucketWrite[] {
    return [...this.pending.values()].map(({ dimensions, granularity, start, increments }) => {
      const bucketStart = new Date(start).toISOString();
      const { workspaceId, campaignId, channel, variant } = dimensions;
      const onInsert: Record<string, unknown> = {
        campaignId,
        channel,
        variant,
        granularity,
        bucketStart,
      };
      for (const name of counterNames) if (!increments.has(name)) onInsert[name] = 0;
      for (const name of moneyNames) {
        const prefix = `${name}.`;
        if (![...increments.keys()].some((path) => path.startsWith(prefix))) onInsert[name] = {};
      }
      return {
        // workspaceId in the filter: the upsert inserts it, and the change feed reads it from there.
        filter: { _id: bucketId(dimensions, granularity, bucketStart), workspaceId },
        update: { $inc: Object.fromEntries(increments), $setOnInsert: onInsert },
      };
    });
  }

  private open(
    key: string,
    dimensions: BucketDimensions,
    granularity: BucketGranularity,
    start: number,
  ): PendingBucket {
    const bucket: PendingBucket = { dimensions, granularity, start, increments: new Map() };
    this.pending.set(key, bucket);
    return bucket;
  }
}

function addTo(increments: Map<string, number>, path: string, amount: number): void {
  increments.set(path, (increments.get(path) ?? 0) + amount);
}
