/**
 * Rule-based multi-touch attribution (ANALYTICS.md, Attribution): each model turns one
 * journey into per-touch shares of its conversion that add up to 1. An empty journey gets no
 * shares; the caller reports its conversion as unattributed, never drops it.
 */

export const DAY_MS = 24 * 60 * 60 * 1000;
export const defaultHalfLifeMs = 7 * DAY_MS;
export const directChannel = 'direct';

export interface Touch {
  /** Session start, ms since the epoch. */
  readonly at: number;
  readonly channel: string;
  readonly campaign: string | null;
  readonly source: string | null;
  readonly medium: string | null;
}

export interface Journey {
  readonly conversionAt: number;
  readonly revenue: number;
  /** Sessions inside the lookback window, oldest first; empty = unattributed. */
  readonly touches: readonly Touch[];
}

/** One share per touch, in the journey's order. */
export type Shares = readonly number[];
export type AttributionModel = (journey: Journey) => Shares;

function soleShare(count: number, index: number): number[] {
  return Array.from({ length: count }, (_, i) => (i === index ? 1 : 0));
}

export function firstTouch(journey: Journey): Shares {
  return journey.touches.length === 0 ? [] : soleShare(journey.touches.length, 0);
}

export function lastTouch(journey: Journey): Shares {
  const count = journey.touches.length;
  return count === 0 ? [] : soleShare(count, count - 1);
}

/** The last touch that is not direct; the last (direct) touch when all are direct. */
export function lastNonDirect(journey: Journey): Shares {
  const { touches } = journey;
  if (touches.length === 0) return [];
  let index = touches.length - 1;
  for (let i = touches.length - 1; i >= 0; i--) {
    if (touches[i].channel !== directChannel) {
      index = i;
      break;
    }
  }
  return soleShare(touches.length, index);
}

export function linear(journey: Journey): Shares {
  const count = journey.touches.length;
  return Array.from({ length: count }, () => 1 / count);
}

/** 40 % first, 40 % last, 20 % spread over the middle (U-shaped). */
export function positionBased(journey: Journey): Shares {
  const count = journey.touches.length;
  if (count <= 2) return linear(journey);
  const middle = 0.2 / (count - 2);
  return Array.from({ length: count }, (_, i) => (i === 0 || i === count - 1 ? 0.4 : middle));
}

/**
 * Weight 2^(−Δt/h) with Δt = conversionAt − touch.at, normalised. The exponent is taken
 * relative to the latest touch, which cancels in the normalisation but keeps touches far
 * older than the half-life from all underflowing to 0.
 */
export function timeDecay(journey: Journey, halfLifeMs: number = defaultHalfLifeMs): Shares {
  if (!(halfLifeMs > 0)) throw new RangeError(`half-life must be positive, got ${halfLifeMs}`);
  const { touches } = journey;
  if (touches.length === 0) return [];
  const ages = touches.map((touch) => journey.conversionAt - touch.at);
  const youngest = Math.min(...ages);
  const weights = ages.map((age) => 2 ** (-(age - youngest) / halfLifeMs));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return weights.map((weight) => weight / total);
}

export const ruleBasedModels = {
  first_touch: firstTouch,
  last_touch: lastTouch,
  last_non_direct: lastNonDirect,
  linear,
  position_based: positionBased,
  time_decay: (journey: Journey) => timeDecay(journey),
} as const satisfies Record<string, AttributionModel>;
export type RuleBasedModelName = keyof typeof ruleBasedModels;

/** What a touch is credited under. */
export type CreditKey = (touch: Touch) => string;

/** Google Analytics' placeholders for a missing value. */
export const notSet = '(not set)';
export const byChannel: CreditKey = (touch) => touch.channel;
export const byCampaign: CreditKey = (touch) => touch.campaign ?? notSet;
export const bySourceMedium: CreditKey = (touch) =>
  `${touch.source ?? '(direct)'} / ${touch.medium ?? '(none)'}`;
