import fc from 'fast-check';
import type { PersonResult } from '../../src/projections/funnels/matching';
import {
  funnelTrend,
  periodStart,
  summarizeFunnel,
  type StepReport,
} from '../../src/projections/funnels/report';

const SECOND = 1000;
const DAY = 24 * 60 * 60 * SECOND;
/** Monday 6 January 2025, 00:00 UTC. */
const MONDAY = Date.UTC(2025, 0, 6);
const T0 = MONDAY + 9 * 60 * 60 * SECOND;

/** A person who reached a step at each offset (seconds after T0). */
function person(
  offsetsInSeconds: readonly number[],
  values: Partial<Omit<PersonResult, 'reached' | 'stepTimes'>> = {},
): PersonResult {
  return {
    reached: offsetsInSeconds.length,
    stepTimes: offsetsInSeconds.map((offset) => T0 + offset * SECOND),
    excluded: false,
    breakdown: null,
    cohortDays: offsetsInSeconds.length === 0 ? [] : [[MONDAY, false]],
    ...values,
  };
}

const cohort = (...days: (readonly [number, boolean])[]): PersonResult =>
  person([0], { cohortDays: days });

describe('summarizeFunnel', () => {
  // Given five people in a three-step funnel, one excluded and one who never entered.
  const population = [
    person([0, 60, 180]),
    person([0, 120, 720]),
    person([0, 300]),
    person([0]),
    person([0]),
    person([0, 1, 2], { excluded: true }),
    person([]),
  ];

  it('counts each step, with rates and drop-off from the start and the previous step', () => {
    const report = summarizeFunnel(3, population);

    expect(report).toMatchObject({ entered: 5, converted: 2, excluded: 1, conversionRate: 0.4 });
    expect(report.steps.map(({ timeFromPrevious: _, ...counts }) => counts)).toEqual([
      {
        step: 1,
        count: 5,
        conversionFromStart: 1,
        conversionFromPrevious: 1,
        dropOff: 0,
        dropOffRate: 0,
      },
      {
        step: 2,
        count: 3,
        conversionFromStart: 0.6,
        conversionFromPrevious: 0.6,
        dropOff: 2,
        dropOffRate: 0.4,
      },
      {
        step: 3,
        count: 2,
        conversionFromStart: 0.4,
        conversionFromPrevious: 2 / 3,
        dropOff: 1,
        dropOffRate: 1 / 3,
      },
    ]);
  });

  it('times each step from the previous one, for the people who reached it', () => {
    const [first, second, third] = summarizeFunnel(3, population).steps;

    expect(first.timeFromPrevious).toBeNull();
    // 60, 120, 300: odd count, the middle value.
    expect(second.timeFromPrevious).toMatchObject({
      count: 3,
      meanSeconds: 160,
      medianSeconds: 120,
    });
    // 120, 600: even count, the mean of the two middle values.
    expect(third.timeFromPrevious).toMatchObject({
      count: 2,
      meanSeconds: 360,
      medianSeconds: 360,
    });
  });

  it('times the conversion from step 1 to the last step of the people who converted', () => {
    expect(summarizeFunnel(3, population).timeToConvert).toEqual({
      count: 2,
      meanSeconds: 450, // (180 + 720) / 2
      medianSeconds: 450,
      // Sturges: ceil(log2 2) + 1 = 2 bins; width ceil((720 − 180) / 2) = 270.
      histogram: [
        { fromSeconds: 180, toSeconds: 450, count: 1 },
        { fromSeconds: 450, toSeconds: 720, count: 1 },
      ],
    });
  });

  it('gives an even median as the mean of the two middle values', () => {
    const people = [60, 120, 300, 600].map((seconds) => person([0, seconds]));
    expect(summarizeFunnel(2, people).timeToConvert).toEqual({
      count: 4,
      meanSeconds: 270,
      medianSeconds: 210,
      // 3 bins of ceil(540 / 3) = 180 seconds from 60; the last one holds its upper end.
      histogram: [
        { fromSeconds: 60, toSeconds: 240, count: 2 },
        { fromSeconds: 240, toSeconds: 420, count: 1 },
        { fromSeconds: 420, toSeconds: 600, count: 1 },
      ],
    });
  });

  it('bins in whole seconds from the minimum rounded down, fewer bins for a narrow spread', () => {
    const people = [0.25, 0.5, 1.75, 2, 2, 2.5, 2.5, 2.9].map((seconds) => person([0, seconds]));
    expect(summarizeFunnel(2, people).timeToConvert.histogram).toEqual([
      { fromSeconds: 0, toSeconds: 1, count: 2 },
      { fromSeconds: 1, toSeconds: 2, count: 1 },
      { fromSeconds: 2, toSeconds: 3, count: 5 },
    ]);
    expect(summarizeFunnel(2, [person([0, 0])]).timeToConvert.histogram).toEqual([
      { fromSeconds: 0, toSeconds: 1, count: 1 },
    ]);
  });

  it('has histogram bins of one whole width that hold every time once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 30 * 24 * 60 * 60 * SECOND }), {
          minLength: 1,
          maxLength: 500,
        }),
        (gapsMs) => {
          const people = gapsMs.map(
            (gap): PersonResult => ({ ...person([0]), reached: 2, stepTimes: [T0, T0 + gap] }),
          );
          const { histogram, count } = summarizeFunnel(2, people).timeToConvert;

          expect(histogram.reduce((sum, bin) => sum + bin.count, 0)).toBe(count);
          expect(count).toBe(gapsMs.length);
          expect(histogram.length).toBeGreaterThanOrEqual(1);
          expect(histogram.length).toBeLessThanOrEqual(
            Math.min(50, Math.ceil(Math.log2(count)) + 1),
          );
          const width = histogram[0].toSeconds - histogram[0].fromSeconds;
          expect(Number.isInteger(width) && width >= 1).toBe(true);
          histogram.forEach((bin, i) => {
            expect(bin.toSeconds - bin.fromSeconds).toBe(width);
            if (i > 0) expect(bin.fromSeconds).toBe(histogram[i - 1].toSeconds);
          });
          const seconds = gapsMs.map((gap) => gap / SECOND);
          expect(histogram[0].fromSeconds).toBeLessThanOrEqual(Math.min(...seconds));
          expect(histogram[histogram.length - 1].toSeconds).toBeGreaterThanOrEqual(
            Math.max(...seconds),
          );
        },
      ),
    );
  });

  it('groups by breakdown value, most entered first, then by value with null last', () => {
    const people = [
      person([0, 60], { breakdown: 'google' }),
      person([0], { breakdown: 'google' }),
      person([0], { breakdown: null }),
      person([0, 60], { breakdown: 'email' }),
      person([0, 60], { breakdown: 'email' }),
      person([0], { breakdown: 'ads' }),
      person([0, 60], { breakdown: 'excluded', excluded: true }),
    ];

    const { breakdown } = summarizeFunnel(2, people);

    const countsOf = (steps: readonly StepReport[]) => steps.map((s) => s.count);
    expect(breakdown.map(({ value, steps }) => [value, countsOf(steps)])).toEqual([
      ['email', [2, 2]],
      ['google', [2, 1]],
      ['ads', [1, 0]],
      [null, [1, 0]],
    ]);
    expect(breakdown[1].steps[1]).toMatchObject({ conversionFromStart: 0.5, dropOff: 1 });
  });

  it('has null rates and no times when nobody entered', () => {
    const noTimes = { count: 0, meanSeconds: null, medianSeconds: null, histogram: [] };
    const emptyStep = {
      count: 0,
      conversionFromStart: null,
      conversionFromPrevious: null,
      dropOff: 0,
      dropOffRate: null,
    };

    expect(summarizeFunnel(2, [person([]), person([0], { excluded: true })])).toEqual({
      entered: 0,
      converted: 0,
      excluded: 1,
      conversionRate: null,
      steps: [
        { step: 1, ...emptyStep, timeFromPrevious: null },
        { step: 2, ...emptyStep, timeFromPrevious: noTimes },
      ],
      timeToConvert: noTimes,
      breakdown: [],
    });
  });

  it('rejects a step count out of range and results that do not fit it', () => {
    expect(() => summarizeFunnel(1, [])).toThrow(RangeError);
    expect(() => summarizeFunnel(21, [])).toThrow(RangeError);
    expect(() => summarizeFunnel(2, [person([0, 1, 2])])).toThrow(RangeError);
  });
});

