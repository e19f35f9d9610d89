/**
 * Markov-chain attribution by removal effect (ANALYTICS.md, Attribution).
 *
 * States: start, one per channel (or, for order k > 1, one per tuple of the last k channels,
 * shorter at the start of a path), conversion and null. Transition probabilities come from
 * the path counts, converting and not, after consecutive repeats of a channel are collapsed.
 * P(conversion) is solved exactly from the absorbing chain, (I − Q)x = r, by Gaussian
 * elimination; removing a channel sends every state that contains it to null.
 *
 * Paths without a channel are unattributed: they are left out of the chain and their
 * conversions reported apart. With no conversion (or no removal effect at all) every credit is
 * 0, never NaN.
 */
import { collapseRepeats, type PathCount } from './paths';

export type MarkovOrder = 1 | 2 | 3;

export interface MarkovOptions {
  readonly order?: MarkovOrder;
}

export interface MarkovChannelCredit {
  readonly channel: string;
  readonly removalEffect: number;
  readonly conversions: number;
  /** Null when no path count carries revenue. */
  readonly revenue: number | null;
}

export interface MarkovResult {
  /** P(conversion) from start, with every channel present. */
  readonly conversionProbability: number;
  /** Ordered like the channels' first appearance in the input. */
  readonly channels: readonly MarkovChannelCredit[];
  readonly unattributed: { readonly conversions: number; readonly revenue: number | null };
}

/**
 * The chain is solved densely, once with every channel and once per removed channel:
 * about (channels + 1) · n³ / 3 multiply-adds for n transient states. Beyond this budget
 * (a few seconds) the model is refused rather than left to run for minutes: a higher order
 * over many channels has too many states to solve exactly.
 */
export const maxMarkovWork = 3e9;

export class MarkovChainTooLargeError extends RangeError {
  constructor(
    readonly states: number,
    readonly channels: number,
  ) {
    super(
      `the Markov chain has ${states} states over ${channels} channels, too many to solve exactly; use a lower order or a coarser grouping`,
    );
    this.name = 'MarkovChainTooLargeError';
  }
}

/** Joins a tuple of channels into a state name. */
const SEPARATOR = '\u0000';
/** The fixed states start with the separator, so no channel (tuple) can be named like them. */
const START = `${SEPARATOR}start`;
const CONVERSION = `${SEPARATOR}conversion`;
const NULL = `${SEPARATOR}null`;

interface Chain {
  /** Transient states: start first, then channel states. */
  readonly states: readonly string[];
  /** Channels each transient state contains (none for start). */
  readonly members: readonly (readonly string[])[];
  /** Outgoing transition counts per transient state, by target. */
  readonly counts: readonly Map<string, number>[];
}

function stateOf(path: readonly string[], end: number, order: MarkovOrder): string {
  return path.slice(Math.max(0, end - order + 1), end + 1).join(SEPARATOR);
}

function buildChain(
  paths: readonly { path: string[]; weight: number; conversions: number }[],
  order: MarkovOrder,
): Chain {
  const index = new Map<string, number>([[START, 0]]);
  const states: string[] = [START];
  const members: string[][] = [[]];
  const counts: Map<string, number>[] = [new Map()];
  const stateIndex = (state: string): number => {
    let i = index.get(state);
    if (i === undefined) {
      i = states.length;
      index.set(state, i);
      states.push(state);
      members.push(state.split(SEPARATOR));
      counts.push(new Map());
    }
    return i;
  };
  const add = (from: number, to: string, count: number): void => {
    if (count > 0) counts[from].set(to, (counts[from].get(to) ?? 0) + count);
  };
  for (const { path, weight, conversions } of paths) {
    let from = 0;
    path.forEach((_, end) => {
      const state = stateOf(path, end, order);
      add(from, state, weight);
      from = stateIndex(state);
    });
    add(from, CONVERSION, conversions);
    add(from, NULL, weight - conversions);
  }
  return { states, members, counts };
}

/**
 * Solves A x = b in place by Gaussian elimination with partial pivoting. (I − Q) of an
 * absorbing chain whose every state can reach absorption is non-singular; a zero pivot means
 * the chain was built wrong, so it throws rather than returning garbage.
 */
