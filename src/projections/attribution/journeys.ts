/**
 * A person's journeys (ANALYTICS.md, Attribution), from their sessions and conversions:
 * - each conversion's journey is the sessions that started inside its lookback window
 *   [at − lookback, at], both ends included (the session in progress at the conversion
 *   counts; one that starts after it does not); a later conversion may reuse sessions;
 * - the sessions no conversion's window includes form non-converting (null) journeys.
 *
 * Where ANALYTICS.md is silent (its "as of T" rule, made something a read model can keep):
 * unconverted sessions are taken oldest first, and one null journey gathers the sessions
 * that fit in one lookback window from its first session, so each null journey is what a
 * conversion right after its last session would have seen. It counts as null from the instant
 * its lookback expires (its last session's start + lookback): from then on no conversion can
 * claim any of its sessions. Before that it is pending and counted nowhere; a conversion in
 * time turns its sessions into a converting journey instead.
 */
import {
  DAY_MS,
  defaultHalfLifeMs,
  ruleBasedModels,
  timeDecay,
  type Journey,
  type RuleBasedModelName,
  type Touch,
} from './models';
import { compareText } from '../ordering';

export const defaultLookbackMs = 30 * DAY_MS;
export const maxLookbackMs = 365 * DAY_MS;

export interface AttributionSettings {
  /** How far before a conversion a session may start and still be in its journey. */
  readonly lookbackMs: number;
  /** Time decay's half-life. */
  readonly halfLifeMs: number;
}

export const defaultAttributionSettings: AttributionSettings = {
  lookbackMs: defaultLookbackMs,
  halfLifeMs: defaultHalfLifeMs,
};

/** One conversion of a person, counted once per order id (or message id without one). */
export interface PersonConversion {
  /** `order:<orderId>` or `message:<messageId>`: unique per person. */
  readonly key: string;
  readonly orderId: string | null;
  readonly messageId: string;
  /** Event time, ms. */
  readonly at: number;
  /** Integer minor units of `currency`. */
  readonly revenueMinor: number;
  readonly currency: string;
}

export const ruleBasedModelNames = Object.keys(ruleBasedModels) as RuleBasedModelName[];

export type ModelShares = Readonly<Record<RuleBasedModelName, readonly number[]>>;

export interface ConversionJourney {
  readonly conversion: PersonConversion;
  /** Oldest first; empty: the conversion is unattributed. */
  readonly touches: readonly Touch[];
  /** Every rule-based model's shares of the touches (each adds to 1; empty without touches). */
  readonly shares: ModelShares;
}

export interface NullJourney {
  /** Oldest first, never empty. */
  readonly touches: readonly Touch[];
  /** The last touch's time + lookback: when the journey counts as null. */
  readonly expiresAt: number;
}

export interface PersonJourneys {
  /** In conversion time order (ties by key). */
  readonly conversions: readonly ConversionJourney[];
  /** Oldest first. */
  readonly nulls: readonly NullJourney[];
}

export function checkSettings(settings: AttributionSettings): void {
  const { lookbackMs, halfLifeMs } = settings;
  if (!(lookbackMs > 0 && lookbackMs <= maxLookbackMs)) {
    throw new RangeError(`lookback must be in (0, 365 days], got ${lookbackMs} ms`);
  }
  if (!(halfLifeMs > 0 && Number.isFinite(halfLifeMs))) {
    throw new RangeError(`half-life must be positive, got ${halfLifeMs} ms`);
  }
}

/** Every rule-based model's shares of one journey, time decay with the given half-life. */
export function modelShares(journey: Journey, halfLifeMs: number): ModelShares {
  const shares = {} as Record<RuleBasedModelName, readonly number[]>;
  for (const name of ruleBasedModelNames) {
    shares[name] =
      name === 'time_decay' ? timeDecay(journey, halfLifeMs) : ruleBasedModels[name](journey);
  }
  return shares;
}

/**
 * The journeys of one person. `touches` must be sorted by time (ties in a fixed order, e.g.
 * by first hit id); conversions may come in any order.
 */
export function personJourneys(
  touches: readonly Touch[],
  conversions: readonly PersonConversion[],
  settings: AttributionSettings,
): PersonJourneys {
  const { lookbackMs, halfLifeMs } = settings;
  const claimed = new Set<number>();
  const converting = [...conversions]
    .sort((a, b) => a.at - b.at || compareText(a.key, b.key))
    .map((conversion): ConversionJourney => {
      const inWindow: Touch[] = [];
      touches.forEach((touch, index) => {
        if (touch.at >= conversion.at - lookbackMs && touch.at <= conversion.at) {
          inWindow.push(touch);
          claimed.add(index);
        }
      });
      const journey: Journey = {
        conversionAt: conversion.at,
        revenue: conversion.revenueMinor,
        touches: inWindow,
      };
      return { conversion, touches: inWindow, shares: modelShares(journey, halfLifeMs) };
    });

  const nulls: NullJourney[] = [];
  let current: Touch[] = [];
  const close = () => {
    if (current.length === 0) return;
    nulls.push({ touches: current, expiresAt: current[current.length - 1].at + lookbackMs });
    current = [];
  };
  touches.forEach((touch, index) => {
    if (claimed.has(index)) return;
    if (current.length > 0 && touch.at - current[0].at > lookbackMs) close();
    current.push(touch);
  });
  close();
  return { conversions: converting, nulls };
}
