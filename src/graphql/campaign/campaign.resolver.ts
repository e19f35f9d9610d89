import {
  Arg,
  Args,
  Ctx,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { duplicateCampaignInput, type GoalInput as DomainGoalInput } from '../../domain/campaign';
import type { CampaignDocument } from '../../projections/campaigns/campaigns.projection';
import type { DocumentChange } from '../../projections/projection';
import type { Filter } from '../../projections/read-store';
import type { TouchlineContext } from '../context';
import { awaitPosition } from '../shared/consistency';
import { badInput } from '../errors';
import { documentKey } from '../loaders';
import { closingWith } from '../shared/live';
import { decodeCursor, encodeCursor, pageSize } from '../shared/arguments';
import {
  Campaign,
  CampaignChangeArgs,
  CampaignCommandResult,
  CampaignConnection,
  CampaignFilter,
  CreateCampaignInput,
  type GoalInput,
  UpdateCampaignInput,
} from './campaign.types';
import { execute } from './execute';

const PROJECTION = 'campaigns';

@Resolver()
export class CampaignResolver {
  @Query(() => Campaign, {
    nullable: true,
    description: 'One campaign, or null when it does not exist.',
  })
  async campaign(
    @Arg('id', () => ID) id: string,
    @Arg('minPosition', () => String, {
      nullable: true,
      description: 'Wait (bounded) until the read model reflects this log position.',
    })
    minPosition: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<Campaign | null> {
    await awaitPosition(context, minPosition, [PROJECTION]);
    const document = await context.loaders.campaign.load(id);
    return document && Campaign.from(document);
  }

  @Query(() => CampaignConnection, {
    description: 'Campaigns, newest first, with filters and cursor pagination.',
  })
  async campaigns(
    @Arg('filter', () => CampaignFilter, { nullable: true }) filter: CampaignFilter | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<CampaignConnection> {
    const limit = pageSize(first);
    await awaitPosition(context, minPosition, [PROJECTION]);
    const collection = context.services.readModels.collection<CampaignDocument>(PROJECTION);
    const matching = campaignFilter(context.workspaceId, filter);
    const page: Filter = after ? { $and: [matching, afterCursor(after)] } : matching;
    const [documents, totalCount] = await Promise.all([
      collection.find(page, { sort: { createdAt: -1, _id: -1 }, limit: limit + 1 }),
      collection.count(matching),
    ]);
    const edges = documents.slice(0, limit).map((document) => ({
      cursor: encodeCursor([document.createdAt, document._id]),
      node: Campaign.from(document),
    }));
    return {
      edges,
      pageInfo: { hasNextPage: documents.length > limit, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount,
    };
  }

  @Mutation(() => CampaignCommandResult, { description: 'Creates a campaign in DRAFT.' })
  createCampaign(
    @Arg('input', () => CreateCampaignInput) input: CreateCampaignInput,
    @Arg('commandId', () => String, { nullable: true, description: 'Makes the call idempotent.' })
    commandId: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<CampaignCommandResult> {
    const campaignId = input.id ?? context.services.newId();
    return execute(context, commandId, undefined, (metadata) => ({
      type: 'CreateCampaign',
      metadata,
      data: {
        campaignId,
        name: input.name,
        description: input.description,
        channels: input.channels,
        goal: goalInput(input.goal),
        budget: input.budget,
        schedule: input.schedule && {
          startsAt: input.schedule.startsAt?.toISOString() ?? null,
          endsAt: input.schedule.endsAt?.toISOString() ?? null,
        },
        tags: input.tags,
      },
    }));
  }

  @Mutation(() => CampaignCommandResult, {
    description: "Changes a campaign's fields (not once completed or archived).",
  })
  updateCampaign(
    @Args(() => CampaignChangeArgs) { id, expectedRevision, commandId }: CampaignChangeArgs,
    @Arg('input', () => UpdateCampaignInput) input: UpdateCampaignInput,
    @Ctx() context: TouchlineContext,
  ): Promise<CampaignCommandResult> {
    return execute(context, commandId, expectedRevision, (metadata) => ({
      type: 'UpdateCampaign',
      metadata,
      data: {
        campaignId: id,
        ...(input.name !== undefined && { name: input.name }),
        ...(input.description !== undefined && { description: input.description }),
        ...(input.channels !== undefined && { channels: input.channels }),
        ...(input.goal !== undefined && { goal: goalInput(input.goal) }),
        ...(input.budget !== undefined && { budget: input.budget }),
        ...(input.tags !== undefined && { tags: input.tags }),
      },
    }));
  }

  @Mutation(() => CampaignCommandResult, {
    description: 'Schedules a DRAFT (or reschedules a SCHEDULED) campaign.',
  })
  scheduleCampaign(
    @Args(() => CampaignChangeArgs) { id, expectedRevision, commandId }: CampaignChangeArgs,
    @Arg('startsAt', () => Date) startsAt: Date,
    @Arg('endsAt', () => Date, { nullable: true }) endsAt: Date | null,
    @Ctx() context: TouchlineContext,
  ): Promise<CampaignCommandResult> {
    return execute(context, commandId, expectedRevision, (metadata) => ({
      type: 'ScheduleCampaign',
      metadata,
      data: {
        campaignId: id,
        startsAt: startsAt.toISOString(),
        endsAt: endsAt?.toISOString() ?? null,
      },
    }));
  }

  @Mutation(() => CampaignCommandResult, {
    description: 'Launches a DRAFT or SCHEDULED campaign now.',
  })
  launchCampaign(
    @Args(() => CampaignChangeArgs) change: CampaignChangeArgs,
    @Ctx() context: TouchlineContext,
  ): Promise<CampaignCommandResult> {
    return transition(context, 'LaunchCampaign', change);
  }

  @Mutation(() => CampaignCommandResult, { description: 'Pauses an ACTIVE campaign.' })
  pauseCampaign(
    @Args(() => CampaignChangeArgs) { id, expectedRevision, commandId }: CampaignChangeArgs,
    @Arg('reason', () => String, { nullable: true }) reason: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<CampaignCommandResult> {
    return execute(context, commandId, expectedRevision, (metadata) => ({
      type: 'PauseCampaign',
      metadata,
      data: { campaignId: id, ...(reason !== null && { reason }) },
    }));
  }

  @Mutation(() => CampaignCommandResult, { description: 'Resumes a PAUSED campaign.' })
  resumeCampaign(
    @Args(() => CampaignChangeArgs) change: CampaignChangeArgs,
    @Ctx() context: TouchlineContext,
  ): Promise<CampaignCommandResult> {
    return transition(context, 'ResumeCampaign', change);
  }

  @Mutation(() => CampaignCommandResult, { description: 'Completes an ACTIVE or PAUSED campaign.' })
  completeCampaign(
    @Args(() => CampaignChangeArgs) change: CampaignChangeArgs,
    @Ctx() context: TouchlineContext,
  ): Promise<CampaignCommandResult> {
    return transition(context, 'CompleteCampaign', change);
  }

  @Mutation(() => CampaignCommandResult, { description: 'Archives a campaign that is not ACTIVE.' })
  archiveCampaign(
    @Args(() => CampaignChangeArgs) change: CampaignChangeArgs,
    @Ctx() context: TouchlineContext,
  ): Promise<CampaignCommandResult> {
    return transition(context, 'ArchiveCampaign', change);
  }

  @Mutation(() => CampaignCommandResult, {
    description: 'Creates a new DRAFT campaign with the fields of an existing one (any status).',
  })
  async duplicateCampaign(
    @Arg('id', () => ID) id: string,
    @Arg('newId', () => ID, { nullable: true }) newId: string | null,
    @Arg('name', () => String, { nullable: true }) name: string | null,
    @Arg('commandId', () => String, { nullable: true }) commandId: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<CampaignCommandResult> {
    const source = await context.services.campaigns.load(context.workspaceId, id);
    const data = duplicateCampaignInput(
      source,
      newId ?? context.services.newId(),
      name ?? undefined,
    );
    return execute(context, commandId, undefined, (metadata) => ({
      type: 'CreateCampaign',
      metadata,
      data,
    }));
  }

  @Subscription(() => Campaign, {
    description:
      'Pushes a campaign each time the projector commits a change to it (all campaigns of the workspace when id is omitted).',
    subscribe: ({ args, context }) =>
      campaignChanges(context as TouchlineContext, (args.id as string | null | undefined) ?? null),
  })
  campaignChanged(
    @Arg('id', () => ID, { nullable: true }) _id: string | null,
    @Root() campaign: Campaign,
  ): Campaign {
    return campaign;
  }
}

/** Read-your-writes on every campaign command's result. */
@Resolver(() => CampaignCommandResult)
export class CampaignCommandResultResolver {
  @FieldResolver(() => Campaign, {
    nullable: true,
    description:
      'The campaign after the command, read once the read model has caught up (null if it has not in time).',
  })
  async campaign(
    @Root() result: CampaignCommandResult,
    @Ctx() context: TouchlineContext,
  ): Promise<Campaign | null> {
    const reached = await context.services.readModels.waitForPosition(BigInt(result.position), [
      PROJECTION,
    ]);
    if (!reached) return null;
    const document = await context.services.readModels
      .collection<CampaignDocument>(PROJECTION)
      .findOne({ _id: documentKey(context.workspaceId, result.campaignId) });
    return document && Campaign.from(document);
  }
}

function goalInput(goal: GoalInput | null | undefined): DomainGoalInput | null | undefined {
  if (!goal) return goal;
  return goal.metric === 'REVENUE'
    ? {
        metric: goal.metric,
        target: goal.amount ?? String(goal.target ?? ''),
        currency: goal.currency ?? null,
      }
    : {
        metric: goal.metric,
        target: goal.target ?? goal.amount ?? '',
        currency: goal.currency ?? null,
      };
}

function campaignFilter(workspaceId: string, filter: CampaignFilter | null): Filter {
  const conditions: Filter[] = [{ workspaceId }];
  if (filter?.status?.length) conditions.push({ status: { $in: filter.status } });
  if (filter?.channel) conditions.push({ channels: filter.channel });
  if (filter?.tag !== undefined && filter.tag !== null) conditions.push({ tags: filter.tag });
  if (filter?.activeFrom) {
    conditions.push({
      $or: [{ endsAt: null }, { endsAt: { $gte: filter.activeFrom.toISOString() } }],
    });
  }
  if (filter?.activeTo) {
    conditions.push({
      $or: [{ startsAt: null }, { startsAt: { $lte: filter.activeTo.toISOString() } }],
    });
  }
  if (filter?.createdFrom)
    conditions.push({ createdAt: { $gte: filter.createdFrom.toISOString() } });
  if (filter?.createdTo) conditions.push({ createdAt: { $lte: filter.createdTo.toISOString() } });
  if (filter?.createdFrom && filter.createdTo && filter.createdFrom > filter.createdTo) {
    throw badInput(
      'filter.createdTo',
      'createdTo must not be before createdFrom',
      'REVERSED_RANGE',
    );
  }
  if (filter?.activeFrom && filter.activeTo && filter.activeFrom > filter.activeTo) {
    throw badInput('filter.activeTo', 'activeTo must not be before activeFrom', 'REVERSED_RANGE');
  }
  return conditions.length === 1 ? conditions[0] : { $and: conditions };
}

/** A lifecycle step that needs nothing but the campaign's id. */
function transition(
  context: TouchlineContext,
  type: 'LaunchCampaign' | 'ResumeCampaign' | 'CompleteCampaign' | 'ArchiveCampaign',
  { id, expectedRevision, commandId }: CampaignChangeArgs,
): Promise<CampaignCommandResult> {
  return execute(context, commandId, expectedRevision, (metadata) => ({
    type,
    metadata,
    data: { campaignId: id },
  }));
}

function afterCursor(cursor: string): Filter {
  const [createdAt, id] = decodeCursor('after', cursor, 2);
  return { $or: [{ createdAt: { $lt: createdAt } }, { createdAt, _id: { $lt: id } }] };
}

function campaignChanges(
  context: TouchlineContext,
  id: string | null,
): AsyncIterableIterator<Campaign> {
  const changes = context.services.live.changes(PROJECTION, context.workspaceId);
  return closingWith(changes, freshCampaigns(context, changes, id));
}

async function* freshCampaigns(
  context: TouchlineContext,
  changes: AsyncIterable<DocumentChange>,
  id: string | null,
): AsyncGenerator<Campaign> {
  const wanted = id === null ? null : documentKey(context.workspaceId, id);
  for await (const change of changes) {
    if (wanted !== null && change.id !== wanted) continue;
    // Resolved each time: a rebuild may have switched the read model to a new generation.
    const collection = context.services.readModels.collection<CampaignDocument>(PROJECTION);
    const document = await collection.findOne({ _id: change.id });
    if (document) yield Campaign.from(document);
  }
}
