/**
 * Always-valid (sequential) two-sided test on the lift, as GrowthBook's
 * SequentialTwoSidedTTest: the asymptotic confidence sequence of Waudby-Smith et al.
 * ("Time-uniform central limit theory and asymptotic confidence sequences", 2023,
 * arXiv:2103.06476) with Howard et al.'s normal-mixture boundary.
 *
 * With N = n_a + n_b units, se the lift's standard error and σ² = se²·N:
 *   ρ² = (−2·ln α + ln(1 − 2·ln α)) / τ   (the mixture tuned to be tightest at N = τ),
 *   half-width = σ·√( 2(Nρ² + 1)/(N²ρ²) · ln(√(Nρ² + 1)/α) ),
 *   p = min(1, √(Nρ² + 1) · exp(−ρ²·N·(lift/se)² / (2(Nρ² + 1))))  (1 / the mixture e-value).
 * τ defaults to 5000, GrowthBook's `sequential_tuning_parameter`.
 */
import { estimateLift, type Difference, type NoResultReason } from './lift';
import type { VariantMoments } from './moments';
import {
  DEFAULT_ALPHA,
  intervalAround,
  requirePositiveFinite,
  requireProbability,
  type Interval,
} from './common';

export const DEFAULT_SEQUENTIAL_TUNING = 5000;

export interface SequentialOptions {
  /** Default `relative`, as GrowthBook. */
  readonly difference?: Difference;
  /** Default 0.05. */
  readonly alpha?: number;
  /** τ, the total sample size at which the interval is tightest; default 5000. */
  readonly tuning?: number;
}

export type SequentialResult =
  | {
      readonly kind: 'result';
      readonly difference: Difference;
      readonly lift: number;
      readonly standardError: number;
      readonly pValue: number;
      readonly confidenceInterval: Interval;
    }
  | {
      readonly kind: 'no-result';
      readonly reason: NoResultReason;
      readonly difference: Difference;
      readonly lift: null;
      readonly standardError: null;
      readonly pValue: 1;
      readonly confidenceInterval: null;
    };

/** ρ² of the normal mixture for a two-sided level α and tuning τ. */
export const mixtureRhoSquared = (alpha: number, tuning: number): number => {
  const logAlpha = Math.log(alpha);
  return (-2 * logAlpha + Math.log(1 - 2 * logAlpha)) / tuning;
};

export const sequentialTTest = (
  control: VariantMoments,
  variant: VariantMoments,
  options: SequentialOptions = {},
): SequentialResult => {
  const difference = options.difference ?? 'relative';
  const alpha = requireProbability('alpha', options.alpha ?? DEFAULT_ALPHA);
  const tuning = requirePositiveFinite('tuning', options.tuning ?? DEFAULT_SEQUENTIAL_TUNING);
  const estimate = estimateLift(control, variant, difference);
  if (estimate.kind === 'no-result') {
    return {
      kind: 'no-result',
      reason: estimate.reason,
      difference,
      lift: null,
      standardError: null,
      pValue: 1,
      confidenceInterval: null,
    };
  }
  const { lift, units } = estimate;
  const standardError = Math.sqrt(estimate.variance);
  const rhoSquared = mixtureRhoSquared(alpha, tuning);
  const spread = units * rhoSquared + 1;
  // se·√N·√(2·spread/(N²ρ²)·ln(√spread/α)) = se·√(2·spread/(Nρ²)·ln(√spread/α))
  const halfWidth =
    standardError *
    Math.sqrt(((2 * spread) / (units * rhoSquared)) * Math.log(Math.sqrt(spread) / alpha));
  const z = lift / standardError;
  const pValue = Math.min(
    1,
    Math.sqrt(spread) * Math.exp((-rhoSquared * units * z * z) / (2 * spread)),
  );
  return {
    kind: 'result',
    difference,
    lift,
    standardError,
    pValue,
    confidenceInterval: intervalAround(lift, halfWidth),
  };
};
