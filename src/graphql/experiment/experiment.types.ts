import { GraphQLJSONObject } from 'graphql-scalars';
import {
  ArgsType,
  Field,
  Float,
  ID,
  InputType,
  Int,
  ObjectType,
  registerEnumType,
} from 'type-graphql';
import { CommandArgs, CommandResultFields } from '../shared/commands';
import {
  analysisMethods,
  campaignContentSurface,
  corrections,
  experimentSurfaces,
  metricKinds,
  type ExperimentDecision as DomainDecision,
  type ExperimentDefinition,
  type ExperimentDefinitionInput,
  type ExperimentMetric as DomainMetric,
  type ExperimentMetricInput as DomainMetricInput,
  type ExperimentPhase as DomainPhase,
  type ExperimentVariant as DomainVariant,
} from '../../domain/experiment';
import type {
  BayesianResult,
  FrequentistResult,
  Interval,
  SampleRatioMismatch,
  SequentialResult,
} from '../../domain/experiment/statistics';
import type { JsonObject } from '../../domain/tracking/tracking.events';
import type {
  AutoStop,
  MetricResult,
  PhaseResults,
  VariantComparison,
  VariantMetricResult,
} from '../../projections/experiments/experiment-results';
import type { ExperimentDocument } from '../../projections/experiments/experiments.projection';
import { nodesConnection, type NodesPage } from '../shared/page-info';

/**
 * A GraphQL enum over one of the domain's value lists: the names in upper case with `_` for
 * `-` (`benjamini-hochberg` → BENJAMINI_HOCHBERG), the values the domain's own.
 */
function enumOf<T extends string>(values: readonly T[]): Record<string, T> {
  return Object.fromEntries(values.map((value) => [value.toUpperCase().replace(/-/g, '_'), value]));
}

export const ExperimentSurfaceKind = enumOf(experimentSurfaces);
registerEnumType(ExperimentSurfaceKind, {
  name: 'ExperimentSurfaceKind',
  description: 'The part of the campaign an experiment varies.',
});

export const AnalysisMethod = enumOf(analysisMethods);
registerEnumType(AnalysisMethod, {
  name: 'AnalysisMethod',
  description:
    'What `significant` follows. FREQUENTIST: the corrected Welch p-value < 0.05. SEQUENTIAL: the corrected always-valid p-value < 0.05, so results may be watched live. BAYESIAN: chance to beat control ≥ 95 % or ≤ 5 %.',
});

export const Correction = enumOf(corrections);
registerEnumType(Correction, {
  name: 'Correction',
  description:
    'How p-values are adjusted for several treatments × (primary and secondary) metrics: HOLM (family-wise error) or BENJAMINI_HOCHBERG (false discovery rate).',
});

export const MetricKind = enumOf(metricKinds);
registerEnumType(MetricKind, {
  name: 'MetricKind',
  description:
    'CONVERSION: 1 for a unit with the event after its exposure, else 0. VALUE: the sum of a numeric property over those events.',
});

export const MetricRole = { PRIMARY: 'primary', SECONDARY: 'secondary', GUARDRAIL: 'guardrail' };
registerEnumType(MetricRole, {
  name: 'MetricRole',
  description:
    'GUARDRAIL metrics are not corrected for multiple comparisons: a harmed guardrail shows sooner.',
});

export const ExperimentStatus = {
  DRAFT: 'DRAFT',
  RUNNING: 'RUNNING',
  STOPPED: 'STOPPED',
  WINNER_APPLIED: 'WINNER_APPLIED',
} as const;
registerEnumType(ExperimentStatus, { name: 'ExperimentStatus' });

export const DecidedBy = { MANUAL: 'manual', AUTO: 'auto' } as const;
registerEnumType(DecidedBy, {
  name: 'DecidedBy',
  description: 'AUTO: the auto-stop policy stopped the experiment.',
});

export const SrmVerdict = {
  CONSISTENT: 'consistent',
  MISMATCH: 'mismatch',
  TOO_FEW_UNITS: 'too-few-units',
} as const;
registerEnumType(SrmVerdict, {
  name: 'SrmVerdict',
  description:
    'MISMATCH: p < 0.001 with at least 8 units in every variant (flagged). TOO_FEW_UNITS: some variant has fewer than 8 units, never flagged.',
});

