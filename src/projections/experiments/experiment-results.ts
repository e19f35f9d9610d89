/**
 * An experiment phase's results from its statistics document: per metric and variant the
 * units and the metric's total and mean, and against the control (the first variant) the
 * absolute and relative lift with every method's numbers (Welch t-test, Bayesian, sequential),
 * plus the sample-ratio check and the auto-stop policy. All statistics come from
 * src/domain/experiment/statistics (GrowthBook's formulas).
 *
 * Where ANALYTICS.md is silent:
 * - multiple comparisons: the p-values of every treatment × (primary and secondary) metric
 *   are corrected together (Holm or Benjamini–Hochberg, the experiment's choice), for the
 *   frequentist and the sequential tests; guardrails use their uncorrected p-values, so a
 *   harmed guardrail is flagged sooner rather than later;
 * - `significant` follows the experiment's method: frequentist and sequential, adjusted
 *   p < α; Bayesian, chance to beat control ≥ 95 % or ≤ 5 %;
 * - a guardrail is harmed when its sequential interval lies wholly on its bad side (below 0
 *   when higher is better, above when lower is better).
 */
import {
  adjustPValues,
  bayesianLift,
  conversionMoments,
  DEFAULT_ALPHA,
  sampleRatioMismatch,
  sequentialTTest,
  summarize,
  valueMoments,
  welchTTest,
  type BayesianResult,
  type FrequentistResult,
  type SampleRatioMismatch,
  type SequentialResult,
  type VariantMoments,
} from '../../domain/experiment/statistics';
import type { ExperimentDefinition, ExperimentMetric } from '../../domain/experiment';
import {
  experimentMetrics,
  type ExperimentStatsDocument,
  type VariantStatistics,
} from './experiments.projection';

export type MetricRole = 'primary' | 'secondary' | 'guardrail';

export interface VariantComparison {
  readonly absolute: FrequentistResult;
  readonly relative: FrequentistResult;
  /** The relative test's p-value after the correction for multiple comparisons. */
  readonly adjustedPValue: number;
  readonly bayesian: BayesianResult;
  readonly sequential: SequentialResult;
  readonly adjustedSequentialPValue: number;
  /** By the experiment's method (see the header). */
  readonly significant: boolean;
}

export interface VariantMetricResult {
  readonly variant: string;
  readonly units: number;
  /** Conversions (conversion metric) or the sum of values (value metric). */
  readonly total: number;
  /** Conversion rate or mean per unit. */
  readonly mean: number;
  /** p(1 − p) for a conversion metric, the sample variance (n − 1) for a value metric. */
  readonly variance: number;
  readonly sum: number;
  readonly sumSquares: number;
  /** Against the control; null for the control itself. */
  readonly comparison: VariantComparison | null;
}

export interface MetricResult {
  readonly metric: ExperimentMetric;
  readonly role: MetricRole;
  readonly variants: readonly VariantMetricResult[];
}

export interface PhaseResults {
  readonly phase: number;
  readonly units: readonly number[];
  readonly srm: SampleRatioMismatch | null;
  readonly metrics: readonly MetricResult[];
}

/** The statistics of a phase nobody was exposed in yet. */
export function emptyStatistics(definition: ExperimentDefinition): VariantStatistics[] {
  const metrics = experimentMetrics(definition).length;
  return definition.variants.map(() => ({
    units: 0,
    sums: new Array<number>(metrics).fill(0),
    sumSquares: new Array<number>(metrics).fill(0),
  }));
}

