package dev.ferry.proxy.engine;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits on a condition with a deadline: the only way tests synchronise. Parks between checks,
 * 1 ms at first and growing to 10 ms, so a long wait does not spin a core the proxy needs.
 */
public final class Await {
  private static final long FIRST_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
  private static final long LONGEST_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private Await() {}

  public static void until(BooleanSupplier condition, Duration timeout, Supplier<String> description) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pause = FIRST_PAUSE_NANOS;
    while (!condition.getAsBoolean()) {
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + description.get());
      }
      if (Thread.currentThread().isInterrupted()) {
        // parkNanos returns at once when interrupted: fail instead of spinning.
        throw new AssertionError("interrupted while waiting for " + description.get());
      }
      LockSupport.parkNanos(Math.min(pause, remaining));
      pause = Math.min(pause * 2, LONGEST_PAUSE_NANOS);
    }
  }

  public static void until(BooleanSupplier condition, String description) {
    until(condition, Duration.ofSeconds(10), () -> description);
  }
}