@InputType()
export class ExperimentSurfaceInput {
  @Field(() => ExperimentSurfaceKind)
  kind!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Which one of that kind, e.g. the EMAIL `welcome-email`; none: all of it.',
  })
  ref?: string | null;
}

@InputType()
export class ExperimentVariantInput {
  @Field({ description: 'A slug, unique in the experiment; the first variant is the control.' })
  key!: string;

  @Field(() => String, { nullable: true, description: 'Default: the key.' })
  name?: string | null;

  @Field(() => Float, {
    nullable: true,
    description:
      'Percent of the units, > 0 with at most 2 decimals. Give every variant a weight (summing to 100), or none for an equal split.',
  })
  weight?: number | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description:
      'What the variant shows (at most 16 KiB as JSON); put on the campaign if it wins. Default {}.',
  })
  content?: JsonObject | null;
}

@InputType()
export class ExperimentMetricInput {
  @Field({ description: 'A slug, unique across all the metrics of the experiment.' })
  key!: string;

  @Field()
  name!: string;

  @Field(() => MetricKind)
  kind!: string;

  @Field({ description: 'A track event name, e.g. `Order Completed`, or `$pageview`.' })
  event!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'VALUE metrics: the numeric property summed, e.g. `revenue` (required); none for CONVERSION.',
  })
  property?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Default true.' })
  higherIsBetter?: boolean | null;
}

@InputType({ description: 'An experiment definition (ANALYTICS.md, Experiments).' })
export class ExperimentInput {
  @Field()
  name!: string;

  @Field()
  hypothesis!: string;

  @Field(() => ID, { description: "The campaign whose content the winner's content replaces." })
  campaignId!: string;

  @Field(() => ExperimentSurfaceInput, {
    nullable: true,
    description: 'Default: the campaign as a whole (CAMPAIGN).',
  })
  surface?: ExperimentSurfaceInput | null;

  @Field(() => [ExperimentVariantInput], { description: '2 to 10; the first is the control.' })
  variants!: ExperimentVariantInput[];

  @Field(() => ExperimentMetricInput)
  primaryMetric!: ExperimentMetricInput;

  @Field(() => [ExperimentMetricInput], { nullable: true, description: 'At most 10.' })
  secondaryMetrics?: ExperimentMetricInput[] | null;

  @Field(() => [ExperimentMetricInput], { nullable: true, description: 'At most 10.' })
  guardrailMetrics?: ExperimentMetricInput[] | null;

  @Field(() => AnalysisMethod, { nullable: true, description: 'Default FREQUENTIST.' })
  method?: string | null;

  @Field(() => Correction, { nullable: true, description: 'Default HOLM.' })
  correction?: string | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Units each variant needs before an auto-stop; default 100.',
  })
  minSamplePerVariant?: number | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Let the auto-stop policy stop the experiment; default false.',
  })
  autoStop?: boolean | null;
}

/** The domain's input for a definition given over the API. */
export function definitionInput(input: ExperimentInput): ExperimentDefinitionInput {
  return {
    name: input.name,
    hypothesis: input.hypothesis,
    campaignId: input.campaignId,
    surface: input.surface ? { kind: input.surface.kind, ref: input.surface.ref ?? null } : null,
    variants: input.variants.map((variant) => ({
      key: variant.key,
      name: variant.name ?? null,
      weight: variant.weight ?? null,
      content: variant.content ?? null,
    })),
    primaryMetric: metricInput(input.primaryMetric),
    secondaryMetrics: input.secondaryMetrics?.map(metricInput) ?? null,
    guardrailMetrics: input.guardrailMetrics?.map(metricInput) ?? null,
    method: input.method ?? null,
    correction: input.correction ?? null,
    minSamplePerVariant: input.minSamplePerVariant ?? null,
    autoStop: input.autoStop ?? null,
  };
}

function metricInput(metric: ExperimentMetricInput): DomainMetricInput {
  return {
    key: metric.key,
    name: metric.name,
    kind: metric.kind,
    event: metric.event,
    property: metric.property ?? null,
    higherIsBetter: metric.higherIsBetter ?? null,
  };
}

