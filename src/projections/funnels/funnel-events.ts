/**
 * A funnel definition compiled for the hot path: for a tracked `page` or `track` call, which
 * steps and exclusions it matches, its breakdown value, and whether it may start an attempt.
 * The live projection and the ad-hoc analysis both read events through this, so the matching
 * rules have one implementation.
 *
 * Property paths (step filters, exclusions, breakdown) read the call's `properties`
 * (`plan`, `items.0.sku`), or, with a `$` name, the call itself (PostHog's convention):
 * `$utm_source` `$utm_medium` `$utm_campaign` `$utm_term` `$utm_content` (the UTM values),
 * `$referrer` `$url` `$path` `$title` (the page context), `$page_name` (a page call's name).
 *
 * Campaign scope: an attempt counts for a campaign-scoped funnel only when its step-1 event
 * belongs to the campaign: its `campaign_id` property or its UTM campaign value is the
 * campaign's id (a campaign's UTM value is its id, ANALYTICS.md).
 */
import { compileCondition, readPath, type PropertyCondition } from '../../domain/shared/conditions';
import {
  pageViewEventName,
  type FunnelDefinition,
  type FunnelStep,
} from '../../domain/funnel/funnel.events';
import type {
  EventTracked,
  JsonValue,
  PageViewed,
  TrackingEvent,
} from '../../domain/tracking/tracking.events';
import type { FunnelEvent, MatchingRules } from './matching';

export type BehaviouralEvent = PageViewed | EventTracked;

/** A page or track call: behaviour, where identify and alias are bookkeeping. */
export function isBehavioural(event: TrackingEvent): event is BehaviouralEvent {
  return event.type === 'PageViewed' || event.type === 'EventTracked';
}

/** A saved funnel at one version, or an ad-hoc one. */
export interface FunnelVersion {
  readonly workspaceId: string;
  readonly funnelId: string;
  readonly version: number;
  readonly definition: FunnelDefinition;
}

/** Step-1 times an analysis is restricted to (ms, both ends included). */
export interface StartRange {
  readonly from: number;
  readonly to: number;
}

export interface CompiledFunnel extends FunnelVersion {
  readonly rules: MatchingRules;
  /** Reads a call: null when it matters to no step, exclusion or (strict) attempt. */
  read(event: BehaviouralEvent, time: number): FunnelEvent | null;
}

type Predicate = (event: BehaviouralEvent) => boolean;

/** What the matching rules read of a definition. */
export function matchingRules(definition: FunnelDefinition): MatchingRules {
  return {
    stepCount: definition.steps.length,
    order: definition.order,
    windowMs: definition.windowSeconds * 1000,
    exclusions: definition.exclusions.map(({ fromStep, toStep }) => ({ fromStep, toStep })),
    breakdownFrom: definition.breakdown?.attribution ?? null,
  };
}

export function compileFunnel(
  funnel: FunnelVersion,
  range: StartRange | null = null,
): CompiledFunnel {
  const { definition } = funnel;
  const rules = matchingRules(definition);
  const { windowMs } = rules;
  const stepMatchers = matchersByEvent(definition.steps);
  const exclusionMatchers = matchersByEvent(definition.exclusions);
  const strict = definition.order === 'strict';
  const breakdownPath = definition.breakdown?.property ?? null;
  const campaignId = definition.campaignId;
  return {
    ...funnel,
    rules,
    read(event, time) {
      if (range !== null && !isInRange(time, range, windowMs)) return null;
      const name = eventName(event);
      const steps = mask(stepMatchers.get(name), event);
      const exclusions = mask(exclusionMatchers.get(name), event);
      if (steps === 0 && exclusions === 0 && !strict) return null;
      return {
        time,
        id: event.data.messageId,
        steps,
        exclusions,
        breakdown:
          breakdownPath === null ? null : breakdownValue(readEventProperty(event, breakdownPath)),
        inScope:
          (range === null || startsInRange(time, range)) &&
          (campaignId === null || belongsToCampaign(event, campaignId)),
      };
    },
  };
}

/** Events that can matter to attempts starting in the range: up to a window after its end. */
export function isInRange(time: number, range: StartRange, windowMs: number): boolean {
  return time >= range.from && time <= range.to + windowMs;
}

/** An attempt may start at this time. */
export function startsInRange(time: number, range: StartRange): boolean {
  return time >= range.from && time <= range.to;
}

/** Stored events seen as an analysis restricted to `range` reads them (compileFunnel's `read`). */
export function restrictToRange(
  events: readonly FunnelEvent[],
  range: StartRange,
  windowMs: number,
): FunnelEvent[] {
  return events
    .filter(({ time }) => isInRange(time, range, windowMs))
    .map((event) =>
      event.inScope && !startsInRange(event.time, range) ? { ...event, inScope: false } : event,
    );
}

export function eventName(event: BehaviouralEvent): string {
  return event.type === 'PageViewed' ? pageViewEventName : event.data.event;
}

export function readEventProperty(event: BehaviouralEvent, path: string): JsonValue | undefined {
  if (!path.startsWith('$')) return readPath(event.data.properties, path);
  const { campaign, page } = event.data;
  switch (path) {
    case '$utm_source':
      return campaign?.source ?? undefined;
    case '$utm_medium':
      return campaign?.medium ?? undefined;
    case '$utm_campaign':
      return campaign?.name ?? undefined;
    case '$utm_term':
      return campaign?.term ?? undefined;
    case '$utm_content':
      return campaign?.content ?? undefined;
    case '$referrer':
      return page?.referrer ?? undefined;
    case '$url':
      return page?.url ?? undefined;
    case '$path':
      return page?.path ?? undefined;
    case '$title':
      return page?.title ?? undefined;
    case '$page_name':
      return event.type === 'PageViewed' ? (event.data.name ?? undefined) : undefined;
    default:
      return readPath(event.data.properties, path);
  }
}

/** A breakdown groups by text: strings as sent, numbers and booleans written out, else none. */
export function breakdownValue(value: JsonValue | undefined): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function belongsToCampaign(event: BehaviouralEvent, campaignId: string): boolean {
  const named = event.data.properties['campaign_id'];
  if (named === campaignId || (typeof named === 'number' && String(named) === campaignId))
    return true;
  return event.data.campaign?.name?.trim() === campaignId;
}

/** Per event name, the (bit, predicate) pairs of the steps or exclusions with that name. */
function matchersByEvent(
  steps: readonly FunnelStep[],
): Map<string, { bit: number; matches: Predicate }[]> {
  const byEvent = new Map<string, { bit: number; matches: Predicate }[]>();
  steps.forEach((step, index) => {
    const list = byEvent.get(step.event) ?? [];
    list.push({ bit: 1 << index, matches: compileFilters(step.filters) });
    byEvent.set(step.event, list);
  });
  return byEvent;
}

function compileFilters(filters: readonly PropertyCondition[]): Predicate {
  const compiled = filters.map((filter) => ({
    path: filter.property,
    holds: compileCondition(filter),
  }));
  if (compiled.length === 0) return () => true;
  return (event) => compiled.every(({ path, holds }) => holds(readEventProperty(event, path)));
}

function mask(
  matchers: readonly { bit: number; matches: Predicate }[] | undefined,
  event: BehaviouralEvent,
): number {
  if (matchers === undefined) return 0;
  let bits = 0;
  for (const { bit, matches } of matchers) if (matches(event)) bits |= bit;
  return bits;
}
