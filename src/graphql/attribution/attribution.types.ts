import { asOfDescription } from '../shared/consistency';
import { ArgsType, Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { currencyFractionDigits } from '../../domain/shared/money';
import type {
  AttributionModelName,
  ConversionTotals,
  ModelReport,
  PathRow,
  PathsReport,
} from '../../projections/attribution/attribution-query';
import type {
  AttributionJourneyDocument,
  Grouping,
  RevenueByCurrency,
} from '../../projections/attribution/attribution.projection';
import { ruleBasedModelNames } from '../../projections/attribution/journeys';
import { CommandArgs, CommandResultFields } from '../shared/commands';
import { ChannelRuleInput, channelRulesDescription } from './channel-rules.types';

export const AttributionModel = {
  FIRST_TOUCH: 'first_touch',
  LAST_TOUCH: 'last_touch',
  LAST_NON_DIRECT: 'last_non_direct',
  LINEAR: 'linear',
  POSITION_BASED: 'position_based',
  TIME_DECAY: 'time_decay',
  MARKOV: 'markov',
  SHAPLEY: 'shapley',
} as const satisfies Record<string, AttributionModelName>;
registerEnumType(AttributionModel, {
  name: 'AttributionModel',
  description:
    'How a conversion is shared among the touches of its journey (ANALYTICS.md, Attribution). The rule-based ones: FIRST_TOUCH, LAST_TOUCH, LAST_NON_DIRECT (direct only when every touch is), LINEAR (1/n each), POSITION_BASED (40 % first, 40 % last, 20 % over the middle), TIME_DECAY (weight 2^(−Δt/half-life)). The data-driven ones, solved from every journey, converting or not: MARKOV (removal effects of an absorbing Markov chain) and SHAPLEY (Shapley values of the channel sets).',
  valuesConfig: {
    FIRST_TOUCH: { description: 'All of the conversion to the first touch.' },
    LAST_TOUCH: { description: 'All of the conversion to the last touch.' },
    LAST_NON_DIRECT: {
      description: 'All to the last touch that is not direct; direct only if all touches are.',
    },
    LINEAR: { description: '1/n to each of the n touches.' },
    POSITION_BASED: {
      description: '0.4 first, 0.4 last, 0.2 spread over the middle touches (0.5 / 0.5 for two).',
    },
    TIME_DECAY: {
      description: 'Weight 2^(−Δt/h) per touch, Δt its time before the conversion, normalised.',
    },
    MARKOV: { description: 'Data-driven: each key by its removal effect in a Markov chain.' },
    SHAPLEY: { description: 'Data-driven: each key by its Shapley value.' },
  },
});

export const AttributionGroupBy = {
  CHANNEL: 'channel',
  CAMPAIGN: 'campaign',
  SOURCE_MEDIUM: 'source_medium',
} as const satisfies Record<string, Grouping>;
registerEnumType(AttributionGroupBy, {
  name: 'AttributionGroupBy',
  description: 'What touches are credited under.',
  valuesConfig: {
    CHANNEL: { description: "The session's classified channel (paid_search, email, direct…)." },
    CAMPAIGN: { description: "The session's campaign id, else its UTM campaign name." },
    SOURCE_MEDIUM: { description: 'The session\'s "source / medium".' },
  },
});

@ArgsType()
export class AttributionRangeArgs {
  @Field(() => Date, { description: 'Conversions from this instant (included).' })
  from!: Date;

  @Field(() => Date, { description: 'Conversions up to this instant (included).' })
  to!: Date;

  @Field(() => AttributionGroupBy, {
    defaultValue: AttributionGroupBy.CHANNEL,
    description: 'What touches are credited under.',
  })
  groupBy!: Grouping;
}

@ArgsType()
export class AttributionWindowArgs extends AttributionRangeArgs {
  @Field(() => Int, {
    nullable: true,
    description:
      "Days before a conversion a session may start and still be in its journey, 1 to 365. Default: the workspace's projected lookback (30 unless configured, see `attributionSettings`); any other value is recomputed from the event log.",
  })
  lookbackDays?: number | null;

  @Field(() => Float, {
    nullable: true,
    description:
      "Time decay's half-life in days, positive. Default: the workspace's projected half-life (7 unless configured, see `attributionSettings`); any other value is recomputed from the event log.",
  })
  halfLifeDays?: number | null;

  @Field(() => Int, {
    defaultValue: 1,
    description: "The Markov chain's order (1 to 3): how many previous touches a state remembers.",
  })
  markovOrder!: number;

  @Field(() => [ChannelRuleInput], {
    nullable: true,
    description: channelRulesDescription,
  })
  channelRules?: ChannelRuleInput[] | null;

  @Field(() => String, {
    nullable: true,
    description:
      'A log position a write returned: the live read model is awaited (bounded) until it reflects it.',
  })
  minPosition?: string | null;

  @Field(() => Date, { nullable: true, description: asOfDescription })
  asOf?: Date | null;
}

@ArgsType()
export class AttributionArgs extends AttributionWindowArgs {
  @Field(() => AttributionModel, { description: 'The attribution model.' })
  model!: AttributionModelName;
}

@ArgsType()
export class AttributionUpdatedArgs extends AttributionRangeArgs {
  @Field(() => AttributionModel, { description: 'The attribution model.' })
  model!: AttributionModelName;

  @Field(() => Int, { defaultValue: 1, description: "The Markov chain's order (1 to 3)." })
  markovOrder!: number;
}

@ArgsType()
export class ConversionPathsArgs extends AttributionRangeArgs {
  @Field(() => Int, {
    defaultValue: 10,
    description: 'Rows of each list (converting, non-converting), 1 to 100.',
  })
  limit!: number;

  @Field(() => Int, {
    nullable: true,
    description:
      "Journey lookback in days, 1 to 365. Default: the workspace's projected lookback (30 unless configured); any other value is recomputed from the event log.",
  })
  lookbackDays?: number | null;

  @Field(() => [ChannelRuleInput], {
    nullable: true,
    description: channelRulesDescription,
  })
  channelRules?: ChannelRuleInput[] | null;

  @Field(() => String, {
    nullable: true,
    description:
      'A log position a write returned: the live read model is awaited (bounded) until it reflects it.',
  })
  minPosition?: string | null;

  @Field(() => Date, { nullable: true, description: asOfDescription })
  asOf?: Date | null;
}

@ObjectType({ description: 'An amount of one currency, possibly fractional once shared out.' })
export class AttributedRevenue {
  @Field({ description: 'ISO-4217 code.' })
  currency!: string;

  @Field(() => Float, { description: "In major units (the currency's fraction digits applied)." })
  amount!: number;

  @Field(() => Float, { description: 'In minor units (cents), fractional once shared out.' })
  amountMinor!: number;

  static list(revenue: RevenueByCurrency): AttributedRevenue[] {
    return Object.entries(revenue)
      .filter(([, amountMinor]) => amountMinor !== 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([currency, amountMinor]) =>
        Object.assign(new AttributedRevenue(), {
          currency,
          amount: amountMinor / 10 ** currencyFractionDigits(currency),
          amountMinor,
        }),
      );
  }
}

@ObjectType({ description: 'A number of conversions and their revenue.' })
export class AttributionTotals {
  @Field(() => Float, { description: 'Conversions (whole ones for totals).' })
  conversions!: number;

  @Field(() => [AttributedRevenue], { description: 'Per currency.' })
  revenue!: AttributedRevenue[];

  static from(totals: ConversionTotals): AttributionTotals {
    return Object.assign(new AttributionTotals(), {
      conversions: totals.conversions,
      revenue: AttributedRevenue.list(totals.revenue),
    });
  }
}

@ObjectType({ description: "One key's credit under a model." })
export class AttributionCredit {
  @Field({ description: 'The channel, campaign or "source / medium" credited.' })
  key!: string;

  @Field(() => Float, { description: 'Fractional conversions credited to the key.' })
  conversions!: number;

  @Field(() => [AttributedRevenue], { description: "The key's share of the revenue." })
  revenue!: AttributedRevenue[];

  @Field(() => Float, {
    description: "The key's part of the attributed conversions (the shares add up to 1).",
  })
  share!: number;

  @Field(() => Float, {
    nullable: true,
    description:
      "Markov only: the key's removal effect, 1 − P(conversion without it) / P(conversion).",
  })
  removalEffect!: number | null;
}

/** The settings a report was computed with, and whether it came from the log. */
export interface ReportSettings {
  readonly grouping: Grouping;
  readonly from: Date;
  readonly to: Date;
  readonly lookbackDays: number;
  readonly halfLifeDays: number;
  readonly recomputed: boolean;
}

/** What every attribution answer says of the question it answers. */
@ObjectType()
class AttributionAnswer {
  @Field(() => AttributionGroupBy, { description: 'What touches are credited under.' })
  groupBy!: Grouping;

  @Field({ description: 'Start of the range (included).' })
  from!: Date;

  @Field({ description: 'End of the range (included).' })
  to!: Date;

  @Field(() => Int, { description: 'The journey lookback used, in days.' })
  lookbackDays!: number;

  @Field({
    description:
      'True when answered by recomputing from the event log (settings other than the live read model’s).',
  })
  recomputed!: boolean;

  /** The question's fields, from the settings it was answered with. */
  protected static answering(settings: Omit<ReportSettings, 'halfLifeDays'>) {
    const { grouping, from, to, lookbackDays, recomputed } = settings;
    return { groupBy: grouping, from, to, lookbackDays, recomputed };
  }
}

@ObjectType({ description: "One model's attribution of the conversions in a range." })
export class AttributionReport extends AttributionAnswer {
  @Field(() => AttributionModel, { description: 'The model.' })
  model!: AttributionModelName;

  @Field(() => Float, { description: "Time decay's half-life used, in days." })
  halfLifeDays!: number;

  @Field(() => [AttributionCredit], { description: 'Most conversions first, then by key.' })
  credits!: AttributionCredit[];

  @Field(() => AttributionTotals, {
    description: 'Every conversion in the range, attributed or not.',
  })
  total!: AttributionTotals;

  @Field(() => AttributionTotals, {
    description:
      'Conversions without a touch in their window: reported here, never dropped. The credits add up to total − unattributed.',
  })
  unattributed!: AttributionTotals;

  @Field(() => Float, {
    nullable: true,
    description: 'Markov only: P(conversion) from the start state with every key present.',
  })
  conversionProbability!: number | null;

  static of(report: ModelReport, settings: ReportSettings): AttributionReport {
    const attributed = report.total.conversions - report.unattributed.conversions;
    return Object.assign(new AttributionReport(), {
      ...AttributionAnswer.answering(settings),
      model: report.model,
      halfLifeDays: settings.halfLifeDays,
      credits: report.credits.map((credit) =>
        Object.assign(new AttributionCredit(), {
          key: credit.key,
          conversions: credit.conversions,
          revenue: AttributedRevenue.list(credit.revenue),
          share: attributed > 0 ? credit.conversions / attributed : 0,
          removalEffect: credit.removalEffect ?? null,
        }),
      ),
      total: AttributionTotals.from(report.total),
      unattributed: AttributionTotals.from(report.unattributed),
      conversionProbability: report.conversionProbability ?? null,
    });
  }
}

@ObjectType({ description: 'Every model over the same conversions, side by side.' })
export class AttributionComparison {
  @Field(() => [String], {
    description: 'Every key any model credits, by most conversions under LAST_TOUCH, then by key.',
  })
  keys!: string[];

  @Field(() => [AttributionReport], {
    description:
      'One report per model: FIRST_TOUCH, LAST_TOUCH, LAST_NON_DIRECT, LINEAR, POSITION_BASED, TIME_DECAY, MARKOV, SHAPLEY.',
  })
  models!: AttributionReport[];

  static of(reports: readonly ModelReport[], settings: ReportSettings): AttributionComparison {
    const keys = new Map<string, number>();
    for (const report of reports) {
      for (const credit of report.credits) {
        const lastTouch = report.model === 'last_touch' ? credit.conversions : 0;
        keys.set(credit.key, (keys.get(credit.key) ?? 0) + lastTouch);
      }
    }
    return Object.assign(new AttributionComparison(), {
      keys: [...keys]
        .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
        .map(([key]) => key),
      models: reports.map((report) => AttributionReport.of(report, settings)),
    });
  }
}

@ObjectType({
  description: 'A path (consecutive repeats collapsed) and the journeys that took it.',
})
export class ConversionPathRow {
  @Field(() => [String], { description: 'The keys in order, consecutive repeats collapsed.' })
  path!: string[];

  @Field({ description: 'The path written as one string ("a > b > c").' })
  key!: string;

  @Field(() => Int, { description: 'Journeys that took the path.' })
  count!: number;

  @Field(() => [AttributedRevenue], {
    description: 'Revenue of the converting journeys (empty for non-converting rows).',
  })
  revenue!: AttributedRevenue[];

  static from(row: PathRow): ConversionPathRow {
    return Object.assign(new ConversionPathRow(), {
      path: [...row.path],
      key: row.key,
      count: row.count,
      revenue: AttributedRevenue.list(row.revenue),
    });
  }
}

@ObjectType({ description: 'The most common converting and non-converting paths of a range.' })
export class ConversionPathsReport extends AttributionAnswer {
  @Field(() => [ConversionPathRow], {
    description: 'Top paths of converting journeys, most taken first.',
  })
  converting!: ConversionPathRow[];

  @Field(() => [ConversionPathRow], {
    description:
      'Top paths of non-converting (null) journeys, counted by the hour they expire in once it is over, most taken first.',
  })
  nonConverting!: ConversionPathRow[];

  @Field(() => Int, { description: 'Converting journeys with at least one touch.' })
  conversions!: number;

  @Field(() => Int, { description: 'Non-converting journeys.' })
  nulls!: number;

  @Field(() => Float, {
    nullable: true,
    description:
      'Touches per converting journey, before collapsing repeats; null without conversions.',
  })
  averagePathLength!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Seconds from the first touch to the conversion; null without conversions.',
  })
  averageTimeToConversionSeconds!: number | null;

  @Field(() => AttributionTotals, {
    description: 'Conversions without a touch in their window (no path).',
  })
  unattributed!: AttributionTotals;

  static of(report: PathsReport, settings: Omit<ReportSettings, 'halfLifeDays'>) {
    return Object.assign(new ConversionPathsReport(), {
      ...AttributionAnswer.answering(settings),
      converting: report.converting.map((row) => ConversionPathRow.from(row)),
      nonConverting: report.nonConverting.map((row) => ConversionPathRow.from(row)),
      conversions: report.conversions,
      nulls: report.nulls,
      averagePathLength: report.averagePathLength,
      averageTimeToConversionSeconds:
        report.averageTimeToConversionMs === null ? null : report.averageTimeToConversionMs / 1000,
      unattributed: AttributionTotals.from(report.unattributed),
    });
  }
}

