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
import type {
  FunnelDefinition,
  FunnelDefinitionInput,
  FunnelExclusion as DomainExclusion,
  FunnelStep as DomainStep,
} from '../../domain/funnel';
import type { FunnelDefinitionDocument } from '../../projections/funnels/funnel-definitions.projection';
import type {
  FunnelReport as Report,
  HistogramBin as Bin,
  StepReport,
  TimeToConvert as Times,
  TrendPoint,
} from '../../projections/funnels/report';
import { RebuildProgress } from '../admin/projection.types';
import { conditionInput, PropertyFilter, PropertyFilterInput } from '../shared/conditions';
import { CommandArgs, CommandResultFields } from '../shared/commands';
import { nodesConnection, PageInfo, type NodesPage } from '../shared/page-info';

export const FunnelOrder = {
  ORDERED: 'ordered',
  STRICT: 'strict',
  UNORDERED: 'unordered',
} as const;
registerEnumType(FunnelOrder, {
  name: 'FunnelOrder',
  description:
    'ORDERED: steps in sequence, other events between allowed. STRICT: no other event of the person between consecutive steps. UNORDERED: steps in any order.',
});

export const BreakdownAttribution = { FIRST_STEP: 'first_step', LAST_STEP: 'last_step' } as const;
registerEnumType(BreakdownAttribution, {
  name: 'BreakdownAttribution',
  description: 'Which event of the counted attempt the breakdown value is read from.',
});

export const WindowUnit = {
  SECOND: 1,
  MINUTE: 60,
  HOUR: 3600,
  DAY: 86_400,
  WEEK: 7 * 86_400,
  MONTH: 30 * 86_400,
} as const;
registerEnumType(WindowUnit, {
  name: 'WindowUnit',
  description: 'Units of a conversion window; a MONTH is 30 days.',
});

export const FunnelStatus = { ACTIVE: 'ACTIVE', ARCHIVED: 'ARCHIVED' } as const;
registerEnumType(FunnelStatus, { name: 'FunnelStatus' });

export const TrendInterval = { DAY: 'day', WEEK: 'week', MONTH: 'month' } as const;
registerEnumType(TrendInterval, {
  name: 'TrendInterval',
  description: 'Periods in UTC; weeks start on Monday.',
});

export const FunnelPeopleStatus = { REACHED: 'reached', DROPPED: 'dropped' } as const;
registerEnumType(FunnelPeopleStatus, {
  name: 'FunnelPeopleStatus',
  description: 'REACHED: got to the step or further. DROPPED: reached the step and no further.',
});

@InputType()
export class FunnelStepInput {
  @Field({ description: 'A track event name as sent, or `$pageview` for any page call.' })
  event!: string;

  @Field(() => [PropertyFilterInput], { nullable: true, description: 'All must hold.' })
  filters?: PropertyFilterInput[];
}

@InputType()
export class FunnelExclusionInput extends FunnelStepInput {
  @Field(() => Int, { description: '1-based step number where the exclusion starts to apply.' })
  fromStep!: number;

  @Field(() => Int, { description: '1-based step number where it stops applying.' })
  toStep!: number;
}

@InputType()
export class ConversionWindowInput {
  @Field(() => Int)
  value!: number;

  @Field(() => WindowUnit)
  unit!: number;
}

@InputType()
export class FunnelBreakdownInput {
  @Field({ description: 'A property path of the event, as in filters.' })
  property!: string;

  @Field(() => BreakdownAttribution, { nullable: true, defaultValue: 'first_step' })
  attribution?: string;
}

@InputType({ description: 'A funnel definition (ANALYTICS.md, Funnels).' })
export class FunnelInput {
  @Field({ nullable: true, description: 'Required to save a funnel; optional for an analysis.' })
  name?: string;

  @Field(() => [FunnelStepInput], { description: '2 to 20 steps.' })
  steps!: FunnelStepInput[];

  @Field(() => FunnelOrder, { nullable: true, description: 'Default ORDERED.' })
  order?: string;

  @Field(() => ConversionWindowInput, {
    nullable: true,
    description: 'From the step-1 time, end included; default 14 days, at most 365 days.',
  })
  window?: ConversionWindowInput;

  @Field(() => [FunnelExclusionInput], { nullable: true })
  exclusions?: FunnelExclusionInput[];

  @Field(() => FunnelBreakdownInput, { nullable: true })
  breakdown?: FunnelBreakdownInput;

  @Field(() => ID, {
    nullable: true,
    description:
      'Only attempts whose step-1 event belongs to this campaign (its campaign_id or UTM campaign).',
  })
  campaignId?: string;
}

