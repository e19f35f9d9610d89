/**
 * Funnel matching (ANALYTICS.md, Funnels): which step a person reached, when, and whether an
 * exclusion took them out. Pure; the live projection and ad-hoc analysis both call this one
 * implementation, so a funnel reads the same wherever it is computed.
 *
 * The sequence. A person's events are matched in one canonical order: time ascending, then
 * the lowest step the event matches ascending (events matching no step last), then message id
 * ascending (plain code-unit comparison). So events with the same timestamp are matched in
 * step order, before other events at that instant, and the result does not depend on the
 * order the events arrive in.
 *
 * Attempts. Every in-scope event matching step 1 starts an attempt (`unordered`: every
 * in-scope event matching any step, counted as the attempt's step 1). Only the start has to be
 * in scope; later steps ignore the campaign scope. Each attempt is matched on its own, so one
 * event may serve several attempts, but only one step within an attempt. The window runs from
 * the start's time and its end is included: an event at exactly start + window still counts.
 * - `ordered`: step k+1 is the first event after step k's event in the sequence that matches
 *   step k+1 inside the window (greedy, earliest); other events between are allowed.
 * - `strict`: step k+1 must be the very next event of the person in the sequence (any event,
 *   including ones matching no step and repeats of an earlier step) and inside the window;
 *   otherwise the attempt ends at step k. A repeat of step 1 starts its own attempt.
 * - `unordered`: walking forward from the start, each event inside the window that matches a
 *   step the attempt has not reached yet is assigned the lowest such step; the k-th assignment
 *   is the report's step k, so step times ascend. Greedy: an event that matches two unreached
 *   steps takes the lower one, even when giving it the other would let the attempt get further;
 *   an optimal assignment would cost a matching per attempt and is not what people expect to
 *   read off a timeline.
 *
 * The counted attempt: the one that reached the furthest step; among those, the one that
 * reached that step first (earliest time of its last reached step); at a tie, the latest
 * step-1 time; at a further tie, the one later in the sequence.
 *
 * Exclusions. Exclusion {fromStep, toStep} applies to an attempt that reached fromStep, over
 * the closed interval from the time of fromStep to the time of toStep (when reached) or else
 * to the window end (start + window). Any event of the person carrying the exclusion's bit
 * with a time inside that interval excludes the attempt, even an event that also serves one
 * of the attempt's steps: the exclusion event is defined by its own filter, not by the steps.
 * For `unordered` funnels fromStep and toStep are report steps (the k-th assignment). When the
 * counted attempt is excluded the person leaves every step (`excluded`), while `reached` and
 * `stepTimes` still say what was matched; no other attempt is counted in its place.
 *
 * Breakdown: `first_step` takes the value on the counted attempt's step-1 event, `last_step`
 * the value on the event of its last reached step.
 *
 * cohortDays: every attempt's UTC day of its step-1 time; the day is converted when any
 * attempt starting that day reached the last step without an exclusion hit (the same rule as
 * above, applied to that attempt).
 *
 * Cost: attempts look the next matching event up in per-step index lists by binary search and
 * check exclusions in per-exclusion time lists the same way, so n events with thousands of
 * step-1 repeats cost O(n log n), not O(n²).
 *
 * Step bits at or above `stepCount` are ignored; ids are unique per person (messageId is
 * idempotent), so the canonical order is total.
 */

export type FunnelOrder = 'ordered' | 'strict' | 'unordered';

export const minFunnelSteps = 2;
export const maxFunnelSteps = 20;
/** An exclusion is one bit of a 32-bit mask. */
export const maxFunnelExclusions = 32;

export interface FunnelExclusion {
  readonly fromStep: number;
  readonly toStep: number;
}

