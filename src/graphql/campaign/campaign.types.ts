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
import { campaignChannels, campaignGoalMetrics } from '../../domain/campaign';
import { formatMoney, type Money as DomainMoney } from '../../domain/shared/money';
import type { JsonObject } from '../../domain/tracking/tracking.events';
import type { CampaignDocument } from '../../projections/campaigns/campaigns.projection';
import { CommandArgs, CommandResultFields } from '../shared/commands';
import { PageInfo } from '../shared/page-info';

export const CampaignStatus = {
  DRAFT: 'DRAFT',
  SCHEDULED: 'SCHEDULED',
  ACTIVE: 'ACTIVE',
  PAUSED: 'PAUSED',
  COMPLETED: 'COMPLETED',
  ARCHIVED: 'ARCHIVED',
} as const;
export type CampaignStatus = (typeof CampaignStatus)[keyof typeof CampaignStatus];
registerEnumType(CampaignStatus, { name: 'CampaignStatus' });

const enumOf = <T extends string>(values: readonly T[]) =>
  Object.fromEntries(values.map((value) => [value, value])) as { [K in T]: K };

export const CampaignChannel = enumOf(campaignChannels);
export type CampaignChannel = (typeof campaignChannels)[number];
registerEnumType(CampaignChannel, {
  name: 'CampaignChannel',
  description: 'Marketing channels a campaign runs on.',
});

export const GoalMetric = enumOf(campaignGoalMetrics);
export type GoalMetric = (typeof campaignGoalMetrics)[number];
registerEnumType(GoalMetric, { name: 'GoalMetric' });

@ObjectType({
  description: "An amount of money: a decimal string in the currency's own minor digits.",
})
export class Money {
  @Field({ description: 'Decimal amount, e.g. "1500.00" (JPY: "1500").' })
  amount!: string;

  @Field({ description: 'ISO-4217 code.' })
  currency!: string;

  @Field({ description: 'The amount in integer minor units (cents), as a string.' })
  amountMinor!: string;

  static from(money: DomainMoney): Money {
    return Object.assign(new Money(), {
      amount: formatMoney(money),
      currency: money.currency,
      amountMinor: String(money.amountMinor),
    });
  }
}

@ObjectType()
export class CampaignGoal {
  @Field(() => GoalMetric)
  metric!: GoalMetric;

  @Field(() => Float, {
    nullable: true,
    description: 'Target count, for every metric but REVENUE.',
  })
  target!: number | null;

  @Field(() => Money, { nullable: true, description: 'Target revenue, for REVENUE.' })
  revenue!: Money | null;
}

@ObjectType({ description: 'A marketing campaign as the campaigns read model shows it.' })
export class Campaign {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field()
  description!: string;

  @Field(() => CampaignStatus)
  status!: CampaignStatus;

  @Field(() => [CampaignChannel])
  channels!: CampaignChannel[];

  @Field(() => [String])
  tags!: string[];

  @Field(() => CampaignGoal, { nullable: true })
  goal!: CampaignGoal | null;

  @Field(() => Money, { nullable: true })
  budget!: Money | null;

  @Field(() => Money, {
    nullable: true,
    description: 'Spend from ad reports and hand entries; null before any.',
  })
  spent!: Money | null;

  @Field(() => [Int], {
    description: 'Budget thresholds (75, 90, 100 %) reached for the current budget.',
  })
  budgetThresholdsReached!: number[];

  @Field(() => Date, { nullable: true })
  startsAt!: Date | null;

  @Field(() => Date, { nullable: true })
  endsAt!: Date | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;

  @Field(() => Date, { nullable: true })
  launchedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  pausedAt!: Date | null;

  @Field(() => String, { nullable: true })
  pauseReason!: string | null;

  @Field(() => Date, { nullable: true })
  completedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  archivedAt!: Date | null;

  @Field(() => ID, { nullable: true, description: 'The campaign this one was duplicated from.' })
  duplicatedFrom!: string | null;

  @Field(() => GraphQLJSONObject, {
    description:
      'What the campaign shows, by surface ("CAMPAIGN", "EMAIL:welcome-email", …), e.g. from an experiment\'s winning variant; {} when none.',
  })
  content!: Record<string, JsonObject>;

  @Field({
    description:
      'Stream revision of the last change; pass it as expectedRevision to guard an edit.',
  })
  revision!: string;

  @Field({ description: 'Log position of the last change reflected here.' })
  position!: string;

