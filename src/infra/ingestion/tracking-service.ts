/**
 * Tracking ingestion: parse Segment-style calls (src/domain/tracking/ingestion.ts), then
 * append every accepted message to its contact's stream in ONE `appendMany`. Shared by the
 * Segment-compatible HTTP router and the `trackEvents` GraphQL mutation, so both store the
 * same events with the same ids.
 *
 * Idempotency: a message's event id is derived from its workspace and messageId, so a message
 * sent again is recognised by the store and stored once; the answer then repeats the first
 * one's position.
 */
import type { RejectedMessage } from '../../domain/tracking/ingestion';
import {
  parseBatch,
  parseMessage,
  type AcceptedMessage,
  type CallType,
  type IngestionOptions,
} from '../../domain/tracking/ingestion';
import { contactStreamId, primaryIdentity } from '../../domain/tracking/tracking.events';
import {
  DuplicateEventError,
  ExpectedRevision,
  type EventStore,
  type StreamWrite,
} from '../event-store/event-store';
import { currentSchemaVersion } from '../../domain/event-schemas';
import { ValidationError } from '../../domain/shared/errors';
import type { Logger } from '../logger';
import { trackingEventId } from './tracking-event-id';

export interface TrackingServiceDependencies {
  readonly eventStore: EventStore;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly logger: Logger;
}

export interface IngestOptions {
  /** An archive import by a key allowed to: the messages' own receivedAt is kept. */
  readonly keepReceivedAt?: boolean;
  /** Where the messages came from, recorded in each event's metadata. Default `segment`. */
  readonly source?: string;
  /** The key that sent the messages (`key:<id>`), recorded in each event's metadata. */
  readonly actor?: string;
  /** Size of the request body as received, when the caller knows it (saves measuring it). */
  readonly bodyBytes?: number;
}

export interface IngestResult {
  /** Messages accepted: stored now, or already stored by an earlier send of the same messageId. */
  readonly accepted: number;
  readonly rejected: readonly RejectedMessage[];
  /** Log position the read models must reach to reflect every accepted message; null: none. */
  readonly position: bigint | null;
}

/** Reason of a batch body that is not JSON at all. */
export const MALFORMED_JSON = 'MALFORMED_JSON';

/** Reason of a message whose messageId is already stored for another person. */
export const DUPLICATE_MESSAGE_ID = 'DUPLICATE_MESSAGE_ID';

/** What the HTTP router and GraphQL need of ingestion, in process or on a worker thread. */
export interface TrackingIngestor {
  ingest(
    workspaceId: string,
    messages: readonly unknown[],
    options?: IngestOptions,
  ): Promise<IngestResult>;
  ingestBatch(workspaceId: string, body: unknown, options?: IngestOptions): Promise<IngestResult>;
  /** A batch body as received (UTF-8 JSON bytes), parsed where the ingestion runs. */
  ingestRawBatch(
    workspaceId: string,
    raw: Uint8Array,
    options?: IngestOptions,
  ): Promise<IngestResult>;
  ingestMessage(
    workspaceId: string,
    raw: unknown,
    type: CallType,
    options?: IngestOptions,
  ): Promise<IngestResult>;
}

export class TrackingService implements TrackingIngestor {
  constructor(private readonly deps: TrackingServiceDependencies) {}

  /** Messages as the entries of a Segment batch (GraphQL's `trackEvents`). */
  ingest(
    workspaceId: string,
    messages: readonly unknown[],
    options: IngestOptions = {},
  ): Promise<IngestResult> {
    return this.ingestBatch(workspaceId, { batch: messages }, options);
  }

  /**
   * A Segment batch body `{ batch: [...], context?, sentAt? }`. A bad message is rejected by
   * its index and the others are stored; a malformed body throws a ValidationError.
   */
  async ingestBatch(
    workspaceId: string,
    body: unknown,
    options: IngestOptions = {},
  ): Promise<IngestResult> {
    const { accepted, rejected } = parseBatch(body, {
      ...this.parseOptions(options),
      bodyBytes: options.bodyBytes,
    });
    return this.store(workspaceId, accepted, rejected, options);
  }

