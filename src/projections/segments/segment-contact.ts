/**
 * A contact as segment conditions read it: the profile the contacts read model builds (traits,
 * conversions, revenue, last seen) and the behavioural events the segments read model keeps
 * beside it. Pure functions.
 *
 * - Behavioural events are `track` calls under their name and `page` calls under `$pageview`,
 *   as funnel steps name them; identify and alias are bookkeeping, not behaviour.
 * - An event's properties are the call's properties plus the `$` names of the call that are
 *   set (`$utm_source`, `$url`, …, as funnel filters read them), so a segment can filter on
 *   where the event came from.
 * - Revenue is compared in major units (USD 12.50 is 12.5), per currency.
 */
import type { SegmentContact } from '../../domain/segment/condition-tree';
import { currencyFractionDigits } from '../../domain/shared/money';
import type { JsonObject } from '../../domain/tracking/tracking.events';
import { eventName, readEventProperty, type BehaviouralEvent } from '../funnels/funnel-events';
import type { SegmentContactDocument, SegmentContactEvent } from './segment-documents';

const callProperties = [
  '$utm_source',
  '$utm_medium',
  '$utm_campaign',
  '$utm_term',
  '$utm_content',
  '$referrer',
  '$url',
  '$path',
  '$title',
  '$page_name',
] as const;

/** The event as a segment keeps it. */
export function segmentEventOf(event: BehaviouralEvent): SegmentContactEvent {
  const properties: Record<string, JsonObject[string]> = { ...event.data.properties };
  for (const name of callProperties) {
    const value = readEventProperty(event, name);
    if (value !== undefined && value !== null) properties[name] = value;
  }
  return { name: eventName(event), at: Date.parse(event.data.occurredAt), properties };
}

/** Both profiles' events, in time order (two profiles of one person never share an event). */
export function mergeEvents(
  kept: readonly SegmentContactEvent[],
  absorbed: readonly SegmentContactEvent[],
): SegmentContactEvent[] {
  return [...kept, ...absorbed].sort((a, b) => a.at - b.at);
}

/** Adds one event, keeping time order (late events are rare: a scan from the end). */
export function withEvent(
  events: readonly SegmentContactEvent[],
  event: SegmentContactEvent,
): SegmentContactEvent[] {
  let index = events.length;
  while (index > 0 && events[index - 1].at > event.at) index -= 1;
  return [...events.slice(0, index), event, ...events.slice(index)];
}

/** The parts of a profile that conditions read. */
export type SegmentContactSource = Pick<
  SegmentContactDocument,
  'traits' | 'events' | 'revenue' | 'conversions' | 'lastSeenAt'
>;

/**
 * The contact as `evaluate` takes it: revenue per currency in major units (USD 1500.50 is
 * 1500.5, JPY 1500 is 1500), last seen in milliseconds. A field a read left out reads as empty.
 */
export function segmentContactOf(document: Partial<SegmentContactSource>): SegmentContact {
  const revenueByCurrency: Record<string, number> = {};
  for (const money of document.revenue ?? []) {
    revenueByCurrency[money.currency] =
      money.amountMinor / 10 ** currencyFractionDigits(money.currency);
  }
  const lastSeenAt = document.lastSeenAt == null ? null : Date.parse(document.lastSeenAt);
  return {
    traits: document.traits ?? {},
    events: document.events ?? [],
    revenueByCurrency,
    conversions: document.conversions ?? 0,
    lastSeenAt: lastSeenAt === null || Number.isNaN(lastSeenAt) ? null : lastSeenAt,
  };
}
