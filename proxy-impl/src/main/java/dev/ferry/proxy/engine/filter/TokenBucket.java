package dev.ferry.proxy.engine.filter;

/**
 * One key's tokens. The lock is the bucket's own and is held for a few arithmetic operations
 * only, so keys never contend with each other and nothing blocks while it is held.
 */
final class TokenBucket {
  private double tokens;
  private long updatedNanos;

  TokenBucket(double tokens, long nowNanos) {
    this.tokens = tokens;
    this.updatedNanos = nowNanos;
  }

  /**
   * Takes a token; returns 0 on success, else the seconds until one is due. Concurrent callers
   * read the clock before the lock, so {@code nowNanos} may be older than the last refill: such
   * a caller refills nothing and leaves the refill time where it is. Moved back, the next caller
   * would be credited the same interval again, and 200 clients were let through at several times
   * the rate (probe l22).
   */
  synchronized double take(long nowNanos, double perNano, double burst) {
    if (nowNanos > updatedNanos) {
      tokens = Math.min(burst, tokens + (nowNanos - updatedNanos) * perNano);
      updatedNanos = nowNanos;
    }
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    return (1 - tokens) / (perNano * 1e9);
  }
}