/** The domain's input for a definition given over the API. */
export function definitionInput(input: FunnelInput, defaultName?: string): FunnelDefinitionInput {
  return {
    name: input.name ?? defaultName ?? '',
    steps: input.steps.map(stepInput),
    order: input.order ?? null,
    windowSeconds: input.window ? input.window.value * input.window.unit : null,
    exclusions: (input.exclusions ?? []).map((exclusion) => ({
      ...stepInput(exclusion),
      fromStep: exclusion.fromStep,
      toStep: exclusion.toStep,
    })),
    breakdown: input.breakdown
      ? { property: input.breakdown.property, attribution: input.breakdown.attribution ?? null }
      : null,
    campaignId: input.campaignId ?? null,
  };
}

function stepInput(step: FunnelStepInput) {
  return { event: step.event, filters: (step.filters ?? []).map(conditionInput) };
}

@ObjectType()
export class FunnelStep {
  @Field(() => Int, { description: '1-based.' })
  step!: number;

  @Field()
  event!: string;

  @Field(() => [PropertyFilter])
  filters!: PropertyFilter[];

  static from(step: DomainStep, index: number): FunnelStep {
    return Object.assign(new FunnelStep(), {
      step: index + 1,
      event: step.event,
      filters: step.filters.map((filter) => PropertyFilter.from(filter)),
    });
  }
}

@ObjectType()
export class FunnelExclusion {
  @Field()
  event!: string;

  @Field(() => [PropertyFilter])
  filters!: PropertyFilter[];

  @Field(() => Int)
  fromStep!: number;

  @Field(() => Int)
  toStep!: number;

  static from(exclusion: DomainExclusion): FunnelExclusion {
    return Object.assign(new FunnelExclusion(), {
      ...exclusion,
      filters: exclusion.filters.map((filter) => PropertyFilter.from(filter)),
    });
  }
}

@ObjectType()
export class FunnelBreakdown {
  @Field()
  property!: string;

  @Field(() => BreakdownAttribution)
  attribution!: string;
}

@ObjectType({ description: 'A funnel definition at one version.' })
export class FunnelDefinitionView {
  @Field()
  name!: string;

  @Field(() => [FunnelStep])
  steps!: FunnelStep[];

  @Field(() => FunnelOrder)
  order!: string;

  @Field(() => Int)
  windowSeconds!: number;

  @Field(() => [FunnelExclusion])
  exclusions!: FunnelExclusion[];

  @Field(() => FunnelBreakdown, { nullable: true })
  breakdown!: FunnelBreakdown | null;

  @Field(() => ID, { nullable: true })
  campaignId!: string | null;

  static from(definition: FunnelDefinition): FunnelDefinitionView {
    return Object.assign(new FunnelDefinitionView(), {
      ...definition,
      steps: definition.steps.map((step, index) => FunnelStep.from(step, index)),
      exclusions: definition.exclusions.map((exclusion) => FunnelExclusion.from(exclusion)),
      breakdown: definition.breakdown && Object.assign(new FunnelBreakdown(), definition.breakdown),
    });
  }
}

@ObjectType()
export class Funnel {
  @Field(() => ID)
  id!: string;

  @Field(() => Int, { description: 'The latest version of the definition.' })
  version!: number;

  @Field(() => FunnelStatus)
  status!: string;

  @Field(() => FunnelDefinitionView)
  definition!: FunnelDefinitionView;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;

  static from(document: FunnelDefinitionDocument): Funnel {
    return Object.assign(new Funnel(), {
      id: document.funnelId,
      version: document.version,
      status: document.status,
      definition: FunnelDefinitionView.from(document.definition),
      createdAt: new Date(document.createdAt),
      updatedAt: new Date(document.updatedAt),
    });
  }
}

export const FunnelConnection = nodesConnection(Funnel, 'FunnelConnection');
export type FunnelConnection = NodesPage<Funnel>;

@ObjectType()
export class FunnelCommandResult extends CommandResultFields {
  @Field(() => ID)
  funnelId!: string;
}

@ArgsType()
export class FunnelChangeArgs extends CommandArgs {
  @Field(() => ID)
  id!: string;
}

@ObjectType()
export class HistogramBin {
  @Field(() => Float)
  fromSeconds!: number;

  @Field(() => Float)
  toSeconds!: number;

  @Field(() => Int)
  count!: number;
}

@ObjectType({ description: 'Times to convert, in seconds.' })
export class TimeToConvert {
  @Field(() => Int)
  count!: number;

  @Field(() => Float, { nullable: true })
  meanSeconds!: number | null;