@ObjectType()
export class ExperimentSurface {
  @Field(() => ExperimentSurfaceKind)
  kind!: string;

  @Field(() => String, { nullable: true })
  ref!: string | null;
}

@ObjectType()
export class ExperimentVariant {
  @Field()
  key!: string;

  @Field()
  name!: string;

  @Field(() => Float, { description: 'Percent of the units in the definition (phase 1).' })
  weight!: number;

  @Field(() => GraphQLJSONObject)
  content!: JsonObject;

  static from(variant: DomainVariant): ExperimentVariant {
    return Object.assign(new ExperimentVariant(), variant);
  }
}

@ObjectType()
export class ExperimentMetric {
  @Field()
  key!: string;

  @Field()
  name!: string;

  @Field(() => MetricKind)
  kind!: string;

  @Field()
  event!: string;

  @Field(() => String, { nullable: true })
  property!: string | null;

  @Field()
  higherIsBetter!: boolean;

  static from(metric: DomainMetric): ExperimentMetric {
    return Object.assign(new ExperimentMetric(), metric);
  }
}

@ObjectType({ description: 'An experiment definition, fixed once it starts.' })
export class ExperimentDefinitionView {
  @Field()
  name!: string;

  @Field()
  hypothesis!: string;

  @Field(() => ID)
  campaignId!: string;

  @Field(() => ExperimentSurface)
  surface!: ExperimentSurface;

  @Field(() => String, {
    description: 'Where a winner\'s content goes in Campaign.content, e.g. "EMAIL:welcome-email".',
  })
  contentSurface!: string;

  @Field(() => [ExperimentVariant])
  variants!: ExperimentVariant[];

  @Field(() => ExperimentMetric)
  primaryMetric!: ExperimentMetric;

  @Field(() => [ExperimentMetric])
  secondaryMetrics!: ExperimentMetric[];

  @Field(() => [ExperimentMetric])
  guardrailMetrics!: ExperimentMetric[];

  @Field(() => AnalysisMethod)
  method!: string;

  @Field(() => Correction)
  correction!: string;

  @Field(() => Int)
  minSamplePerVariant!: number;

  @Field()
  autoStop!: boolean;

  static from(definition: ExperimentDefinition): ExperimentDefinitionView {
    return Object.assign(new ExperimentDefinitionView(), {
      ...definition,
      surface: Object.assign(new ExperimentSurface(), definition.surface),
      contentSurface: campaignContentSurface(definition.surface),
      variants: definition.variants.map((variant) => ExperimentVariant.from(variant)),
      primaryMetric: ExperimentMetric.from(definition.primaryMetric),
      secondaryMetrics: definition.secondaryMetrics.map((metric) => ExperimentMetric.from(metric)),
      guardrailMetrics: definition.guardrailMetrics.map((metric) => ExperimentMetric.from(metric)),
    });
  }
}

@ObjectType({ description: 'A span with fixed weights; units are analysed within their phase.' })
export class ExperimentPhase {
  @Field(() => Int, { description: '1-based.' })
  phase!: number;

  @Field(() => [Float], { description: "Percent per variant, in the definition's order." })
  weights!: number[];

  @Field()
  startedAt!: Date;

  static from(phase: DomainPhase): ExperimentPhase {
    return Object.assign(new ExperimentPhase(), {
      phase: phase.phase,
      weights: [...phase.weights],
      startedAt: new Date(phase.startedAt),
    });
  }
}

@ObjectType()
export class ExperimentDecision {
  @Field(() => String, { nullable: true, description: "The winning variant's key, if any." })
  winner!: string | null;

  @Field()
  note!: string;

  @Field(() => DecidedBy)
  decidedBy!: string;

  @Field(() => String, { nullable: true, description: 'Why, e.g. the auto-stop rule that fired.' })
  reason!: string | null;

  static from(decision: DomainDecision): ExperimentDecision {
    return Object.assign(new ExperimentDecision(), decision);
  }
}

@ObjectType()
export class Experiment {
  @Field(() => ID, { description: 'Its id, and the seed of the assignment hash.' })
  key!: string;

  @Field(() => ExperimentStatus)
  status!: string;

  @Field(() => ExperimentDefinitionView)
  definition!: ExperimentDefinitionView;

