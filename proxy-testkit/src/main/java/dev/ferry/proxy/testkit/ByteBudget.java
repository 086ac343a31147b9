package dev.ferry.proxy.testkit;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of body captures a recording may hold. Captures reserve here before they allocate,
 * so the budget bounds the heap a recording takes, not just what it reports.
 */
final class ByteBudget {
  private final long max;
  private final AtomicLong used = new AtomicLong();

  ByteBudget(long max) {
    this.max = max;
  }

  /** Reserves {@code bytes} if they fit; returns false, reserving nothing, if they don't. */
  boolean tryReserve(long bytes) {
    while (true) {
      long now = used.get();
      if (now + bytes > max) {
        return false;
      }
      if (used.compareAndSet(now, now + bytes)) {
        return true;
      }
    }
  }

  /** Reserves without a limit: for bodies already in memory, such as imported ones. */
  void force(long bytes) {
    used.addAndGet(bytes);
  }

  void release(long bytes) {
    used.addAndGet(-bytes);
  }

  long used() {
    return used.get();
  }

  long max() {
    return max;
  }
}
