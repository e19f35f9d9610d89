import { GraphQLJSON } from 'graphql-scalars';
import { Field, InputType, Int, ObjectType } from 'type-graphql';
import type { RecordedEvent } from '../../domain/shared/events';
import { PageInfo } from '../shared/page-info';
import { encodePositionCursor, occurredAt, streamCategories } from './event-query';

@InputType({ description: 'Which events of the log; every condition given must hold.' })
export class EventFilterInput {
  @Field(() => String, { nullable: true, description: 'Only this stream.' })
  streamId?: string | null;

  @Field(() => String, {
    nullable: true,
    description: `Only streams of this category, the stream name before its first '-': ${streamCategories.join(', ')}.`,
  })
  category?: string | null;

  @Field(() => [String], { nullable: true, description: 'Only these event types.' })
  types?: string[] | null;

  @Field(() => Date, {
    nullable: true,
    description:
      "Event time from (inclusive). Event time is the event's own occurredAt (tracked calls) when it has one, else its record time.",
  })
  occurredFrom?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Event time before (exclusive).' })
  occurredTo?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Record time from (inclusive).' })
  recordedFrom?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Record time before (exclusive).' })
  recordedTo?: Date | null;

  @Field(() => String, {
    nullable: true,
    description:
      "Only the streams of this contact's identities (its userIds and anonymousIds, as the contacts read model joins them); an id the read model does not know is taken as one identity.",
  })
  contactId?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      "The campaign's own stream, plus the tracked calls that name it: a `campaign_id` property or a UTM campaign name (context.campaign.name) equal to this id.",
  })
  campaignId?: string | null;
}

@ObjectType({ description: 'One event of the log as it is stored.' })
export class LogEvent {
  @Field({ description: 'Position in the whole log (64-bit, as a string).' })
  position!: string;

  @Field()
  streamId!: string;

  @Field({ description: 'Revision within its stream, 0-based (64-bit, as a string).' })
  revision!: string;

  @Field()
  type!: string;

  @Field(() => Int, {
    description:
      'Version of the shape of `data`: the current one of its type, since older events are upcast when read (metadata.schemaVersion).',
  })
  version!: number;

  @Field(() => Int, {
    description:
      'Version of the shape the log holds: lower than `version` when the event was upcast on read (metadata.storedSchemaVersion), equal otherwise.',
  })
  storedVersion!: number;

  @Field(() => Date, {
    nullable: true,
    description: 'Event time, when the event carries one (tracked calls).',
  })
  occurredAt!: Date | null;

  @Field(() => Date, { description: 'When the log recorded it.' })
  recordedAt!: Date;

  @Field(() => GraphQLJSON)
  data!: unknown;

  @Field(() => GraphQLJSON)
  metadata!: unknown;

  @Field(() => String, { nullable: true, description: 'Who issued the command.' })
  actor!: string | null;

  @Field(() => String, { nullable: true })
  correlationId!: string | null;

  @Field(() => String, { nullable: true })
  causationId!: string | null;

  @Field(() => String, { nullable: true })
  commandId!: string | null;

  static from(event: RecordedEvent): LogEvent {
    const { metadata } = event;
    return Object.assign(new LogEvent(), {
      position: event.position.toString(),
      streamId: event.streamId,
      revision: event.revision.toString(),
      type: event.type,
      version: metadata.schemaVersion,
      storedVersion: metadata.storedSchemaVersion ?? metadata.schemaVersion,
      occurredAt: occurredAt(event),
      recordedAt: event.recordedAt,
      data: event.data,
      metadata,
      actor: metadata.actor ?? null,
      correlationId: metadata.correlationId ?? null,
      causationId: metadata.causationId ?? null,
      commandId: metadata.commandId ?? null,
    });
  }
}

@ObjectType()
export class LogEventEdge {
  @Field()
  cursor!: string;

  @Field(() => LogEvent)
  node!: LogEvent;

  static from(event: RecordedEvent): LogEventEdge {
    return Object.assign(new LogEventEdge(), {
      cursor: encodePositionCursor(event.position),
      node: LogEvent.from(event),
    });
  }
}

@ObjectType({
  description:
    'A page of the log in position order. No total count: counting would read the whole log.',
})
export class EventConnection {
  @Field(() => [LogEventEdge])
  edges!: LogEventEdge[];

  @Field(() => [LogEvent])
  nodes!: LogEvent[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType({ description: "One event of a stream and the aggregate's state after it." })
export class StreamEntry {
  @Field(() => LogEvent)
  event!: LogEvent;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description:
      "The state folded with the domain's own evolve (campaign, funnel, experiment and segment streams); null for other streams.",
  })
  state!: unknown;
}