export interface MatchingRules {
  /** 2..20 */
  readonly stepCount: number;
  readonly order: FunnelOrder;
  /** > 0; the window's end is included. */
  readonly windowMs: number;
  /** 1-based step numbers, fromStep < toStep <= stepCount; exclusion i is bit i of FunnelEvent.exclusions */
  readonly exclusions: readonly FunnelExclusion[];
  readonly breakdownFrom: 'first_step' | 'last_step' | null;
}

/** One event of a person (a `track` or `page` call), reduced to what matching reads. */
export interface FunnelEvent {
  /** Event time, ms since epoch. */
  readonly time: number;
  /** Message id, unique per person; the final tie-breaker. */
  readonly id: string;
  /** Bitmask: bit s set = the event matches step s+1. */
  readonly steps: number;
  /** Bitmask: bit i set = the event matches exclusion i. */
  readonly exclusions: number;
  /** The breakdown property's value on this event. */
  readonly breakdown: string | null;
  /** May start an attempt (campaign scope); steps 2.. ignore this. */
  readonly inScope: boolean;
}

export interface PersonResult {
  /** 0 = never did step 1 (in scope); else 1..stepCount. */
  readonly reached: number;
  /** The counted attempt's time of each reached step (length = reached). */
  readonly stepTimes: readonly number[];
  /** The counted attempt hit an exclusion: the person leaves every step. */
  readonly excluded: boolean;
  /** From the counted attempt's step-1 event or last reached step's event. */
  readonly breakdown: string | null;
  /**
   * UTC day starts (ms) of every attempt's step-1 time, ascending, deduplicated, with whether
   * an attempt starting that day converted (reached the last step, not excluded). For the
   * conversion trend.
   */
  readonly cohortDays: readonly (readonly [dayStart: number, converted: boolean])[];
}

export const emptyResult: PersonResult = Object.freeze({
  reached: 0,
  stepTimes: Object.freeze([]) as readonly number[],
  excluded: false,
  breakdown: null,
  cohortDays: Object.freeze([]) as PersonResult['cohortDays'],
});

const DAY_MS = 24 * 60 * 60 * 1000;
/** The rank of an event that matches no step: after every step. */
const NO_STEP_RANK = 32;

/** The canonical sequence: time, then lowest matched step, then id. */
export function sortFunnelEvents(events: readonly FunnelEvent[]): FunnelEvent[] {
  return [...events].sort(compareEvents);
}

export function matchPerson(rules: MatchingRules, events: readonly FunnelEvent[]): PersonResult {
  assertValidRules(rules);
  const person = indexPerson(rules, sortFunnelEvents(events));
  const attempts = matchAttempts(person);
  if (attempts.length === 0) return emptyResult;

  let counted = attempts[0];
  for (const attempt of attempts) {
    if (countsBefore(person, attempt, counted)) counted = attempt;
  }
  const { sequence } = person;
  return {
    reached: counted.length,
    stepTimes: counted.map((index) => sequence[index].time),
    excluded: isExcluded(person, counted),
    breakdown: breakdownOf(rules, sequence, counted),
    cohortDays: cohortDaysOf(person, attempts),
  };
}

/**
 * An attempt: the sequence indices of the events of its reached steps, in step order (at
 * least step 1).
 */
type Attempt = readonly number[];

interface IndexedPerson {
  readonly rules: MatchingRules;
  readonly sequence: readonly FunnelEvent[];
  /** Per step (0-based): ascending sequence indices of the events matching it. */
  readonly stepIndices: readonly number[][];
  /** Per exclusion: ascending times of the events matching it. */
  readonly exclusionTimes: readonly number[][];
  /** Bits of the funnel's steps. */
  readonly stepMask: number;
}