export function solveLinearSystem(a: number[][], b: number[]): number[] {
  const n = b.length;
  for (let column = 0; column < n; column++) {
    let pivot = column;
    for (let row = column + 1; row < n; row++) {
      if (Math.abs(a[row][column]) > Math.abs(a[pivot][column])) pivot = row;
    }
    if (Math.abs(a[pivot][column]) < 1e-12) throw new Error('singular linear system');
    [a[column], a[pivot]] = [a[pivot], a[column]];
    [b[column], b[pivot]] = [b[pivot], b[column]];
    for (let row = column + 1; row < n; row++) {
      const factor = a[row][column] / a[column][column];
      if (factor === 0) continue;
      for (let k = column; k < n; k++) a[row][k] -= factor * a[column][k];
      b[row] -= factor * b[column];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let row = n - 1; row >= 0; row--) {
    let sum = b[row];
    for (let k = row + 1; k < n; k++) sum -= a[row][k] * x[k];
    x[row] = sum / a[row][row];
  }
  return x;
}

/** P(reaching conversion from start), with the states containing `removed` sent to null. */
function conversionProbability(chain: Chain, removed: string | null): number {
  const n = chain.states.length;
  const position = new Map(chain.states.map((state, i) => [state, i]));
  const a = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)),
  );
  const b = new Array<number>(n).fill(0);
  chain.counts.forEach((targets, from) => {
    if (removed !== null && chain.members[from].includes(removed)) return;
    let total = 0;
    for (const count of targets.values()) total += count;
    for (const [target, count] of targets) {
      if (target === CONVERSION) b[from] += count / total;
      else if (target !== NULL) a[from][position.get(target)!] -= count / total;
    }
  });
  return solveLinearSystem(a, b)[0];
}

function assertCount(value: number, what: string): void {
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`${what} must be ≥ 0, got ${value}`);
}

export function markovAttribution(
  pathCounts: readonly PathCount[],
  options: MarkovOptions = {},
): MarkovResult {
  const order = options.order ?? 1;
  const withRevenue = pathCounts.some((count) => count.revenue !== undefined);
  const channels: string[] = [];
  const seen = new Set<string>();
  const paths: { path: string[]; weight: number; conversions: number }[] = [];
  let conversions = 0;
  let revenue = 0;
  let unattributedConversions = 0;
  let unattributedRevenue = 0;
  for (const count of pathCounts) {
    assertCount(count.conversions, 'conversions');
    assertCount(count.nulls, 'nulls');
    const path = collapseRepeats(count.path);
    if (path.length === 0) {
      unattributedConversions += count.conversions;
      unattributedRevenue += count.revenue ?? 0;
      continue;
    }
    for (const channel of path) {
      if (!seen.has(channel)) channels.push(channel);
      seen.add(channel);
    }
    conversions += count.conversions;
    revenue += count.revenue ?? 0;
    const weight = count.conversions + count.nulls;
    if (weight > 0) paths.push({ path, weight, conversions: count.conversions });
  }

  const chain = buildChain(paths, order);
  const n = chain.states.length;
  if (((channels.length + 1) * n ** 3) / 3 > maxMarkovWork) {
    throw new MarkovChainTooLargeError(n, channels.length);
  }
  const base = conversions === 0 ? 0 : conversionProbability(chain, null);
  const removalEffects = channels.map((channel) =>
    base === 0 ? 0 : Math.max(0, 1 - conversionProbability(chain, channel) / base),
  );
  const totalEffect = removalEffects.reduce((sum, effect) => sum + effect, 0);
  const share = (i: number): number => (totalEffect === 0 ? 0 : removalEffects[i] / totalEffect);
  return {
    conversionProbability: base,
    channels: channels.map((channel, i) => ({
      channel,
      removalEffect: removalEffects[i],
      conversions: conversions * share(i),
      revenue: withRevenue ? revenue * share(i) : null,
    })),
    unattributed: {
      conversions: unattributedConversions,
      revenue: withRevenue ? unattributedRevenue : null,
    },
  };
}
