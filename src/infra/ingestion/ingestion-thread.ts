/**
 * Tracking ingestion on a worker thread, seen from the main thread as a TrackingIngestor.
 * With the embedded SQLite log the main thread serves HTTP, GraphQL and the projectors
 * while the worker (on the other core) parses, validates and appends on its own connection
 * to the same file (WAL: one writer at a time, readers never blocked). After each append the
 * main thread's log instance wakes its subscriptions, so projectors see the events at once.
 */
import type { Worker } from 'node:worker_threads';
import type { CallType } from '../../domain/tracking/ingestion';
import { DomainError, type DomainErrorKind, ValidationError } from '../../domain/shared/errors';
import type { LogLevel } from '../config';
import type { Logger } from '../logger';
import { startThread } from '../shared/threads';
import type { IngestOptions, IngestResult, TrackingIngestor } from './tracking-service';

export type WorkerRequest =
  | { id: number; kind: 'batch'; workspaceId: string; body: unknown; options: IngestOptions }
  | { id: number; kind: 'raw-batch'; workspaceId: string; body: Uint8Array; options: IngestOptions }
  | {
      id: number;
      kind: 'message';
      workspaceId: string;
      body: unknown;
      type: CallType;
      options: IngestOptions;
    };

export type WorkerReply =
  | { id: number; ok: true; result: IngestResult }
  | {
      id: number;
      ok: false;
      error:
        | { domain: true; kind: DomainErrorKind; reason: string; field?: string; message: string }
        | { domain: false; message: string };
    };

type WorkerRequestBody = WorkerRequest extends infer R
  ? R extends unknown
    ? Omit<R, 'id'>
    : never
  : never;

export interface IngestionThreadOptions {
  readonly eventStorePath: string;
  readonly logLevel: LogLevel;
  readonly logger: Logger;
}

export class IngestionThread implements TrackingIngestor {
  private worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (result: IngestResult) => void; reject: (error: Error) => void }
  >();
  private readonly inFlight = new Set<Promise<IngestResult>>();
  private closing = false;

  constructor(private readonly options: IngestionThreadOptions) {
    this.worker = this.spawn();
  }

  ingest(
    workspaceId: string,
    messages: readonly unknown[],
    options: IngestOptions = {},
  ): Promise<IngestResult> {
    return this.ingestBatch(workspaceId, { batch: messages }, options);
  }

  ingestBatch(
    workspaceId: string,
    body: unknown,
    options: IngestOptions = {},
  ): Promise<IngestResult> {
    return this.request({ kind: 'batch', workspaceId, body, options });
  }

  /** The bytes move to the worker (transferred, not copied again) and are parsed there. */
  ingestRawBatch(
    workspaceId: string,
    raw: Uint8Array,
    options: IngestOptions = {},
  ): Promise<IngestResult> {
    const owned = new Uint8Array(raw);
    return this.request({ kind: 'raw-batch', workspaceId, body: owned, options }, [owned.buffer]);
  }

  ingestMessage(
    workspaceId: string,
    body: unknown,
    type: CallType,
    options: IngestOptions = {},
  ): Promise<IngestResult> {
    return this.request({ kind: 'message', workspaceId, body, type, options });
  }

  /** Finishes the requests in flight, then closes the worker's connection and the thread. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled(
      [...this.pending.values()].map(({ resolve }) => new Promise((done) => done(resolve))),
    );
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage('close');
    await exited;
  }

  private request(body: WorkerRequestBody, transfer: ArrayBuffer[] = []): Promise<IngestResult> {
    if (this.closing) return Promise.reject(new Error('ingestion is shutting down'));
    const id = this.nextId++;
    const reply = new Promise<IngestResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...body, id } as WorkerRequest, transfer);
    });
    this.inFlight.add(reply);
    const forget = () => this.inFlight.delete(reply);
    reply.then(forget, forget);
    return reply;
  }

  private spawn(): Worker {
    const worker = startThread(__dirname, 'ingestion-worker', {
      eventStorePath: this.options.eventStorePath,
      logLevel: this.options.logLevel,
    });
    worker.on('message', (reply: WorkerReply) => this.settle(reply));
    worker.on('error', (error) =>
      this.options.logger.error({ err: error }, 'ingestion worker failed'),
    );
    worker.on('exit', (code) => {
      const lost = [...this.pending.values()];
      this.pending.clear();
      for (const { reject } of lost)
        reject(new Error(`the ingestion worker stopped (exit code ${code})`));
      if (!this.closing) {
        this.options.logger.error({ code }, 'ingestion worker exited; starting another');
        this.worker = this.spawn();
      }
    });
    return worker;
  }

  private settle(reply: WorkerReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (reply.ok) {
      waiting.resolve(reply.result);
    } else if (reply.error.domain) {
      const { kind, reason, message, field } = reply.error;
      waiting.reject(
        kind === 'BAD_USER_INPUT' && field !== undefined
          ? new ValidationError(field, message, reason)
          : new DomainError(kind, reason, message, field),
      );
    } else {
      waiting.reject(new Error(reply.error.message));
    }
  }
}
