/**
 * Per-variant sufficient statistics. Every metric is kept as {n, sum, sumSquares}, so that
 * variants are summed event by event and any statistic below is computed from these three.
 *
 * - A value metric (revenue, order count per unit, …): its sample variance divides by n − 1
 *   (ANALYTICS.md).
 * - A conversion metric: each unit contributes 0 or 1, so sum = sumSquares = conversions; its
 *   variance is p(1 − p), which divides by n, as GrowthBook's ProportionStatistic does. That is
 *   what makes the results agree with GrowthBook's published proportion examples to
 *   4 decimals (with n − 1 they would be larger by n/(n − 1): 3.6 % at 28 units).
 */
import { ValidationError } from '../../shared/errors';
import { requireFinite } from './common';

export type MetricType = 'conversion' | 'value';

export interface VariantMoments {
  readonly metric: MetricType;
  /** Units (exposed contacts) in the variant. */
  readonly n: number;
  readonly sum: number;
  readonly sumSquares: number;
}

export interface VariantSummary {
  readonly n: number;
  readonly mean: number;
  readonly variance: number;
}

const requireCount = (field: string, value: number): void => {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(field, `${field} must be a whole number ≥ 0`);
  }
};

/** Moments of a value metric: n units, the sum of their values and of their squares. */
export const valueMoments = (n: number, sum: number, sumSquares: number): VariantMoments => {
  requireCount('n', n);
  requireFinite('sum', sum);
  if (!(Number.isFinite(sumSquares) && sumSquares >= 0)) {
    throw new ValidationError('sumSquares', 'sumSquares must be a finite number ≥ 0');
  }
  return { metric: 'value', n, sum, sumSquares };
};

/** Moments of a conversion metric: sum = sumSquares = conversions. */
export const conversionMoments = (units: number, conversions: number): VariantMoments => {
  requireCount('units', units);
  requireCount('conversions', conversions);
  if (conversions > units) {
    throw new ValidationError('conversions', 'conversions cannot exceed units');
  }
  return { metric: 'conversion', n: units, sum: conversions, sumSquares: conversions };
};

/**
 * Mean and variance of a variant. No units gives mean 0, one unit of a value metric gives
 * variance 0 (there is no spread to estimate). A sum of squared deviations below 0 (rounding,
 * or moments that no data could produce: sumSquares < sum²/n) is read as 0.
 */
export const summarize = (moments: VariantMoments): VariantSummary => {
  const { n, sum, sumSquares } = moments;
  if (n === 0) return { n, mean: 0, variance: 0 };
  const mean = sum / n;
  const squaredDeviations = Math.max(0, sumSquares - sum * mean);
  const divisor = moments.metric === 'conversion' ? n : n - 1;
  return { n, mean, variance: divisor > 0 ? squaredDeviations / divisor : 0 };
};
