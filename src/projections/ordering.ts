/** Orders the projections sort by, one definition for every read model. */

/** Code-unit order of two strings (locale-independent, so ties break the same everywhere). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
