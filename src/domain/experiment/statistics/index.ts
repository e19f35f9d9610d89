/**
 * The statistics of A/B experiments (ANALYTICS.md, "Experiments"), as pure functions over
 * per-variant moments {n, sum, sumSquares}. They follow GrowthBook's gbstats formulas and agree
 * with its published examples to 4 decimals; each module names its formulas and sources.
 *
 * No result. When a lift cannot be estimated (an arm with fewer than 2 units, a relative lift
 * over a zero control mean, no variance, numbers beyond doubles) the tests return the same
 * discriminated union member, `kind: 'no-result'` with a `reason`, which still carries the
 * neutral values ANALYTICS.md prescribes: `pValue: 1` (frequentist, sequential),
 * `chanceToBeatControl: 0.5` (Bayesian), and `null` for the lift, its error, the intervals
 * and the risk. A `kind: 'result'` has every field a finite number. No exported function
 * returns NaN or ±Infinity; inputs outside their domain (counts that are not whole numbers ≥ 0,
 * α outside (0, 1), a lift of 0 to plan for) throw a ValidationError naming the field.
 */
export {
  chiSquareSurvival,
  normalCdf,
  normalPdf,
  normalQuantile,
  regularizedBeta,
  regularizedUpperGamma,
  studentTCdf,
  studentTQuantile,
} from './distributions';
export {
  conversionMoments,
  summarize,
  valueMoments,
  type MetricType,
  type VariantMoments,
  type VariantSummary,
} from './moments';
export {
  estimateLift,
  MIN_UNITS_PER_ARM,
  type Difference,
  type LiftEstimate,
  type NoLiftEstimate,
  type NoResultReason,
} from './lift';
export { DEFAULT_ALPHA, type Interval } from './common';
export { welchTTest, type FrequentistOptions, type FrequentistResult } from './frequentist';
export {
  bayesianLift,
  type BayesianOptions,
  type BayesianResult,
  type GaussianPrior,
  type Risk,
} from './bayesian';
export {
  DEFAULT_SEQUENTIAL_TUNING,
  mixtureRhoSquared,
  sequentialTTest,
  type SequentialOptions,
  type SequentialResult,
} from './sequential';
export {
  sampleRatioMismatch,
  SRM_MIN_UNITS_PER_VARIANT,
  SRM_P_VALUE_THRESHOLD,
  type SampleRatioMismatch,
  type SrmVerdict,
} from './srm';
export { adjustPValues, type Correction } from './corrections';
export {
  conversionPower,
  conversionSampleSize,
  DEFAULT_POWER,
  meanPower,
  meanSampleSize,
  type ConversionEffect,
  type MeanEffect,
  type SampleSizeOptions,
  type TestLevel,
} from './power';
