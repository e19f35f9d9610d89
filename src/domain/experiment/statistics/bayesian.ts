/**
 * A Gaussian posterior on the lift, as GrowthBook's EffectBayesianABTest.
 *
 * The data say lift ~ N(d, v), with d and v the lift and its variance from lift.ts. With the
 * default flat prior the posterior is N(d, v); with a normal prior N(μ₀, σ₀²) on the same
 * scale as the lift (relative prior for a relative lift), precisions add:
 *   1/σ² = 1/v + 1/σ₀²,   μ = σ²·(d/v + μ₀/σ₀²).
 * Then, for X ~ N(μ, σ²):
 * - chance to beat control P(X > 0) = Φ(μ/σ);
 * - credible interval μ ± Φ⁻¹(1 − α/2)·σ;
 * - risk (expected loss) of choosing control E[max(X, 0)] = μ·Φ(μ/σ) + σ·φ(μ/σ), and of
 *   choosing the variant E[max(−X, 0)] = −μ·Φ(−μ/σ) + σ·φ(μ/σ) (GrowthBook's get_risk:
 *   P(X > 0)·E[X | X > 0] and −P(X < 0)·E[X | X < 0]), in the lift's units.
 */
import { normalCdf, normalPdf, normalQuantile } from './distributions';
import { estimateLift, type Difference, type NoResultReason } from './lift';
import type { VariantMoments } from './moments';
import {
  DEFAULT_ALPHA,
  intervalAround,
  requireFinite,
  requirePositiveFinite,
  requireProbability,
  type Interval,
} from './common';

export interface GaussianPrior {
  readonly mean: number;
  readonly variance: number;
}

export interface BayesianOptions {
  /** Default `relative`, as GrowthBook. */
  readonly difference?: Difference;
  /** The credible interval holds 1 − α of the posterior; default 0.05. */
  readonly alpha?: number;
  /** A proper normal prior on the lift; flat when absent. */
  readonly prior?: GaussianPrior;
}

export interface Risk {
  /** Expected loss if control is kept and the variant was in fact better. */
  readonly chooseControl: number;
  /** Expected loss if the variant ships and control was in fact better. */
  readonly chooseVariant: number;
}

export type BayesianResult =
  | {
      readonly kind: 'result';
      readonly difference: Difference;
      /** Posterior mean of the lift. */
      readonly lift: number;
      readonly standardDeviation: number;
      readonly chanceToBeatControl: number;
      readonly credibleInterval: Interval;
      readonly risk: Risk;
    }
  | {
      readonly kind: 'no-result';
      readonly reason: NoResultReason;
      readonly difference: Difference;
      readonly lift: null;
      readonly standardDeviation: null;
      readonly chanceToBeatControl: 0.5;
      readonly credibleInterval: null;
      readonly risk: null;
    };

const requirePrior = (prior: GaussianPrior): GaussianPrior => {
  requireFinite('prior.mean', prior.mean);
  requirePositiveFinite('prior.variance', prior.variance);
  return prior;
};

export const bayesianLift = (
  control: VariantMoments,
  variant: VariantMoments,
  options: BayesianOptions = {},
): BayesianResult => {
  const difference = options.difference ?? 'relative';
  const alpha = requireProbability('alpha', options.alpha ?? DEFAULT_ALPHA);
  const prior = options.prior && requirePrior(options.prior);
  const estimate = estimateLift(control, variant, difference);
  const noResult = (reason: NoResultReason): BayesianResult => ({
    kind: 'no-result',
    reason,
    difference,
    lift: null,
    standardDeviation: null,
    chanceToBeatControl: 0.5,
    credibleInterval: null,
    risk: null,
  });
  if (estimate.kind === 'no-result') return noResult(estimate.reason);
  const dataPrecision = 1 / estimate.variance;
  const precision = dataPrecision + (prior ? 1 / prior.variance : 0);
  const mean = prior
    ? (estimate.lift * dataPrecision + prior.mean / prior.variance) / precision
    : estimate.lift;
  const standardDeviation = Math.sqrt(1 / precision);
  const z = mean / standardDeviation;
  // A variance so small that its precision overflows a double (e.g. a denormal Σx²).
  if (![mean, standardDeviation, z].every(Number.isFinite) || standardDeviation <= 0) {
    return noResult('out-of-range');
  }
  const density = standardDeviation * normalPdf(z);
  return {
    kind: 'result',
    difference,
    lift: mean,
    standardDeviation,
    chanceToBeatControl: normalCdf(z),
    credibleInterval: intervalAround(mean, normalQuantile(1 - alpha / 2) * standardDeviation),
    risk: {
      chooseControl: Math.max(0, mean * normalCdf(z) + density),
      chooseVariant: Math.max(0, density - mean * normalCdf(-z)),
    },
  };
};
