/**
 * Per-key token buckets, with a clock the test moves: a key spends its burst at once, earns
 * `perSecond` back, and is told how long to wait; admit/charge let a batch run into debt.
 */
import { RateLimiter } from '../../src/infra/access/rate-limiter';

/** A limiter of `perSecond` and `burst` on a clock that moves only when told. */
function given(perSecond: number, burst: number) {
  let now = 1_000_000;
  const limiter = new RateLimiter(perSecond, burst, () => now);
  return {
    limiter,
    after(ms: number) {
      now += ms;
    },
  };
}

function takeAll(limiter: RateLimiter, key: string, times: number): boolean[] {
  return Array.from({ length: times }, () => limiter.take(key).allowed);
}

describe('the rate limiter', () => {
  it('lets a key spend its burst at once, then refuses with the time to the next token', () => {
    const { limiter } = given(2, 3);
    expect(takeAll(limiter, 'key-a', 3)).toEqual([true, true, true]);
    expect(limiter.take('key-a')).toEqual({ allowed: false, retryAfterMs: 500 });
  });

  it('keeps one bucket per key', () => {
    const { limiter } = given(1, 1);
    expect(limiter.take('key-a').allowed).toBe(true);
    expect(limiter.take('key-a').allowed).toBe(false);
    expect(limiter.take('key-b').allowed).toBe(true);
  });

  it('earns perSecond back as time passes, never more than the burst', () => {
    const { limiter, after } = given(2, 3);
    takeAll(limiter, 'key-a', 3);
    after(250);
    expect(limiter.take('key-a')).toEqual({ allowed: false, retryAfterMs: 250 });
    after(250);
    expect(limiter.take('key-a').allowed).toBe(true);
    expect(limiter.take('key-a').allowed).toBe(false);
    after(60_000);
    expect(takeAll(limiter, 'key-a', 4)).toEqual([true, true, true, false]);
  });

  it('takes a cost, and lets a cost larger than the burst through when the bucket is full', () => {
    const { limiter, after } = given(1, 5);
    expect(limiter.take('key-a', 4).allowed).toBe(true);
    expect(limiter.take('key-a', 2)).toEqual({ allowed: false, retryAfterMs: 1000 });
    after(4000);
    expect(limiter.take('key-a', 50).allowed).toBe(true);
    expect(limiter.take('key-a', 50)).toEqual({ allowed: false, retryAfterMs: 5000 });
  });

  it('says how long a slow limit makes a key wait (per minute rates)', () => {
    const { limiter } = given(1 / 60, 1);
    expect(limiter.take('key-a').allowed).toBe(true);
    expect(limiter.take('key-a')).toEqual({ allowed: false, retryAfterMs: 60_000 });
  });

  describe('admit and charge', () => {
    it('admits while the bucket holds anything, and charges the real cost afterwards', () => {
      const { limiter } = given(5, 5);
      expect(limiter.admit('key-a').allowed).toBe(true);
      limiter.charge('key-a', 4);
      expect(limiter.admit('key-a').allowed).toBe(true);
      limiter.charge('key-a', 1);
      expect(limiter.admit('key-a')).toEqual({ allowed: false, retryAfterMs: 200 });
    });

    it('lets a batch leave the bucket owing, at most one burst, paid back before the next is admitted', () => {
      const { limiter, after } = given(5, 5);
      expect(limiter.admit('key-a').allowed).toBe(true);
      limiter.charge('key-a', 10);
      // 5 - 10 = -5: a whole second to get back to 0, and 0.2 s more for one token.
      expect(limiter.admit('key-a')).toEqual({ allowed: false, retryAfterMs: 1200 });
      limiter.charge('key-a', 1000);
      expect(limiter.admit('key-a')).toEqual({ allowed: false, retryAfterMs: 1200 });
      // Admitted as soon as the debt is paid and anything is earned (before a whole token).
      after(1000);
      expect(limiter.admit('key-a').allowed).toBe(false);
      after(1);
      expect(limiter.admit('key-a').allowed).toBe(true);
    });

    it('makes take wait for the debt too', () => {
      const { limiter } = given(5, 5);
      limiter.charge('key-a', 7);
      expect(limiter.take('key-a')).toEqual({ allowed: false, retryAfterMs: 600 });
    });
  });

  it('lets everything through with perSecond 0 (the limit off)', () => {
    const { limiter } = given(0, 1);
    expect(takeAll(limiter, 'key-a', 100).every(Boolean)).toBe(true);
    limiter.charge('key-a', 1_000_000);
    expect(limiter.admit('key-a')).toEqual({ allowed: true });
    expect(limiter.take('key-a', 1_000_000)).toEqual({ allowed: true });
  });

  it('forgets idle keys once it holds many, and they start again with a full bucket', () => {
    const { limiter, after } = given(1, 1);
    for (let index = 0; index < 10_000; index += 1) limiter.take(`key-${index}`);
    after(1000);
    expect(limiter.take('one-more').allowed).toBe(true);
    expect(limiter.take('key-0').allowed).toBe(true);
  });
});