  static from(document: CampaignDocument): Campaign {
    const date = (value: string | null | undefined) => (value ? new Date(value) : null);
    const goal = document.goal;
    return Object.assign(new Campaign(), {
      id: document.id,
      name: document.name,
      description: document.description,
      status: document.status,
      channels: [...document.channels],
      tags: [...document.tags],
      goal: goal
        ? Object.assign(new CampaignGoal(), {
            metric: goal.metric,
            target: goal.metric === 'REVENUE' ? null : goal.target,
            revenue: goal.metric === 'REVENUE' ? Money.from(goal.target) : null,
          })
        : null,
      budget: document.budget ? Money.from(document.budget) : null,
      spent: document.spent ? Money.from(document.spent) : null,
      budgetThresholdsReached: [...(document.budgetThresholdsReached ?? [])],
      startsAt: date(document.startsAt),
      endsAt: date(document.endsAt),
      createdAt: new Date(document.createdAt),
      updatedAt: new Date(document.updatedAt),
      launchedAt: date(document.launchedAt),
      pausedAt: date(document.pausedAt),
      pauseReason: document.pauseReason ?? null,
      completedAt: date(document.completedAt),
      archivedAt: date(document.archivedAt),
      duplicatedFrom: document.duplicatedFrom ?? null,
      content: { ...(document.content ?? {}) },
      revision: document.revision,
      position: document.position,
    });
  }
}

@ObjectType()
export class CampaignEdge {
  @Field()
  cursor!: string;

  @Field(() => Campaign)
  node!: Campaign;
}

@ObjectType()
export class CampaignConnection {
  @Field(() => [CampaignEdge])
  edges!: CampaignEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'Campaigns matching the filter, over all pages.' })
  totalCount!: number;
}

@InputType()
export class CampaignFilter {
  @Field(() => [CampaignStatus], { nullable: true })
  status?: CampaignStatus[];

  @Field(() => CampaignChannel, { nullable: true })
  channel?: CampaignChannel;

  @Field({ nullable: true })
  tag?: string;

  @Field(() => Date, {
    nullable: true,
    description: 'Campaigns whose schedule ends at or after this instant (or has no end).',
  })
  activeFrom?: Date;

  @Field(() => Date, {
    nullable: true,
    description: 'Campaigns whose schedule starts at or before this instant (or has no start).',
  })
  activeTo?: Date;

  @Field(() => Date, { nullable: true, description: 'Created at or after.' })
  createdFrom?: Date;

  @Field(() => Date, { nullable: true, description: 'Created at or before.' })
  createdTo?: Date;
}

@InputType()
export class MoneyInput {
  @Field({ description: 'Decimal amount in major units, e.g. "1500.50".' })
  amount!: string;

  @Field({ description: 'ISO-4217 code, e.g. "EUR".' })
  currency!: string;
}

@InputType({ description: 'REVENUE takes `amount` + `currency`; the other metrics take `target`.' })
export class GoalInput {
  @Field(() => GoalMetric)
  metric!: GoalMetric;

  @Field(() => Int, { nullable: true })
  target?: number;

  @Field({ nullable: true })
  amount?: string;

  @Field({ nullable: true })
  currency?: string;
}

@InputType()
export class ScheduleInput {
  @Field(() => Date, { nullable: true })
  startsAt?: Date | null;

  @Field(() => Date, { nullable: true })
  endsAt?: Date | null;
}

@InputType()
export class CreateCampaignInput {
  @Field(() => ID, { nullable: true, description: 'Chosen by the client, or generated (UUID).' })
  id?: string;

  @Field()
  name!: string;

  @Field({ nullable: true })
  description?: string;

  @Field(() => [CampaignChannel], { nullable: true })
  channels?: CampaignChannel[];

  @Field(() => GoalInput, { nullable: true })
  goal?: GoalInput | null;

  @Field(() => MoneyInput, { nullable: true })
  budget?: MoneyInput | null;

  @Field(() => ScheduleInput, { nullable: true })
  schedule?: ScheduleInput | null;

  @Field(() => [String], { nullable: true })
  tags?: string[];
}

@InputType({
  description: 'Fields left out stay as they are; goal or budget set to null are removed.',
})
export class UpdateCampaignInput {
  @Field({ nullable: true })
  name?: string;

  @Field({ nullable: true })
  description?: string;

  @Field(() => [CampaignChannel], { nullable: true })
  channels?: CampaignChannel[];

  @Field(() => GoalInput, { nullable: true })
  goal?: GoalInput | null;

  @Field(() => MoneyInput, { nullable: true })
  budget?: MoneyInput | null;

  @Field(() => [String], { nullable: true })
  tags?: string[];
}

@ObjectType({ description: 'What a campaign command did.' })
export class CampaignCommandResult extends CommandResultFields {
  @Field(() => ID)
  campaignId!: string;

  /** Resolved by a field resolver after waiting for the projection (read-your-writes). */
  campaign?: Campaign | null;
}

@ArgsType()
export class CampaignChangeArgs extends CommandArgs {
  @Field(() => ID)
  id!: string;
}
