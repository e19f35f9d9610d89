import { Arg, Ctx, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { TouchlineContext } from '../context';
import { userError } from '../errors';
import { closingWith } from '../shared/live';
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
    subscribe: ({ args, context }) => {
      const commits = (context as TouchlineContext).services.live.commits();
      return closingWith(
        commits,
        rebuildProgress(args.name as string, context as TouchlineContext, commits),
      );
    },
  })
  projectionProgress(
    @Arg('name') _name: string,
    @Root() progress: RebuildProgress,
  ): RebuildProgress {
    return progress;
  }
}

/**
 * Progress of the rebuild in progress, or of the next one started, ending once it has taken
 * over: a client may subscribe before or after calling rebuildProjection.
 */
async function* rebuildProgress(
  name: string,
  { services }: TouchlineContext,
  commits: AsyncIterable<{ projection: string }>,
): AsyncGenerator<RebuildProgress> {
  const status = (await services.projections.status()).find((candidate) => candidate.name === name);
  if (!status) {
    throw userError('NOT_FOUND', `there is no projection named ${name}`, {
      field: 'name',
      reason: 'NOT_FOUND',
    });
  }
  const relevant = () => {
    const progress = services.projections.rebuildProgress(name);
    return progress && progress.generation > status.generation ? progress : null;
  };
  const current = relevant();
  if (current) {
    yield RebuildProgress.from(current);
    if (current.done) return;
  }
  for await (const commit of commits) {
    if (commit.projection !== name) continue;
    const progress = relevant();
    if (!progress) continue;
    yield RebuildProgress.from(progress);
    if (progress.done) return;
  }
}
