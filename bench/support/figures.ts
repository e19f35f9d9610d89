/** How the benchmarks state their figures. */

/** The nearest-rank percentile (`p` from 0 to 100) of the values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A rate or count, rounded, with thousands separators: `22,800`. */
export function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
