/**
 * Channel paths: the input of the data-driven models (Markov, Shapley) and the path report.
 */

/** Journeys that took one channel path, and how they ended. */
export interface PathCount {
  /** Channels in order, oldest first. */
  readonly path: readonly string[];
  readonly conversions: number;
  /** Journeys on this path that did not convert. */
  readonly nulls: number;
  /** Revenue of the path's conversions, when known. */
  readonly revenue?: number;
}

/** A → A → B → A becomes A → B → A. */
export function collapseRepeats(path: readonly string[]): string[] {
  return path.filter((channel, i) => i === 0 || channel !== path[i - 1]);
}

export function pathKey(path: readonly string[]): string {
  return path.join(' > ');
}

/** One journey as the path report sees it, converting or not. */
export interface PathJourney {
  readonly path: readonly string[];
  /** First touch and conversion, ms; both null for a non-converting journey. */
  readonly firstTouchAt: number | null;
  readonly conversionAt: number | null;
  readonly revenue?: number;
}

export interface PathRow {
  /** Collapsed path, `A > B > C`. */
  readonly key: string;
  readonly path: readonly string[];
  readonly count: number;
  readonly revenue: number;
}

export interface PathReport {
  /** Most frequent first, ties by key; at most `limit` each. */
  readonly converting: readonly PathRow[];
  readonly nonConverting: readonly PathRow[];
  /** Touches per converting journey, before collapsing repeats; null without conversions. */
  readonly averagePathLength: number | null;
  /** From the first touch to the conversion, ms; null without conversions. */
  readonly averageTimeToConversionMs: number | null;
  /** Converting journeys without a touch. */
  readonly unattributed: number;
}

function topRows(rows: Map<string, PathRow>, limit: number): PathRow[] {
  return [...rows.values()]
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, limit);
}

function addRow(rows: Map<string, PathRow>, path: readonly string[], revenue: number): void {
  const collapsed = collapseRepeats(path);
  const key = pathKey(collapsed);
  const row = rows.get(key);
  rows.set(key, {
    key,
    path: collapsed,
    count: (row?.count ?? 0) + 1,
    revenue: (row?.revenue ?? 0) + revenue,
  });
}

export function pathReport(journeys: Iterable<PathJourney>, limit = 10): PathReport {
  const converting = new Map<string, PathRow>();
  const nonConverting = new Map<string, PathRow>();
  let conversions = 0;
  let touches = 0;
  let timed = 0;
  let timeToConversion = 0;
  let unattributed = 0;
  for (const journey of journeys) {
    if (journey.conversionAt === null) {
      if (journey.path.length > 0) addRow(nonConverting, journey.path, 0);
      continue;
    }
    if (journey.path.length === 0) {
      unattributed += 1;
      continue;
    }
    addRow(converting, journey.path, journey.revenue ?? 0);
    conversions += 1;
    touches += journey.path.length;
    if (journey.firstTouchAt !== null) {
      timed += 1;
      timeToConversion += journey.conversionAt - journey.firstTouchAt;
    }
  }
  return {
    converting: topRows(converting, limit),
    nonConverting: topRows(nonConverting, limit),
    averagePathLength: conversions === 0 ? null : touches / conversions,
    averageTimeToConversionMs: timed === 0 ? null : timeToConversion / timed,
    unattributed,
  };
}

/** Aggregates journeys into the path counts the Markov and Shapley models take. */
export function countPaths(journeys: Iterable<PathJourney>): PathCount[] {
  const counts = new Map<
    string,
    { path: string[]; conversions: number; nulls: number; revenue: number }
  >();
  for (const journey of journeys) {
    const path = collapseRepeats(journey.path);
    const key = pathKey(path);
    const count = counts.get(key) ?? { path, conversions: 0, nulls: 0, revenue: 0 };
    if (journey.conversionAt === null) count.nulls += 1;
    else {
      count.conversions += 1;
      count.revenue += journey.revenue ?? 0;
    }
    counts.set(key, count);
  }
  return [...counts.values()];
}
