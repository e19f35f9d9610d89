import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { MetricTotals, MoneyByCurrency } from '../../projections/campaign-metrics/metrics';
import { deriveRates } from '../../projections/campaign-metrics/rates';
import { Campaign, Money } from '../campaign/campaign.types';

export const MetricsGranularity = { HOUR: 'HOUR', DAY: 'DAY', TOTAL: 'TOTAL' } as const;
export type MetricsGranularity = (typeof MetricsGranularity)[keyof typeof MetricsGranularity];
registerEnumType(MetricsGranularity, {
  name: 'MetricsGranularity',
  description: 'Hour or day buckets (UTC, by event time), or one total over the range.',
});

export const RankMetric = {
  IMPRESSIONS: 'IMPRESSIONS',
  CLICKS: 'CLICKS',
  SENDS: 'SENDS',
  DELIVERIES: 'DELIVERIES',
  UNIQUE_OPENS: 'UNIQUE_OPENS',
  UNIQUE_CLICKS: 'UNIQUE_CLICKS',
  CONVERSIONS: 'CONVERSIONS',
  REVENUE: 'REVENUE',
  SPEND: 'SPEND',
  CTR: 'CTR',
  CVR: 'CVR',
  ROAS: 'ROAS',
  ROI: 'ROI',
  OPEN_RATE: 'OPEN_RATE',
  CLICK_TO_OPEN: 'CLICK_TO_OPEN',
} as const;
export type RankMetric = (typeof RankMetric)[keyof typeof RankMetric];
registerEnumType(RankMetric, {
  name: 'RankMetric',
  description:
    'What topCampaigns ranks by, highest first. REVENUE and SPEND need a currency; ROAS and ROI, when given one, rank only campaigns whose money is in it.',
});

@ObjectType({
  description:
    'Campaign metrics (ANALYTICS.md, Campaign metrics). Rates are fractions (0.05 = 5 %), null when their denominator is 0; money-based rates never mix currencies.',
})
export class CampaignMetrics {
  @Field(() => Int, { description: 'Promotion Viewed events plus ad-report impressions.' })
  impressions!: number;

  @Field(() => Int, { description: 'Ad clicks: Promotion Clicked plus ad-report clicks.' })
  clicks!: number;

  @Field(() => Int)
  sends!: number;

  @Field(() => Int)
  deliveries!: number;

  @Field(() => Int)
  opens!: number;

  @Field(() => Int, {
    description: 'Distinct (contact, email) pairs opened, on the day of the first open.',
  })
  uniqueOpens!: number;

  @Field(() => Int, {
    description: 'Distinct (contact, email) pairs with a link click, on the day of the first.',
  })
  uniqueClicks!: number;

  @Field(() => Int)
  bounces!: number;

  @Field(() => Int)
  unsubscribes!: number;

  @Field(() => Int, { description: 'Emails marked as spam.' })
  complaints!: number;

  @Field(() => Int, {
    description: 'Conversions credited to the campaign (last non-direct touch, 30 days).',
  })
  conversions!: number;

  @Field(() => [Money], { description: 'Revenue per currency, never converted.' })
  revenue!: Money[];

  @Field(() => [Money], { description: 'Spend per currency, never converted.' })
  spend!: Money[];

  @Field(() => Float, { nullable: true, description: 'clicks / impressions' })
  ctr!: number | null;

  @Field(() => Float, { nullable: true, description: 'conversions / clicks' })
  cvr!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'spend / clicks, in major units of costCurrency (null if spend has several).',
  })
  cpc!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'spend / conversions, in major units of costCurrency.',
  })
  cpa!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'revenue / spend, when both are in one and the same currency.',
  })
  roas!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: '(revenue − spend) / spend, when both are in one and the same currency.',
  })
  roi!: number | null;

  @Field(() => Float, { nullable: true, description: 'uniqueOpens / deliveries' })
  openRate!: number | null;

  @Field(() => Float, { nullable: true, description: 'uniqueClicks / uniqueOpens' })
  clickToOpen!: number | null;

  @Field(() => Float, { nullable: true, description: 'bounces / sends' })
  bounceRate!: number | null;

  @Field(() => Float, { nullable: true, description: 'unsubscribes / deliveries' })
  unsubscribeRate!: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'The currency of cpc and cpa; null when there was no spend.',
  })
  costCurrency!: string | null;

  static from(totals: MetricTotals): CampaignMetrics {
    return Object.assign(new CampaignMetrics(), totals, deriveRates(totals), {
      revenue: moneyList(totals.revenue),
      spend: moneyList(totals.spend),
    });
  }
}

function moneyList(money: MoneyByCurrency): Money[] {
  return Object.entries(money)
    .filter(([, amountMinor]) => amountMinor !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([currency, amountMinor]) => Money.from({ amountMinor, currency }));
}

@ObjectType()
export class CampaignMetricsPoint {
  @Field(() => Date, { description: 'Start of the bucket (for TOTAL: the start of the range).' })
  bucketStart!: Date;

  @Field(() => CampaignMetrics)
  metrics!: CampaignMetrics;
}

@ObjectType()
export class ChannelMetrics {
  @Field({ description: 'Touchpoint channel, e.g. email, paid_search, direct.' })
  channel!: string;

  @Field(() => CampaignMetrics)
  metrics!: CampaignMetrics;
}

@ObjectType({
  description:
    'Metrics of one campaign over [from, to): the buckets whose start lies in the range. Ad-report and hand-recorded spend figures exist per day only, so HOUR series leave them out.',
})
export class CampaignMetricsSeries {
  @Field(() => ID)
  campaignId!: string;

  @Field(() => MetricsGranularity)
  granularity!: MetricsGranularity;

  @Field(() => Date)
  from!: Date;

  @Field(() => Date)
  to!: Date;

  @Field(() => [CampaignMetricsPoint], {
    description: 'Every bucket of the range in order, empty ones included (TOTAL: one point).',
  })
  points!: CampaignMetricsPoint[];

  @Field(() => CampaignMetrics, { description: 'The sum of the points.' })
  totals!: CampaignMetrics;

  @Field(() => [ChannelMetrics], { description: 'The same sum, per channel.' })
  byChannel!: ChannelMetrics[];
}

@ObjectType({ description: "One campaign's metrics over a range (day buckets) or all time." })
export class CampaignMetricsSummary {
  @Field(() => ID)
  campaignId!: string;

  @Field(() => CampaignMetrics)
  metrics!: CampaignMetrics;

  /** Resolved by a field resolver through the per-request campaign loader. */
  campaign?: Campaign | null;

  static of(campaignId: string, totals: MetricTotals): CampaignMetricsSummary {
    return Object.assign(new CampaignMetricsSummary(), {
      campaignId,
      metrics: CampaignMetrics.from(totals),
    });
  }
}