@ObjectType({ description: "A touch's share of a conversion under one rule-based model." })
export class TouchShare {
  @Field(() => AttributionModel, { description: 'A rule-based model.' })
  model!: AttributionModelName;

  @Field(() => Float, { description: "Share of the conversion (a journey's shares add to 1)." })
  share!: number;

  @Field(() => [AttributedRevenue], { description: 'The same share of the revenue.' })
  revenue!: AttributedRevenue[];
}

@ObjectType({ description: 'A session of the journey.' })
export class JourneyTouch {
  @Field({ description: 'When the session started.' })
  at!: Date;

  @Field({ description: 'Its classified channel.' })
  channel!: string;

  @Field(() => String, { nullable: true, description: 'Its source, if any.' })
  source!: string | null;

  @Field(() => String, { nullable: true, description: 'Its medium, if any.' })
  medium!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Its campaign id, else UTM campaign name, if any.',
  })
  campaign!: string | null;

  @Field(() => [TouchShare], { description: 'Its share under each rule-based model.' })
  shares!: TouchShare[];
}

@ObjectType({ description: 'A conversion (an order, or a conversion event without one).' })
export class AttributedConversion {
  @Field({ description: 'The order id, else the message id.' })
  id!: string;

  @Field(() => String, { nullable: true, description: 'The order id, if any.' })
  orderId!: string | null;

