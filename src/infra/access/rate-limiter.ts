/**
 * Per-key token buckets: a key may spend `burst` at once and earns `perSecond` back. Held in
 * memory, so each process limits on its own (N API instances allow N times the rate).
 */
export type RateDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterMs: number };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Buckets kept before full ones (idle keys) are dropped. */
const MAX_BUCKETS = 10_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /** `perSecond` 0 turns the limit off. */
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes `cost` tokens from the key's bucket, or says how long until it could. */
  take(key: string, cost = 1): RateDecision {
    if (this.perSecond <= 0) return { allowed: true };
    const now = this.now();
    const bucket = this.refilled(key, now);
    // A request larger than the bucket is let through when the bucket is full.
    const needed = Math.min(cost, this.burst);
    if (bucket.tokens >= needed) {
      bucket.tokens -= needed;
      return { allowed: true };
    }
    return {
      allowed: false,
      retryAfterMs: Math.ceil(((needed - bucket.tokens) / this.perSecond) * 1000),
    };
  }

  /**
   * For a cost known only afterwards (the messages of a tracking batch): admits the key
   * while its bucket holds anything; `charge` then takes the real cost, which may leave the
   * bucket owing until it refills.
   */
  admit(key: string): RateDecision {
    if (this.perSecond <= 0) return { allowed: true };
    const bucket = this.refilled(key, this.now());
    if (bucket.tokens > 0) return { allowed: true };
    return {
      allowed: false,
      retryAfterMs: Math.ceil(((1 - bucket.tokens) / this.perSecond) * 1000),
    };
  }

  charge(key: string, cost: number): void {
    if (this.perSecond <= 0) return;
    const bucket = this.refilled(key, this.now());
    bucket.tokens = Math.max(-this.burst, bucket.tokens - cost);
  }

  private refilled(key: string, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) this.dropFullBuckets(now);
      bucket = { tokens: this.burst, updatedAt: now };
      this.buckets.set(key, bucket);
      return bucket;
    }
    const earned = ((now - bucket.updatedAt) / 1000) * this.perSecond;
    bucket.tokens = Math.min(this.burst, bucket.tokens + earned);
    bucket.updatedAt = now;
    return bucket;
  }

  private dropFullBuckets(now: number): void {
    for (const [key, bucket] of this.buckets) {
      const earned = ((now - bucket.updatedAt) / 1000) * this.perSecond;
      if (bucket.tokens + earned >= this.burst) this.buckets.delete(key);
    }
  }
}
