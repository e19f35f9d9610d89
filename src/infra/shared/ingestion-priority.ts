/**
 * Ingestion before projection. When tracking traffic comes faster than the machine can
 * both accept and project it, accepting (durably appending) it comes first and the
 * projectors catch up a moment later (measured by `npm run bench`: see README).
 *
 * The router counts the tracking requests in flight; ingestion is busy while `backlog` or
 * more are. Each projector batch then waits, at most `maxWaitMs`, for that to pass, so
 * projectors always progress. A projector on another thread follows the same state
 * through `onBusyChange`.
 */
export class IngestionPriority {
  private inFlight = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly maxWaitMs: number,
    private readonly options: { backlog?: number; onBusyChange?: (busy: boolean) => void } = {},
  ) {}

  private get backlog(): number {
    return this.options.backlog ?? 1;
  }

  get busy(): boolean {
    return this.inFlight >= this.backlog;
  }

  /** Marks a tracking request in flight; call the returned function once it is answered. */
  begin(): () => void {
    this.inFlight += 1;
    if (this.inFlight === this.backlog) this.options.onBusyChange?.(true);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight -= 1;
      if (this.inFlight === this.backlog - 1) {
        this.options.onBusyChange?.(false);
        this.wakeAll();
      }
    };
  }

  /** Resolves at once while ingestion is not busy, else when it no longer is or after `maxWaitMs`. */
  yieldToIngestion(): Promise<void> {
    if (!this.busy) return Promise.resolve();
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