  @Field(() => String, { nullable: true, description: 'The message that recorded it.' })
  messageId!: string | null;

  @Field({ description: 'Event time.' })
  occurredAt!: Date;

  @Field(() => [AttributedRevenue], { description: 'Its revenue.' })
  revenue!: AttributedRevenue[];
}

@ObjectType({
  description:
    "A conversion's journey in the live read model (30-day lookback, 7-day half-life) and how each rule-based model shares it out.",
})
export class ConversionJourney {
  @Field(() => AttributedConversion, { description: 'The conversion.' })
  conversion!: AttributedConversion;

  @Field(() => [JourneyTouch], {
    description: 'The sessions in its lookback window, oldest first; empty: unattributed.',
  })
  touches!: JourneyTouch[];

  static from(journey: AttributionJourneyDocument): ConversionJourney {
    const revenue: RevenueByCurrency =
      journey.currency === null ? {} : { [journey.currency]: journey.revenueMinor };
    const scaled = (share: number): RevenueByCurrency =>
      Object.fromEntries(Object.entries(revenue).map(([currency, v]) => [currency, v * share]));
    return Object.assign(new ConversionJourney(), {
      conversion: Object.assign(new AttributedConversion(), {
        id: journey.conversionId ?? journey._id,
        orderId: journey.orderId,
        messageId: journey.messageId,
        occurredAt: new Date(journey.at),
        revenue: AttributedRevenue.list(revenue),
      }),
      touches: journey.touches.map((touch, i) =>
        Object.assign(new JourneyTouch(), {
          at: new Date(touch.at),
          channel: touch.channel,
          source: touch.source,
          medium: touch.medium,
          campaign: touch.campaign,
          shares: ruleBasedModelNames.map((model) => {
            const share = journey.shares?.[model][i] ?? 0;
            return Object.assign(new TouchShare(), {
              model,
              share,
              revenue: AttributedRevenue.list(scaled(share)),
            });
          }),
        }),
      ),
    });
  }
}

