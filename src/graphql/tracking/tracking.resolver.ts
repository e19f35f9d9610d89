import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { ingestionLimits } from '../../domain/tracking/ingestion';
import type { TouchlineContext } from '../context';
import { badInput } from '../errors';
import { callTypeOf, RejectedEvent, TrackInput, TrackResult } from './tracking.types';

@Resolver()
export class TrackingResolver {
  @Mutation(() => TrackResult, {
    description: `Tracks up to ${ingestionLimits.batchMessages} events, as a Segment batch would: valid events are stored, invalid ones reported by index.`,
  })
  async trackEvents(
    @Arg('events', () => [TrackInput]) events: TrackInput[],
    @Ctx() context: TouchlineContext,
  ): Promise<TrackResult> {
    if (events.length > ingestionLimits.batchMessages) {
      throw badInput(
        'events',
        `at most ${ingestionLimits.batchMessages} events per call, got ${events.length}`,
        'TOO_MANY_EVENTS',
      );
    }
    const outcome = await context.services.tracking.ingest(
      context.workspaceId,
      events.map(toSegmentMessage),
      { source: 'graphql' },
    );
    return Object.assign(new TrackResult(), {
      accepted: outcome.accepted,
      rejected: outcome.rejected.map(RejectedEvent.from),
      position: outcome.position === null ? null : outcome.position.toString(),
    });
  }
}

/** The input as the Segment message the ingestion parses; absent fields are left out. */
function toSegmentMessage(input: TrackInput): Record<string, unknown> {
  const message: Record<string, unknown> = {
    type: callTypeOf[input.type],
    userId: input.userId,
    anonymousId: input.anonymousId,
    messageId: input.messageId,
    event: input.event,
    name: input.name,
    previousId: input.previousId,
    timestamp: input.timestamp?.toISOString(),
    properties: input.properties,
    traits: input.traits,
    context: input.context,
  };
  return Object.fromEntries(
    Object.entries(message).filter(([, value]) => value !== undefined && value !== null),
  );
}
