/**
 * The funnel report (ANALYTICS.md, Funnels) summarised from the people's matching results.
 * Pure; ratios are fractions (0.25 for 25 %) and null when their denominator is 0, times are
 * seconds.
 *
 * - A result with `reached` 0 never entered and is ignored; an excluded result counts in
 *   `excluded` only and in no step, rate, time or breakdown group.
 * - Step 1 is its own previous step: its conversion from the previous step is 1 (null when
 *   nobody entered), its drop-off 0 and its drop-off rate 0 (null when nobody entered).
 * - Times: step k's `timeFromPrevious` are the gaps between step k-1 and step k of everyone
 *   who reached step k; `timeToConvert` is step 1 to the last step of everyone who converted.
 *   The median of an even count is the mean of the two middle values.
 * - Histogram: Sturges' rule, ceil(log2 n) + 1 bins (at most 50), of one width in whole
 *   seconds (at least 1) starting at the minimum rounded down: width = ceil((max − start) /
 *   bins); trailing bins that would lie beyond the maximum are left out, so a narrow spread
 *   gets fewer bins. A bin holds [fromSeconds, toSeconds), the last one also its toSeconds.
 *   No times, no bins.
 * - Breakdown: one group per breakdown value (a funnel without a breakdown gives one group,
 *   null), sorted by step-1 count descending, then value (code-unit order, null last).
 *
 * The trend works from the people's `cohortDays` (every attempt's UTC day of step 1, whether
 * it converted), excluded people included: an exclusion is judged per attempt there, so a
 * person excluded by their counted attempt still shows their other attempts. The cohort days
 * only know the day, so `from` and `to` select whole UTC days: the day holding `from` through
 * the day holding `to`. Periods are UTC days, weeks starting on Monday, or calendar months.
 */
import { mean, medianSorted } from 'simple-statistics';
import { maxFunnelSteps, minFunnelSteps, utcDayStart, type PersonResult } from './matching';

export interface HistogramBin {
  readonly fromSeconds: number;
  readonly toSeconds: number;
  readonly count: number;
}

export interface TimeToConvert {
  readonly count: number;
  readonly meanSeconds: number | null;
  readonly medianSeconds: number | null;
  readonly histogram: readonly HistogramBin[];
}

export interface StepReport {
  /** 1-based */
  readonly step: number;
  /** People who reached at least this step (excluded people not counted anywhere). */
  readonly count: number;
  /** count / step-1 count; null when step-1 count is 0 */
  readonly conversionFromStart: number | null;
  readonly conversionFromPrevious: number | null;
  /** previous count − count (0 for step 1) */
  readonly dropOff: number;
  /** dropOff / previous count */
  readonly dropOffRate: number | null;
  /** null for step 1; gaps stepTimes[k-1] − stepTimes[k-2] in seconds of people who reached step k */
  readonly timeFromPrevious: TimeToConvert | null;
}

export interface BreakdownReport {
  readonly value: string | null;
  readonly steps: readonly StepReport[];
}

export interface FunnelReport {
  readonly entered: number;
  readonly converted: number;
  readonly excluded: number;
  /** converted / entered */
  readonly conversionRate: number | null;
  readonly steps: readonly StepReport[];
  /** Step 1 → last step of people who converted. */
  readonly timeToConvert: TimeToConvert;
  /** Sorted by step-1 count desc, then value (null last). */
  readonly breakdown: readonly BreakdownReport[];
}

export type TrendInterval = 'day' | 'week' | 'month';

export interface TrendPoint {
  readonly periodStart: number;
  readonly entered: number;
  readonly converted: number;
  readonly conversionRate: number;
}

export const maxHistogramBins = 50;
export const maxTrendPeriods = 1000;

const DAY_MS = 24 * 60 * 60 * 1000;
const MS_PER_SECOND = 1000;

export function summarizeFunnel(stepCount: number, results: Iterable<PersonResult>): FunnelReport {
  if (!Number.isInteger(stepCount) || stepCount < minFunnelSteps || stepCount > maxFunnelSteps) {
    throw new RangeError(
      `stepCount must be an integer in ${minFunnelSteps}..${maxFunnelSteps}, got ${stepCount}`,
    );
  }
  let excluded = 0;
  const counted: PersonResult[] = [];
  const byBreakdown = new Map<string | null, PersonResult[]>();
  for (const result of results) {
    if (result.reached === 0) continue;
    if (result.reached > stepCount || result.stepTimes.length !== result.reached) {
      throw new RangeError(
        `a result must reach at most ${stepCount} steps with one time each, got ${result.reached} steps and ${result.stepTimes.length} times`,
      );
    }
    if (result.excluded) {
      excluded++;
      continue;
    }
    counted.push(result);
    const group = byBreakdown.get(result.breakdown);
    if (group === undefined) byBreakdown.set(result.breakdown, [result]);
    else group.push(result);
  }

  const steps = stepReports(stepCount, counted);
  const entered = steps[0].count;
  const converted = steps[stepCount - 1].count;
  const conversionTimes = counted
    .filter((result) => result.reached === stepCount)
    .map((result) => secondsBetween(result.stepTimes[0], result.stepTimes[stepCount - 1]));
  const breakdown = [...byBreakdown].map(([value, group]) => ({
    value,
    steps: stepReports(stepCount, group),
  }));
  breakdown.sort(compareBreakdowns);
  return {
    entered,
    converted,
    excluded,
    conversionRate: ratio(converted, entered),
    steps,
    timeToConvert: summarizeTimes(conversionTimes),
    breakdown,
  };
}

