import {
  adjustPValues,
  bayesianLift,
  conversionMoments,
  conversionPower,
  conversionSampleSize,
  estimateLift,
  meanPower,
  meanSampleSize,
  sampleRatioMismatch,
  sequentialTTest,
  summarize,
  valueMoments,
  welchTTest,
  type VariantMoments,
} from '../../src/domain/experiment/statistics';
import { ValidationError } from '../../src/domain/shared/errors';

/** Moments of n units with the given mean and sample variance (n − 1). */
const momentsOf = (n: number, mean: number, variance: number): VariantMoments =>
  valueMoments(n, n * mean, (n - 1) * variance + n * mean * mean);

// The hand case used throughout: control n = 100, mean 10, variance 4;
// variant n = 100, mean 11, variance 9.
const control = momentsOf(100, 10, 4); // sum 1000, sumSquares 99·4 + 100·100 = 10396
const variant = momentsOf(100, 11, 9); // sum 1100, sumSquares 99·9 + 100·121 = 12991

// GrowthBook's published examples (gbstats tests/frequentist/test_tests.py and
// tests/bayesian/test_tests.py), given as the same {n, sum, sumSquares} it takes.
const gbControl = valueMoments(3407, 1396.87, 52377.9767);
const gbVariant = valueMoments(3461, 2422.7, 134698.29);

