/**
 * The lift of a variant over the control, and the one place that decides when there is
 * no result.
 *
 * - absolute: m_b − m_a, variance v_a/n_a + v_b/n_b;
 * - relative: (m_b − m_a)/|m_a|, delta-method variance v_b/(n_b·m_a²) + v_a·m_b²/(n_a·m_a⁴)
 *   (ANALYTICS.md; GrowthBook's frequentist_variance / variance_of_ratios with no covariance;
 *   GrowthBook divides by m_a itself, which only differs for a negative baseline);
 * - Welch–Satterthwaite degrees of freedom (v_a/n_a + v_b/n_b)² /
 *   ((v_a/n_a)²/(n_a − 1) + (v_b/n_b)²/(n_b − 1)), from the variants' own variances whichever
 *   the difference, as GrowthBook does.
 *
 * No result, in this order: an arm with fewer than 2 units (`too-few-units`); a relative lift
 * over a control mean of 0 (`zero-baseline`); a lift whose variance is 0, i.e. both arms
 * without spread (`zero-variance`); numbers too large for doubles (`out-of-range`).
 * GrowthBook also gives up when only one arm has zero variance; Touchline, as ANALYTICS.md
 * says, only when the lift itself has none (one constant arm still leaves a usable test).
 */
import { summarize, type VariantMoments } from './moments';

export type Difference = 'relative' | 'absolute';

export type NoResultReason = 'too-few-units' | 'zero-baseline' | 'zero-variance' | 'out-of-range';

export interface LiftEstimate {
  readonly kind: 'estimate';
  readonly lift: number;
  readonly variance: number;
  readonly degreesOfFreedom: number;
  /** n_a + n_b, the sample size the sequential boundary is tuned on. */
  readonly units: number;
}

export interface NoLiftEstimate {
  readonly kind: 'no-result';
  readonly reason: NoResultReason;
}

export const MIN_UNITS_PER_ARM = 2;

export const estimateLift = (
  control: VariantMoments,
  variant: VariantMoments,
  difference: Difference,
): LiftEstimate | NoLiftEstimate => {
  const a = summarize(control);
  const b = summarize(variant);
  if (a.n < MIN_UNITS_PER_ARM || b.n < MIN_UNITS_PER_ARM) {
    return { kind: 'no-result', reason: 'too-few-units' };
  }
  if (difference === 'relative' && a.mean === 0) {
    return { kind: 'no-result', reason: 'zero-baseline' };
  }
  const squaredErrorA = a.variance / a.n;
  const squaredErrorB = b.variance / b.n;
  const squaredError = squaredErrorA + squaredErrorB;

  let lift: number;
  let variance: number;
  if (difference === 'relative') {
    const ratio = b.mean / a.mean;
    lift = (b.mean - a.mean) / Math.abs(a.mean);
    // v_b/(n_b·m_a²) + v_a·m_b²/(n_a·m_a⁴), written so that m_a⁴ is never formed.
    variance = (squaredErrorB + squaredErrorA * ratio * ratio) / (a.mean * a.mean);
  } else {
    lift = b.mean - a.mean;
    variance = squaredError;
  }
  // Beyond doubles either way: too large, or so small (a denormal) that 1/variance overflows.
  if (!Number.isFinite(variance) || !Number.isFinite(1 / variance)) {
    return { kind: 'no-result', reason: variance === 0 ? 'zero-variance' : 'out-of-range' };
  }
  if (variance <= 0) return { kind: 'no-result', reason: 'zero-variance' };

  // Satterthwaite, with each arm's share of the squared error so nothing under- or overflows.
  const shareA = squaredErrorA / squaredError;
  const shareB = squaredErrorB / squaredError;
  const degreesOfFreedom = 1 / ((shareA * shareA) / (a.n - 1) + (shareB * shareB) / (b.n - 1));

  const units = a.n + b.n;
  const standardScore = lift / Math.sqrt(variance);
  if (![lift, variance, standardScore, degreesOfFreedom, units].every(Number.isFinite)) {
    return { kind: 'no-result', reason: 'out-of-range' };
  }
  return { kind: 'estimate', lift, variance, degreesOfFreedom, units };
};
