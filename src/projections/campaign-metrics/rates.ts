/**
 * The derived campaign rates of ANALYTICS.md's table, from summed metrics. Each is null when
 * its denominator is 0. Ratios are fractions (0.05 for 5 %), never percentages.
 *
 * Money never mixes currencies:
 * - CPC and CPA divide spend, so they need the spend in ONE currency (or no spend at all,
 *   which is 0 in any currency); they are decimal MAJOR units of that currency (1.25 for
 *   USD 1.25 per click), and `costCurrency` names it (null when there was no spend). Revenue
 *   in another currency does not matter to them: nothing is mixed.
 * - ROAS and ROI divide revenue by spend, so they need the spend in one currency and the
 *   revenue in that same currency (or no revenue, which is 0); otherwise null. Minor units
 *   cancel out in the ratio.
 * A currency whose amount sums to 0 counts as absent.
 */
import { currencyFractionDigits } from '../../domain/shared/money';
import type { CounterName, MoneyByCurrency, MoneyName } from './metrics';

export type RateInputs = Readonly<Record<CounterName, number>> &
  Readonly<Record<MoneyName, MoneyByCurrency>>;

export interface DerivedRates {
  /** clicks / impressions */
  readonly ctr: number | null;
  /** conversions / clicks */
  readonly cvr: number | null;
  /** spend / clicks, in major units of `costCurrency` */
  readonly cpc: number | null;
  /** spend / conversions, in major units of `costCurrency` */
  readonly cpa: number | null;
  /** revenue / spend */
  readonly roas: number | null;
  /** (revenue − spend) / spend */
  readonly roi: number | null;
  /** unique opens / deliveries */
  readonly openRate: number | null;
  /** unique clicks / unique opens */
  readonly clickToOpen: number | null;
  /** bounces / sends */
  readonly bounceRate: number | null;
  /** unsubscribes / deliveries */
  readonly unsubscribeRate: number | null;
  /** The currency of CPC and CPA; null when there was no spend (or it was in several). */
  readonly costCurrency: string | null;
}

export function deriveRates(totals: RateInputs): DerivedRates {
  const spend = singleCurrency(totals.spend);
  const revenue = singleCurrency(totals.revenue);
  const spendMajor = spend === 'MIXED' ? null : spend === null ? 0 : toMajor(spend);
  const sameCurrency =
    spend !== 'MIXED' &&
    spend !== null &&
    revenue !== 'MIXED' &&
    (revenue === null || revenue.currency === spend.currency);
  const spendMinor = sameCurrency ? spend.amountMinor : 0;
  const revenueMinor = sameCurrency && revenue !== null ? revenue.amountMinor : 0;
  return {
    ctr: ratio(totals.clicks, totals.impressions),
    cvr: ratio(totals.conversions, totals.clicks),
    cpc: spendMajor === null ? null : ratio(spendMajor, totals.clicks),
    cpa: spendMajor === null ? null : ratio(spendMajor, totals.conversions),
    roas: sameCurrency ? ratio(revenueMinor, spendMinor) : null,
    roi: sameCurrency ? ratio(revenueMinor - spendMinor, spendMinor) : null,
    openRate: ratio(totals.uniqueOpens, totals.deliveries),
    clickToOpen: ratio(totals.uniqueClicks, totals.uniqueOpens),
    bounceRate: ratio(totals.bounces, totals.sends),
    unsubscribeRate: ratio(totals.unsubscribes, totals.deliveries),
    costCurrency: spend === 'MIXED' || spend === null ? null : spend.currency,
  };
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

interface Amount {
  readonly currency: string;
  readonly amountMinor: number;
}

/** The one currency with a non-zero amount, null when there is none, MIXED when several. */
function singleCurrency(money: MoneyByCurrency): Amount | null | 'MIXED' {
  const amounts = Object.entries(money).filter(([, amountMinor]) => amountMinor !== 0);
  if (amounts.length > 1) return 'MIXED';
  if (amounts.length === 0) return null;
  const [[currency, amountMinor]] = amounts;
  return { currency, amountMinor };
}

function toMajor({ currency, amountMinor }: Amount): number {
  return amountMinor / 10 ** currencyFractionDigits(currency);
}