  @Field(() => [ExperimentPhase], { description: 'Empty for a draft.' })
  phases!: ExperimentPhase[];

  @Field(() => Int, {
    nullable: true,
    description: 'The phase in progress (or the last one, once stopped); null for a draft.',
  })
  currentPhase!: number | null;

  @Field(() => ExperimentDecision, { nullable: true })
  decision!: ExperimentDecision | null;

  @Field(() => String, { nullable: true, description: 'The variant whose content was applied.' })
  appliedVariant!: string | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;

  @Field(() => Date, { nullable: true })
  stoppedAt!: Date | null;

  static from(document: ExperimentDocument): Experiment {
    return Object.assign(new Experiment(), {
      key: document.key,
      status: document.status,
      definition: ExperimentDefinitionView.from(document.definition),
      phases: document.phases.map((phase) => ExperimentPhase.from(phase)),
      currentPhase: document.phases.at(-1)?.phase ?? null,
      decision: document.decision && ExperimentDecision.from(document.decision),
      appliedVariant: document.appliedVariant,
      createdAt: new Date(document.createdAt),
      updatedAt: new Date(document.updatedAt),
      stoppedAt: document.stoppedAt === null ? null : new Date(document.stoppedAt),
    });
  }
}

export const ExperimentConnection = nodesConnection(Experiment, 'ExperimentConnection');
export type ExperimentConnection = NodesPage<Experiment>;

@ObjectType()
export class ExperimentCommandResult extends CommandResultFields {
  @Field(() => ID)
  key!: string;
}

@ArgsType()
export class ExperimentChangeArgs extends CommandArgs {
  @Field(() => ID)
  key!: string;
}

@ObjectType()
export class VariantAssignment {
  @Field(() => ID)
  experimentKey!: string;

  @Field(() => Int)
  phase!: number;

  @Field({ description: "The variant's key." })
  variant!: string;

  @Field(() => Int, { description: "0-based, in the definition's order; 0 is the control." })
  variantIndex!: number;

  @Field(() => GraphQLJSONObject, { description: 'What the variant shows.' })
  content!: JsonObject;

  @Field({
    description:
      'The contact counts as a unit of the phase: true while the experiment runs (once per contact and phase, however often asked); false once it stopped (everyone sees the winner, or the control without one).',
  })
  exposed!: boolean;

  @Field(() => String, {
    nullable: true,
    description: 'Log position of the exposure (the same for a repeat); null when not exposed.',
  })
  position!: string | null;
}

@ObjectType()
export class ConfidenceInterval {
  @Field(() => Float)
  lower!: number;

  @Field(() => Float)
  upper!: number;

  static of(interval: Interval | null): ConfidenceInterval | null {
    return interval && Object.assign(new ConfidenceInterval(), interval);
  }
}

@ObjectType({ description: 'Expected loss, in units of the relative lift.' })
export class ExperimentRisk {
  @Field(() => Float, { description: 'If the control is kept and the variant was better.' })
  chooseControl!: number;

  @Field(() => Float, { description: 'If the variant ships and the control was better.' })
  chooseVariant!: number;
}

@ObjectType({
  description:
    'A variant against the control. A null number means no result (see noResult); p-values are then 1 and the chance to beat control 0.5, as ANALYTICS.md prescribes.',
})
export class VariantComparisonView {
  @Field(() => Float, { nullable: true, description: 'Mean of the variant − mean of the control.' })
  absoluteLift!: number | null;

  @Field(() => ConfidenceInterval, {
    nullable: true,
    description: "Welch's 95 % interval of the absolute lift.",
  })
  absoluteLiftInterval!: ConfidenceInterval | null;

  @Field(() => Float, {
    nullable: true,
    description: '(variant − control) / |control|, e.g. 0.5 for +50 %.',
  })
  relativeLift!: number | null;

  @Field(() => ConfidenceInterval, {
    nullable: true,
    description: "Welch's 95 % interval of the relative lift (delta-method variance).",
  })
  relativeLiftInterval!: ConfidenceInterval | null;

  @Field(() => Float, { description: "Welch's two-sided p-value of the relative lift." })
  pValue!: number;

  @Field(() => Float, { description: 'pValue corrected for multiple comparisons.' })
  adjustedPValue!: number;

