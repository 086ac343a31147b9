package dev.ferry.proxy.engine;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits on a condition with a deadline: the only way tests synchronise. */
final class Await {
  private Await() {}

  static void until(BooleanSupplier condition, Duration timeout, Supplier<String> description) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + description.get());
      }
      Thread.onSpinWait();
      Thread.yield();
    }
  }

  static void until(BooleanSupplier condition, String description) {
    until(condition, Duration.ofSeconds(10), () -> description);
  }
}