describe('experiment statistics', () => {
  describe('moments', () => {
    it('given a value metric, the variance divides by n − 1', () => {
      // values 1, 2, 3, 4: sum 10, sumSquares 30, mean 2.5, (30 − 10·2.5)/3 = 5/3
      expect(summarize(valueMoments(4, 10, 30))).toEqual({ n: 4, mean: 2.5, variance: 5 / 3 });
    });

    it('given conversions, sum = sumSquares = conversions and the variance is p(1 − p)', () => {
      const moments = conversionMoments(200, 50);
      expect(moments).toEqual({ metric: 'conversion', n: 200, sum: 50, sumSquares: 50 });
      // p = 0.25, p(1 − p) = 0.1875
      expect(summarize(moments)).toEqual({ n: 200, mean: 0.25, variance: 0.1875 });
    });

    it('given no units or one unit, mean and variance are 0, not NaN', () => {
      expect(summarize(valueMoments(0, 0, 0))).toEqual({ n: 0, mean: 0, variance: 0 });
      expect(summarize(valueMoments(1, 7, 49))).toEqual({ n: 1, mean: 7, variance: 0 });
    });

    it('refuses negative counts and more conversions than units', () => {
      expect(() => valueMoments(-1, 0, 0)).toThrow(ValidationError);
      expect(() => conversionMoments(10, 11)).toThrow(ValidationError);
    });
  });

  describe('lift', () => {
    it('absolute: m_b − m_a with variance v_a/n_a + v_b/n_b and Welch df', () => {
      // 11 − 10 = 1; 4/100 + 9/100 = 0.13;
      // df = 0.13² / ((0.04² + 0.09²)/99) = 0.0169·99/0.0097 = 172.484536
      const estimate = estimateLift(control, variant, 'absolute');
      expect(estimate).toMatchObject({ kind: 'estimate', lift: 1, units: 200 });
      if (estimate.kind !== 'estimate') throw new Error('expected an estimate');
      expect(estimate.variance).toBeCloseTo(0.13, 12);
      expect(estimate.degreesOfFreedom).toBeCloseTo(172.484536, 5);
    });

    it('relative: (m_b − m_a)/|m_a| with the delta-method variance', () => {
      // 1/10 = 0.1; 9/(100·10²) + 4·11²/(100·10⁴) = 0.0009 + 0.000484 = 0.001384
      const estimate = estimateLift(control, variant, 'relative');
      if (estimate.kind !== 'estimate') throw new Error('expected an estimate');
      expect(estimate.lift).toBeCloseTo(0.1, 12);
      expect(estimate.variance).toBeCloseTo(0.001384, 12);
    });

    it('divides by |m_a|, so a negative baseline keeps the sign of the change', () => {
      // control mean −10, variant mean −9: (−9 − (−10))/|−10| = +0.1, the metric went up
      const estimate = estimateLift(momentsOf(50, -10, 4), momentsOf(50, -9, 4), 'relative');
      expect(estimate).toMatchObject({ kind: 'estimate' });
      if (estimate.kind === 'estimate') expect(estimate.lift).toBeCloseTo(0.1, 12);
    });
  });

  describe('frequentist: Welch t-test', () => {
    it('matches GrowthBook TwoSidedTTest, relative', () => {
      // published: expected 0.70732, ci (−0.03526, 1.44989), stddev 0.37879, p 0.06191
      const result = welchTTest(gbControl, gbVariant);
      expect(result.kind).toBe('result');
      if (result.kind !== 'result') return;
      expect(result.lift).toBeCloseTo(0.70732, 4);
      expect(result.standardError).toBeCloseTo(0.37879, 4);
      expect(result.pValue).toBeCloseTo(0.06191, 4);
      expect(result.confidenceInterval.lower).toBeCloseTo(-0.03526, 4);
      expect(result.confidenceInterval.upper).toBeCloseTo(1.44989, 4);
    });

    it('matches GrowthBook TwoSidedTTest, absolute', () => {
      // published: expected 0.29, ci (0.04538, 0.53462), stddev 0.12478, p 0.02016
      const result = welchTTest(gbControl, gbVariant, { difference: 'absolute' });
      if (result.kind !== 'result') throw new Error('expected a result');
      expect(result.lift).toBeCloseTo(0.29, 4);
      expect(result.standardError).toBeCloseTo(0.12478, 4);
      expect(result.pValue).toBeCloseTo(0.02016, 4);
      expect(result.confidenceInterval.lower).toBeCloseTo(0.04538, 4);
      expect(result.confidenceInterval.upper).toBeCloseTo(0.53462, 4);
    });

    it('matches GrowthBook TwoSidedTTest on proportions (14/28 against 16/30)', () => {
      // published: expected 0.06667, ci (−0.47767, 0.61101), stddev 0.2717, p 0.80707
      const result = welchTTest(conversionMoments(28, 14), conversionMoments(30, 16));
      if (result.kind !== 'result') throw new Error('expected a result');
      expect(result.lift).toBeCloseTo(0.06667, 4);
      expect(result.standardError).toBeCloseTo(0.2717, 4);
      expect(result.pValue).toBeCloseTo(0.80707, 4);
      expect(result.confidenceInterval.lower).toBeCloseTo(-0.47767, 4);
      expect(result.confidenceInterval.upper).toBeCloseTo(0.61101, 4);
    });

    it('given the hand case, absolute: t = 1/√0.13, p and the interval from t(172.48)', () => {
      // se = √0.13 = 0.360555, t = 2.773501, p = 2·(1 − F₁₇₂.₄₈(2.773501)) = 0.006156,
      // t₀.₉₇₅(172.48) = 1.973813, ci = 1 ∓ 1.973813·0.360555 = (0.288332, 1.711668)
      const result = welchTTest(control, variant, { difference: 'absolute' });
      if (result.kind !== 'result') throw new Error('expected a result');
      expect(result.standardError).toBeCloseTo(0.360555, 6);
      expect(result.tStatistic).toBeCloseTo(2.773501, 6);
      expect(result.pValue).toBeCloseTo(0.006156, 6);
      expect(result.confidenceInterval.lower).toBeCloseTo(0.288332, 6);
      expect(result.confidenceInterval.upper).toBeCloseTo(1.711668, 6);
    });

    it('given the hand case, relative: se = √0.001384', () => {
      // se = 0.0372022, t = 0.1/0.0372022 = 2.688017, p = 0.007892,
      // ci = 0.1 ∓ 1.973813·0.0372022 = (0.026570, 0.173430)
      const result = welchTTest(control, variant);
      if (result.kind !== 'result') throw new Error('expected a result');
      expect(result.standardError).toBeCloseTo(0.0372022, 6);
      expect(result.pValue).toBeCloseTo(0.007892, 6);
      expect(result.confidenceInterval.lower).toBeCloseTo(0.02657, 5);
      expect(result.confidenceInterval.upper).toBeCloseTo(0.17343, 5);
    });

    it('is symmetric: swapping the arms flips the absolute lift and keeps p', () => {
      const forward = welchTTest(control, variant, { difference: 'absolute' });
      const backward = welchTTest(variant, control, { difference: 'absolute' });
      expect(backward.lift).toBeCloseTo(-(forward.lift ?? 0), 12);
      expect(backward.pValue).toBeCloseTo(forward.pValue, 12);
    });
  });

  describe('Bayesian: Gaussian posterior on the lift', () => {
    const gbBayesControl = valueMoments(10, 100, 1002.25); // mean 10, variance 0.25
    const gbBayesVariant = valueMoments(10, 105, 1111.5); // mean 10.5, variance 1

    it('matches GrowthBook EffectBayesianABTest with the flat prior', () => {
      // published: expected 0.05, ci (−0.02, 0.12), stddev 0.03572, chance 0.91923,
      // risk (0.05131, 0.00131)
      const result = bayesianLift(gbBayesControl, gbBayesVariant);
      if (result.kind !== 'result') throw new Error('expected a result');
      expect(result.lift).toBeCloseTo(0.05, 4);
      expect(result.standardDeviation).toBeCloseTo(0.03572, 4);
      expect(result.chanceToBeatControl).toBeCloseTo(0.91923, 4);
      expect(result.credibleInterval.lower).toBeCloseTo(-0.02, 4);
      expect(result.credibleInterval.upper).toBeCloseTo(0.12, 4);
      expect(result.risk.chooseControl).toBeCloseTo(0.05131, 4);
      expect(result.risk.chooseVariant).toBeCloseTo(0.00131, 4);
    });

    it('matches GrowthBook EffectBayesianABTest with the prior N(0.1, 0.1)', () => {
      // published: expected 0.05063, ci (−0.01893, 0.12019), stddev 0.03549,
      // chance 0.92315, risk (0.05186, 0.00123)
      const result = bayesianLift(gbBayesControl, gbBayesVariant, {
        prior: { mean: 0.1, variance: 0.1 },
      });
      if (result.kind !== 'result') throw new Error('expected a result');
      expect(result.lift).toBeCloseTo(0.05063, 4);
      expect(result.standardDeviation).toBeCloseTo(0.03549, 4);
      expect(result.chanceToBeatControl).toBeCloseTo(0.92315, 4);
      expect(result.credibleInterval.lower).toBeCloseTo(-0.01893, 4);
      expect(result.credibleInterval.upper).toBeCloseTo(0.12019, 4);
      expect(result.risk.chooseControl).toBeCloseTo(0.05186, 4);
      expect(result.risk.chooseVariant).toBeCloseTo(0.00123, 4);
    });

    it('matches GrowthBook EffectBayesianABTest on proportions (49/100 against 51/100)', () => {
      // published: expected 0.04082, ci (−0.24779, 0.32943), stddev 0.14725,
      // chance 0.60918, risk (0.0814, 0.04058)
      const result = bayesianLift(conversionMoments(100, 49), conversionMoments(100, 51));
      if (result.kind !== 'result') throw new Error('expected a result');
      expect(result.lift).toBeCloseTo(0.04082, 4);
      expect(result.standardDeviation).toBeCloseTo(0.14725, 4);
      expect(result.chanceToBeatControl).toBeCloseTo(0.60918, 4);
      expect(result.credibleInterval.lower).toBeCloseTo(-0.24779, 4);
      expect(result.credibleInterval.upper).toBeCloseTo(0.32943, 4);
      expect(result.risk.chooseControl).toBeCloseTo(0.0814, 4);
      expect(result.risk.chooseVariant).toBeCloseTo(0.04058, 4);
    });

    it('given the hand case and a prior N(0, 0.13) on the absolute lift, precisions add', () => {
      // data N(1, 0.13), prior N(0, 0.13): 1/σ² = 1/0.13 + 1/0.13 → σ² = 0.065, σ = 0.254951,
      // μ = 0.065·(1/0.13 + 0) = 0.5; z = 0.5/0.254951 = 1.961161, Φ(z) = 0.975070,
      // φ(z) = 0.058308; ci = 0.5 ∓ 1.959964·0.254951 = (0.000305, 0.999695);
      // risk control = 0.5·0.975070 + 0.254951·0.058308 = 0.502401,
      // risk variant = −0.5·0.024930 + 0.254951·0.058308 = 0.002401
      const result = bayesianLift(control, variant, {
        difference: 'absolute',
        prior: { mean: 0, variance: 0.13 },
      });
      if (result.kind !== 'result') throw new Error('expected a result');
      expect(result.lift).toBeCloseTo(0.5, 10);
      expect(result.standardDeviation).toBeCloseTo(0.254951, 6);
      expect(result.chanceToBeatControl).toBeCloseTo(0.97507, 5);
      expect(result.credibleInterval.lower).toBeCloseTo(0.000305, 6);
      expect(result.credibleInterval.upper).toBeCloseTo(0.999695, 6);
      expect(result.risk.chooseControl).toBeCloseTo(0.502401, 6);
      expect(result.risk.chooseVariant).toBeCloseTo(0.002401, 6);
    });

    it('risks differ by the posterior mean: E[max(X,0)] − E[max(−X,0)] = E[X]', () => {
      const result = bayesianLift(control, variant);
      if (result.kind !== 'result') throw new Error('expected a result');
      expect(result.risk.chooseControl - result.risk.chooseVariant).toBeCloseTo(result.lift, 12);
    });
  });

  describe('sequential: always-valid interval', () => {
    it('matches GrowthBook SequentialTwoSidedTTest with τ = 1000', () => {
      // published (control n = 3000): expected 0.50336, ci (−0.55844, 1.56516),
      // stddev 0.33341, p 1
      const result = sequentialTTest(valueMoments(3000, 1396.87, 52377.9767), gbVariant, {
        tuning: 1000,
      });
      if (result.kind !== 'result') throw new Error('expected a result');
      expect(result.lift).toBeCloseTo(0.50336, 4);
      expect(result.standardError).toBeCloseTo(0.33341, 4);
      expect(result.confidenceInterval.lower).toBeCloseTo(-0.55844, 4);
      expect(result.confidenceInterval.upper).toBeCloseTo(1.56516, 4);
      expect(result.pValue).toBe(1);
    });

    it('matches GrowthBook SequentialTwoSidedTTest on proportions with the default τ = 5000', () => {
      // published: 1396/3000 against 2422/3461: expected 0.50386, ci (0.40098, 0.60675),
      // stddev 0.03386, p 0.0
      const result = sequentialTTest(conversionMoments(3000, 1396), conversionMoments(3461, 2422));
      if (result.kind !== 'result') throw new Error('expected a result');
      expect(result.lift).toBeCloseTo(0.50386, 4);
      expect(result.standardError).toBeCloseTo(0.03386, 4);
      expect(result.confidenceInterval.lower).toBeCloseTo(0.40098, 4);
      expect(result.confidenceInterval.upper).toBeCloseTo(0.60675, 4);
      expect(result.pValue).toBeCloseTo(0, 4);
    });

    it('given the hand case, absolute, τ = 5000: the mixture boundary by hand', () => {
      // ln 0.05 = −2.995732; ρ² = (5.991465 + ln 6.991465)/5000 = (5.991465 + 1.944691)/5000
      //    = 0.00158723; N = 200, Nρ² + 1 = 1.317446;
      // half-width = √0.13·√(2·1.317446/(200·0.00158723) · ln(√1.317446/0.05))
      //    = 0.360555·√(8.300280·3.133580) = 1.838817 → ci (−0.838817, 2.838817);
      // p = √1.317446·exp(−0.00158723·200·(1/0.13)/(2·1.317446)) = 0.454342
      const result = sequentialTTest(control, variant, { difference: 'absolute' });
      if (result.kind !== 'result') throw new Error('expected a result');
      expect(result.confidenceInterval.lower).toBeCloseTo(-0.838817, 6);
      expect(result.confidenceInterval.upper).toBeCloseTo(2.838817, 6);
      expect(result.pValue).toBeCloseTo(0.454342, 6);
    });

    it('is wider than the fixed-horizon interval on the same data', () => {
      const fixed = welchTTest(control, variant);
      const sequential = sequentialTTest(control, variant);
      if (fixed.kind !== 'result' || sequential.kind !== 'result') throw new Error('results');
      expect(sequential.confidenceInterval.lower).toBeLessThan(fixed.confidenceInterval.lower);
      expect(sequential.confidenceInterval.upper).toBeGreaterThan(fixed.confidenceInterval.upper);
    });
  });

  describe('no result', () => {
    const cases: [string, VariantMoments, VariantMoments, string][] = [
      [
        'a zero control mean (relative lift)',
        conversionMoments(100, 0),
        conversionMoments(100, 5),
        'zero-baseline',
      ],
      ['no spread in either arm', momentsOf(50, 3, 0), momentsOf(60, 4, 0), 'zero-variance'],
      ['a single unit in an arm', valueMoments(1, 5, 25), momentsOf(100, 5, 1), 'too-few-units'],
      ['an empty arm', valueMoments(0, 0, 0), momentsOf(100, 5, 1), 'too-few-units'],
    ];

    it.each(cases)('given %s, every test says no result', (_, a, b, reason) => {
      expect(welchTTest(a, b)).toEqual({
        kind: 'no-result',
        reason,
        difference: 'relative',
        lift: null,
        standardError: null,
        degreesOfFreedom: null,
        tStatistic: null,
        pValue: 1,
        confidenceInterval: null,
      });
      expect(bayesianLift(a, b)).toEqual({
        kind: 'no-result',
        reason,
        difference: 'relative',
        lift: null,
        standardDeviation: null,
        chanceToBeatControl: 0.5,
        credibleInterval: null,
        risk: null,
      });
      expect(sequentialTTest(a, b)).toEqual({
        kind: 'no-result',
        reason,
        difference: 'relative',
        lift: null,
        standardError: null,
        pValue: 1,
        confidenceInterval: null,
      });
    });

    it('given a zero control mean, the absolute lift still has a result', () => {
      // 0/100 against 5/100: lift 0.05, variance 0 + 0.05·0.95/100 = 0.000475
      const result = welchTTest(conversionMoments(100, 0), conversionMoments(100, 5), {
        difference: 'absolute',
      });
      expect(result).toMatchObject({ kind: 'result', lift: 0.05 });
      expect(result.standardError).toBeCloseTo(Math.sqrt(0.000475), 12);
    });
  });

  describe('sample ratio mismatch', () => {
    it('given 1000 / 1100 on a 50/50 split, χ² = 4.7619 and the split is plausible', () => {
      // E = 1050 each; χ² = 2·50²/1050 = 4.761905; P(χ²₁ > 4.761905) = 0.029096
      const srm = sampleRatioMismatch([1000, 1100], [1, 1]);
      expect(srm.statistic).toBeCloseTo(4.761905, 6);
      expect(srm.degreesOfFreedom).toBe(1);
      expect(srm.pValue).toBeCloseTo(0.029096, 6);
      expect(srm).toMatchObject({ flagged: false, verdict: 'consistent' });
    });

    it('given 1000 / 1200 on a 50/50 split, p = 2.0e-5 < 0.001: flagged', () => {
      // E = 1100 each; χ² = 2·100²/1100 = 18.181818; P(χ²₁ > 18.181818) = 2.0079e-5
      const srm = sampleRatioMismatch([1000, 1200], [50, 50]);
      expect(srm.statistic).toBeCloseTo(18.181818, 6);
      expect(srm.pValue).toBeCloseTo(2.007866e-5, 9);
      expect(srm).toMatchObject({ flagged: true, verdict: 'mismatch' });
    });

    it('given a variant below 8 units, not flagged however small p is, and says why', () => {
      // E = 10.5 each; χ² = 2·9.5²/10.5 = 17.190476; p = 3.38e-5 < 0.001, but 1 unit < 8
      const srm = sampleRatioMismatch([1, 20], [1, 1]);
      expect(srm.pValue).toBeLessThan(0.001);
      expect(srm).toMatchObject({ flagged: false, verdict: 'too-few-units' });
    });

    it('given three variants and unequal weights, expectations follow the weights', () => {
      // weights 0.25/0.75, 500/1500 of 2000: exactly as expected, χ² = 0, p = 1
      expect(sampleRatioMismatch([500, 1500], [0.25, 0.75])).toMatchObject({
        statistic: 0,
        pValue: 1,
      });
      // 100/110/130 on thirds: E = 113.333; χ² = (13.333² + 3.333² + 16.667²)/113.333
      //   = 4.117647, 2 df, p = exp(−4.117647/2) = 0.127604
      const srm = sampleRatioMismatch([100, 110, 130], [1, 1, 1]);
      expect(srm.statistic).toBeCloseTo(4.117647, 6);
      expect(srm.degreesOfFreedom).toBe(2);
      expect(srm.pValue).toBeCloseTo(0.127604, 6);
    });

    it('given no units at all, p = 1 and too few units', () => {
      expect(sampleRatioMismatch([0, 0], [1, 1])).toEqual({
        statistic: 0,
        degreesOfFreedom: 1,
        pValue: 1,
        flagged: false,
        verdict: 'too-few-units',
      });
    });

    it('refuses a weight list that does not match the variants', () => {
      expect(() => sampleRatioMismatch([10, 10], [1])).toThrow(ValidationError);
      expect(() => sampleRatioMismatch([10, 10], [0, 0])).toThrow(ValidationError);
    });
  });

  describe('multiple comparisons', () => {
    const pValues = [0.01, 0.04, 0.03, 0.005];

    it('Holm (default): step-down, in input order', () => {
      // sorted 0.005, 0.01, 0.03, 0.04 → 4·0.005 = 0.02, 3·0.01 = 0.03, 2·0.03 = 0.06,
      // max(0.06, 1·0.04) = 0.06
      const adjusted = adjustPValues(pValues);
      [0.03, 0.06, 0.06, 0.02].forEach((p, i) => expect(adjusted[i]).toBeCloseTo(p, 12));
    });

    it('Benjamini–Hochberg: step-up, in input order', () => {
      // from the top: 4/4·0.04 = 0.04, min(0.04, 4/3·0.03 = 0.04) = 0.04,
      // 4/2·0.01 = 0.02, min(0.02, 4/1·0.005 = 0.02) = 0.02
      const adjusted = adjustPValues(pValues, 'benjamini-hochberg');
      [0.02, 0.04, 0.04, 0.02].forEach((p, i) => expect(adjusted[i]).toBeCloseTo(p, 12));
    });

    it('caps at 1 and stays monotone', () => {
      // Holm: 2·0.5 = 1, max(1, 0.6) = 1; BH: 0.6, min(0.6, 2·0.5 = 1) = 0.6
      expect(adjustPValues([0.5, 0.6])).toEqual([1, 1]);
      expect(adjustPValues([0.5, 0.6], 'benjamini-hochberg')).toEqual([0.6, 0.6]);
    });

    it('given no p-values, returns none; refuses values outside [0, 1]', () => {
      expect(adjustPValues([])).toEqual([]);
      expect(() => adjustPValues([0.2, 1.2])).toThrow(ValidationError);
    });
  });

  describe('power and sample size', () => {
    it('given 10 % conversion and +10 % to detect at α = 0.05, 80 % power: 14,749 per arm', () => {
      // p' = 0.11, Δ = 0.01, S = 0.1·0.9 + 0.11·0.89 = 0.1879,
      // (z₀.₉₇₅ + z₀.₈)² = (1.959964 + 0.841621)² = 7.848880,
      // n = 7.848880·0.1879/0.01² = 14,748.05 → 14,749
      expect(conversionSampleSize({ baselineRate: 0.1, relativeLift: 0.1 })).toBe(14749);
    });

    it('given that sample, the power achieved is 80 %', () => {
      // λ = 0.01·√(14749/0.1879) = 2.801676; Φ(2.801676 − 1.959964) + Φ(−4.761640) = 0.800026
      expect(conversionPower({ baselineRate: 0.1, relativeLift: 0.1 }, 14749)).toBeCloseTo(
        0.800026,
        6,
      );
      // 5000 per arm: λ = 0.01·√(5000/0.1879) = 1.631254 → 0.371352
      expect(conversionPower({ baselineRate: 0.1, relativeLift: 0.1 }, 5000)).toBeCloseTo(
        0.371352,
        6,
      );
    });

    it('given a mean of 10 with variance 4 and +5 % to detect: 252 per arm', () => {
      // Δ = 0.5, S = 2·4 = 8, n = 7.848880·8/0.25 = 251.16 → 252;
      // power(252) = Φ(0.5·√(252/8) − 1.959964) + … = 0.801302; power(100) = 0.423891
      const effect = { baselineMean: 10, variance: 4, relativeLift: 0.05 };
      expect(meanSampleSize(effect)).toBe(252);
      expect(meanPower(effect, 252)).toBeCloseTo(0.801302, 6);
      expect(meanPower(effect, 100)).toBeCloseTo(0.423891, 6);
    });

    it('given no units, the power is α (a two-sided test rejects α of the time)', () => {
      expect(conversionPower({ baselineRate: 0.2, relativeLift: 0.1 }, 0)).toBeCloseTo(0.05, 12);
    });

    it('takes α and power as options', () => {
      // (z₀.₉₉₅ + z₀.₉)² = (2.575829 + 1.281552)² = 14.879466; n = 14.879466·8/0.25 = 476.14
      expect(
        meanSampleSize(
          { baselineMean: 10, variance: 4, relativeLift: 0.05 },
          { alpha: 0.01, power: 0.9 },
        ),
      ).toBe(477);
    });

    it('refuses a lift of 0 or a lifted rate beyond 1', () => {
      expect(() => conversionSampleSize({ baselineRate: 0.1, relativeLift: 0 })).toThrow(
        ValidationError,
      );
      expect(() => conversionSampleSize({ baselineRate: 0.6, relativeLift: 1 })).toThrow(
        ValidationError,
      );
    });
  });
});
