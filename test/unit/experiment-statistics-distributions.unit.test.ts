import {
  chiSquareSurvival,
  normalCdf,
  normalQuantile,
  regularizedBeta,
  regularizedUpperGamma,
  studentTCdf,
  studentTQuantile,
} from '../../src/domain/experiment/statistics';
import { ValidationError } from '../../src/domain/shared/errors';

// Reference values are the published table values the brief names, and otherwise R's
// pnorm/qnorm/pt/qt/pchisq/pbeta (scipy.stats gives the same digits).
describe('experiment statistics: distributions', () => {
  describe('standard normal', () => {
    it.each([
      [0, 0.5],
      [1.959964, 0.9750000009035577],
      [-3, 0.0013498980316300933],
      [-8, 6.22096057427174e-16],
    ])('given z = %p, Φ(z) is %p', (z, expected) => {
      expect(normalCdf(z)).toBeCloseTo(expected, 12);
    });

    it('keeps relative precision deep in the lower tail', () => {
      // pnorm(-8) = 6.220960574271784e-16: a 1 − Φ(8) formula would return 0 or noise.
      expect(normalCdf(-8) / 6.22096057427174e-16).toBeCloseTo(1, 10);
    });

    it.each([
      [0.975, 1.959963984540054],
      [0.5, 0],
      [0.001, -3.090232306167813],
      [1e-10, -6.361340902404056],
    ])('given p = %p, Φ⁻¹(p) is %p', (p, expected) => {
      expect(normalQuantile(p)).toBeCloseTo(expected, 10);
    });

    it('is the inverse of Φ over the whole range', () => {
      for (const p of [1e-12, 1e-6, 0.02, 0.3, 0.5, 0.77, 0.98, 1 - 1e-9]) {
        expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 12);
      }
    });
  });

  describe("Student's t", () => {
    it('gives the table value t cdf(2, 5) = 0.9490303', () => {
      expect(studentTCdf(2, 5)).toBeCloseTo(0.9490302605850708, 10);
    });

    it('gives the table value t(0.975, 10) = 2.228139', () => {
      expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.228138851986274, 10);
    });

    it.each([
      // [p, df, quantile]
      [0.975, 1, 12.706204736174694],
      [0.995, 30, 2.7499956535672254],
      [0.95, 2.5, 2.5582186141359355], // non-integer degrees of freedom
      [0.025, 10, -2.228138851986274],
      [0.975, 1e6, 1.959966356814107],
      [0.975, 1e10, 1.959963984777281], // beyond 1e7 df: normal + Edgeworth term
    ])('given p = %p and %p df, the quantile is %p', (p, df, expected) => {
      expect(studentTQuantile(p, df)).toBeCloseTo(expected, 9);
    });

    it('takes non-integer degrees of freedom in the distribution function', () => {
      expect(studentTCdf(1.5, 3.7)).toBeCloseTo(0.8932009153989933, 10);
      expect(studentTCdf(-1.5, 3.7)).toBeCloseTo(1 - 0.8932009153989933, 10);
    });

    it('is the inverse of its distribution function', () => {
      for (const df of [1, 2.5, 17.3, 5841.7, 3e7]) {
        for (const p of [0.001, 0.2, 0.6, 0.975]) {
          expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 10);
        }
      }
    });
  });

  describe('chi-square', () => {
    it.each([
      [3.841459, 1, 0.04999999465319563], // the 5 % critical value of 1 df
      [10, 4, 0.04042768199451279],
      [0.5, 3, 0.9188914116546758],
      [0, 2, 1],
    ])('given x = %p and %p df, P(X > x) is %p', (x, df, expected) => {
      expect(chiSquareSurvival(x, df)).toBeCloseTo(expected, 10);
    });
  });

  describe('the special functions under them', () => {
    it('I_{5/9}(2.5, 0.5) = 0.1019395, twice the upper tail of t = 2 with 5 df', () => {
      // P(T > 2) = ½·I_{5/(5+4)}(5/2, ½) = ½·0.10193948 = 0.0509697 = 1 − 0.9490303
      expect(regularizedBeta(5 / 9, 2.5, 0.5)).toBeCloseTo(0.10193947882985835, 12);
    });

    it('Q(½, 2) = erfc(√2) = 0.0455003 and Q(3, 2.5) = 0.5438131', () => {
      expect(regularizedUpperGamma(0.5, 2)).toBeCloseTo(0.04550026389635857, 12);
      expect(regularizedUpperGamma(3, 2.5)).toBeCloseTo(0.5438131158833297, 12);
    });
  });

  it('refuses arguments outside the domain with a ValidationError', () => {
    expect(() => normalQuantile(1)).toThrow(ValidationError);
    expect(() => studentTQuantile(0.5, 0)).toThrow(ValidationError);
    expect(() => studentTCdf(1, -2)).toThrow(ValidationError);
    expect(() => chiSquareSurvival(1, 0)).toThrow(ValidationError);
  });
});
