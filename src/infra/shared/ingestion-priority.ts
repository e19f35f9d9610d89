/**
 * Ingestion before projection. When tracking traffic comes faster than the machine can
 * both accept and project it, accepting (durably appending) it comes first and the
 * background projections catch up a moment later (see BatchScheduler; measured by
 * `npm run bench`: see README).
 *
 * The router counts the tracking requests in flight; ingestion is busy while `backlog` or
 * more are, and stays busy for `quietMs` after the last one is answered: traffic arriving
 * back to back leaves a short gap between one answer and the next request, which is not
 * the end of the load. Projectors follow the state through `onBusyChange`, on this thread
 * or (by message) on theirs.
 */
export interface IngestionPriorityOptions {
  readonly backlog?: number;
  readonly quietMs?: number;
  readonly onBusyChange?: (busy: boolean) => void;
}

export class IngestionPriority {
  private inFlight = 0;
  private quiet: NodeJS.Timeout | undefined;
  private announced = false;

  constructor(private readonly options: IngestionPriorityOptions = {}) {}

  get busy(): boolean {
    return this.announced;
  }

  /** Marks a tracking request in flight; call the returned function once it is answered. */
  begin(): () => void {
    this.inFlight += 1;
    if (this.inFlight >= this.backlog) {
      clearTimeout(this.quiet);
      this.quiet = undefined;
      this.announce(true);
    }
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight -= 1;
      if (this.inFlight === this.backlog - 1 && this.announced) this.settle();
    };
  }

  private settle(): void {
    const quietMs = this.options.quietMs ?? 0;
    if (quietMs === 0) {
      this.announce(false);
      return;
    }
    this.quiet = setTimeout(() => {
      this.quiet = undefined;
      if (this.inFlight < this.backlog) this.announce(false);
    }, quietMs);
    this.quiet.unref();
  }

  private announce(busy: boolean): void {
    if (this.announced === busy) return;
    this.announced = busy;
    this.options.onBusyChange?.(busy);
  }

  private get backlog(): number {
    return this.options.backlog ?? 1;
  }
}
