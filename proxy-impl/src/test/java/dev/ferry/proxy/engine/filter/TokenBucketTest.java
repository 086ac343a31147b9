package dev.ferry.proxy.engine.filter;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TokenBucketTest {
  private static final double ONE_PER_SECOND = 1e-9;
  private static final long SECOND = 1_000_000_000L;

  @Test
  void refillsAtTheRateUpToTheBurst() {
    TokenBucket bucket = new TokenBucket(2, 0);
    assertThat(bucket.take(0, ONE_PER_SECOND, 2)).isZero();
    assertThat(bucket.take(0, ONE_PER_SECOND, 2)).isZero();
    assertThat(bucket.take(0, ONE_PER_SECOND, 2)).as("seconds until the next token").isEqualTo(1.0);
    assertThat(bucket.take(SECOND, ONE_PER_SECOND, 2)).isZero();
    assertThat(bucket.take(10 * SECOND, ONE_PER_SECOND, 2)).isZero();
    assertThat(bucket.take(10 * SECOND, ONE_PER_SECOND, 2)).isZero();
    assertThat(bucket.take(10 * SECOND, ONE_PER_SECOND, 2)).as("no more than the burst").isPositive();
  }

  /** A caller that read the clock before another refilled (probe l22) must not make it refill twice. */
  @Test
  void creditsEachIntervalOnceWhenCallersArriveOutOfClockOrder() {
    TokenBucket bucket = new TokenBucket(0, 0);
    assertThat(bucket.take(SECOND, ONE_PER_SECOND, 1)).as("the token of the first second").isZero();
    assertThat(bucket.take(0, ONE_PER_SECOND, 1)).as("a caller that read the clock earlier").isPositive();
    assertThat(bucket.take(SECOND, ONE_PER_SECOND, 1)).as("the first second, already spent").isPositive();
    assertThat(bucket.take(2 * SECOND, ONE_PER_SECOND, 1)).as("the next second's token").isZero();
  }
}
