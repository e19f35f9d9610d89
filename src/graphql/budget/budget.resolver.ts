import { Arg, Ctx, ID, Mutation, Resolver, Root, Subscription } from 'type-graphql';
import type { CampaignDocument } from '../../projections/campaigns/campaigns.projection';
import type { DocumentChange } from '../../projections/projection';
import type { TouchlineContext } from '../context';
import { documentKey } from '../loaders';
import { closingWith } from '../shared/live';
import { CampaignCommandResult } from '../campaign/campaign.types';
import { execute } from '../campaign/execute';
import { AdReportInput, CampaignBudgetAlert, SpendInput } from './budget.types';

const PROJECTION = 'campaigns';

@Resolver()
export class BudgetResolver {
  @Mutation(() => CampaignCommandResult, {
    description:
      "Imports an ad platform's figures for campaign × channel × day × source, replacing an earlier import of the same key.",
  })
  importAdReport(
    @Arg('input', () => AdReportInput) input: AdReportInput,
    @Arg('commandId', () => String, { nullable: true, description: 'Makes the call idempotent.' })
    commandId: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<CampaignCommandResult> {
    return execute(context, commandId, undefined, (metadata) => ({
      type: 'ImportAdReport',
      metadata,
      data: {
        campaignId: input.campaignId,
        channel: input.channel,
        day: input.day,
        source: input.source,
        impressions: input.impressions,
        clicks: input.clicks,
        spend: input.spend,
      },
    }));
  }

  @Mutation(() => CampaignCommandResult, {
    description: 'Records spend by hand; an entry id already recorded adds nothing.',
  })
  recordSpend(
    @Arg('input', () => SpendInput) input: SpendInput,
    @Arg('commandId', () => String, { nullable: true, description: 'Makes the call idempotent.' })
    commandId: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<CampaignCommandResult> {
    return execute(context, commandId, undefined, (metadata) => ({
      type: 'RecordSpend',
      metadata,
      data: {
        campaignId: input.campaignId,
        channel: input.channel,
        day: input.day,
        amount: input.amount,
        entryId: input.entryId,
        note: input.note ?? null,
      },
    }));
  }

  @Subscription(() => CampaignBudgetAlert, {
    description:
      "Pushes an alert each time a campaign's spend reaches 75, 90 or 100 % of its budget (all campaigns of the workspace when campaignId is omitted), from the campaigns read model.",
    subscribe: ({ args, context }) =>
      budgetAlerts(
        context as TouchlineContext,
        (args.campaignId as string | null | undefined) ?? null,
      ),
  })
  campaignAlerts(
    @Arg('campaignId', () => ID, { nullable: true }) _campaignId: string | null,
    @Root() alert: CampaignBudgetAlert,
  ): CampaignBudgetAlert {
    return alert;
  }
}

/**
 * Alerts from the read model: the thresholds a changed document has that it did not have
 * before. "Before" starts as what the documents show when the subscription starts (read
 * after listening, so no change falls between), and a threshold armed again by a budget
 * change alerts again when it is reached again.
 */
export function budgetAlerts(
  context: TouchlineContext,
  campaignId: string | null,
): AsyncIterableIterator<CampaignBudgetAlert> {
  const changes = context.services.live.changes(PROJECTION, context.workspaceId);
  return closingWith(changes, alertsFrom(context, changes, campaignId));
}

async function* alertsFrom(
  context: TouchlineContext,
  changes: AsyncIterable<DocumentChange>,
  campaignId: string | null,
): AsyncGenerator<CampaignBudgetAlert> {
  const { workspaceId } = context;
  const wanted = campaignId === null ? null : documentKey(workspaceId, campaignId);
  // Resolved at each use: a rebuild may switch the read model to a new generation.
  const collection = () => context.services.readModels.collection<CampaignDocument>(PROJECTION);
  const reached = new Map<string, readonly number[]>();
  const current = await collection().find(wanted === null ? { workspaceId } : { _id: wanted }, {
    projection: { budgetThresholdsReached: 1 },
  });
  for (const document of current) reached.set(document._id, document.budgetThresholdsReached ?? []);
  for await (const change of changes) {
    if (wanted !== null && change.id !== wanted) continue;
    const document = await collection().findOne({ _id: change.id });
    if (!document) continue;
    const before = reached.get(document._id) ?? [];
    reached.set(document._id, document.budgetThresholdsReached ?? []);
    const paused = document.status === 'PAUSED';
    for (const alert of document.budgetAlerts ?? []) {
      if (!before.includes(alert.threshold)) {
        yield CampaignBudgetAlert.from(document.id, alert, paused);
      }
    }
  }
}