export function phaseResults(
  definition: ExperimentDefinition,
  phase: { readonly phase: number; readonly weights: readonly number[] },
  stats: ExperimentStatsDocument | null,
): PhaseResults {
  const variants = stats?.variants ?? emptyStatistics(definition);
  const units = variants.map((variant) => variant.units);
  const metrics = experimentMetrics(definition);
  const roles: MetricRole[] = metrics.map((_, index) =>
    index === 0
      ? 'primary'
      : index <= definition.secondaryMetrics.length
        ? 'secondary'
        : 'guardrail',
  );

  const raw = metrics.map((metric, m) =>
    variants.map((variant, v) => {
      const moments = momentsOf(metric, variant, m);
      if (v === 0) return { moments, tests: null };
      const control = momentsOf(metric, variants[0] as VariantStatistics, m);
      return {
        moments,
        tests: {
          absolute: welchTTest(control, moments, { difference: 'absolute' }),
          relative: welchTTest(control, moments, { difference: 'relative' }),
          bayesian: bayesianLift(control, moments, { difference: 'relative' }),
          sequential: sequentialTTest(control, moments, { difference: 'relative' }),
        },
      };
    }),
  );

  // Corrected together: every treatment × non-guardrail metric.
  const family: { m: number; v: number }[] = [];
  raw.forEach((row, m) => {
    if (roles[m] === 'guardrail') return;
    row.forEach((cell, v) => {
      if (cell.tests !== null) family.push({ m, v });
    });
  });
  const adjust = (pick: (m: number, v: number) => number) => {
    const adjusted = adjustPValues(
      family.map(({ m, v }) => pick(m, v)),
      definition.correction,
    );
    const byCell = new Map(
      family.map(({ m, v }, index) => [`${m}:${v}`, adjusted[index] as number]),
    );
    return (m: number, v: number) => byCell.get(`${m}:${v}`) ?? pick(m, v);
  };
  const tests = (m: number, v: number) =>
    raw[m]?.[v]?.tests as NonNullable<(typeof raw)[number][number]['tests']>;
  const adjustedT = adjust((m, v) => tests(m, v).relative.pValue);
  const adjustedSequential = adjust((m, v) => tests(m, v).sequential.pValue);

  return {
    phase: phase.phase,
    units,
    srm: units.length >= 2 ? sampleRatioMismatch(units, phase.weights) : null,
    metrics: metrics.map((metric, m) => ({
      metric,
      role: roles[m] as MetricRole,
      variants: (raw[m] ?? []).map(({ moments, tests: cell }, v) => {
        const { mean, variance } = summarize(moments);
        const comparison =
          cell === null
            ? null
            : {
                ...cell,
                adjustedPValue: adjustedT(m, v),
                adjustedSequentialPValue: adjustedSequential(m, v),
                significant: isSignificant(definition.method, {
                  pValue: adjustedT(m, v),
                  sequentialPValue: adjustedSequential(m, v),
                  chance: cell.bayesian.chanceToBeatControl,
                }),
              };
        return {
          variant: definition.variants[v]?.key ?? String(v),
          units: moments.n,
          total: moments.sum,
          mean,
          variance,
          sum: moments.sum,
          sumSquares: moments.sumSquares,
          comparison,
        };
      }),
    })),
  };
}

function momentsOf(
  metric: ExperimentMetric,
  variant: VariantStatistics,
  index: number,
): VariantMoments {
  const sum = variant.sums[index] ?? 0;
  if (metric.kind === 'conversion') {
    return conversionMoments(variant.units, Math.min(variant.units, Math.max(0, Math.round(sum))));
  }
  return valueMoments(variant.units, sum, Math.max(0, variant.sumSquares[index] ?? 0));
}

function isSignificant(
  method: ExperimentDefinition['method'],
  numbers: { pValue: number; sequentialPValue: number; chance: number },
): boolean {
  switch (method) {
    case 'frequentist':
      return numbers.pValue < DEFAULT_ALPHA;
    case 'sequential':
      return numbers.sequentialPValue < DEFAULT_ALPHA;
    case 'bayesian':
      return numbers.chance >= 1 - DEFAULT_ALPHA || numbers.chance <= DEFAULT_ALPHA;
    default: {
      const _exhaustive: never = method;
      return _exhaustive;
    }
  }
}

export interface AutoStop {
  /** The winning variant's key: the best treatment that beats the control, else the control. */
  readonly winner: string;
  readonly reason: string;
}

/**
 * Issue 7's policy: stop when every variant has its minimum sample, the sample ratio is
 * clean, no guardrail is harmed, and the primary metric's sequential interval excludes 0 for
 * some treatment. Null while it should keep running.
 */
export function autoStopDecision(
  definition: ExperimentDefinition,
  results: PhaseResults,
): AutoStop | null {
  if (results.units.some((units) => units < definition.minSamplePerVariant)) return null;
  if (results.srm === null || results.srm.verdict !== 'consistent') return null;
  for (const metric of results.metrics) {
    if (metric.role !== 'guardrail') continue;
    const harmed = metric.variants.some(({ comparison }) => {
      const interval = comparison?.sequential.confidenceInterval;
      if (!interval) return false;
      return metric.metric.higherIsBetter ? interval.upper < 0 : interval.lower > 0;
    });
    if (harmed) return null;
  }
  const primary = results.metrics[0] as MetricResult;
  const better = primary.metric.higherIsBetter ? 1 : -1;
  let winner: { variant: string; lift: number } | null = null;
  let decided = false;
  for (const variant of primary.variants) {
    const interval = variant.comparison?.sequential.confidenceInterval;
    if (!interval || (interval.lower <= 0 && interval.upper >= 0)) continue;
    decided = true;
    const lift = better * (variant.comparison?.sequential.lift ?? 0);
    if (lift > 0 && (winner === null || lift > winner.lift))
      winner = { variant: variant.variant, lift };
  }
  if (!decided) return null;
  const control = definition.variants[0]?.key ?? '';
  return winner === null
    ? {
        winner: control,
        reason: `the primary metric ${primary.metric.key} is worse in every treatment whose always-valid interval excludes 0`,
      }
    : {
        winner: winner.variant,
        reason: `the always-valid interval of ${primary.metric.key} excludes 0 for ${winner.variant} (relative lift ${(winner.lift * better).toFixed(4)}), no guardrail is harmed and the sample ratio is clean`,
      };
}