function indexPerson(rules: MatchingRules, sequence: readonly FunnelEvent[]): IndexedPerson {
  const stepIndices = Array.from({ length: rules.stepCount }, (): number[] => []);
  const exclusionTimes = rules.exclusions.map((): number[] => []);
  sequence.forEach((event, index) => {
    for (let step = 0; step < rules.stepCount; step++) {
      if (hasBit(event.steps, step)) stepIndices[step].push(index);
    }
    for (let exclusion = 0; exclusion < exclusionTimes.length; exclusion++) {
      if (hasBit(event.exclusions, exclusion)) exclusionTimes[exclusion].push(event.time);
    }
  });
  const stepMask = (1 << rules.stepCount) - 1;
  return { rules, sequence, stepIndices, exclusionTimes, stepMask };
}

function matchAttempts(person: IndexedPerson): Attempt[] {
  const { rules, sequence, stepMask } = person;
  const attempts: Attempt[] = [];
  sequence.forEach((event, start) => {
    if (!event.inScope) return;
    switch (rules.order) {
      case 'ordered':
        if (hasBit(event.steps, 0)) attempts.push(matchOrdered(person, start));
        return;
      case 'strict':
        if (hasBit(event.steps, 0)) attempts.push(matchStrict(person, start));
        return;
      case 'unordered':
        if ((event.steps & stepMask) !== 0) attempts.push(matchUnordered(person, start));
        return;
      default: {
        const _exhaustive: never = rules.order;
        throw new RangeError(`unknown funnel order: ${String(_exhaustive)}`);
      }
    }
  });
  return attempts;
}

function matchOrdered(person: IndexedPerson, start: number): Attempt {
  const { rules, sequence, stepIndices } = person;
  const windowEnd = sequence[start].time + rules.windowMs;
  const attempt = [start];
  for (let step = 1; step < rules.stepCount; step++) {
    const candidates = stepIndices[step];
    const position = firstAbove(candidates, attempt[attempt.length - 1]);
    if (position === candidates.length) break;
    const next = candidates[position];
    if (sequence[next].time > windowEnd) break;
    attempt.push(next);
  }
  return attempt;
}

function matchStrict(person: IndexedPerson, start: number): Attempt {
  const { rules, sequence } = person;
  const windowEnd = sequence[start].time + rules.windowMs;
  const attempt = [start];
  for (let step = 1; step < rules.stepCount; step++) {
    const next = start + step;
    if (next >= sequence.length) break;
    const event = sequence[next];
    if (!hasBit(event.steps, step) || event.time > windowEnd) break;
    attempt.push(next);
  }
  return attempt;
}

function matchUnordered(person: IndexedPerson, start: number): Attempt {
  const { rules, sequence, stepIndices, stepMask } = person;
  const windowEnd = sequence[start].time + rules.windowMs;
  let reachedSteps = lowestBit(sequence[start].steps & stepMask);
  const attempt = [start];
  while (attempt.length < rules.stepCount) {
    const previous = attempt[attempt.length - 1];
    let next = Infinity;
    for (let step = 0; step < rules.stepCount; step++) {
      if (hasBit(reachedSteps, step)) continue;
      const candidates = stepIndices[step];
      const position = firstAbove(candidates, previous);
      if (position < candidates.length) next = Math.min(next, candidates[position]);
    }
    if (next === Infinity || sequence[next].time > windowEnd) break;
    reachedSteps |= lowestBit(sequence[next].steps & stepMask & ~reachedSteps);
    attempt.push(next);
  }
  return attempt;
}

/** Whether attempt `a` is counted rather than attempt `b`. */
function countsBefore(person: IndexedPerson, a: Attempt, b: Attempt): boolean {
  if (a.length !== b.length) return a.length > b.length;
  const { sequence } = person;
  const aLast = sequence[a[a.length - 1]].time;
  const bLast = sequence[b[b.length - 1]].time;
  if (aLast !== bLast) return aLast < bLast;
  const aStart = sequence[a[0]].time;
  const bStart = sequence[b[0]].time;
  if (aStart !== bStart) return aStart > bStart;
  return a[0] > b[0];
}