  @Field(() => Float, { description: 'Bayesian P(relative lift > 0), flat prior.' })
  chanceToBeatControl!: number;

  @Field(() => ExperimentRisk, { nullable: true })
  risk!: ExperimentRisk | null;

  @Field(() => ConfidenceInterval, {
    nullable: true,
    description: '95 % credible interval of the relative lift.',
  })
  credibleInterval!: ConfidenceInterval | null;

  @Field(() => ConfidenceInterval, {
    nullable: true,
    description: 'Always-valid 95 % interval of the relative lift (mixture boundary, τ = 5000).',
  })
  sequentialInterval!: ConfidenceInterval | null;

  @Field(() => Float, { description: 'Always-valid p-value of the relative lift.' })
  sequentialPValue!: number;

  @Field(() => Float, { description: 'sequentialPValue corrected for multiple comparisons.' })
  adjustedSequentialPValue!: number;

  @Field({ description: "By the experiment's method (see AnalysisMethod)." })
  significant!: boolean;

  @Field(() => String, {
    nullable: true,
    description:
      'Why there is no result, else null: too-few-units (an arm with fewer than 2), zero-baseline (a control mean of 0: no relative lift), zero-variance, out-of-range.',
  })
  noResult!: string | null;

  static from(comparison: VariantComparison): VariantComparisonView {
    const { absolute, relative, bayesian, sequential } = comparison;
    return Object.assign(new VariantComparisonView(), {
      absoluteLift: absolute.lift,
      absoluteLiftInterval: ConfidenceInterval.of(absolute.confidenceInterval),
      relativeLift: relative.lift,
      relativeLiftInterval: ConfidenceInterval.of(relative.confidenceInterval),
      pValue: relative.pValue,
      adjustedPValue: comparison.adjustedPValue,
      chanceToBeatControl: bayesian.chanceToBeatControl,
      risk: bayesian.risk && Object.assign(new ExperimentRisk(), bayesian.risk),
      credibleInterval: ConfidenceInterval.of(bayesian.credibleInterval),
      sequentialInterval: ConfidenceInterval.of(sequential.confidenceInterval),
      sequentialPValue: sequential.pValue,
      adjustedSequentialPValue: comparison.adjustedSequentialPValue,
      significant: comparison.significant,
      noResult: noResultReason(relative, absolute, bayesian, sequential),
    });
  }
}

/** The first reason any of the tests gave up; they share one estimator, so they agree. */
function noResultReason(
  ...results: readonly (FrequentistResult | BayesianResult | SequentialResult)[]
): string | null {
  for (const result of results) if (result.kind === 'no-result') return result.reason;
  return null;
}

@ObjectType()
export class VariantMetricResultView {
  @Field({ description: "The variant's key." })
  variant!: string;

  @Field(() => Int)
  units!: number;

  @Field(() => Float, { description: 'Conversions (CONVERSION) or the sum of values (VALUE).' })
  total!: number;

  @Field(() => Float, { description: 'Conversion rate or mean per unit; 0 without units.' })
  mean!: number;

  @Field(() => Float, {
    description: 'Σx² over the units (for a CONVERSION metric, the conversions again).',
  })
  sumSquares!: number;

  @Field(() => Float, {
    description:
      'Variance per unit: p(1 − p) for a CONVERSION metric, the sample variance (n − 1) for a VALUE metric; 0 below 2 units.',
  })
  variance!: number;

  @Field(() => VariantComparisonView, { nullable: true, description: 'Null for the control.' })
  vsControl!: VariantComparisonView | null;

  static from(result: VariantMetricResult): VariantMetricResultView {
    return Object.assign(new VariantMetricResultView(), {
      variant: result.variant,
      units: result.units,
      total: result.total,
      mean: result.mean,
      sumSquares: result.sumSquares,
      variance: result.variance,
      vsControl: result.comparison && VariantComparisonView.from(result.comparison),
    });
  }
}

@ObjectType()
export class MetricResultView {
  @Field()
  key!: string;

  @Field()
  name!: string;

  @Field(() => MetricRole)
  role!: string;

  @Field(() => MetricKind)
  kind!: string;

  @Field()
  higherIsBetter!: boolean;

  @Field(() => [VariantMetricResultView])
  variants!: VariantMetricResultView[];

