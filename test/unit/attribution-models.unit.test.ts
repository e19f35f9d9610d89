import fc from 'fast-check';
import {
  byCampaign,
  byChannel,
  bySourceMedium,
  DAY_MS,
  firstTouch,
  lastNonDirect,
  lastTouch,
  linear,
  positionBased,
  ruleBasedModels,
  timeDecay,
  type AttributionModel,
  type CreditKey,
  type Journey,
  type Touch,
} from '../../src/projections/attribution/models';

const CONVERSION_AT = Date.UTC(2025, 0, 31, 12);

function touch(daysBefore: number, channel: string, overrides: Partial<Touch> = {}): Touch {
  return {
    at: CONVERSION_AT - daysBefore * DAY_MS,
    channel,
    campaign: null,
    source: null,
    medium: null,
    ...overrides,
  };
}

function journey(touches: Touch[], revenue = 100): Journey {
  return { conversionAt: CONVERSION_AT, revenue, touches };
}

function expectShares(actual: readonly number[], expected: readonly number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((share, i) => expect(share).toBeCloseTo(expected[i], 12));
}

describe('the worked example of ANALYTICS.md: $12,000, touches 38, 33, 26, 8, 0 days before', () => {
  const example = journey(
    [38, 33, 26, 8, 0].map((days, i) => touch(days, `channel ${i}`)),
    12_000,
  );
  const revenueOf = (shares: readonly number[]): string[] =>
    shares.map((share) => (share * example.revenue).toFixed(2));

  it('time decay (half-life 7 days) gives 175.20, 287.44, 574.88, 3,417.04, 7,545.45', () => {
    expect(revenueOf(timeDecay(example))).toEqual([
      '175.20',
      '287.44',
      '574.88',
      '3417.04',
      '7545.45',
    ]);
  });

  it('position-based gives 4,800 / 800 / 800 / 800 / 4,800', () => {
    expect(revenueOf(positionBased(example))).toEqual([
      '4800.00',
      '800.00',
      '800.00',
      '800.00',
      '4800.00',
    ]);
  });
});

describe('rule-based models, by hand', () => {
  const three = journey([touch(10, 'email'), touch(5, 'paid_search'), touch(1, 'direct')]);

  it('first touch and last touch credit one end', () => {
    expectShares(firstTouch(three), [1, 0, 0]);
    expectShares(lastTouch(three), [0, 0, 1]);
  });

  it('last non-direct skips trailing direct touches', () => {
    expectShares(lastNonDirect(three), [0, 1, 0]);
    expectShares(
      lastNonDirect(journey([touch(3, 'direct'), touch(2, 'email'), touch(1, 'direct')])),
      [0, 1, 0],
    );
  });

  it('last non-direct credits the last direct touch when all are direct', () => {
    expectShares(lastNonDirect(journey([touch(2, 'direct'), touch(1, 'direct')])), [0, 1]);
  });

  it('linear gives 1/n each, and a channel seen twice gets two shares', () => {
    const twice = journey([touch(3, 'email'), touch(2, 'display'), touch(1, 'email')]);
    expectShares(linear(twice), [1 / 3, 1 / 3, 1 / 3]);
    const { credits } = creditJourneys([twice], linear);
    expect(credits.map((c) => [c.key, c.conversions])).toEqual([
      ['email', 2 / 3],
      ['display', 1 / 3],
    ]);
  });

  it('position-based: 1 → 1; 2 → 0.5/0.5; 4 → 0.4/0.1/0.1/0.4', () => {
    expectShares(positionBased(journey([touch(1, 'email')])), [1]);
    expectShares(positionBased(journey([touch(2, 'email'), touch(1, 'display')])), [0.5, 0.5]);
    expectShares(
      positionBased(
        journey([touch(4, 'email'), touch(3, 'display'), touch(2, 'referral'), touch(1, 'other')]),
      ),
      [0.4, 0.1, 0.1, 0.4],
    );
  });

  it('time decay halves the weight per half-life, and a custom half-life applies', () => {
    // Weights 1/2 and 1 (7 days apart) → 1/3 and 2/3.
    expectShares(timeDecay(journey([touch(7, 'email'), touch(0, 'display')])), [1 / 3, 2 / 3]);
    // Half-life 1 day: 2 days older → weight 1/4 → 1/5 and 4/5.
    expectShares(timeDecay(journey([touch(3, 'email'), touch(1, 'display')]), DAY_MS), [
      1 / 5,
      4 / 5,
    ]);
  });

  it('time decay stays finite for touches far older than the half-life', () => {
    const shares = timeDecay(journey([touch(30, 'email'), touch(29, 'display')]), 1000);
    expect(shares.every(Number.isFinite)).toBe(true);
    expect(shares[0] + shares[1]).toBeCloseTo(1, 12);
  });

  it('time decay refuses a half-life that is not positive', () => {
    expect(() => timeDecay(three, 0)).toThrow(RangeError);
  });

  it.each(Object.entries(ruleBasedModels))('%s gives an empty journey no shares', (_, model) => {
    expect(model(journey([]))).toEqual([]);
  });
});

