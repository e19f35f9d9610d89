/**
 * In-process fan-out of committed batches to live subscribers (GraphQL subscriptions,
 * waiters for read-your-writes). Each subscriber gets its own queue and removes itself
 * when it stops reading.
 */
import { AsyncQueue } from '../shared/async-queue';
import type { CommittedBatch } from './projection-runner';

export class ChangeFeed {
  private readonly subscribers = new Set<(batch: CommittedBatch) => void>();

  publish(batch: CommittedBatch): void {
    for (const subscriber of this.subscribers) subscriber(batch);
  }

  /** Calls `listener` for every batch until the returned function is called. */
  listen(listener: (batch: CommittedBatch) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  /** Batches from now on, as an async iterable that unsubscribes when the reader stops. */
  subscribe(): AsyncQueue<CommittedBatch> {
    const queue: AsyncQueue<CommittedBatch> = new AsyncQueue(() => stop());
    const stop = this.listen((batch) => queue.push(batch));
    return queue;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }
}
