/**
 * An A/B experiment's definition and the events of its life: created and edited as a draft,
 * started (phase 1), re-weighted while running (each change starts a new phase, analysed
 * apart), stopped with a decision, and its winner applied to the campaign it belongs to.
 */
import type { DomainEvent } from '../shared/events';
import type { JsonObject } from '../tracking/tracking.events';
import type { Correction, MetricType } from './statistics';

/** The part of a campaign an experiment varies. */
export const experimentSurfaces = ['CAMPAIGN', 'EMAIL', 'LANDING_PAGE', 'CTA'] as const;
export type ExperimentSurfaceKind = (typeof experimentSurfaces)[number];

export const analysisMethods = ['frequentist', 'bayesian', 'sequential'] as const;
export type AnalysisMethod = (typeof analysisMethods)[number];

/** How p-values are adjusted when there is more than one treatment or metric. */
export const corrections = ['holm', 'benjamini-hochberg'] as const satisfies readonly Correction[];
export type ExperimentCorrection = (typeof corrections)[number];

export const metricKinds = ['conversion', 'value'] as const satisfies readonly MetricType[];
export type MetricKind = (typeof metricKinds)[number];

export interface ExperimentSurface {
  readonly kind: ExperimentSurfaceKind;
  /** Which one of that kind, e.g. EMAIL `welcome-email`; null for the campaign as a whole. */
  readonly ref: string | null;
}

export interface ExperimentVariant {
  /** A slug, unique within the experiment; the first variant is the control. */
  readonly key: string;
  readonly name: string;
  /** Percent of the units, > 0, at most 2 decimals; the weights sum to exactly 100. */
  readonly weight: number;
  /** What the variant shows (at most 16 KiB as JSON); applied to the campaign if it wins. */
  readonly content: JsonObject;
}

export interface ExperimentMetric {
  /** A slug, unique across the primary, secondary and guardrail metrics. */
  readonly key: string;
  readonly name: string;
  readonly kind: MetricKind;
  /** A track event name, e.g. `Order Completed`, or `$pageview`. */
  readonly event: string;
  /** Value metrics: the numeric property summed per unit, e.g. `revenue`; null for conversion. */
  readonly property: string | null;
  readonly higherIsBetter: boolean;
}

export interface ExperimentDefinition {
  readonly name: string;
  readonly hypothesis: string;
  /** The campaign the experiment belongs to, whose content its winner replaces. */
  readonly campaignId: string;
  readonly surface: ExperimentSurface;
  /** 2 to 10; the first is the control. */
  readonly variants: readonly ExperimentVariant[];
  readonly primaryMetric: ExperimentMetric;
  readonly secondaryMetrics: readonly ExperimentMetric[];
  readonly guardrailMetrics: readonly ExperimentMetric[];
  readonly method: AnalysisMethod;
  readonly correction: ExperimentCorrection;
  /** Units each variant needs before results are shown (and before an auto-stop). */
  readonly minSamplePerVariant: number;
  /** Whether the process manager may stop the experiment when the analysis decides it. */
  readonly autoStop: boolean;
}

/** A span with fixed weights: units are analysed within the phase they entered in. */
export interface ExperimentPhase {
  /** 1-based. */
  readonly phase: number;
  /** Percent per variant, in the order of the definition's variants. */
  readonly weights: readonly number[];
  readonly startedAt: string;
}

export interface ExperimentDecision {
  /** The winning variant's key; null when there is no winner. */
  readonly winner: string | null;
  readonly note: string;
  readonly decidedBy: 'manual' | 'auto';
  /** Why it was decided, e.g. the auto-stop rule that fired; null when not given. */
  readonly reason: string | null;
}

export type ExperimentCreated = DomainEvent<
  'ExperimentCreated',
  {
    readonly experimentId: string;
    readonly definition: ExperimentDefinition;
    readonly createdAt: string;
  }
>;

/** The whole new definition; only a draft can be edited. */
export type ExperimentUpdated = DomainEvent<
  'ExperimentUpdated',
  {
    readonly experimentId: string;
    readonly definition: ExperimentDefinition;
    readonly updatedAt: string;
  }
>;

/** Phase 1, with the definition's weights. */
export type ExperimentStarted = DomainEvent<
  'ExperimentStarted',
  { readonly experimentId: string; readonly phase: ExperimentPhase }
>;

/** A new phase (the number after the current one) with new weights. */
export type ExperimentWeightsChanged = DomainEvent<
  'ExperimentWeightsChanged',
  { readonly experimentId: string; readonly phase: ExperimentPhase }
>;

export type ExperimentStopped = DomainEvent<
  'ExperimentStopped',
  {
    readonly experimentId: string;
    readonly decision: ExperimentDecision;
    readonly stoppedAt: string;
  }
>;

/** A winner named after the experiment stopped without one; the decision replaces that one. */
export type ExperimentWinnerDeclared = DomainEvent<
  'ExperimentWinnerDeclared',
  {
    readonly experimentId: string;
    readonly decision: ExperimentDecision;
    readonly declaredAt: string;
  }
>;

/**
 * The winner's content is to replace what the campaign shows on the surface; the process
 * manager carries it to the campaign as ApplyCampaignContent (see `campaignContentSurface`).
 */
export type ExperimentWinnerApplied = DomainEvent<
  'ExperimentWinnerApplied',
  {
    readonly experimentId: string;
    /** The winning variant's key. */
    readonly variant: string;
    readonly campaignId: string;
    readonly surface: ExperimentSurface;
    readonly content: JsonObject;
    readonly appliedAt: string;
  }
>;

export type ExperimentEvent =
  | ExperimentCreated
  | ExperimentUpdated
  | ExperimentStarted
  | ExperimentWeightsChanged
  | ExperimentStopped
  | ExperimentWinnerDeclared
  | ExperimentWinnerApplied;

export type ExperimentEventType = ExperimentEvent['type'];

/** A record rather than a list so the compiler insists on every type of the union. */
const eventTypeNames: Readonly<Record<ExperimentEventType, true>> = {
  ExperimentCreated: true,
  ExperimentUpdated: true,
  ExperimentStarted: true,
  ExperimentWeightsChanged: true,
  ExperimentStopped: true,
  ExperimentWinnerDeclared: true,
  ExperimentWinnerApplied: true,
};

export const experimentEventTypes: readonly ExperimentEventType[] = Object.keys(
  eventTypeNames,
) as ExperimentEventType[];

const experimentEventTypeSet: ReadonlySet<string> = new Set(experimentEventTypes);

/** Narrows by type name only: the log's experiment events were written by the decider. */
export function isExperimentEvent(event: {
  readonly type: string;
  readonly data: unknown;
}): event is ExperimentEvent {
  return experimentEventTypeSet.has(event.type);
}

/**
 * The campaign surface a winner's content goes to: the kind, and `:ref` when there is one
 * (`CAMPAIGN`, `EMAIL:welcome-email`); the name ApplyCampaignContent and Campaign.content use.
 */
export function campaignContentSurface(surface: ExperimentSurface): string {
  return surface.ref === null ? surface.kind : `${surface.kind}:${surface.ref}`;
}
