import fc from 'fast-check';

import {
  adjustPValues,
  bayesianLift,
  chiSquareSurvival,
  conversionMoments,
  conversionPower,
  conversionSampleSize,
  estimateLift,
  meanPower,
  meanSampleSize,
  normalCdf,
  sampleRatioMismatch,
  sequentialTTest,
  studentTCdf,
  summarize,
  valueMoments,
  welchTTest,
  type Difference,
  type VariantMoments,
} from '../../src/domain/experiment/statistics';
import { ValidationError } from '../../src/domain/shared/errors';

/** Every number anywhere in the value is finite (null, strings and booleans pass). */
const allFinite = (value: unknown): boolean => {
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(allFinite);
  if (value !== null && typeof value === 'object') return Object.values(value).every(allFinite);
  return true;
};

/** Any non-negative double, from 0 and subnormals up to Number.MAX_VALUE. */
const nonNegative = fc.double({ min: 0, noNaN: true, noDefaultInfinity: true });

const valueArm: fc.Arbitrary<VariantMoments> = fc
  .tuple(fc.oneof(fc.nat(10), fc.nat()), nonNegative, nonNegative)
  .map(([n, sum, sumSquares]) => valueMoments(n, sum, sumSquares));

const conversionArm: fc.Arbitrary<VariantMoments> = fc
  .tuple(fc.nat(), fc.double({ min: 0, max: 1, noNaN: true }))
  .map(([units, share]) => conversionMoments(units, Math.floor(units * share)));

/** Two arms of the same metric type, as an experiment compares them. */
const arms = fc.oneof(fc.tuple(valueArm, valueArm), fc.tuple(conversionArm, conversionArm));
const difference = fc.constantFrom<Difference>('relative', 'absolute');
const probability = fc.double({ min: 1e-6, max: 1 - 1e-6, noNaN: true });

const inUnitInterval = (p: number): boolean => p >= 0 && p <= 1;

describe('experiment statistics: properties', () => {
  it('given any non-negative moments, no test returns NaN or Infinity', () => {
    fc.assert(
      fc.property(arms, difference, ([a, b], diff) => {
        const frequentist = welchTTest(a, b, { difference: diff });
        const bayesian = bayesianLift(a, b, { difference: diff });
        const sequential = sequentialTTest(a, b, { difference: diff });
        expect(allFinite(summarize(a))).toBe(true);
        expect(allFinite(estimateLift(a, b, diff))).toBe(true);
        expect(allFinite(frequentist)).toBe(true);
        expect(allFinite(bayesian)).toBe(true);
        expect(allFinite(sequential)).toBe(true);
        expect(inUnitInterval(frequentist.pValue)).toBe(true);
        expect(inUnitInterval(sequential.pValue)).toBe(true);
        expect(inUnitInterval(bayesian.chanceToBeatControl)).toBe(true);
        if (bayesian.kind === 'result') {
          expect(bayesian.risk.chooseControl).toBeGreaterThanOrEqual(0);
          expect(bayesian.risk.chooseVariant).toBeGreaterThanOrEqual(0);
        }
        // The three agree on whether there is a result, and why not.
        expect(bayesian.kind).toBe(frequentist.kind);
        expect(sequential.kind).toBe(frequentist.kind);
      }),
      { numRuns: 2000 },
    );
  });

  it('given a proper prior and a variance whose precision overflows, the Bayesian result is no result', () => {
    // Found by the property below (seed -268384484): Σx² = 1.5e-323 is a denormal.
    const control = { metric: 'value' as const, n: 2, sum: 5.960464477539062e-8, sumSquares: 0 };
    const variant = { metric: 'value' as const, n: 3, sum: 0, sumSquares: 1.5e-323 };
    const result = bayesianLift(control, variant, { prior: { mean: 0, variance: 1e-12 } });
    expect(allFinite(result)).toBe(true);
    expect(result).toMatchObject({ kind: 'no-result', chanceToBeatControl: 0.5 });
  });

  it('given a proper prior, the Bayesian result stays finite', () => {
    fc.assert(
      fc.property(
        arms,
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: 1e-12, max: 1e12, noNaN: true }),
        ([a, b], mean, variance) => {
          expect(allFinite(bayesianLift(a, b, { prior: { mean, variance } }))).toBe(true);
        },
      ),
    );
  });

  it('given any units and positive weights, the SRM check is finite and p lies in [0, 1]', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.double({ min: 1e-6, max: 1e6, noNaN: true })), {
          minLength: 2,
          maxLength: 8,
        }),
        (variants) => {
          const srm = sampleRatioMismatch(
            variants.map(([units]) => units),
            variants.map(([, weight]) => weight),
          );
          expect(allFinite(srm)).toBe(true);
          expect(inUnitInterval(srm.pValue)).toBe(true);
        },
      ),
    );
  });

  it('given any p-values, both corrections are finite, ≥ the raw p, ≤ 1 and order-preserving', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }),
        fc.constantFrom('holm' as const, 'benjamini-hochberg' as const),
        (pValues, correction) => {
          const adjusted = adjustPValues(pValues, correction);
          expect(adjusted).toHaveLength(pValues.length);
          adjusted.forEach((q, i) => {
            expect(Number.isFinite(q)).toBe(true);
            expect(q).toBeGreaterThanOrEqual(pValues[i]);
            expect(q).toBeLessThanOrEqual(1);
            pValues.forEach((p, j) => {
              if (pValues[i] <= p) expect(q).toBeLessThanOrEqual(adjusted[j]);
            });
          });
        },
      ),
    );
  });

  it('given valid plans, sample sizes are whole, power lies in [α, 1], or the plan is refused', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 1 - 1e-6, noNaN: true }),
        fc.double({ min: -0.999, max: 100, noNaN: true }),
        fc.double({ min: 1e-9, max: 1e9, noNaN: true }),
        fc.oneof(fc.nat(), nonNegative),
        probability,
        probability,
        (rate, lift, variance, units, alpha, power) => {
          const attempts = [
            () =>
              conversionSampleSize({ baselineRate: rate, relativeLift: lift }, { alpha, power }),
            () =>
              meanSampleSize(
                { baselineMean: rate, variance, relativeLift: lift },
                { alpha, power },
              ),
            () => conversionPower({ baselineRate: rate, relativeLift: lift }, units, { alpha }),
            () => meanPower({ baselineMean: rate, variance, relativeLift: lift }, units, { alpha }),
          ];
          attempts.forEach((attempt, i) => {
            let value: number;
            try {
              value = attempt();
            } catch (error) {
              expect(error).toBeInstanceOf(ValidationError);
              return;
            }
            expect(Number.isFinite(value)).toBe(true);
            if (i < 2) expect(Number.isSafeInteger(value) && value >= 2).toBe(true);
            else {
              expect(value).toBeGreaterThanOrEqual(alpha - 1e-12);
              expect(value).toBeLessThanOrEqual(1);
            }
          });
        },
      ),
    );
  });

  it('given any finite arguments, the distribution functions are finite probabilities', () => {
    const real = fc.double({ noNaN: true, noDefaultInfinity: true });
    const degrees = fc.double({ min: 1e-3, max: 1e12, noNaN: true });
    fc.assert(
      fc.property(real, degrees, nonNegative, (x, df, y) => {
        for (const p of [normalCdf(x), studentTCdf(x, df), chiSquareSurvival(y, df)]) {
          expect(inUnitInterval(p)).toBe(true);
        }
      }),
    );
  });
});