@ArgsType()
export class ConfigureAttributionArgs extends CommandArgs {
  @Field(() => Int, {
    description:
      'Days before a conversion a session may start and still be in its journey, 1 to 365.',
  })
  lookbackDays!: number;

  @Field(() => Float, { description: "Time decay's half-life in days, above 0 and at most 365." })
  halfLifeDays!: number;
}

@ObjectType({ description: "The outcome of changing the workspace's attribution settings." })
export class AttributionSettingsResult extends CommandResultFields {}

@ObjectType({ description: 'A lookback window and a half-life, in days.' })
export class AttributionSettingValues {
  @Field(() => Int, { description: 'Journey lookback, in days.' })
  lookbackDays!: number;

  @Field(() => Float, { description: "Time decay's half-life, in days." })
  halfLifeDays!: number;

  static of(values: { lookbackDays: number; halfLifeDays: number }): AttributionSettingValues {
    const { lookbackDays, halfLifeDays } = values;
    return Object.assign(new AttributionSettingValues(), { lookbackDays, halfLifeDays });
  }
}

@ObjectType({
  description:
    "The workspace's attribution settings: the configured ones, and those the serving read model was computed with.",
})
export class AttributionSettings extends AttributionSettingValues {
  @Field(() => AttributionSettingValues, {
    description:
      'The settings the serving attribution read model was computed with: what a query without lookbackDays / halfLifeDays answers with.',
  })
  projected!: AttributionSettingValues;

  @Field({
    description:
      'True while the read model is being recomputed from the log for the configured settings (until then the projected ones keep serving).',
  })
  recomputing!: boolean;
}
