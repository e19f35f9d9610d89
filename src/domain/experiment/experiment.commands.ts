/**
 * What a client (or the experiment process manager) asks of an experiment. Data is raw input:
 * `parseExperimentDefinition` and the decider check it and fill in the defaults.
 */
import type { Command } from '../campaign/campaign.commands';
import type { JsonObject } from '../tracking/tracking.events';

export interface ExperimentVariantInput {
  readonly key: string;
  /** Default: the key. */
  readonly name?: string | null;
  /** Percent. Give every variant a weight, or none for an equal split. */
  readonly weight?: number | null;
  /** Default `{}`. */
  readonly content?: JsonObject | null;
}

export interface ExperimentMetricInput {
  readonly key: string;
  readonly name: string;
  /** `conversion` or `value`. */
  readonly kind: string;
  readonly event: string;
  /** Required for value metrics, refused for conversion metrics. */
  readonly property?: string | null;
  /** Default true. */
  readonly higherIsBetter?: boolean | null;
}

/** The definition as a client sends it; absent optional fields take their defaults. */
export interface ExperimentDefinitionInput {
  readonly name: string;
  readonly hypothesis: string;
  readonly campaignId: string;
  /** Default: the campaign as a whole (`CAMPAIGN`, no ref). */
  readonly surface?: { readonly kind: string; readonly ref?: string | null } | null;
  readonly variants: readonly ExperimentVariantInput[];
  readonly primaryMetric: ExperimentMetricInput;
  readonly secondaryMetrics?: readonly ExperimentMetricInput[] | null;
  readonly guardrailMetrics?: readonly ExperimentMetricInput[] | null;
  /** Default `frequentist`. */
  readonly method?: string | null;
  /** Default `holm`. */
  readonly correction?: string | null;
  /** Default 100. */
  readonly minSamplePerVariant?: number | null;
  /** Default false. */
  readonly autoStop?: boolean | null;
}

export type CreateExperiment = Command<
  'CreateExperiment',
  { readonly experimentId: string; readonly definition: ExperimentDefinitionInput }
>;

/** States the whole definition again; a draft only. */
export type UpdateExperiment = Command<
  'UpdateExperiment',
  { readonly experimentId: string; readonly definition: ExperimentDefinitionInput }
>;

export type StartExperiment = Command<'StartExperiment', { readonly experimentId: string }>;

/** New weights, percent per variant in the definition's order: a new phase. */
export type ChangeWeights = Command<
  'ChangeWeights',
  { readonly experimentId: string; readonly weights: readonly number[] }
>;

/** Stops a running experiment; `winner` is a variant key, or null for no winner. */
export type StopExperiment = Command<
  'StopExperiment',
  {
    readonly experimentId: string;
    readonly winner: string | null;
    readonly note: string;
    /** Default `manual`; the process manager's auto-stop says `auto`. */
    readonly decidedBy?: 'manual' | 'auto';
    readonly reason?: string | null;
  }
>;

/** Stops a running experiment with this winner, or names the winner of one stopped without. */
export type DeclareWinner = Command<
  'DeclareWinner',
  { readonly experimentId: string; readonly winner: string; readonly note: string }
>;

/** Puts the winner's content on the campaign (through the process manager). */
export type ApplyWinner = Command<'ApplyWinner', { readonly experimentId: string }>;

export type ExperimentCommand =
  | CreateExperiment
  | UpdateExperiment
  | StartExperiment
  | ChangeWeights
  | StopExperiment
  | DeclareWinner
  | ApplyWinner;