  @Field(() => Float, { nullable: true })
  medianSeconds!: number | null;

  @Field(() => [HistogramBin])
  histogram!: HistogramBin[];

  static from(times: Times): TimeToConvert {
    return Object.assign(new TimeToConvert(), {
      ...times,
      histogram: times.histogram.map((bin: Bin) => Object.assign(new HistogramBin(), bin)),
    });
  }
}

@ObjectType()
export class FunnelStepReport {
  @Field(() => Int, { description: '1-based.' })
  step!: number;

  @Field(() => Int, { description: 'People who reached this step or further.' })
  count!: number;

  @Field(() => Float, { nullable: true, description: 'count / step-1 count; null when 0 / 0.' })
  conversionFromStart!: number | null;

  @Field(() => Float, { nullable: true })
  conversionFromPrevious!: number | null;

  @Field(() => Int, { description: 'Previous step count minus this one (0 for step 1).' })
  dropOff!: number;

  @Field(() => Float, { nullable: true })
  dropOffRate!: number | null;

  @Field(() => TimeToConvert, {
    nullable: true,
    description: 'From the previous step to this one; null for step 1.',
  })
  timeFromPrevious!: TimeToConvert | null;

  static from(step: StepReport): FunnelStepReport {
    return Object.assign(new FunnelStepReport(), {
      ...step,
      timeFromPrevious: step.timeFromPrevious && TimeToConvert.from(step.timeFromPrevious),
    });
  }
}

@ObjectType()
export class FunnelBreakdownReport {
  @Field(() => String, { nullable: true, description: 'null: the property was missing.' })
  value!: string | null;

  @Field(() => [FunnelStepReport])
  steps!: FunnelStepReport[];
}

@ObjectType()
export class FunnelReport {
  @Field(() => ID, { nullable: true, description: 'null for an ad-hoc analysis.' })
  funnelId!: string | null;

  @Field(() => Int, {
    nullable: true,
    description: 'The definition version these numbers count; null for an ad-hoc analysis.',
  })
  version!: number | null;

  @Field({
    description:
      'A newer version of the definition is being computed from the log; these are the numbers of `version` until it has caught up.',
  })
  recomputing!: boolean;

  @Field(() => RebuildProgress, { nullable: true })
  recomputeProgress!: RebuildProgress | null;

  @Field(() => Int, { description: 'People who did step 1 (excluded people not counted).' })
  entered!: number;

  @Field(() => Int)
  converted!: number;

  @Field(() => Int, { description: 'People who left the funnel through an exclusion.' })
  excluded!: number;

  @Field(() => Float, { nullable: true })
  conversionRate!: number | null;

  @Field(() => [FunnelStepReport])
  steps!: FunnelStepReport[];

  @Field(() => TimeToConvert, { description: 'From step 1 to the last step.' })
  timeToConvert!: TimeToConvert;

  @Field(() => [FunnelBreakdownReport], {
    description: 'Per breakdown value; empty without a breakdown.',
  })
  breakdown!: FunnelBreakdownReport[];

  static of(
    report: Report,
    meta: Pick<FunnelReport, 'funnelId' | 'version' | 'recomputing' | 'recomputeProgress'>,
    withBreakdown: boolean,
  ): FunnelReport {
    return Object.assign(new FunnelReport(), {
      ...meta,
      entered: report.entered,
      converted: report.converted,
      excluded: report.excluded,
      conversionRate: report.conversionRate,
      steps: report.steps.map((step) => FunnelStepReport.from(step)),
      timeToConvert: TimeToConvert.from(report.timeToConvert),
      breakdown: withBreakdown
        ? report.breakdown.map((group) =>
            Object.assign(new FunnelBreakdownReport(), {
              value: group.value,
              steps: group.steps.map((step) => FunnelStepReport.from(step)),
            }),
          )
        : [],
    });
  }
}

@ObjectType()
export class FunnelTrendPoint {
  @Field()
  periodStart!: Date;

  @Field(() => Int, { description: 'People with an attempt starting in the period.' })
  entered!: number;

  @Field(() => Int, { description: 'Of those, people with such an attempt that converted.' })
  converted!: number;

  @Field(() => Float, { description: '0 when nobody entered.' })
  conversionRate!: number;

  static from(point: TrendPoint): FunnelTrendPoint {
    return Object.assign(new FunnelTrendPoint(), {
      ...point,
      periodStart: new Date(point.periodStart),
    });
  }
}

@ObjectType()
export class FunnelPeoplePage {
  @Field(() => [ID], { description: 'Contact ids, ordered by id.' })
  contactIds!: string[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int)
  totalCount!: number;
}
