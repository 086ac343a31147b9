package dev.ferry.proxy.engine.io;

import java.util.concurrent.locks.ReentrantLock;
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
}
