import { assignmentHash, assignVariant } from '../../src/domain/experiment';
import { chiSquareSurvival } from '../../src/domain/experiment/statistics';
import { DomainError, ValidationError } from '../../src/domain/shared/errors';

const experimentKey = 'checkout-button';
const population = Array.from({ length: 100_000 }, (_, index) => `user-${index}`);

/** Units per variant among `ids`, for these weights. */
function split(key: string, ids: readonly string[], weights: readonly number[]): number[] {
  const counts = weights.map(() => 0);
  for (const id of ids) counts[assignVariant(key, id, weights)] += 1;
  return counts;
}

/** Pearson's goodness of fit of `counts` against `weights` (percent): the p-value. */
function goodnessOfFit(counts: readonly number[], weights: readonly number[]): number {
  const total = counts.reduce((sum, count) => sum + count, 0);
  const statistic = counts.reduce((chi2, observed, index) => {
    const expected = (total * weights[index]) / 100;
    return chi2 + (observed - expected) ** 2 / expected;
  }, 0);
  return chiSquareSurvival(statistic, counts.length - 1);
}

function errorOf(action: () => unknown): DomainError {
  try {
    action();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError, but nothing was thrown');
}

describe('assignmentHash', () => {
  // Pinned: a change of the hash would move every running experiment's contacts.
  it.each([
    ['user-0', 0.6673],
    ['user-1', 0.5603],
    ['user-2', 0.7878],
    ['user-42', 0.9068],
    ['user-99999', 0.7944],
    ['alice@example.com', 0.348],
    ['anon-7f3c', 0.5492],
  ])('given %p in checkout-button, then %p', (contactId, expected) => {
    expect(assignmentHash(experimentKey, contactId)).toBe(expected);
  });

  // GrowthBook's published test cases for hash(seed, value, 2) (its SDKs' cases.json): the key
  // is the seed, the contact id the value, so assignments agree with GrowthBook's SDKs.
  it.each([
    ['seed', 'a', 0.0505],
    ['seed', 'b', 0.2696],
    ['foo', 'ab', 0.2575],
    ['foo', 'def', 0.2019],
    ['89123klj', '8952klfjas09ujkasdf', 0.124],
    ['90850943850283058242805', '123', 0.7516],
    ['()**(%$##$%#$#', '___)((*":&', 0.0128],
  ])('agrees with GrowthBook: hash(%p, %p, 2) = %p', (seed, value, expected) => {
    expect(assignmentHash(seed, value)).toBe(expected);
  });

  it('is a whole number of ten-thousandths in [0, 1), and the same on every call', () => {
    for (const id of population.slice(0, 2000)) {
      const hash = assignmentHash(experimentKey, id);
      expect(hash).toBeGreaterThanOrEqual(0);
      expect(hash).toBeLessThan(1);
      expect(hash).toBe(Math.round(hash * 10000) / 10000);
      expect(assignmentHash(experimentKey, id)).toBe(hash);
    }
  });

  it('hashes the UTF-16 code units, so non-ASCII ids are stable too', () => {
    expect(assignmentHash(experimentKey, 'zoë')).toBe(assignmentHash(experimentKey, 'zoë'));
    expect(assignmentHash(experimentKey, 'zoë')).not.toBe(assignmentHash(experimentKey, 'zoe'));
  });
});

describe('assignVariant', () => {
  it.each<[string, readonly number[], number]>([
    ['user-0', [50, 50], 1],
    ['alice@example.com', [50, 50], 0],
    ['user-0', [10, 90], 1],
    ['alice@example.com', [10, 90], 1],
    ['user-0', [20, 30, 50], 2],
    ['alice@example.com', [20, 30, 50], 1],
  ])('given %p and weights %p, then variant %p', (contactId, weights, expected) => {
    expect(assignVariant(experimentKey, contactId, weights)).toBe(expected);
  });

  // user-0's hash is 0.6673: a variant's range includes its start and excludes its end.
  it.each<[readonly number[], number]>([
    [[66.73, 33.27], 1],
    [[66.74, 33.26], 0],
    [[33.33, 33.4, 33.27], 2],
    [[33.33, 33.41, 33.26], 1],
    [[0.01, 66.72, 33.27], 2],
    [[0.01, 66.73, 33.26], 1],
  ])('at the boundary: weights %p put user-0 in variant %p', (weights, expected) => {
    expect(assignmentHash(experimentKey, 'user-0')).toBe(0.6673);
    expect(assignVariant(experimentKey, 'user-0', weights)).toBe(expected);
  });

  it('counts weights in hundredths, so float sums such as 10.1 + 20.2 + 69.7 are exact', () => {
    expect(() => assignVariant(experimentKey, 'user-0', [10.1, 20.2, 69.7])).not.toThrow();
    expect(assignVariant(experimentKey, 'user-0', [10.1, 20.2, 69.7])).toBe(2);
  });

  it.each<[string, readonly number[]]>([
    ['not summing to 100', [50, 40]],
    ['a zero weight', [0, 100]],
    ['a negative weight', [-10, 110]],
    ['no weights', []],
    ['NaN', [Number.NaN, 100]],
  ])('refuses weights with %s (WEIGHTS_NOT_100)', (_, weights) => {
    const error = errorOf(() => assignVariant(experimentKey, 'user-0', weights));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field: 'weights', reason: 'WEIGHTS_NOT_100' });
  });

  describe('on 100,000 contacts', () => {
    it.each<[readonly number[]]>([
      [[50, 50]],
      [[10, 90]],
      [[20, 30, 50]],
      [[33.33, 33.33, 33.34]],
      [[5, 15, 30, 50]],
      [[1, 99]],
    ])(
      'given weights %p, then the split passes a chi-square goodness of fit (p > 0.001)',
      (weights) => {
        const counts = split(experimentKey, population, weights);
        expect(counts.reduce((sum, count) => sum + count, 0)).toBe(population.length);
        expect(goodnessOfFit(counts, weights)).toBeGreaterThan(0.001);
      },
    );

    it('given another experiment key, then the split is independent of the first', () => {
      const cells = [
        [0, 0],
        [0, 0],
      ];
      for (const id of population) {
        const first = assignVariant(experimentKey, id, [50, 50]);
        const second = assignVariant(`${experimentKey}-v2`, id, [50, 50]);
        cells[first][second] += 1;
      }
      // Independent halves: each cell holds a quarter (± 1 %, about 7 standard deviations).
      for (const count of cells.flat()) {
        expect(count / population.length).toBeGreaterThan(0.24);
        expect(count / population.length).toBeLessThan(0.26);
      }
      // And the 2 × 2 table passes Pearson's test of independence.
      const rows = cells.map(([left, right]) => left + right);
      const columns = [cells[0][0] + cells[1][0], cells[0][1] + cells[1][1]];
      const statistic = cells.reduce(
        (chi2, row, i) =>
          chi2 +
          row.reduce((sum, observed, j) => {
            const expected = (rows[i] * columns[j]) / population.length;
            return sum + (observed - expected) ** 2 / expected;
          }, 0),
        0,
      );
      expect(chiSquareSurvival(statistic, 1)).toBeGreaterThan(0.001);
    });

    it('given the same key and ids again, then every contact gets the same variant', () => {
      const ids = population.slice(0, 10_000);
      const first = ids.map((id) => assignVariant(experimentKey, id, [20, 30, 50]));
      const again = ids.map((id) => assignVariant(experimentKey, id, [20, 30, 50]));
      expect(again).toEqual(first);
    });
  });
});
