import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import type { BudgetAlert } from '../../projections/campaigns/campaigns.projection';
import { CampaignChannel, Money, MoneyInput } from '../campaign/campaign.types';

@InputType({
  description:
    "One ad platform's figures for campaign × channel × day × source. Importing the same key again replaces the earlier row (platforms restate their numbers); the same figures again change nothing.",
})
export class AdReportInput {
  @Field(() => ID)
  campaignId!: string;

  @Field(() => CampaignChannel)
  channel!: CampaignChannel;

  @Field({ description: 'The reporting day, a calendar date such as "2025-03-01".' })
  day!: string;

  @Field({ description: 'Where the figures come from, e.g. "google-ads" (1 to 100 characters).' })
  source!: string;

  @Field(() => Int)
  impressions!: number;

  @Field(() => Int)
  clicks!: number;

  @Field(() => MoneyInput, { description: "In the budget's currency when the campaign has one." })
  spend!: MoneyInput;
}

@InputType({ description: 'Spend entered by hand; it adds to the spend of the campaign.' })
export class SpendInput {
  @Field(() => ID)
  campaignId!: string;

  @Field(() => CampaignChannel)
  channel!: CampaignChannel;

  @Field({ description: 'The day the money was spent, a calendar date such as "2025-03-01".' })
  day!: string;

  @Field(() => MoneyInput, { description: "In the budget's currency when the campaign has one." })
  amount!: MoneyInput;

  @Field({
    description:
      'Your id of the entry (1 to 100 of A-Z a-z 0-9 _ . : -): the same entry is counted once.',
  })
  entryId!: string;

  @Field({ nullable: true })
  note?: string;
}

@ObjectType({
  description: "A campaign's spend reached a threshold (75, 90 or 100 %) of its budget.",
})
export class CampaignBudgetAlert {
  @Field(() => ID)
  campaignId!: string;

  @Field(() => Int, { description: 'Percent of the budget: 75, 90 or 100.' })
  threshold!: number;

  @Field(() => Money, { description: 'The spend when the threshold was reached.' })
  spent!: Money;

  @Field(() => Money)
  budget!: Money;

  @Field(() => Date)
  reachedAt!: Date;

  @Field({
    description:
      'Whether the campaign is paused (at 100 % the budget guard pauses an active campaign first).',
  })
  paused!: boolean;

  static from(campaignId: string, alert: BudgetAlert, paused: boolean): CampaignBudgetAlert {
    return Object.assign(new CampaignBudgetAlert(), {
      campaignId,
      threshold: alert.threshold,
      spent: Money.from(alert.spent),
      budget: Money.from(alert.budget),
      reachedAt: new Date(alert.reachedAt),
      paused,
    });
  }
}
