import fc from 'fast-check';
import {
  MarkovChainTooLargeError,
  markovAttribution,
  solveLinearSystem,
} from '../../src/projections/attribution/markov';
import type { PathCount } from '../../src/projections/attribution/paths';

function byChannel(result: ReturnType<typeof markovAttribution>): Record<string, number> {
  return Object.fromEntries(result.channels.map((c) => [c.channel, c.conversions]));
}

describe('Markov removal effect', () => {
  it('the analyzecore worked example: C1 0.2, C2 0.4, C3 0.4', () => {
    // Given C1 → C2 → C3 (converts), C1 (does not), C2 → C3 (does not).
    const paths: PathCount[] = [
      { path: ['C1', 'C2', 'C3'], conversions: 1, nulls: 0, revenue: 50 },
      { path: ['C1'], conversions: 0, nulls: 1, revenue: 0 },
      { path: ['C2', 'C3'], conversions: 0, nulls: 1, revenue: 0 },
    ];
    const result = markovAttribution(paths);
    expect(result.conversionProbability).toBeCloseTo(1 / 3, 12);
    const effects = Object.fromEntries(result.channels.map((c) => [c.channel, c.removalEffect]));
    expect(effects.C1).toBeCloseTo(0.5, 12);
    expect(effects.C2).toBeCloseTo(1, 12);
    expect(effects.C3).toBeCloseTo(1, 12);
    const credits = byChannel(result);
    expect(credits.C1).toBeCloseTo(0.2, 12);
    expect(credits.C2).toBeCloseTo(0.4, 12);
    expect(credits.C3).toBeCloseTo(0.4, 12);
    expect(result.channels.map((c) => c.revenue)).toEqual([
      expect.closeTo(10, 9),
      expect.closeTo(20, 9),
      expect.closeTo(20, 9),
    ]);
  });

  it('collapses consecutive repeats of a channel', () => {
    const collapsed = markovAttribution([
      { path: ['A', 'B'], conversions: 2, nulls: 1 },
      { path: ['B'], conversions: 0, nulls: 3 },
    ]);
    const repeated = markovAttribution([
      { path: ['A', 'A', 'B', 'B', 'B'], conversions: 2, nulls: 1 },
      { path: ['B', 'B'], conversions: 0, nulls: 3 },
    ]);
    expect(repeated).toEqual(collapsed);
  });

  it('solves a chain with a cycle exactly (A → B converts, B → A does not)', () => {
    // x_A = ½ x_B, x_B = ½ + ½ x_A → x_A = ⅓, x_B = ⅔, P = ½; without A, P = ¼; without B, 0.
    const result = markovAttribution([
      { path: ['A', 'B'], conversions: 1, nulls: 0 },
      { path: ['B', 'A'], conversions: 0, nulls: 1 },
    ]);
    expect(result.conversionProbability).toBeCloseTo(0.5, 12);
    expect(byChannel(result)).toEqual({
      A: expect.closeTo(1 / 3, 12),
      B: expect.closeTo(2 / 3, 12),
    });
  });

  it('with order 2, states are pairs and the same paths split evenly', () => {
    // (A) → (A,B) → conversion and (B) → (B,A) → null: removing either channel breaks the path.
    const result = markovAttribution(
      [
        { path: ['A', 'B'], conversions: 1, nulls: 0 },
        { path: ['B', 'A'], conversions: 0, nulls: 1 },
      ],
      { order: 2 },
    );
    expect(result.conversionProbability).toBeCloseTo(0.5, 12);
    expect(byChannel(result)).toEqual({ A: expect.closeTo(0.5, 12), B: expect.closeTo(0.5, 12) });
    expect(result.channels.every((c) => c.revenue === null)).toBe(true);
  });

  it('order 3 on the worked example still credits every converting channel', () => {
    const result = markovAttribution(
      [
        { path: ['C1', 'C2', 'C3'], conversions: 1, nulls: 0 },
        { path: ['C1'], conversions: 0, nulls: 1 },
        { path: ['C2', 'C3'], conversions: 0, nulls: 1 },
      ],
      { order: 3 },
    );
    const credits = byChannel(result);
    expect(credits.C1 + credits.C2 + credits.C3).toBeCloseTo(1, 12);
  });

  it('a single channel gets every conversion', () => {
    const result = markovAttribution([{ path: ['email'], conversions: 3, nulls: 7, revenue: 90 }]);
    expect(result.conversionProbability).toBeCloseTo(0.3, 12);
    expect(result.channels).toEqual([
      { channel: 'email', removalEffect: 1, conversions: 3, revenue: 90 },
    ]);
  });

  it('without conversions every credit is 0, never NaN', () => {
    const result = markovAttribution([
      { path: ['A', 'B'], conversions: 0, nulls: 4 },
      { path: ['B'], conversions: 0, nulls: 1 },
    ]);
    expect(result.conversionProbability).toBe(0);
    expect(result.channels).toEqual([
      { channel: 'A', removalEffect: 0, conversions: 0, revenue: null },
      { channel: 'B', removalEffect: 0, conversions: 0, revenue: null },
    ]);
    expect(markovAttribution([]).channels).toEqual([]);
  });

  it('reports conversions without a channel as unattributed', () => {
    const result = markovAttribution([
      { path: [], conversions: 2, nulls: 5, revenue: 40 },
      { path: ['A'], conversions: 1, nulls: 0, revenue: 10 },
    ]);
    expect(result.unattributed).toEqual({ conversions: 2, revenue: 40 });
    expect(result.channels).toEqual([
      { channel: 'A', removalEffect: 1, conversions: 1, revenue: 10 },
    ]);
  });

  it('refuses negative counts', () => {
    expect(() => markovAttribution([{ path: ['A'], conversions: -1, nulls: 0 }])).toThrow(
      RangeError,
    );
  });

  it('credits add up to the total conversions, each removal effect in [0, 1]', () => {
    const pathCount = fc.record({
      path: fc.array(fc.constantFrom('A', 'B', 'C', 'D'), { minLength: 1, maxLength: 6 }),
      conversions: fc.integer({ min: 0, max: 5 }),
      nulls: fc.integer({ min: 0, max: 5 }),
    });
    fc.assert(
      fc.property(
        fc.array(pathCount, { minLength: 1, maxLength: 8 }),
        fc.constantFrom<1 | 2 | 3>(1, 2, 3),
        (paths, order) => {
          const result = markovAttribution(paths, { order });
          const total = paths.reduce((sum, p) => sum + p.conversions, 0);
          const credited = result.channels.reduce((sum, c) => sum + c.conversions, 0);
          expect(credited).toBeCloseTo(total, 9);
          for (const c of result.channels) {
            expect(c.removalEffect).toBeGreaterThanOrEqual(0);
            expect(c.removalEffect).toBeLessThanOrEqual(1 + 1e-12);
          }
        },
      ),
    );
  });
});

describe('Gaussian elimination with partial pivoting', () => {
  it('solves a system that needs a row swap', () => {
    // 0x + 2y = 4, 3x + y = 5 → x = 1, y = 2.
    expect(
      solveLinearSystem(
        [
          [0, 2],
          [3, 1],
        ],
        [4, 5],
      ),
    ).toEqual([expect.closeTo(1, 12), expect.closeTo(2, 12)]);
  });

  it('throws on a singular system', () => {
    expect(() =>
      solveLinearSystem(
        [
          [1, 2],
          [2, 4],
        ],
        [1, 2],
      ),
    ).toThrow('singular');
  });
});

describe('a chain too large to solve exactly', () => {
  it('is refused, naming its size, rather than solved for minutes', () => {
    const channels = Array.from({ length: 30 }, (_, i) => `c${i}`);
    const paths: PathCount[] = [];
    for (const a of channels) {
      for (const b of channels) {
        for (const c of channels.slice(0, 10))
          paths.push({ path: [a, b, c, a], conversions: 1, nulls: 1 });
      }
    }
    expect(() => markovAttribution(paths, { order: 3 })).toThrow(MarkovChainTooLargeError);
  });
});
