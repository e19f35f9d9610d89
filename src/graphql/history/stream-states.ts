/**
 * An aggregate's history as its decider sees it: the state after each event, folded with the
 * domain's own `evolve` (no second implementation), shown as JSON.
 */
import { campaignDecider, campaignStreamPrefix } from '../../domain/campaign';
import { experimentDecider, experimentStreamPrefix } from '../../domain/experiment';
import { funnelDecider, funnelStreamPrefix } from '../../domain/funnel';
import { segmentDecider, segmentStreamPrefix } from '../../domain/segment';
import type { Decider, DomainEvent, RecordedEvent } from '../../domain/shared/events';

/** What folding needs of a decider, whatever its command, event and state types. */
interface Fold {
  readonly initialState: () => unknown;
  readonly evolve: (state: unknown, event: DomainEvent) => unknown;
}

function fold<Event extends DomainEvent, State>(decider: Decider<never, Event, State>): Fold {
  return decider as unknown as Fold;
}

const folds: readonly (readonly [string, Fold])[] = [
  [campaignStreamPrefix, fold(campaignDecider)],
  [funnelStreamPrefix, fold(funnelDecider)],
  [experimentStreamPrefix, fold(experimentDecider)],
  [segmentStreamPrefix, fold(segmentDecider)],
];

export interface StreamStep {
  readonly event: RecordedEvent;
  /** JSON of the state after the event; null for streams without a decider. */
  readonly state: unknown;
}

export function streamSteps(streamId: string, events: readonly RecordedEvent[]): StreamStep[] {
  const decider = folds.find(([prefix]) => streamId.startsWith(prefix))?.[1];
  if (decider === undefined) return events.map((event) => ({ event, state: null }));
  let state = decider.initialState();
  return events.map((event) => {
    state = decider.evolve(state, { type: event.type, data: event.data });
    return { event, state: toJson(state) };
  });
}

/** Plain JSON of a state: maps as objects, sets as arrays, 64-bit numbers as strings. */
export function toJson(value: unknown): unknown {
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (item instanceof Map) return Object.fromEntries(item);
    if (item instanceof Set) return [...item];
    if (typeof item === 'bigint') return item.toString();
    return item;
  }) as string | undefined;
  return text === undefined ? null : (JSON.parse(text) as unknown);
}