  static from(result: MetricResult): MetricResultView {
    return Object.assign(new MetricResultView(), {
      key: result.metric.key,
      name: result.metric.name,
      role: result.role,
      kind: result.metric.kind,
      higherIsBetter: result.metric.higherIsBetter,
      variants: result.variants.map((variant) => VariantMetricResultView.from(variant)),
    });
  }
}

@ObjectType()
export class VariantUnits {
  @Field()
  variant!: string;

  @Field(() => Float, { description: "The variant's weight in this phase, percent." })
  weight!: number;

  @Field(() => Int, { description: 'Contacts exposed in this phase.' })
  units!: number;
}

@ObjectType({
  description: "Chi-square test of the units against the phase's weights (sample ratio mismatch).",
})
export class SampleRatioCheck {
  @Field(() => Float)
  statistic!: number;

  @Field(() => Int)
  degreesOfFreedom!: number;

  @Field(() => Float)
  pValue!: number;

  @Field()
  flagged!: boolean;

  @Field(() => SrmVerdict)
  verdict!: string;

  static of(srm: SampleRatioMismatch | null): SampleRatioCheck | null {
    return srm && Object.assign(new SampleRatioCheck(), srm);
  }
}

@ObjectType()
export class AutoStopDecision {
  @Field({ description: 'The best treatment that beats the control, else the control.' })
  winner!: string;

  @Field()
  reason!: string;

  static of(decision: AutoStop | null): AutoStopDecision | null {
    return decision && Object.assign(new AutoStopDecision(), decision);
  }
}

@ObjectType({ description: "One phase's results, from the experiments read model." })
export class ExperimentResults {
  @Field(() => ID)
  experimentKey!: string;

  @Field(() => ExperimentStatus)
  status!: string;

  @Field(() => Int)
  phase!: number;

  @Field(() => AnalysisMethod)
  method!: string;

  @Field(() => [VariantUnits])
  variants!: VariantUnits[];

  @Field({
    description: 'Every variant has at least the minSamplePerVariant of the definition.',
  })
  enoughUnits!: boolean;

  @Field(() => SampleRatioCheck, { nullable: true })
  srm!: SampleRatioCheck | null;

  @Field(() => [MetricResultView], { description: 'Primary, then secondary, then guardrails.' })
  metrics!: MetricResultView[];

  @Field(() => AutoStopDecision, {
    nullable: true,
    description:
      "What the auto-stop policy would decide now, whether or not the experiment lets it stop it: null while it would keep running, and for a phase that is not the running experiment's current one.",
  })
  autoStop!: AutoStopDecision | null;

  static of(
    document: ExperimentDocument,
    phase: DomainPhase,
    results: PhaseResults,
    autoStop: AutoStop | null,
  ): ExperimentResults {
    const { definition } = document;
    return Object.assign(new ExperimentResults(), {
      experimentKey: document.key,
      status: document.status,
      phase: results.phase,
      method: definition.method,
      variants: definition.variants.map((variant, index) =>
        Object.assign(new VariantUnits(), {
          variant: variant.key,
          weight: phase.weights[index] ?? 0,
          units: results.units[index] ?? 0,
        }),
      ),
      enoughUnits: results.units.every((units) => units >= definition.minSamplePerVariant),
      srm: SampleRatioCheck.of(results.srm),
      metrics: results.metrics.map((metric) => MetricResultView.from(metric)),
      autoStop: AutoStopDecision.of(autoStop),
    });
  }
}

@ObjectType({
  description:
    'A two-arm plan: units per variant for a two-sided test at level alpha to detect the lift with the given power (normal approximation of the Welch test).',
})
export class ExperimentPlan {
  @Field(() => MetricKind)
  kind!: string;

  @Field(() => Float)
  relativeLift!: number;

  @Field(() => Float)
  alpha!: number;

  @Field(() => Float)
  power!: number;

  @Field(() => Int, { description: 'Units each variant needs.' })
  sampleSizePerVariant!: number;

  @Field(() => Int, { nullable: true, description: 'As asked; null when not asked.' })
  unitsPerVariant!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'The power the test has with unitsPerVariant units per variant.',
  })
  powerAtUnits!: number | null;
}