describe('periodStart', () => {
  it.each([
    ['day', Date.UTC(2025, 0, 8, 23, 59, 59, 999), Date.UTC(2025, 0, 8)],
    ['week', Date.UTC(2025, 0, 6), Date.UTC(2025, 0, 6)], // a Monday
    ['week', Date.UTC(2025, 0, 12, 23), Date.UTC(2025, 0, 6)], // the Sunday after
    ['week', Date.UTC(2025, 0, 1, 12), Date.UTC(2024, 11, 30)], // across a year
    ['month', Date.UTC(2024, 1, 29, 18), Date.UTC(2024, 1, 1)],
    ['month', Date.UTC(2025, 0, 1), Date.UTC(2025, 0, 1)],
  ] as const)('%s of %d starts at %d', (interval, time, start) => {
    expect(periodStart(time, interval)).toBe(start);
  });
});

describe('funnelTrend', () => {
  const monday = MONDAY;
  const wednesday = MONDAY + 2 * DAY;
  const nextMonday = MONDAY + 7 * DAY;

  it('counts a person once per week, converted when any of their days converted', () => {
    const people = [
      cohort([monday, false], [wednesday, true]),
      cohort([wednesday, false]),
      cohort([nextMonday, false]),
    ];

    expect(funnelTrend(people, 'week', monday, nextMonday + 6 * DAY)).toEqual([
      { periodStart: monday, entered: 2, converted: 1, conversionRate: 0.5 },
      { periodStart: nextMonday, entered: 1, converted: 0, conversionRate: 0 },
    ]);
  });

  it('lists every period, with rate 0 where nobody entered', () => {
    const trend = funnelTrend(
      [cohort([monday, true], [wednesday, true])],
      'day',
      monday,
      wednesday,
    );

    expect(trend).toEqual([
      { periodStart: monday, entered: 1, converted: 1, conversionRate: 1 },
      { periodStart: monday + DAY, entered: 0, converted: 0, conversionRate: 0 },
      { periodStart: wednesday, entered: 1, converted: 1, conversionRate: 1 },
    ]);
  });

  it('splits months on the 1st', () => {
    const jan31 = Date.UTC(2025, 0, 31);
    const feb1 = Date.UTC(2025, 1, 1);
    const mar31 = Date.UTC(2025, 2, 31);
    const people = [
      cohort([jan31, true]),
      cohort([feb1, false]),
      cohort([jan31, false], [feb1, true]),
    ];

    expect(funnelTrend(people, 'month', Date.UTC(2025, 0, 15), mar31)).toEqual([
      { periodStart: Date.UTC(2025, 0, 1), entered: 2, converted: 1, conversionRate: 0.5 },
      { periodStart: feb1, entered: 2, converted: 1, conversionRate: 0.5 },
      { periodStart: Date.UTC(2025, 2, 1), entered: 0, converted: 0, conversionRate: 0 },
    ]);
  });

  it('takes the days from the day holding `from` through the day holding `to`', () => {
    const people = [
      cohort([monday - DAY, true]),
      cohort([monday, true]),
      cohort([wednesday, true]),
      cohort([wednesday + DAY, true]),
    ];

    const trend = funnelTrend(people, 'week', monday + 12 * 3600 * SECOND, wednesday + 1);

    expect(trend).toEqual([{ periodStart: monday, entered: 2, converted: 2, conversionRate: 1 }]);
  });

  it('reads cohort days of every result, ignoring results that never entered', () => {
    const people = [cohort([monday, false]), person([0], { excluded: true }), person([])];
    expect(funnelTrend(people, 'day', monday, monday)).toEqual([
      { periodStart: monday, entered: 2, converted: 0, conversionRate: 0 },
    ]);
  });

  it('allows 1,000 periods and no more', () => {
    expect(funnelTrend([], 'day', monday, monday + 999 * DAY)).toHaveLength(1000);
    expect(() => funnelTrend([], 'day', monday, monday + 1000 * DAY)).toThrow(RangeError);
  });

  it('is empty when `to` is before the first period', () => {
    expect(funnelTrend([], 'day', monday + DAY, monday - 1)).toEqual([]);
  });
});
