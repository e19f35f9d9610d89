/**
 * Reading the campaign metrics: the bucket documents of a range, summed by whatever a report
 * needs (bucket, channel, campaign). The store groups and sums the counters; the per-currency
 * money maps are pushed through and summed here, one currency at a time.
 */
import type { Filter, ReadCollection } from '../read-store';
import { granularityMs, type BucketGranularity, type CampaignMetricsBucket } from './buckets';
import {
  counterNames,
  moneyNames,
  sumTotals,
  type MetricParts,
  type MetricTotals,
} from './metrics';

export interface BucketQuery {
  readonly workspaceId: string;
  readonly granularity: BucketGranularity;
  /** Buckets whose start lies in [from, to); both absent: all time. */
  readonly from?: Date;
  readonly to?: Date;
  /** One campaign, several, or (absent) every campaign of the workspace. */
  readonly campaignIds?: readonly string[];
  readonly channel?: string;
}

export type GroupField = 'campaignId' | 'channel' | 'bucketStart';

export interface GroupTotals {
  readonly key: Readonly<Partial<Record<GroupField, string>>>;
  readonly totals: MetricTotals;
}

export function bucketFilter(query: BucketQuery): Filter {
  const filter: Record<string, unknown> = {
    workspaceId: query.workspaceId,
    granularity: query.granularity,
  };
  if (query.campaignIds !== undefined) {
    filter.campaignId =
      query.campaignIds.length === 1 ? query.campaignIds[0] : { $in: [...query.campaignIds] };
  }
  if (query.channel !== undefined) filter.channel = query.channel;
  if (query.from !== undefined || query.to !== undefined) {
    filter.bucketStart = {
      ...(query.from !== undefined && { $gte: query.from.toISOString() }),
      ...(query.to !== undefined && { $lt: query.to.toISOString() }),
    };
  }
  return filter;
}

/** The matching buckets summed per distinct value of the `by` fields (all in one group when empty). */
export async function totalsBy(
  collection: ReadCollection<CampaignMetricsBucket>,
  query: BucketQuery,
  by: readonly GroupField[],
): Promise<GroupTotals[]> {
  const rows = await collection.aggregate<Record<string, unknown>>([
    { $match: bucketFilter(query) },
    {
      $group: {
        _id: by.length === 0 ? null : Object.fromEntries(by.map((field) => [field, `$${field}`])),
        ...Object.fromEntries(counterNames.map((name) => [name, { $sum: `$${name}` }])),
        ...Object.fromEntries(moneyNames.map((name) => [name, { $push: `$${name}` }])),
      },
    },
  ]);
  return rows.map((row) => {
    const counters: MetricParts = Object.fromEntries(counterNames.map((name) => [name, row[name]]));
    const money: MetricParts[] = moneyNames.flatMap((name) => {
      const maps = row[name];
      return Array.isArray(maps) ? maps.map((map: unknown) => ({ [name]: map })) : [];
    });
    return {
      key: (row._id ?? {}) as Partial<Record<GroupField, string>>,
      totals: sumTotals([counters, ...money]),
    };
  });
}

/** The starts of the buckets of `granularity` that begin in [from, to), in order. */
export function bucketStartsIn(from: Date, to: Date, granularity: BucketGranularity): string[] {
  const size = granularityMs(granularity);
  const starts: string[] = [];
  for (let time = Math.ceil(from.getTime() / size) * size; time < to.getTime(); time += size) {
    starts.push(new Date(time).toISOString());
  }
  return starts;
}
