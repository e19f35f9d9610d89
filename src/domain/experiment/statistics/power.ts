/**
 * Planning: how many units each of two equal arms needs for a two-sided z-test at level α to
 * detect a relative lift δ with power 1 − β, and the power a given size achieves. The normal
 * approximation of the Welch test (its t quantiles are normal at the sizes that planning
 * yields):
 *
 *   Δ = δ·m (absolute effect over the baseline mean m),
 *   S = σ_a² + σ_b² (per-unit variances of the two arms),
 *   n = ⌈(z_{1−α/2} + z_{1−β})²·S / Δ²⌉ units per arm,
 *   power(n) = Φ(|Δ|/√(S/n) − z_{1−α/2}) + Φ(−|Δ|/√(S/n) − z_{1−α/2}).
 *
 * For a conversion rate p the arms have σ_a² = p(1 − p) and σ_b² = p'(1 − p') with
 * p' = p(1 + δ) (the unpooled variance, the one the test uses); for a mean both arms share
 * the variance given. Sample-size formula: e.g. Chow, Shao & Wang, Sample Size Calculations
 * in Clinical Research, §3.2 and §4.2; the second Φ term counts rejections on the wrong side,
 * so that power(0 units) = α.
 */
import { normalCdf, normalQuantile } from './distributions';
import { DEFAULT_ALPHA, requirePositiveFinite, requireProbability } from './common';
import { ValidationError } from '../../shared/errors';

export const DEFAULT_POWER = 0.8;

export interface ConversionEffect {
  /** Conversion rate of the control, in (0, 1). */
  readonly baselineRate: number;
  /** Relative lift to detect, e.g. 0.1 for +10 %; p(1 + δ) must stay in (0, 1). */
  readonly relativeLift: number;
}

export interface MeanEffect {
  /** Mean of the control; not 0. */
  readonly baselineMean: number;
  /** Per-unit variance of the metric, assumed equal in both arms. */
  readonly variance: number;
  /** Relative lift to detect, e.g. 0.05 for +5 %. */
  readonly relativeLift: number;
}

export interface TestLevel {
  /** Two-sided significance level; default 0.05. */
  readonly alpha?: number;
}

export interface SampleSizeOptions extends TestLevel {
  /** 1 − β; default 0.8. */
  readonly power?: number;
}

interface Effect {
  readonly absolute: number;
  readonly varianceSum: number;
}

/** Guards the doubles, not the maths: an effect that under- or overflows has no size. */
const effectOf = (absolute: number, varianceSum: number): Effect => {
  if (!(absolute !== 0 && Number.isFinite(absolute) && Number.isFinite(varianceSum))) {
    throw new ValidationError('relativeLift', 'the effect is out of the range of doubles');
  }
  return { absolute, varianceSum };
};

const requireNonZeroLift = (relativeLift: number): void => {
  if (!Number.isFinite(relativeLift) || relativeLift === 0) {
    throw new ValidationError('relativeLift', 'relativeLift must be a finite number ≠ 0');
  }
};

const conversionEffect = ({ baselineRate, relativeLift }: ConversionEffect): Effect => {
  requireProbability('baselineRate', baselineRate);
  requireNonZeroLift(relativeLift);
  const variantRate = baselineRate * (1 + relativeLift);
  if (!(variantRate > 0 && variantRate < 1)) {
    throw new ValidationError('relativeLift', 'the lifted rate must stay in (0, 1)');
  }
  return effectOf(
    variantRate - baselineRate,
    baselineRate * (1 - baselineRate) + variantRate * (1 - variantRate),
  );
};

const meanEffect = ({ baselineMean, variance, relativeLift }: MeanEffect): Effect => {
  if (!Number.isFinite(baselineMean) || baselineMean === 0) {
    throw new ValidationError('baselineMean', 'baselineMean must be a finite number ≠ 0');
  }
  requirePositiveFinite('variance', variance);
  requireNonZeroLift(relativeLift);
  return effectOf(relativeLift * baselineMean, 2 * variance);
};

const sampleSize = (effect: Effect, options: SampleSizeOptions): number => {
  const alpha = requireProbability('alpha', options.alpha ?? DEFAULT_ALPHA);
  const power = requireProbability('power', options.power ?? DEFAULT_POWER);
  const z = normalQuantile(1 - alpha / 2) + normalQuantile(power);
  const units = Math.ceil((z * z * effect.varianceSum) / (effect.absolute * effect.absolute));
  if (!Number.isSafeInteger(units)) {
    throw new ValidationError('relativeLift', 'the lift is too small to detect with any sample');
  }
  return Math.max(units, 2);
};

const achievedPower = (effect: Effect, unitsPerVariant: number, options: TestLevel): number => {
  const alpha = requireProbability('alpha', options.alpha ?? DEFAULT_ALPHA);
  if (!(Number.isFinite(unitsPerVariant) && unitsPerVariant >= 0)) {
    throw new ValidationError('unitsPerVariant', 'unitsPerVariant must be a finite number ≥ 0');
  }
  const critical = normalQuantile(1 - alpha / 2);
  const noncentrality = Math.abs(effect.absolute) * Math.sqrt(unitsPerVariant / effect.varianceSum);
  return Math.min(1, normalCdf(noncentrality - critical) + normalCdf(-noncentrality - critical));
};

/** Units per variant to detect a relative lift of a conversion rate. */
export const conversionSampleSize = (
  effect: ConversionEffect,
  options: SampleSizeOptions = {},
): number => sampleSize(conversionEffect(effect), options);

/** Units per variant to detect a relative lift of a mean with the given per-unit variance. */
export const meanSampleSize = (effect: MeanEffect, options: SampleSizeOptions = {}): number =>
  sampleSize(meanEffect(effect), options);

/** Power of the two-sided test with `unitsPerVariant` units in each arm. */
export const conversionPower = (
  effect: ConversionEffect,
  unitsPerVariant: number,
  options: TestLevel = {},
): number => achievedPower(conversionEffect(effect), unitsPerVariant, options);

export const meanPower = (
  effect: MeanEffect,
  unitsPerVariant: number,
  options: TestLevel = {},
): number => achievedPower(meanEffect(effect), unitsPerVariant, options);
