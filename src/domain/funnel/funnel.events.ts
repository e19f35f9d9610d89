/**
 * A funnel's definition and the events of its life. A definition is immutable once recorded:
 * an update records a whole new version, so a report can always say which version it counts.
 */
import type { DomainEvent } from '../shared/events';
import type { PropertyCondition } from '../shared/conditions';

export const funnelOrders = ['ordered', 'strict', 'unordered'] as const;
export type FunnelOrder = (typeof funnelOrders)[number];

export const breakdownAttributions = ['first_step', 'last_step'] as const;
export type BreakdownAttribution = (typeof breakdownAttributions)[number];

/** `$pageview` names every `page` (and `screen`) call; any other name is a `track` event's. */
export const pageViewEventName = '$pageview';

export interface FunnelStep {
  /** A `track` event name as sent, or `$pageview`. */
  readonly event: string;
  /** All must hold (AND) on the event's properties. */
  readonly filters: readonly PropertyCondition[];
}

export interface FunnelExclusion extends FunnelStep {
  /** 1-based step numbers: the exclusion applies between these steps of an attempt. */
  readonly fromStep: number;
  readonly toStep: number;
}

export interface FunnelBreakdown {
  /** A property path of the event (`plan`, `$utm_source`, …); see funnel-events.ts. */
  readonly property: string;
  /** Read from the step-1 event (first touch) or from the last step reached. */
  readonly attribution: BreakdownAttribution;
}

export interface FunnelDefinition {
  readonly name: string;
  readonly steps: readonly FunnelStep[];
  readonly order: FunnelOrder;
  /** The conversion window from the step-1 time, end included. */
  readonly windowSeconds: number;
  readonly exclusions: readonly FunnelExclusion[];
  readonly breakdown: FunnelBreakdown | null;
  /** Only attempts whose step-1 event belongs to this campaign count. */
  readonly campaignId: string | null;
}

export type FunnelCreated = DomainEvent<
  'FunnelCreated',
  {
    readonly funnelId: string;
    readonly version: number;
    readonly definition: FunnelDefinition;
    readonly createdAt: string;
  }
>;

export type FunnelUpdated = DomainEvent<
  'FunnelUpdated',
  {
    readonly funnelId: string;
    readonly version: number;
    readonly definition: FunnelDefinition;
    readonly updatedAt: string;
  }
>;

export type FunnelArchived = DomainEvent<
  'FunnelArchived',
  { readonly funnelId: string; readonly archivedAt: string }
>;

export type FunnelEvent = FunnelCreated | FunnelUpdated | FunnelArchived;

export const funnelEventTypes = [
  'FunnelCreated',
  'FunnelUpdated',
  'FunnelArchived',
] as const satisfies readonly FunnelEvent['type'][];
