package dev.ferry.proxy.engine.io;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The engine's one way to guard shared state. A {@link ReentrantLock} rather than
 * {@code synchronized}, because virtual threads pin on monitors before JDK 24 (JEP 491); kept in
 * one class so the choice can be reversed in one place, as OkHttp had to. Never hold it across
 * socket I/O or a filter call.
 */
public final class Guard {
  private final ReentrantLock lock = new ReentrantLock();

  public void run(Runnable action) {
    lock.lock();
    try {
      action.run();
    } finally {
      lock.unlock();
    }
  }

  public <T> T call(Supplier<T> action) {
    lock.lock();
    try {
      return action.get();
    } finally {
      lock.unlock();
    }
  }

  /** A condition of the guard's lock: signal it from {@link #run} when guarded state changes. */
  public Condition newCondition() {
    return lock.newCondition();
  }

  /**
   * Waits until {@code done}, checked under the guard, is true, woken by {@code changed}; false
   * if {@code timeoutNanos} pass first.
   */
  public boolean await(Condition changed, BooleanSupplier done, long timeoutNanos)
      throws InterruptedException {
    lock.lock();
    try {
      long left = timeoutNanos;
      while (!done.getAsBoolean()) {
        if (left <= 0) {
          return false;
        }
        left = changed.awaitNanos(left);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }
}
