import fc from 'fast-check';
import type { PathCount } from '../../src/projections/attribution/paths';
import {
  maxEnumeratedChannels,
  shapleyAttribution,
  shapleyByChannelSets,
  shapleyByEnumeration,
  type ShapleyResult,
} from '../../src/projections/attribution/shapley';

function conversionsOf(result: ShapleyResult): Record<string, number> {
  return Object.fromEntries(result.channels.map((c) => [c.channel, c.conversions]));
}

const methods = { shapleyByEnumeration, shapleyByChannelSets, shapleyAttribution };

describe.each(Object.entries(methods))('%s', (_, shapley) => {
  it('two channels: v(A) = 10, v(B) = 4, v(AB) = 20 → A 13, B 7', () => {
    // φ_A = ½·(10 − 0) + ½·(20 − 4) = 13; φ_B = ½·(4 − 0) + ½·(20 − 10) = 7.
    const result = shapley([
      { path: ['A'], conversions: 10, nulls: 0, revenue: 1000 },
      { path: ['B'], conversions: 4, nulls: 9, revenue: 400 },
      { path: ['A', 'B', 'A'], conversions: 6, nulls: 0, revenue: 600 },
    ]);
    expect(result.channels).toEqual([
      { channel: 'A', conversions: expect.closeTo(13, 12), revenue: expect.closeTo(1300, 9) },
      { channel: 'B', conversions: expect.closeTo(7, 12), revenue: expect.closeTo(700, 9) },
    ]);
  });

  it('three channels, by the weights 1/3, 1/6, 1/3 → A 9, B 3, C 3', () => {
    // v: A 6, C 2, AB 10, AC 8, BC 2, ABC 15, others 0.
    // φ_B = ⅓·0 + ⅙·(10 − 6) + ⅙·(2 − 2) + ⅓·(15 − 8) = 3.
    const result = shapley([
      { path: ['A'], conversions: 6, nulls: 0 },
      { path: ['B', 'A'], conversions: 4, nulls: 0 },
      { path: ['C', 'B', 'A'], conversions: 3, nulls: 0 },
      { path: ['C'], conversions: 2, nulls: 0 },
    ]);
    expect(conversionsOf(result)).toEqual({
      A: expect.closeTo(9, 12),
      B: expect.closeTo(3, 12),
      C: expect.closeTo(3, 12),
    });
  });

  it('reports journeys without a channel as unattributed', () => {
    const result = shapley([
      { path: [], conversions: 2, nulls: 0, revenue: 20 },
      { path: ['A'], conversions: 1, nulls: 0, revenue: 10 },
    ]);
    expect(result.unattributed).toEqual({ conversions: 2, revenue: 20 });
    expect(result.channels).toEqual([{ channel: 'A', conversions: 1, revenue: 10 }]);
  });

  it('gives 0 (not NaN) when nothing converts', () => {
    const result = shapley([{ path: ['A', 'B'], conversions: 0, nulls: 3 }]);
    expect(conversionsOf(result)).toEqual({ A: 0, B: 0 });
  });
});

describe('the channel limit of the enumeration', () => {
  const many: PathCount[] = Array.from({ length: maxEnumeratedChannels + 1 }, (_, i) => ({
    path: [`c${i}`, `c${(i + 1) % (maxEnumeratedChannels + 1)}`],
    conversions: i + 1,
    nulls: 0,
  }));

  it(`refuses more than ${maxEnumeratedChannels} channels`, () => {
    expect(() => shapleyByEnumeration(many)).toThrow(/limited to 15 channels, got 16/);
  });

  it('above it, shapleyAttribution uses the exact channel-set formula', () => {
    const result = shapleyAttribution(many);
    expect(result).toEqual(shapleyByChannelSets(many));
    const total = many.reduce((sum, p) => sum + p.conversions, 0);
    expect(result.channels.reduce((sum, c) => sum + c.conversions, 0)).toBeCloseTo(total, 9);
  });
});

describe('properties', () => {
  const pathCounts = fc.array(
    fc.record({
      path: fc.array(fc.constantFrom('A', 'B', 'C', 'D', 'E', 'F'), { maxLength: 6 }),
      conversions: fc.integer({ min: 0, max: 20 }),
      nulls: fc.integer({ min: 0, max: 20 }),
      revenue: fc.integer({ min: 0, max: 10_000 }),
    }),
    { maxLength: 12 },
  );

  it('efficiency: the values add up to the attributed total', () => {
    fc.assert(
      fc.property(pathCounts, (paths) => {
        const result = shapleyByEnumeration(paths);
        const attributed = paths.filter((p) => p.path.length > 0);
        const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
        expect(sum(result.channels.map((c) => c.conversions))).toBeCloseTo(
          sum(attributed.map((p) => p.conversions)),
          9,
        );
        expect(sum(result.channels.map((c) => c.revenue))).toBeCloseTo(
          sum(attributed.map((p) => p.revenue)),
          6,
        );
      }),
    );
  });

  it('the enumeration and the channel-set formula agree', () => {
    fc.assert(
      fc.property(pathCounts, (paths) => {
        const enumerated = shapleyByEnumeration(paths).channels;
        const closedForm = shapleyByChannelSets(paths).channels;
        expect(enumerated.map((c) => c.channel)).toEqual(closedForm.map((c) => c.channel));
        enumerated.forEach((c, i) => {
          expect(c.conversions).toBeCloseTo(closedForm[i].conversions, 9);
          expect(c.revenue).toBeCloseTo(closedForm[i].revenue, 6);
        });
      }),
    );
  });
});
