import { Field, Float, Int, ObjectType } from 'type-graphql';
import type { ProjectionStatusView, RebuildProgressView } from '../context';

@ObjectType({
  description: 'Progress of rebuilding a projection from the log into a new generation.',
})
export class RebuildProgress {
  @Field()
  projection!: string;

  @Field(() => Int)
  generation!: number;

  @Field(() => Int)
  eventsProcessed!: number;

  @Field({ description: 'Log position of the last event applied by the new generation.' })
  position!: string;

  @Field({ description: 'The new generation serves reads once it reaches this position.' })
  targetPosition!: string;

  @Field(() => Float)
  eventsPerSecond!: number;

  @Field(() => Float, { nullable: true, description: 'Estimated seconds left.' })
  etaSeconds!: number | null;

  @Field()
  done!: boolean;

  static from(view: RebuildProgressView): RebuildProgress {
    return Object.assign(new RebuildProgress(), {
      ...view,
      position: view.position.toString(),
      targetPosition: view.targetPosition.toString(),
    });
  }
}

@ObjectType({ description: 'How far a projection has read the log.' })
export class ProjectionStatus {
  @Field()
  name!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => Int)
  generation!: number;

  @Field({
    description:
      'running, retrying, stopped, outdated (a rebuild is catching up), or unassigned (no projector worker runs it).',
  })
  state!: string;

  @Field({ description: 'Position of the last event applied ("-1" before the first).' })
  position!: string;

  @Field()
  headPosition!: string;

  @Field(() => Float, { description: 'Age in milliseconds of the oldest event still to apply.' })
  lagMs!: number;

  @Field(() => String, { nullable: true })
  lastError!: string | null;

  @Field(() => RebuildProgress, { nullable: true })
  rebuild!: RebuildProgress | null;

  @Field(() => String, {
    nullable: true,
    description: 'The projector worker that runs it (holds its lease); null while none does.',
  })
  worker!: string | null;

  static from(view: ProjectionStatusView): ProjectionStatus {
    return Object.assign(new ProjectionStatus(), {
      ...view,
      position: view.position.toString(),
      headPosition: view.headPosition.toString(),
      rebuild: view.rebuild && RebuildProgress.from(view.rebuild),
    });
  }
}