/**
 * Per period of step-1 time in [from, to] (ms, inclusive, periods in UTC: weeks start Monday,
 * months on the 1st), from each person's cohortDays: a person counts once per period (entered
 * if any cohort day falls in it, converted if any of those converted); every period in the
 * range is listed, rate 0 when nobody entered.
 */
export function funnelTrend(
  results: Iterable<PersonResult>,
  interval: TrendInterval,
  from: number,
  to: number,
): TrendPoint[] {
  if (!Number.isFinite(from) || !Number.isFinite(to)) {
    throw new RangeError(`the trend needs finite bounds, got ${from}..${to}`);
  }
  const starts = periodStartsBetween(interval, from, to);
  const positions = new Map(starts.map((start, position) => [start, position]));
  const entered = starts.map(() => 0);
  const converted = starts.map(() => 0);
  const firstDay = utcDayStart(from);

  for (const result of results) {
    const periodsOfPerson = new Map<number, boolean>();
    for (const [day, dayConverted] of result.cohortDays) {
      if (day < firstDay || day > to) continue;
      const period = periodStart(day, interval);
      periodsOfPerson.set(period, (periodsOfPerson.get(period) ?? false) || dayConverted);
    }
    for (const [period, periodConverted] of periodsOfPerson) {
      const position = positions.get(period);
      // Every day from the day of `from` to `to` lies in a listed period.
      if (position === undefined) throw new Error(`period ${period} is outside the trend`);
      entered[position]++;
      if (periodConverted) converted[position]++;
    }
  }

  return starts.map((start, position) => ({
    periodStart: start,
    entered: entered[position],
    converted: converted[position],
    conversionRate: ratio(converted[position], entered[position]) ?? 0,
  }));
}

/** The start (ms, UTC) of the period holding `time`: its day, its Monday, its month's 1st. */
export function periodStart(time: number, interval: TrendInterval): number {
  switch (interval) {
    case 'day':
      return utcDayStart(time);
    case 'week': {
      const day = utcDayStart(time);
      const daysSinceMonday = (new Date(day).getUTCDay() + 6) % 7;
      return day - daysSinceMonday * DAY_MS;
    }
    case 'month': {
      const date = new Date(time);
      return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
    }
    default: {
      const _exhaustive: never = interval;
      throw new RangeError(`unknown trend interval: ${String(_exhaustive)}`);
    }
  }
}

function nextPeriodStart(start: number, interval: TrendInterval): number {
  switch (interval) {
    case 'day':
      return start + DAY_MS;
    case 'week':
      return start + 7 * DAY_MS;
    case 'month': {
      const date = new Date(start);
      return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
    }
    default: {
      const _exhaustive: never = interval;
      throw new RangeError(`unknown trend interval: ${String(_exhaustive)}`);
    }
  }
}

function periodStartsBetween(interval: TrendInterval, from: number, to: number): number[] {
  const starts: number[] = [];
  for (let start = periodStart(from, interval); start <= to; ) {
    if (starts.length === maxTrendPeriods) {
      throw new RangeError(`a trend has at most ${maxTrendPeriods} periods`);
    }
    starts.push(start);
    start = nextPeriodStart(start, interval);
  }
  return starts;
}

function stepReports(stepCount: number, people: readonly PersonResult[]): StepReport[] {
  const counts = Array.from({ length: stepCount }, () => 0);
  const gaps = Array.from({ length: stepCount }, (): number[] => []);
  for (const { reached, stepTimes } of people) {
    for (let step = 0; step < reached; step++) {
      counts[step]++;
      if (step > 0) gaps[step].push(secondsBetween(stepTimes[step - 1], stepTimes[step]));
    }
  }
  return counts.map((count, step) => {
    const previous = step === 0 ? count : counts[step - 1];
    const dropOff = previous - count;
    return {
      step: step + 1,
      count,
      conversionFromStart: ratio(count, counts[0]),
      conversionFromPrevious: ratio(count, previous),
      dropOff,
      dropOffRate: ratio(dropOff, previous),
      timeFromPrevious: step === 0 ? null : summarizeTimes(gaps[step]),
    };
  });
}

function summarizeTimes(seconds: readonly number[]): TimeToConvert {
  if (seconds.length === 0) {
    return { count: 0, meanSeconds: null, medianSeconds: null, histogram: [] };
  }
  const sorted = [...seconds].sort((a, b) => a - b);
  return {
    count: sorted.length,
    meanSeconds: mean(sorted),
    medianSeconds: medianSorted(sorted),
    histogram: histogramOf(sorted),
  };
}

/** Sturges' bins over ascending, non-empty `sorted` (see the header). */
function histogramOf(sorted: readonly number[]): HistogramBin[] {
  const binCount = Math.min(maxHistogramBins, Math.ceil(Math.log2(sorted.length)) + 1);
  const start = Math.floor(sorted[0]);
  const spread = sorted[sorted.length - 1] - start;
  const width = Math.max(1, Math.ceil(spread / binCount));
  const usedBins = Math.max(1, Math.ceil(spread / width));
  const counts = Array.from({ length: usedBins }, () => 0);
  for (const value of sorted) {
    counts[Math.min(usedBins - 1, Math.floor((value - start) / width))]++;
  }
  return counts.map((count, bin) => ({
    fromSeconds: start + bin * width,
    toSeconds: start + (bin + 1) * width,
    count,
  }));
}

function compareBreakdowns(a: BreakdownReport, b: BreakdownReport): number {
  const byEntered = b.steps[0].count - a.steps[0].count;
  if (byEntered !== 0) return byEntered;
  if (a.value === b.value) return 0;
  if (a.value === null) return 1;
  if (b.value === null) return -1;
  return a.value < b.value ? -1 : 1;
}

function secondsBetween(earlier: number, later: number): number {
  return (later - earlier) / MS_PER_SECOND;
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}
