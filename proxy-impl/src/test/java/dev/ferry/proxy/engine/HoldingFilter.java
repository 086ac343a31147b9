package dev.ferry.proxy.engine;

import dev.ferry.proxy.Filter;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** A filter that keeps an exchange, and so its thread, until the test releases it. */
public final class HoldingFilter {
  private HoldingFilter() {}

  /**
   * Holds exchanges for {@code path} (every exchange when null) until {@code release}, at most
   * 30 s (long enough for a test to count how many are held at once); {@code entered} counts
   * down once one is held.
   */
  public static Filter holding(String path, CountDownLatch entered, CountDownLatch release) {
    return holding(path, entered, release, Duration.ofSeconds(30));
  }

  /** As {@link #holding(String, CountDownLatch, CountDownLatch)}, each hold lasting at most {@code atMost}. */
  public static Filter holding(String path, CountDownLatch entered, CountDownLatch release, Duration atMost) {
    return (exchange, chain) -> {
      if (path == null || exchange.request().path().equals(path)) {
        entered.countDown();
        try {
          release.await(atMost.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return chain.proceed(exchange.request());
    };
  }
}
