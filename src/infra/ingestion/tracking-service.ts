/**
 * Tracking ingestion: parse Segment-style calls (src/domain/tracking/ingestion.ts), then
 * append every accepted message to its contact's stream in ONE `appendMany`, together with
 * the requests that arrived meanwhile (group commit: see `scheduleFlush`). Shared by the
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
  type AppendResult,
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

/**
 * A group append takes whole requests up to about this many messages (four batches of 500).
 * A group that took everything waiting would leave the thread idle after each commit, while
 * its answers travel and the clients' next requests arrive; with a cap, the next group is
 * already queued behind the one appending. Measured with 8 requests of 500 in flight: 2,000
 * to 3,000 accepted a tenth to a fifth more than 5,000, and 1,000 (a commit per two requests)
 * no more.
 */
const MAX_GROUP_MESSAGES = 2_000;

export class TrackingService implements TrackingIngestor {
  private readonly queue: QueuedIngest[] = [];
  private flushScheduled = false;
  /** A group's append is in flight. */
  private appending = false;

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
   * Queues a request's accepted messages for the next group append and answers once they
   * are durably stored. Messages that reached nothing to store are answered at once.
   */
  private store(
    workspaceId: string,
    accepted: readonly AcceptedMessage[],
    rejected: readonly RejectedMessage[],
    options: IngestOptions,
  ): Promise<IngestResult> {
    if (accepted.length === 0) {
      return Promise.resolve({ accepted: 0, rejected: [...rejected], position: null });
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ workspaceId, accepted, rejected, options, resolve, reject });
      this.scheduleFlush();
    });
  }

  /**
   * Group commit: the requests that arrived while the previous append ran (or in the same
   * turn of the event loop) are appended together in ONE appendMany, so they share one
   * transaction and its commit instead of paying one each. A request is still answered
   * only after its own messages are durable, and its answer holds only its own messages.
   */
  private scheduleFlush(): void {
    // One group at a time: with a store that appends asynchronously (EventStoreDB), what
    // arrives while a group is in flight waits for the next one, in arrival order.
    if (this.flushScheduled || this.appending) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const group: QueuedIngest[] = [];
      let messages = 0;
      while (this.queue.length > 0 && (group.length === 0 || messages < MAX_GROUP_MESSAGES)) {
        const next = this.queue.shift() as QueuedIngest;
        messages += next.accepted.length;
        group.push(next);
      }
      this.appending = true;
      void this.appendGroup(group).finally(() => {
        this.appending = false;
        if (this.queue.length > 0) this.scheduleFlush();
      });
    });
  }

  /**
   * Appends a group's messages in one call. A messageId already stored for another person
   * cannot be stored again under the same event id: that message is rejected, and the rest
   * appended again (SQLite stored nothing of the failed call; EventStoreDB may have stored a
   * part of it, which the next call recognises as retries).
   */
  private async appendGroup(group: readonly QueuedIngest[]): Promise<void> {
    const requests = claimMessageIds(group);
    try {
      for (;;) {
        const pending = requests.flatMap((request) => request.pending);
        try {
          const results =
            pending.length > 0
              ? await this.deps.eventStore.appendMany(pending.map(({ write }) => write))
              : [];
          pending.forEach(({ request }, index) => {
            const { position } = results[index] as AppendResult;
            if (request.position === null || position > request.position) {
              request.position = position;
            }
          });
          break;
        } catch (error) {
          if (!(error instanceof DuplicateEventError)) throw error;
          const clashing = pending.filter(({ eventId }) => eventId === error.eventId);
          if (clashing.length === 0) throw error;
          for (const { request, message } of clashing) {
            request.refused.push(
              duplicateMessageId(message, 'is already stored for another person'),
            );
            request.pending = request.pending.filter((entry) => entry.message !== message);
          }
          this.deps.logger.warn(
            {
              workspaceId: clashing[0]?.request.queued.workspaceId,
              messageId: clashing[0]?.message.event.data.messageId,
              count: clashing.length,
            },
            'tracking message refused: its messageId is already stored for another person',
          );
        }
      }
    } catch (error) {
      for (const { queued } of requests) queued.reject(error as Error);
      return;
    }
    for (const { queued, pending, refused, position } of requests) {
      queued.resolve({
        accepted: pending.length,
        rejected: [...queued.rejected, ...refused].sort((a, b) => a.index - b.index),
        position,
      });
    }
  }
}

/** A request's parsed messages waiting for the next group append, and its answer. */
interface QueuedIngest {
  readonly workspaceId: string;
  readonly accepted: readonly AcceptedMessage[];
  readonly rejected: readonly RejectedMessage[];
  readonly options: IngestOptions;
  readonly resolve: (result: IngestResult) => void;
  readonly reject: (error: Error) => void;
}

/** A request of a group while it is appended: what it still stores, refused, and reached. */
interface GroupRequest {
  readonly queued: QueuedIngest;
  pending: PendingWrite[];
  readonly refused: RejectedMessage[];
  position: bigint | null;
}

interface PendingWrite {
  readonly request: GroupRequest;
  readonly message: AcceptedMessage;
  readonly eventId: string;
  readonly write: StreamWrite;
}

/**
 * Turns a group into writes. A messageId repeated for the same person is a retry (stored
 * once); for another person the first claim wins and a later one is refused, as it would
 * be had the first been stored earlier: within one request "earlier in this call", across
 * the group's requests (which arrived in this order) "already stored".
 */
function claimMessageIds(group: readonly QueuedIngest[]): GroupRequest[] {
  const claims = new Map<string, { streamId: string; request: GroupRequest }>();
  return group.map((queued) => {
    const { workspaceId, options } = queued;
    const request: GroupRequest = { queued, pending: [], refused: [], position: null };
    for (const message of queued.accepted) {
      const { messageId } = message.event.data;
      const eventId = trackingEventId(workspaceId, messageId);
      const streamId = contactStreamId(workspaceId, message.streamIdentity);
      const claim = claims.get(eventId);
      if (claim === undefined) claims.set(eventId, { streamId, request });
      if (claim === undefined || claim.streamId === streamId) {
        const write = toStreamWrite(workspaceId, streamId, eventId, message, options);
        request.pending.push({ request, message, eventId, write });
      } else {
        request.refused.push(
          duplicateMessageId(
            message,
            claim.request === request
              ? 'was sent for another person earlier in this call'
              : 'is already stored for another person',
          ),
        );
      }
    }
    return request;
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
  streamId: string,
  eventId: string,
  message: AcceptedMessage,
  { source = 'segment', actor }: IngestOptions,
): StreamWrite {
  const { event } = message;
  const { messageId } = event.data;
  return {
    streamId,
    events: [
      {
        eventId,
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