  async ingestRawBatch(
    workspaceId: string,
    raw: Uint8Array,
    options: IngestOptions = {},
  ): Promise<IngestResult> {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
    } catch {
      throw new ValidationError('body', 'the request body is not valid JSON', MALFORMED_JSON);
    }
    return this.ingestBatch(workspaceId, body, { ...options, bodyBytes: raw.byteLength });
  }

  /** One call of the given type (`/v1/track`, ...); an invalid one throws a ValidationError. */
  async ingestMessage(
    workspaceId: string,
    raw: unknown,
    type: CallType,
    options: IngestOptions = {},
  ): Promise<IngestResult> {
    const event = parseMessage(raw, type, this.parseOptions(options));
    const message: AcceptedMessage = {
      index: 0,
      event,
      streamIdentity: primaryIdentity(event.data),
    };
    return this.store(workspaceId, [message], [], options);
  }

  private parseOptions(options: IngestOptions): IngestionOptions {
    return {
      receivedAt: this.deps.clock(),
      keepReceivedAt: options.keepReceivedAt ?? false,
      newMessageId: this.deps.newId,
    };
  }

  /**
   * Appends the accepted messages in one call. A messageId already stored for another
   * person cannot be stored again under the same event id: that message is rejected, and
   * the rest appended again (SQLite stored nothing of the failed call; EventStoreDB may have
   * stored a part of it, which the next call recognises as retries).
   */
  private async store(
    workspaceId: string,
    accepted: readonly AcceptedMessage[],
    rejected: readonly RejectedMessage[],
    { source = 'segment', actor }: IngestOptions,
  ): Promise<IngestResult> {
    const refused: RejectedMessage[] = [];
    let pending = rejectReusedIds(workspaceId, accepted, refused);
    for (;;) {
      const writes = pending.map((message) => toStreamWrite(workspaceId, message, source, actor));
      try {
        const results = writes.length > 0 ? await this.deps.eventStore.appendMany(writes) : [];
        const position = results.reduce<bigint | null>(
          (latest, { position }) => (latest === null || position > latest ? position : latest),
          null,
        );
        const allRejected = [...rejected, ...refused].sort((a, b) => a.index - b.index);
        return { accepted: pending.length, rejected: allRejected, position };
      } catch (error) {
        if (!(error instanceof DuplicateEventError)) throw error;
        const clashing = pending.filter(
          (_, index) => writes[index]?.events[0]?.eventId === error.eventId,
        );
        if (clashing.length === 0) throw error;
        for (const message of clashing) {
          refused.push(duplicateMessageId(message, 'is already stored for another person'));
        }
        this.deps.logger.warn(
          { workspaceId, messageId: clashing[0]?.event.data.messageId, count: clashing.length },
          'tracking message refused: its messageId is already stored for another person',
        );
        pending = pending.filter((message) => !clashing.includes(message));
      }
    }
  }
}

/**
 * Within one call, a messageId repeated for the same person is a retry (stored once); for
 * another person it is refused, as it would be if the first copy had been stored earlier.
 */
function rejectReusedIds(
  workspaceId: string,
  accepted: readonly AcceptedMessage[],
  refused: RejectedMessage[],
): AcceptedMessage[] {
  const streamOf = new Map<string, string>();
  return accepted.filter((message) => {
    const { messageId } = message.event.data;
    const streamId = contactStreamId(workspaceId, message.streamIdentity);
    const first = streamOf.get(messageId);
    if (first === undefined) streamOf.set(messageId, streamId);
    if (first === undefined || first === streamId) return true;
    refused.push(duplicateMessageId(message, 'was sent for another person earlier in this call'));
    return false;
  });
}

function duplicateMessageId(message: AcceptedMessage, why: string): RejectedMessage {
  const { messageId } = message.event.data;
  return {
    index: message.index,
    messageId,
    field: 'messageId',
    reason: DUPLICATE_MESSAGE_ID,
    message: `messageId ${JSON.stringify(messageId)} ${why}`,
  };
}

function toStreamWrite(
  workspaceId: string,
  message: AcceptedMessage,
  source: string,
  actor: string | undefined,
): StreamWrite {
  const { event } = message;
  const { messageId } = event.data;
  return {
    streamId: contactStreamId(workspaceId, message.streamIdentity),
    events: [
      {
        eventId: trackingEventId(workspaceId, messageId),
        type: event.type,
        data: event.data,
        metadata: {
          workspaceId,
          schemaVersion: currentSchemaVersion(event.type),
          messageId,
          source,
          ...(actor !== undefined && { actor }),
        },
      },
    ],
    expected: ExpectedRevision.any,
  };
}
