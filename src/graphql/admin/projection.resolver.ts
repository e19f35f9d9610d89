import { Arg, Ctx, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { TouchlineContext } from '../context';
import { userError } from '../errors';
import { ProjectionStatus, RebuildProgress } from './projection.types';

@Resolver()
export class ProjectionResolver {
  @Query(() => [ProjectionStatus], {
    description: "Each projection's position, lag and rebuild progress.",
  })
  async projections(@Ctx() { services }: TouchlineContext): Promise<ProjectionStatus[]> {
    return (await services.projections.status()).map(ProjectionStatus.from);
  }

  @Mutation(() => RebuildProgress, {
    description:
      'Rebuilds a projection from the log into fresh collections; the current read model serves until the new one has caught up.',
  })
  async rebuildProjection(
    @Arg('name') name: string,
    @Ctx() { services }: TouchlineContext,
  ): Promise<RebuildProgress> {
    const names = (await services.projections.status()).map((status) => status.name);
    if (!names.includes(name)) {
      throw userError('NOT_FOUND', `there is no projection named ${name}`, {
        field: 'name',
        reason: 'NOT_FOUND',
      });
    }
    return RebuildProgress.from(await services.projections.rebuild(name));
  }

  @Subscription(() => RebuildProgress, {
    description: 'Progress of a rebuild after each committed batch, ending with done = true.',
    subscribe: ({ args, context }) =>
      rebuildProgress(args.name as string, context as TouchlineContext),
  })
  projectionProgress(
    @Arg('name') _name: string,
    @Root() progress: RebuildProgress,
  ): RebuildProgress {
    return progress;
  }
}

async function* rebuildProgress(
  name: string,
  { services }: TouchlineContext,
): AsyncGenerator<RebuildProgress> {
  const names = (await services.projections.status()).map((status) => status.name);
  if (!names.includes(name)) {
    throw userError('NOT_FOUND', `there is no projection named ${name}`, {
      field: 'name',
      reason: 'NOT_FOUND',
    });
  }
  let last = services.projections.rebuildProgress(name);
  if (last) yield RebuildProgress.from(last);
  for await (const commit of services.live.commits()) {
    if (commit.projection !== name) continue;
    const progress = services.projections.rebuildProgress(name);
    if (progress) {
      last = progress;
      yield RebuildProgress.from(progress);
    } else if (last) {
      // The rebuild switched over: the new generation serves.
      yield RebuildProgress.from({ ...last, position: commit.position, done: true, etaSeconds: 0 });
      return;
    }
  }
}
