/**
 * Sample ratio mismatch: Pearson's chi-square goodness-of-fit of the units each variant got
 * against the split its weights promise (GrowthBook's check_srm):
 *   E_i = w_i/Σw · Σn,  χ² = Σ (n_i − E_i)²/E_i over variants with w_i > 0,
 *   df = k − 1,  p = P(χ²_df > χ²).
 * Flagged when p < 0.001, but only once every variant has at least 8 units: below that the
 * chi-square approximation is too rough to accuse the assignment.
 */
import { chiSquareSurvival } from './distributions';
import { ValidationError } from '../../shared/errors';

export const SRM_P_VALUE_THRESHOLD = 0.001;
export const SRM_MIN_UNITS_PER_VARIANT = 8;

/**
 * - `mismatch`: p < 0.001 with enough units, flagged;
 * - `consistent`: the split is plausible;
 * - `too-few-units`: some variant has fewer than 8 units, never flagged whatever p says.
 */
export type SrmVerdict = 'mismatch' | 'consistent' | 'too-few-units';

export interface SampleRatioMismatch {
  readonly statistic: number;
  readonly degreesOfFreedom: number;
  readonly pValue: number;
  readonly flagged: boolean;
  readonly verdict: SrmVerdict;
}

const requireNonNegativeList = (field: string, values: readonly number[]): void => {
  if (!values.every((v) => Number.isFinite(v) && v >= 0)) {
    throw new ValidationError(field, `${field} must be finite numbers ≥ 0`);
  }
};

export const sampleRatioMismatch = (
  units: readonly number[],
  weights: readonly number[],
): SampleRatioMismatch => {
  if (units.length < 2 || units.length !== weights.length) {
    throw new ValidationError('weights', 'one weight per variant, and at least two variants');
  }
  requireNonNegativeList('units', units);
  requireNonNegativeList('weights', weights);
  const totalWeight = weights.reduce((sum, w) => sum + w, 0);
  if (!(totalWeight > 0)) throw new ValidationError('weights', 'some weight must be > 0');

  const totalUnits = units.reduce((sum, n) => sum + n, 0);
  const statistic = units.reduce((chi2, observed, i) => {
    const expected = (weights[i] / totalWeight) * totalUnits;
    return expected > 0 ? chi2 + (observed - expected) ** 2 / expected : chi2;
  }, 0);
  const degreesOfFreedom = units.length - 1;
  const pValue = chiSquareSurvival(statistic, degreesOfFreedom);

  const enoughUnits = units.every((n) => n >= SRM_MIN_UNITS_PER_VARIANT);
  const flagged = enoughUnits && pValue < SRM_P_VALUE_THRESHOLD;
  const verdict: SrmVerdict = !enoughUnits ? 'too-few-units' : flagged ? 'mismatch' : 'consistent';
  return { statistic, degreesOfFreedom, pValue, flagged, verdict };
};
