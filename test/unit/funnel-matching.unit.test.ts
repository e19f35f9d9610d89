import fc from 'fast-check';
import {
  emptyResult,
  matchPerson,
  sortFunnelEvents,
  type FunnelEvent,
  type FunnelOrder,
  type MatchingRules,
} from '../../src/projections/funnels/matching';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Monday 6 January 2025, 00:00 UTC. */
const MONDAY = Date.UTC(2025, 0, 6);
const T0 = MONDAY + 9 * HOUR;

const orders: readonly FunnelOrder[] = ['ordered', 'strict', 'unordered'];

function rules(overrides: Partial<MatchingRules> = {}): MatchingRules {
  return {
    stepCount: 3,
    order: 'ordered',
    windowMs: DAY,
    exclusions: [],
    breakdownFrom: null,
    ...overrides,
  };
}

let nextId = 0;

interface EventOptions {
  readonly steps?: readonly number[];
  readonly exclusions?: readonly number[];
  readonly breakdown?: string | null;
  readonly inScope?: boolean;
  readonly id?: string;
}

/** An event at `time`; `steps` are 1-based step numbers, `exclusions` 0-based indices. */
function event(time: number, options: EventOptions = {}): FunnelEvent {
  return {
    time,
    id: options.id ?? `m${String(nextId++).padStart(6, '0')}`,
    steps: (options.steps ?? []).reduce((mask, step) => mask | (1 << (step - 1)), 0),
    exclusions: (options.exclusions ?? []).reduce((mask, bit) => mask | (1 << bit), 0),
    breakdown: options.breakdown ?? null,
    inScope: options.inScope ?? true,
  };
}

const step = (n: number, time: number, options: EventOptions = {}) =>
  event(time, { ...options, steps: [n] });
const other = (time: number, options: EventOptions = {}) => event(time, options);
const exclusionEvent = (time: number, bit = 0) => event(time, { exclusions: [bit] });

describe('sortFunnelEvents', () => {
  it('orders by time, then lowest matched step (no step last), then id', () => {
    const late = step(1, T0 + MINUTE, { id: 'a' });
    const noStep = other(T0, { id: 'a' });
    const stepTwo = step(2, T0, { id: 'b' });
    const stepOneAndThree = event(T0, { steps: [1, 3], id: 'z' });
    const stepTwoAgain = step(2, T0, { id: 'c' });

    const sorted = sortFunnelEvents([late, noStep, stepTwoAgain, stepTwo, stepOneAndThree]);

    expect(sorted).toEqual([stepOneAndThree, stepTwo, stepTwoAgain, noStep, late]);
  });
});

