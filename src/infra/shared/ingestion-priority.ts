/**
 * Ingestion before projection. On one machine the projectors share the main thread with
 * the HTTP server that relays tracking batches to the ingestion worker thread; when both
 * want the CPU, accepting (durably appending) the traffic comes first and the projectors
 * catch up a moment later (measured by `npm run bench`: see README). The router counts the
 * tracking requests in flight; each projector batch waits, at most `maxWaitMs`, until there
 * are none, so projectors always progress.
 */
export class IngestionPriority {
  private inFlight = 0;
  private idle: (() => void)[] = [];

  constructor(private readonly maxWaitMs: number) {}

  /** Marks a tracking request in flight; call the returned function once it is answered. */
  begin(): () => void {
    this.inFlight += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight -= 1;
      if (this.inFlight === 0) this.wakeAll();
    };
  }

  /** Resolves when no tracking request is in flight, or after `maxWaitMs`. */
  yieldToIngestion(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.maxWaitMs);
      this.idle.push(done);
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private wakeAll(): void {
    const waiting = this.idle;
    this.idle = [];
    for (const wake of waiting) wake();
  }
}
