/**
 * Welch's two-sided t-test on the lift, as GrowthBook's TwoSidedTTest:
 * t = lift / se, p = 2·F_ν(−|t|), interval lift ± F_ν⁻¹(1 − α/2)·se, with ν the
 * Welch–Satterthwaite degrees of freedom (see lift.ts).
 */
import { studentTCdf, studentTQuantile } from './distributions';
import { estimateLift, type Difference, type NoResultReason } from './lift';
import type { VariantMoments } from './moments';
import { DEFAULT_ALPHA, intervalAround, requireProbability, type Interval } from './common';

export interface FrequentistOptions {
  /** Default `relative`, as GrowthBook. */
  readonly difference?: Difference;
  /** Default 0.05. */
  readonly alpha?: number;
}

export type FrequentistResult =
  | {
      readonly kind: 'result';
      readonly difference: Difference;
      readonly lift: number;
      readonly standardError: number;
      readonly degreesOfFreedom: number;
      readonly tStatistic: number;
      readonly pValue: number;
      readonly confidenceInterval: Interval;
    }
  | {
      readonly kind: 'no-result';
      readonly reason: NoResultReason;
      readonly difference: Difference;
      readonly lift: null;
      readonly standardError: null;
      readonly degreesOfFreedom: null;
      readonly tStatistic: null;
      readonly pValue: 1;
      readonly confidenceInterval: null;
    };

export const welchTTest = (
  control: VariantMoments,
  variant: VariantMoments,
  options: FrequentistOptions = {},
): FrequentistResult => {
  const difference = options.difference ?? 'relative';
  const alpha = requireProbability('alpha', options.alpha ?? DEFAULT_ALPHA);
  const estimate = estimateLift(control, variant, difference);
  if (estimate.kind === 'no-result') {
    return {
      kind: 'no-result',
      reason: estimate.reason,
      difference,
      lift: null,
      standardError: null,
      degreesOfFreedom: null,
      tStatistic: null,
      pValue: 1,
      confidenceInterval: null,
    };
  }
  const { lift, degreesOfFreedom } = estimate;
  const standardError = Math.sqrt(estimate.variance);
  const tStatistic = lift / standardError;
  return {
    kind: 'result',
    difference,
    lift,
    standardError,
    degreesOfFreedom,
    tStatistic,
    pValue: Math.min(1, 2 * studentTCdf(-Math.abs(tStatistic), degreesOfFreedom)),
    confidenceInterval: intervalAround(
      lift,
      studentTQuantile(1 - alpha / 2, degreesOfFreedom) * standardError,
    ),
  };
};
