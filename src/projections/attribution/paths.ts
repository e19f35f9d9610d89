/**
 * Channel paths: the input of the data-driven models (Markov, Shapley); the path report over
 * the read model is `pathsReport` in attribution-query.ts.
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