describe('matchPerson', () => {
  describe('the three orders on the same events', () => {
    it('given step 1, an unrelated event, step 2, step 3: ordered and unordered convert, strict stops at step 1', () => {
      const events = [
        step(1, T0),
        other(T0 + MINUTE),
        step(2, T0 + 2 * MINUTE),
        step(3, T0 + 3 * MINUTE),
      ];
      const reached = orders.map((order) => matchPerson(rules({ order }), events).reached);
      expect(reached).toEqual([3, 1, 3]);
    });

    it('given step 2, step 1, step 3: only unordered converts', () => {
      const events = [step(2, T0), step(1, T0 + MINUTE), step(3, T0 + 2 * MINUTE)];

      expect(matchPerson(rules({ order: 'ordered' }), events)).toMatchObject({
        reached: 1,
        stepTimes: [T0 + MINUTE],
      });
      expect(matchPerson(rules({ order: 'strict' }), events)).toMatchObject({
        reached: 1,
        stepTimes: [T0 + MINUTE],
      });
      expect(matchPerson(rules({ order: 'unordered' }), events)).toMatchObject({
        reached: 3,
        stepTimes: [T0, T0 + MINUTE, T0 + 2 * MINUTE],
      });
    });

    it('ordered allows other events and repeats between the steps', () => {
      const events = [
        step(1, T0),
        other(T0 + MINUTE),
        step(1, T0 + 2 * MINUTE),
        step(3, T0 + 3 * MINUTE),
        step(2, T0 + 4 * MINUTE),
        step(3, T0 + 5 * MINUTE),
      ];
      expect(matchPerson(rules(), events)).toMatchObject({
        reached: 3,
        stepTimes: [T0 + 2 * MINUTE, T0 + 4 * MINUTE, T0 + 5 * MINUTE],
      });
    });
  });

  describe('the conversion window', () => {
    it.each(orders)('%s: a step at exactly start + window counts', (order) => {
      const result = matchPerson(rules({ order, stepCount: 2, windowMs: HOUR }), [
        step(1, T0),
        step(2, T0 + HOUR),
      ]);
      expect(result).toMatchObject({ reached: 2, stepTimes: [T0, T0 + HOUR] });
    });

    it.each(orders)('%s: a step 1 ms after the window end does not', (order) => {
      const result = matchPerson(rules({ order, stepCount: 2, windowMs: HOUR }), [
        step(1, T0),
        step(2, T0 + HOUR + 1),
      ]);
      expect(result).toMatchObject({ reached: 1, stepTimes: [T0] });
    });

    it('runs from step 1, not from the previous step', () => {
      const result = matchPerson(rules({ windowMs: HOUR }), [
        step(1, T0),
        step(2, T0 + 40 * MINUTE),
        step(3, T0 + 80 * MINUTE),
      ]);
      expect(result.reached).toBe(2);
    });
  });

  describe('which attempt counts', () => {
    it('the attempt that got furthest, even when it started later', () => {
      const result = matchPerson(rules({ windowMs: HOUR }), [
        step(1, T0),
        step(2, T0 + MINUTE),
        step(1, T0 + DAY),
        step(2, T0 + DAY + MINUTE),
        step(3, T0 + DAY + 2 * MINUTE),
      ]);
      expect(result).toMatchObject({
        reached: 3,
        stepTimes: [T0 + DAY, T0 + DAY + MINUTE, T0 + DAY + 2 * MINUTE],
      });
    });

    it('a repeat of step 1 starts a new attempt', () => {
      const result = matchPerson(rules({ stepCount: 2, windowMs: HOUR }), [
        step(1, T0),
        step(1, T0 + 2 * HOUR),
        step(2, T0 + 2 * HOUR + 30 * MINUTE),
      ]);
      expect(result).toMatchObject({
        reached: 2,
        stepTimes: [T0 + 2 * HOUR, T0 + 2 * HOUR + 30 * MINUTE],
      });
    });

    it('at the same furthest step, the attempt that reached it first', () => {
      const result = matchPerson(rules({ windowMs: HOUR }), [
        step(1, T0),
        step(2, T0 + 30 * MINUTE),
        step(1, T0 + 40 * MINUTE),
        step(2, T0 + 50 * MINUTE),
      ]);
      expect(result).toMatchObject({ reached: 2, stepTimes: [T0, T0 + 30 * MINUTE] });
    });

    it('reached at the same time: the attempt with the latest step-1 time', () => {
      const result = matchPerson(rules({ windowMs: HOUR }), [
        step(1, T0),
        step(1, T0 + 10 * MINUTE),
        step(2, T0 + 20 * MINUTE),
      ]);
      expect(result).toMatchObject({
        reached: 2,
        stepTimes: [T0 + 10 * MINUTE, T0 + 20 * MINUTE],
      });
    });

    it('step 1 at the same time too: the attempt later in the sequence', () => {
      const result = matchPerson(rules({ breakdownFrom: 'first_step' }), [
        step(1, T0, { id: 'b', breakdown: 'second' }),
        step(1, T0, { id: 'a', breakdown: 'first' }),
        step(2, T0 + MINUTE),
      ]);
      expect(result).toMatchObject({ reached: 2, breakdown: 'second' });
    });

    it('nobody who never did step 1 in scope enters', () => {
      expect(matchPerson(rules(), [])).toEqual(emptyResult);
      expect(matchPerson(rules(), [step(2, T0), step(3, T0 + MINUTE)])).toEqual(emptyResult);
      expect(emptyResult).toEqual({
        reached: 0,
        stepTimes: [],
        excluded: false,
        breakdown: null,
        cohortDays: [],
      });
    });
  });

  describe('events with the same timestamp', () => {
    it.each(orders)('%s: are matched in step order, whatever their ids', (order) => {
      const result = matchPerson(rules({ order, stepCount: 2 }), [
        step(2, T0, { id: 'a' }),
        step(1, T0, { id: 'b' }),
      ]);
      expect(result).toMatchObject({ reached: 2, stepTimes: [T0, T0] });
    });

    it('strict: step events go before other events at that instant', () => {
      const result = matchPerson(rules({ order: 'strict' }), [
        other(T0, { id: 'a' }),
        step(3, T0, { id: 'b' }),
        step(2, T0, { id: 'c' }),
        step(1, T0, { id: 'd' }),
      ]);
      expect(result).toMatchObject({ reached: 3, stepTimes: [T0, T0, T0] });
    });
  });

  describe('strict', () => {
    it('is broken by an unrelated event between two steps', () => {
      const result = matchPerson(rules({ order: 'strict' }), [
        step(1, T0),
        step(2, T0 + MINUTE),
        other(T0 + 2 * MINUTE),
        step(3, T0 + 3 * MINUTE),
      ]);
      expect(result).toMatchObject({ reached: 2, stepTimes: [T0, T0 + MINUTE] });
    });

    it('is broken by a repeat of an earlier step', () => {
      const result = matchPerson(rules({ order: 'strict' }), [
        step(1, T0),
        step(2, T0 + MINUTE),
        step(2, T0 + 2 * MINUTE),
        step(3, T0 + 3 * MINUTE),
      ]);
      expect(result).toMatchObject({ reached: 2, stepTimes: [T0, T0 + MINUTE] });
    });

    it('a repeat of step 1 breaks the attempt and starts a new one', () => {
      const result = matchPerson(rules({ order: 'strict' }), [
        step(1, T0),
        step(1, T0 + MINUTE),
        step(2, T0 + 2 * MINUTE),
        step(3, T0 + 3 * MINUTE),
      ]);
      expect(result).toMatchObject({
        reached: 3,
        stepTimes: [T0 + MINUTE, T0 + 2 * MINUTE, T0 + 3 * MINUTE],
      });
    });

    it('is broken by an event that matches only an exclusion', () => {
      const result = matchPerson(rules({ order: 'strict', stepCount: 2 }), [
        step(1, T0),
        exclusionEvent(T0 + MINUTE),
        step(2, T0 + 2 * MINUTE),
      ]);
      expect(result.reached).toBe(1);
    });
  });

  describe('unordered', () => {
    it('any step starts an attempt and the k-th step matched is step k', () => {
      const result = matchPerson(rules({ order: 'unordered' }), [
        step(3, T0),
        step(3, T0 + MINUTE),
        step(1, T0 + 2 * MINUTE),
        step(2, T0 + 3 * MINUTE),
      ]);
      // Both step-3 attempts convert at the same time, so the later start counts.
      expect(result).toMatchObject({
        reached: 3,
        stepTimes: [T0 + MINUTE, T0 + 2 * MINUTE, T0 + 3 * MINUTE],
      });
    });

    it('one event serves one step', () => {
      const result = matchPerson(rules({ order: 'unordered', stepCount: 2 }), [
        event(T0, { steps: [1, 2] }),
      ]);
      expect(result.reached).toBe(1);
    });

    it('is greedy: an event matching two missing steps takes the lower one', () => {
      // Taking step 2 for the first event would let the second one serve step 1.
      const result = matchPerson(rules({ order: 'unordered', stepCount: 2 }), [
        event(T0, { steps: [1, 2] }),
        step(1, T0 + MINUTE),
      ]);
      expect(result.reached).toBe(1);
    });
  });

  describe('exclusions', () => {
    const excludeOneToTwo = rules({
      stepCount: 2,
      windowMs: HOUR,
      exclusions: [{ fromStep: 1, toStep: 2 }],
    });

    it.each([
      ['at the time of fromStep', T0, true],
      ['between the steps', T0 + 5 * MINUTE, true],
      ['at the time of toStep', T0 + 10 * MINUTE, true],
      ['1 ms after toStep', T0 + 10 * MINUTE + 1, false],
      ['1 ms before fromStep', T0 - 1, false],
    ])('an exclusion event %s: excluded %s', (_, time, excluded) => {
      const result = matchPerson(excludeOneToTwo, [
        step(1, T0),
        step(2, T0 + 10 * MINUTE),
        exclusionEvent(time),
      ]);
      expect(result).toMatchObject({ reached: 2, excluded, stepTimes: [T0, T0 + 10 * MINUTE] });
    });

    it.each([
      ['at the window end', T0 + HOUR, true],
      ['1 ms after the window end', T0 + HOUR + 1, false],
    ])('toStep not reached: the interval ends at the window end; %s', (_, time, excluded) => {
      const result = matchPerson(
        rules({ windowMs: HOUR, exclusions: [{ fromStep: 1, toStep: 3 }] }),
        [step(1, T0), step(2, T0 + MINUTE), exclusionEvent(time)],
      );
      expect(result).toMatchObject({ reached: 2, excluded });
    });

    it('fromStep not reached: no exclusion', () => {
      const result = matchPerson(rules({ exclusions: [{ fromStep: 2, toStep: 3 }] }), [
        step(1, T0),
        exclusionEvent(T0 + MINUTE),
      ]);
      expect(result).toMatchObject({ reached: 1, excluded: false });
    });

    it('reads the bit of each exclusion', () => {
      const twoExclusions = rules({
        exclusions: [
          { fromStep: 1, toStep: 2 },
          { fromStep: 2, toStep: 3 },
        ],
      });
      const events = [step(1, T0), step(2, T0 + 10 * MINUTE), step(3, T0 + 20 * MINUTE)];

      expect(
        matchPerson(twoExclusions, [...events, exclusionEvent(T0 + 5 * MINUTE, 1)]),
      ).toMatchObject({ excluded: false });
      expect(
        matchPerson(twoExclusions, [...events, exclusionEvent(T0 + 15 * MINUTE, 1)]),
      ).toMatchObject({ excluded: true });
    });

    it('only the counted attempt is judged', () => {
      // The attempt from T0 has the exclusion inside; the later one, which counts, does not.
      const result = matchPerson(excludeOneToTwo, [
        step(1, T0),
        exclusionEvent(T0 + 5 * MINUTE),
        step(1, T0 + 10 * MINUTE),
        step(2, T0 + 20 * MINUTE),
      ]);
      expect(result).toMatchObject({
        reached: 2,
        excluded: false,
        stepTimes: [T0 + 10 * MINUTE, T0 + 20 * MINUTE],
      });
    });
  });

  describe('breakdown', () => {
    const events = [
      step(1, T0, { breakdown: 'google' }),
      step(2, T0 + MINUTE, { breakdown: 'newsletter' }),
    ];

    it('first_step: the value on the step-1 event', () => {
      expect(matchPerson(rules({ breakdownFrom: 'first_step' }), events).breakdown).toBe('google');
    });

    it('last_step: the value on the event of the last reached step', () => {
      expect(matchPerson(rules({ breakdownFrom: 'last_step' }), events).breakdown).toBe(
        'newsletter',
      );
      expect(matchPerson(rules({ breakdownFrom: 'last_step' }), [events[0]]).breakdown).toBe(
        'google',
      );
    });

    it('no breakdown: null', () => {
      expect(matchPerson(rules({ breakdownFrom: null }), events).breakdown).toBeNull();
    });
  });

  describe('campaign scope', () => {
    it.each(orders)('%s: events out of scope cannot start an attempt', (order) => {
      const result = matchPerson(rules({ order, stepCount: 2 }), [
        step(1, T0, { inScope: false }),
        step(2, T0 + MINUTE, { inScope: false }),
      ]);
      expect(result).toEqual(emptyResult);
    });

    it.each(['ordered', 'strict'] as const)(
      '%s: only step 1 starts an attempt, so a step 2 in scope does not help',
      (order) => {
        const result = matchPerson(rules({ order, stepCount: 2 }), [
          step(1, T0, { inScope: false }),
          step(2, T0 + MINUTE),
        ]);
        expect(result).toEqual(emptyResult);
      },
    );

    it('unordered: any step in scope starts an attempt, which steps out of scope then serve', () => {
      const result = matchPerson(rules({ order: 'unordered', stepCount: 2 }), [
        step(1, T0, { inScope: false }),
        step(2, T0 + MINUTE),
        step(1, T0 + 2 * MINUTE, { inScope: false }),
      ]);
      expect(result).toMatchObject({ reached: 2, stepTimes: [T0 + MINUTE, T0 + 2 * MINUTE] });
    });

    it.each(orders)('%s: later steps out of scope still count', (order) => {
      const result = matchPerson(rules({ order, stepCount: 2 }), [
        step(1, T0),
        step(2, T0 + MINUTE, { inScope: false }),
      ]);
      expect(result.reached).toBe(2);
    });
  });

  describe('cohortDays', () => {
    it('lists every attempt’s UTC day once, converted when an attempt of that day converted', () => {
      const result = matchPerson(rules({ stepCount: 2, windowMs: HOUR }), [
        step(1, MONDAY + 9 * HOUR),
        step(1, MONDAY + 15 * HOUR),
        step(2, MONDAY + 15 * HOUR + 30 * MINUTE),
        step(1, MONDAY + 2 * DAY + 23 * HOUR + 59 * MINUTE),
        step(1, MONDAY + 3 * DAY),
      ]);
      expect(result.cohortDays).toEqual([
        [MONDAY, true],
        [MONDAY + 2 * DAY, false],
        [MONDAY + 3 * DAY, false],
      ]);
    });

    it('an attempt with an exclusion hit did not convert', () => {
      const result = matchPerson(
        rules({ stepCount: 2, windowMs: HOUR, exclusions: [{ fromStep: 1, toStep: 2 }] }),
        [
          step(1, MONDAY + 9 * HOUR),
          exclusionEvent(MONDAY + 9 * HOUR + MINUTE),
          step(2, MONDAY + 9 * HOUR + 2 * MINUTE),
          step(1, MONDAY + DAY),
          step(2, MONDAY + DAY + MINUTE),
        ],
      );
      expect(result.cohortDays).toEqual([
        [MONDAY, false],
        [MONDAY + DAY, true],
      ]);
    });
  });

  it.each(orders)('%s: copes with thousands of step-1 repeats', (order) => {
    const repeats = 20_000;
    const events = Array.from({ length: repeats }, (_, i) => step(1, T0 + i));
    events.push(step(2, T0 + repeats));

    const result = matchPerson(rules({ order, stepCount: 2 }), events);

    expect(result).toMatchObject({ reached: 2, stepTimes: [T0 + repeats - 1, T0 + repeats] });
    expect(result.cohortDays).toEqual([[MONDAY, true]]);
  });

  it('rejects rules outside their ranges', () => {
    expect(() => matchPerson(rules({ stepCount: 1 }), [])).toThrow(RangeError);
    expect(() => matchPerson(rules({ stepCount: 21 }), [])).toThrow(RangeError);
    expect(() => matchPerson(rules({ windowMs: 0 }), [])).toThrow(RangeError);
    expect(() => matchPerson(rules({ exclusions: [{ fromStep: 2, toStep: 2 }] }), [])).toThrow(
      RangeError,
    );
    expect(() => matchPerson(rules({ exclusions: [{ fromStep: 1, toStep: 4 }] }), [])).toThrow(
      RangeError,
    );
  });

  describe('properties', () => {
    const rulesArbitrary = (order: FunnelOrder) =>
      fc.integer({ min: 2, max: 4 }).chain((stepCount) =>
        fc.record({
          stepCount: fc.constant(stepCount),
          order: fc.constant(order),
          windowMs: fc.constantFrom(HOUR, 6 * HOUR, DAY),
          exclusions: fc.array(
            fc
              .tuple(fc.integer({ min: 1, max: stepCount }), fc.integer({ min: 1, max: stepCount }))
              .filter(([a, b]) => a !== b)
              .map(([a, b]) => ({ fromStep: Math.min(a, b), toStep: Math.max(a, b) })),
            { maxLength: 2 },
          ),
          breakdownFrom: fc.constantFrom('first_step' as const, 'last_step' as const, null),
        }),
      );

    // Coarse times (half hours over three days) so ties and window edges happen often.
    const eventsArbitrary = fc
      .array(
        fc.record({
          time: fc.integer({ min: 0, max: 144 }).map((halfHours) => T0 + halfHours * 30 * MINUTE),
          steps: fc.integer({ min: 0, max: 15 }),
          exclusions: fc.integer({ min: 0, max: 3 }),
          breakdown: fc.constantFrom(null, 'a', 'b'),
          inScope: fc.boolean(),
        }),
        { maxLength: 30 },
      )
      .map((events) => events.map((e, i): FunnelEvent => ({ ...e, id: `m${i}` })));

    const shuffledEvents = eventsArbitrary.chain((events) =>
      fc.tuple(
        fc.constant(events),
        fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
      ),
    );

    it.each(orders)('%s: the result does not depend on the order events arrive in', (order) => {
      fc.assert(
        fc.property(rulesArbitrary(order), shuffledEvents, (funnel, [events, shuffled]) => {
          expect(matchPerson(funnel, shuffled)).toEqual(matchPerson(funnel, events));
        }),
        { numRuns: 300 },
      );
    });

    it.each(orders)('%s: the counted attempt fits its window', (order) => {
      fc.assert(
        fc.property(rulesArbitrary(order), eventsArbitrary, (funnel, events) => {
          const { reached, stepTimes, cohortDays } = matchPerson(funnel, events);
          expect(stepTimes).toHaveLength(reached);
          expect(reached).toBeLessThanOrEqual(funnel.stepCount);
          expect([...stepTimes].sort((a, b) => a - b)).toEqual(stepTimes);
          if (reached > 0) {
            expect(stepTimes[reached - 1] - stepTimes[0]).toBeLessThanOrEqual(funnel.windowMs);
          }
          const days = cohortDays.map(([day]) => day);
          expect([...new Set(days)].sort((a, b) => a - b)).toEqual(days);
          expect(days.length > 0).toBe(reached > 0);
        }),
        { numRuns: 300 },
      );
    });
  });
});
