import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { CallType, RejectedMessage } from '../../domain/tracking/ingestion';

export const TrackType = {
  TRACK: 'TRACK',
  PAGE: 'PAGE',
  SCREEN: 'SCREEN',
  IDENTIFY: 'IDENTIFY',
  ALIAS: 'ALIAS',
} as const;
export type TrackType = (typeof TrackType)[keyof typeof TrackType];
registerEnumType(TrackType, {
  name: 'TrackType',
  description: 'The Segment call a tracked event is (ANALYTICS.md, Ingestion).',
});

/** The Segment call type each enum value stands for. */
export const callTypeOf: { readonly [K in TrackType]: CallType } = {
  TRACK: 'track',
  PAGE: 'page',
  SCREEN: 'screen',
  IDENTIFY: 'identify',
  ALIAS: 'alias',
};

@InputType({
  description:
    'One Segment-style call. Needs userId or anonymousId (alias: userId and previousId); TRACK needs event.',
})
export class TrackInput {
  @Field(() => TrackType)
  type!: TrackType;

  @Field(() => String, { nullable: true })
  userId?: string | null;

  @Field(() => String, { nullable: true })
  anonymousId?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Makes the call idempotent: the same messageId is stored once.',
  })
  messageId?: string | null;

  @Field(() => String, { nullable: true, description: 'The event name of a TRACK call.' })
  event?: string | null;

  @Field(() => String, { nullable: true, description: 'The page or screen name.' })
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'The earlier id an ALIAS joins to userId.' })
  previousId?: string | null;

  @Field(() => Date, { nullable: true, description: 'When it happened; default: on arrival.' })
  timestamp?: Date | null;

  @Field(() => GraphQLJSONObject, { nullable: true })
  properties?: Record<string, unknown> | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Traits of an IDENTIFY call.' })
  traits?: Record<string, unknown> | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'Segment context: campaign (UTM), page (url, referrer), ...',
  })
  context?: Record<string, unknown> | null;
}

@ObjectType({ description: 'An event that was not stored, and why.' })
export class RejectedEvent {
  @Field(() => Int, { description: 'Its index in the events argument.' })
  index!: number;

  @Field(() => String, { nullable: true })
  messageId!: string | null;

  @Field({ description: 'The offending field, e.g. `event` or `properties.revenue`.' })
  field!: string;

  @Field({ description: 'Stable reason code, e.g. MISSING_ID.' })
  reason!: string;

  @Field()
  message!: string;

  static from(rejected: RejectedMessage): RejectedEvent {
    return Object.assign(new RejectedEvent(), rejected);
  }
}

@ObjectType()
export class TrackResult {
  @Field(() => Int, { description: 'Events stored (or already stored under their messageId).' })
  accepted!: number;

  @Field(() => [RejectedEvent])
  rejected!: RejectedEvent[];

  @Field(() => String, {
    nullable: true,
    description: 'Log position to wait for to read these events back; null when none was stored.',
  })
  position!: string | null;
}
