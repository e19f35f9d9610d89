/**
 * Shapley-value attribution (ANALYTICS.md, Attribution). The worth v(S) of a set of channels
 * is the conversions (and revenue) of the journeys whose channels all lie in S; each channel
 * gets its Shapley value, and the values add up to the total.
 *
 * Two exact computations:
 * - `shapleyByEnumeration`: the textbook formula over all 2^n coalitions with the weights
 *   |S|!(n − |S| − 1)!/n!. It costs n·2^n time and 2^n memory, so it refuses more than
 *   `maxEnumeratedChannels` (15) channels with a RangeError.
 * - `shapleyByChannelSets`: this worth is a sum of unanimity games, one per distinct channel
 *   set T present, weighted by T's conversions; the Shapley value of such a game gives each
 *   member of T an equal part. So φ_c = Σ_{T ∋ c} v_T / |T|, exact for any number of channels
 *   in time linear in the input.
 * `shapleyAttribution` enumerates up to the limit and uses the channel-set formula above it;
 * both agree (the tests check it), the enumeration stays as the reference definition.
 *
 * Journeys without a channel are unattributed: they would make v(∅) > 0, which no channel
 * earns, so they are left out and reported apart.
 */
import type { PathCount } from './paths';

export const maxEnumeratedChannels = 15;

export interface ShapleyChannelCredit {
  readonly channel: string;
  readonly conversions: number;
  readonly revenue: number;
}

export interface ShapleyResult {
  /** Ordered like the channels' first appearance in the input. */
  readonly channels: readonly ShapleyChannelCredit[];
  readonly unattributed: { readonly conversions: number; readonly revenue: number };
}

interface Coalitions {
  readonly channels: readonly string[];
  /** Distinct channel sets, as sorted indexes into `channels`, with their worth. */
  readonly sets: readonly {
    readonly members: readonly number[];
    conversions: number;
    revenue: number;
  }[];
  readonly unattributed: { conversions: number; revenue: number };
}

function coalitions(pathCounts: readonly PathCount[]): Coalitions {
  const channels: string[] = [];
  const channelIndex = new Map<string, number>();
  const sets = new Map<string, { members: number[]; conversions: number; revenue: number }>();
  const unattributed = { conversions: 0, revenue: 0 };
  for (const count of pathCounts) {
    if (!Number.isFinite(count.conversions) || count.conversions < 0) {
      throw new RangeError(`conversions must be ≥ 0, got ${count.conversions}`);
    }
    if (count.path.length === 0) {
      unattributed.conversions += count.conversions;
      unattributed.revenue += count.revenue ?? 0;
      continue;
    }
    const members = new Set<number>();
    for (const channel of count.path) {
      let i = channelIndex.get(channel);
      if (i === undefined) {
        i = channels.length;
        channelIndex.set(channel, i);
        channels.push(channel);
      }
      members.add(i);
    }
    const sorted = [...members].sort((a, b) => a - b);
    const key = sorted.join(',');
    const set = sets.get(key) ?? { members: sorted, conversions: 0, revenue: 0 };
    set.conversions += count.conversions;
    set.revenue += count.revenue ?? 0;
    sets.set(key, set);
  }
  return { channels, sets: [...sets.values()], unattributed };
}

function result(
  input: Coalitions,
  conversions: readonly number[],
  revenue: readonly number[],
): ShapleyResult {
  return {
    channels: input.channels.map((channel, i) => ({
      channel,
      conversions: conversions[i],
      revenue: revenue[i],
    })),
    unattributed: { ...input.unattributed },
  };
}

export function shapleyByChannelSets(pathCounts: readonly PathCount[]): ShapleyResult {
  const input = coalitions(pathCounts);
  const conversions = new Array<number>(input.channels.length).fill(0);
  const revenue = new Array<number>(input.channels.length).fill(0);
  for (const set of input.sets) {
    for (const member of set.members) {
      conversions[member] += set.conversions / set.members.length;
      revenue[member] += set.revenue / set.members.length;
    }
  }
  return result(input, conversions, revenue);
}

export function shapleyByEnumeration(pathCounts: readonly PathCount[]): ShapleyResult {
  const input = coalitions(pathCounts);
  const n = input.channels.length;
  if (n > maxEnumeratedChannels) {
    throw new RangeError(
      `Shapley enumeration is limited to ${maxEnumeratedChannels} channels, got ${n}`,
    );
  }
  const size = 1 << n;
  // v(S) = Σ of the sets T ⊆ S: put each set's worth on its own mask, then sum over subsets.
  const worthConversions = new Float64Array(size);
  const worthRevenue = new Float64Array(size);
  for (const set of input.sets) {
    const mask = set.members.reduce((bits, member) => bits | (1 << member), 0);
    worthConversions[mask] += set.conversions;
    worthRevenue[mask] += set.revenue;
  }
  for (let bit = 0; bit < n; bit++) {
    for (let mask = 0; mask < size; mask++) {
      if (mask & (1 << bit)) {
        worthConversions[mask] += worthConversions[mask ^ (1 << bit)];
        worthRevenue[mask] += worthRevenue[mask ^ (1 << bit)];
      }
    }
  }
  // weight[s] = s!(n − s − 1)!/n!, built as a product to stay finite.
  const weight = new Array<number>(n).fill(0);
  for (let s = 0; s < n; s++) {
    let w = 1 / n;
    for (let k = 1; k <= s; k++) w *= k / (n - k);
    weight[s] = w;
  }
  const popcount = new Uint8Array(size);
  for (let mask = 1; mask < size; mask++) popcount[mask] = popcount[mask >> 1] + (mask & 1);
  const conversions = new Array<number>(n).fill(0);
  const revenue = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    const bit = 1 << i;
    for (let mask = 0; mask < size; mask++) {
      if (mask & bit) continue;
      const w = weight[popcount[mask]];
      conversions[i] += w * (worthConversions[mask | bit] - worthConversions[mask]);
      revenue[i] += w * (worthRevenue[mask | bit] - worthRevenue[mask]);
    }
  }
  return result(input, conversions, revenue);
}

export function shapleyAttribution(pathCounts: readonly PathCount[]): ShapleyResult {
  const channels = new Set(pathCounts.flatMap((count) => count.path));
  return channels.size <= maxEnumeratedChannels
    ? shapleyByEnumeration(pathCounts)
    : shapleyByChannelSets(pathCounts);
}
