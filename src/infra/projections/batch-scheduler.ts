/**
 * Which projector batch goes next when the machine cannot do everything at once.
 *
 * Live projections (the numbers dashboards watch as they happen: campaign metrics, and the
 * small definition projections the others read) and the process managers never wait.
 * Background projections (contacts, funnels, experiments, attribution, segments; not a
 * rebuild someone asked for) give way while either
 * - tracking ingestion is busy (durably accepting traffic comes first), or
 * - a live projection is behind (its last batch was full, by the projector's batch size:
 *   more is waiting for it).
 * While that lasts, the waiting background batches go one at a time, one every `trickleMs`
 * but no more than a tenth of the time (after a batch that took 100 ms, the next goes 900 ms
 * later; after a slow one, 2 s at most), so they always progress without taking the cores
 * from ingestion; once it passes, all of them go. Under a sustained load the machine
 * cannot fully project, the live numbers stay current and the background ones catch up when
 * the load eases (measured by `npm run bench`: see README).
 */

/** A live projection that marked itself behind and has not committed since no longer counts. */
const LIVE_MARK_EXPIRES_MS = 1_000;
const DEFAULT_TRICKLE_MS = 200;
/** While contended, the share of time background batches may take. */
const BACKGROUND_SHARE = 0.1;
/** The longest a contended background waits after one slow batch. */
const MAX_BACKGROUND_PAUSE_MS = 2_000;

export interface BatchSchedulerOptions {
  /** While contended, one background batch goes every this many milliseconds. */
  readonly trickleMs?: number;
  readonly now?: () => number;
}

export class BatchScheduler {
  private ingesting = false;
  /** Live runners whose last batch was full, and when it was committed. */
  private readonly behind = new Map<string, number>();
  private waiting: (() => void)[] = [];
  private trickle: NodeJS.Timeout | undefined;
  /** While contended, the next background batch goes no earlier than this. */
  private nextTrickleAt = 0;

  constructor(private readonly options: BatchSchedulerOptions = {}) {}

  /** Whether background batches wait now. */
  get contended(): boolean {
    if (this.ingesting) return true;
    const now = this.now();
    for (const [name, markedAt] of this.behind) {
      if (now - markedAt < LIVE_MARK_EXPIRES_MS) return true;
      this.behind.delete(name);
    }
    return false;
  }

  /** Tracking ingestion became busy or idle (see IngestionPriority). */
  ingestionBusy(busy: boolean): void {
    this.ingesting = busy;
    if (!busy) this.releaseIfFree();
  }

  /** After each batch of a live projection's serving runner: whether it was a full batch. */
  liveBatch(runner: string, full: boolean): void {
    if (full) {
      this.behind.set(runner, this.now());
    } else if (this.behind.delete(runner)) {
      this.releaseIfFree();
    }
  }

  /**
   * After each batch of a background projection, how long it took from its turn to its
   * commit: while contended, the next one waits nine times as long (capped).
   */
  backgroundBatch(tookMs: number): void {
    const pause = Math.min(
      (tookMs * (1 - BACKGROUND_SHARE)) / BACKGROUND_SHARE,
      MAX_BACKGROUND_PAUSE_MS,
    );
    this.nextTrickleAt = Math.max(this.nextTrickleAt, this.now() + pause);
  }

  /** Awaited before each batch of a background projection. */
  backgroundTurn(): Promise<void> {
    if (!this.contended) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.startTrickle();
    });
  }

  private startTrickle(): void {
    if (this.trickle) return;
    this.trickle = setInterval(() => {
      if (this.releaseIfFree()) return;
      if (this.now() < this.nextTrickleAt) return;
      this.waiting.shift()?.();
      if (this.waiting.length === 0) this.stopTrickle();
    }, this.options.trickleMs ?? DEFAULT_TRICKLE_MS);
    this.trickle.unref();
  }

  private stopTrickle(): void {
    clearInterval(this.trickle);
    this.trickle = undefined;
  }

  /** Lets every waiting batch go if nothing is contended; answers whether it did. */
  private releaseIfFree(): boolean {
    if (this.contended) return false;
    const waiting = this.waiting;
    this.waiting = [];
    this.stopTrickle();
    for (const release of waiting) release();
    return true;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }
}