/**
 * Credits journeys to keys by a model's shares: the fold the read model keeps by difference
 * (attribution.projection.ts), written plainly here to check the models and the keys.
 */
function creditJourneys(
  journeys: readonly Journey[],
  model: AttributionModel,
  keyOf: CreditKey = byChannel,
) {
  const totals = new Map<string, { conversions: number; revenue: number }>();
  const unattributed = { conversions: 0, revenue: 0 };
  for (const j of journeys) {
    const shares = model(j);
    if (shares.length === 0) {
      unattributed.conversions += 1;
      unattributed.revenue += j.revenue;
    }
    j.touches.forEach((t, i) => {
      const total = totals.get(keyOf(t)) ?? { conversions: 0, revenue: 0 };
      totals.set(keyOf(t), {
        conversions: total.conversions + shares[i],
        revenue: total.revenue + shares[i] * j.revenue,
      });
    });
  }
  const credits = [...totals]
    .map(([key, total]) => ({ key, ...total }))
    .sort((a, b) => b.conversions - a.conversions || (a.key < b.key ? -1 : 1));
  return { credits, unattributed };
}

describe('crediting by key', () => {
  const journeys: Journey[] = [
    journey(
      [
        touch(5, 'paid_search', { campaign: 'spring', source: 'google', medium: 'cpc' }),
        touch(1, 'email', { campaign: 'newsletter', source: 'newsletter', medium: 'email' }),
      ],
      200,
    ),
    journey([touch(2, 'organic_search', { source: 'google', medium: 'organic' })], 50),
    journey([], 30),
  ];

  it('given journeys, when credited by channel linearly, then conversions and revenue split', () => {
    const report = creditJourneys(journeys, linear, byChannel);
    expect(report.credits).toEqual([
      { key: 'organic_search', conversions: 1, revenue: 50 },
      { key: 'email', conversions: 0.5, revenue: 100 },
      { key: 'paid_search', conversions: 0.5, revenue: 100 },
    ]);
    expect(report.unattributed).toEqual({ conversions: 1, revenue: 30 });
  });

  it('credits by campaign, with "(not set)" for a touch without one', () => {
    const report = creditJourneys(journeys, lastTouch, byCampaign);
    expect(report.credits).toEqual([
      { key: '(not set)', conversions: 1, revenue: 50 },
      { key: 'newsletter', conversions: 1, revenue: 200 },
      { key: 'spring', conversions: 0, revenue: 0 },
    ]);
  });

  it('credits by source / medium', () => {
    const report = creditJourneys(journeys, firstTouch, bySourceMedium);
    expect(report.credits.map((c) => [c.key, c.conversions])).toEqual([
      ['google / cpc', 1],
      ['google / organic', 1],
      ['newsletter / email', 0],
    ]);
    expect(bySourceMedium(touch(0, 'direct'))).toBe('(direct) / (none)');
  });
});

describe('properties', () => {
  const touchArbitrary = fc.record({
    at: fc.integer({ min: CONVERSION_AT - 90 * DAY_MS, max: CONVERSION_AT }),
    channel: fc.constantFrom('direct', 'email', 'paid_search', 'display'),
    campaign: fc.constant(null),
    source: fc.constant(null),
    medium: fc.constant(null),
  });
  const journeyArbitrary = fc
    .array(touchArbitrary, { minLength: 1, maxLength: 30 })
    .map((touches) => journey([...touches].sort((a, b) => a.at - b.at)));

  it.each(Object.entries(ruleBasedModels))(
    '%s: one non-negative share per touch, adding up to 1',
    (_, model) => {
      fc.assert(
        fc.property(journeyArbitrary, (j) => {
          const shares = model(j);
          expect(shares).toHaveLength(j.touches.length);
          expect(shares.every((share) => share >= 0)).toBe(true);
          expect(shares.reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 9);
        }),
      );
    },
  );
});