function isExcluded(person: IndexedPerson, attempt: Attempt): boolean {
  const { rules, sequence, exclusionTimes } = person;
  const reached = attempt.length;
  return rules.exclusions.some(({ fromStep, toStep }, exclusion) => {
    if (reached < fromStep) return false;
    const from = sequence[attempt[fromStep - 1]].time;
    const to =
      reached >= toStep
        ? sequence[attempt[toStep - 1]].time
        : sequence[attempt[0]].time + rules.windowMs;
    const times = exclusionTimes[exclusion];
    const position = firstAtLeast(times, from);
    return position < times.length && times[position] <= to;
  });
}

function breakdownOf(
  rules: MatchingRules,
  sequence: readonly FunnelEvent[],
  attempt: Attempt,
): string | null {
  switch (rules.breakdownFrom) {
    case 'first_step':
      return sequence[attempt[0]].breakdown;
    case 'last_step':
      return sequence[attempt[attempt.length - 1]].breakdown;
    case null:
      return null;
    default: {
      const _exhaustive: never = rules.breakdownFrom;
      throw new RangeError(`unknown breakdown source: ${String(_exhaustive)}`);
    }
  }
}

/** Attempts come in sequence order of their starts, so their days ascend. */
function cohortDaysOf(
  person: IndexedPerson,
  attempts: readonly Attempt[],
): [dayStart: number, converted: boolean][] {
  const days: [number, boolean][] = [];
  for (const attempt of attempts) {
    const day = utcDayStart(person.sequence[attempt[0]].time);
    const converted = attempt.length === person.rules.stepCount && !isExcluded(person, attempt);
    const last = days.at(-1);
    if (last?.[0] === day) last[1] ||= converted;
    else days.push([day, converted]);
  }
  return days;
}

function compareEvents(a: FunnelEvent, b: FunnelEvent): number {
  if (a.time !== b.time) return a.time - b.time;
  const rankDifference = stepRank(a.steps) - stepRank(b.steps);
  if (rankDifference !== 0) return rankDifference;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The 0-based index of the lowest step an event matches; events matching none go last. */
function stepRank(steps: number): number {
  return steps === 0 ? NO_STEP_RANK : 31 - Math.clz32(lowestBit(steps));
}

function lowestBit(mask: number): number {
  return mask & -mask;
}

function hasBit(mask: number, bit: number): boolean {
  return (mask & (1 << bit)) !== 0;
}

/** The start (ms) of the UTC day holding `time`. */
export function utcDayStart(time: number): number {
  return Math.floor(time / DAY_MS) * DAY_MS;
}

/** The first position in ascending `values` whose value is greater than `bound`. */
function firstAbove(values: readonly number[], bound: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle] <= bound) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The first position in ascending `values` whose value is at least `bound`. */
function firstAtLeast(values: readonly number[], bound: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle] < bound) low = middle + 1;
    else high = middle;
  }
  return low;
}

function assertValidRules(rules: MatchingRules): void {
  const { stepCount, windowMs, exclusions } = rules;
  if (!Number.isInteger(stepCount) || stepCount < minFunnelSteps || stepCount > maxFunnelSteps) {
    throw new RangeError(
      `stepCount must be an integer in ${minFunnelSteps}..${maxFunnelSteps}, got ${stepCount}`,
    );
  }
  if (!(windowMs > 0) || !Number.isFinite(windowMs)) {
    throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
  }
  if (exclusions.length > maxFunnelExclusions) {
    throw new RangeError(`at most ${maxFunnelExclusions} exclusions, got ${exclusions.length}`);
  }
  for (const { fromStep, toStep } of exclusions) {
    if (
      !Number.isInteger(fromStep) ||
      !Number.isInteger(toStep) ||
      fromStep < 1 ||
      fromStep >= toStep ||
      toStep > stepCount
    ) {
      throw new RangeError(
        `an exclusion needs 1 <= fromStep < toStep <= ${stepCount}, got ${fromStep}..${toStep}`,
      );
    }
  }
}
