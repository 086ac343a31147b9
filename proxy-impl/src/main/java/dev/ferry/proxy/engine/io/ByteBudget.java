package dev.ferry.proxy.engine.io;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A number of bytes taken and given back by many users, never more than its limit together:
 * memory one may use only while the others leave room (connections' buffers grown for request
 * bodies, a cache's bodies kept off the heap), so that they cannot add up to more than was set
 * aside.
 */
public final class ByteBudget {
  private final long limit;
  private final AtomicLong taken = new AtomicLong();

  /** @param limit the most bytes taken at once */
  public ByteBudget(long limit) {
    this.limit = limit;
  }

  /** Takes {@code bytes} if the limit leaves room for them; returns false, taking none, otherwise. */
  public boolean tryTake(long bytes) {
    long now;
    do {
      now = taken.get();
      if (bytes > limit - now) {
        return false;
      }
    } while (!taken.compareAndSet(now, now + bytes));
    return true;
  }

  /** Gives back {@code bytes} taken before. */
  public void give(long bytes) {
    taken.addAndGet(-bytes);
  }

  /** The bytes taken now. */
  public long taken() {
    return taken.get();
  }
}
