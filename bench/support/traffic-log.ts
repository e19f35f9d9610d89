/**
 * A log of generated tracking traffic for the benchmarks: days of Segment calls from 10,000
 * contacts (test/support/traffic.ts), parsed as ingestion parses them and appended to each
 * contact's stream, one day after another until the log holds at least `target` events.
 */
import { parseBatch } from '../../src/domain/tracking/ingestion';
import { contactStreamId } from '../../src/domain/tracking/tracking.events';
import { ExpectedRevision, type EventStore } from '../../src/infra/event-store/event-store';
import { trackingEventId } from '../../src/infra/ingestion/tracking-event-id';
import { generateTraffic, toBatches } from '../../test/support/traffic';

const firstDay = Date.parse('2026-10-01T00:00:00Z');
const dayMillis = 86_400_000;

export async function appendTrafficDays(
  eventStore: EventStore,
  workspaceId: string,
  target: number,
): Promise<void> {
  // Positions start at 1: the head's position is the number of events.
  for (let day = 0; (await eventStore.headPosition()) < BigInt(target); day += 1) {
    const date = new Date(firstDay + day * dayMillis);
    const traffic = generateTraffic({ seed: 11 + day, contacts: 10_000, day: date.toISOString() });
    for (const { batch } of toBatches(traffic.messages, 500)) {
      await appendTrackingBatch(eventStore, workspaceId, batch, date);
    }
  }
}

/**
 * Parses a batch of Segment calls as ingestion does and appends each accepted one to its
 * contact's stream, in one write; answers the calls ingestion would have rejected.
 */
export async function appendTrackingBatch(
  eventStore: EventStore,
  workspaceId: string,
  batch: readonly unknown[],
  receivedAt: Date,
): Promise<readonly { readonly index: number; readonly reason: string }[]> {
  const { accepted, rejected } = parseBatch(
    { batch },
    { receivedAt, keepReceivedAt: false, newMessageId: () => 'x' },
  );
  await eventStore.appendMany(
    accepted.map(({ event, streamIdentity }) => ({
      streamId: contactStreamId(workspaceId, streamIdentity),
      events: [
        {
          eventId: trackingEventId(workspaceId, event.data.messageId),
          type: event.type,
          data: event.data,
          metadata: { workspaceId, schemaVersion: 1 },
        },
      ],
      expected: ExpectedRevision.any,
    })),
  );
  return rejected;
}

/**
 * A day of traffic from `contacts` people as `/v1/batch` bodies of `batchSize` messages, with
 * no retried messages or resent orders: every message is new to the server. Also answers how
 * many messages the bodies hold.
 */
export function batchBodies(options: {
  readonly seed: number;
  readonly day: string;
  readonly contacts: number;
  readonly batchSize: number;
}): { readonly bodies: string[]; readonly messages: number } {
  const { messages } = generateTraffic({
    seed: options.seed,
    contacts: options.contacts,
    day: options.day,
    retryShare: 0,
    orderResendShare: 0,
  });
  return {
    bodies: toBatches(messages, options.batchSize).map((batch) => JSON.stringify(batch)),
    messages: messages.length,
  };
}
