package dev.ferry.proxy.engine.route;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What a pool carries now: requests in flight, upstream connections held, requests waiting for
 * one, retries under way. It outlives a reload: a reconfigured pool of the same name takes over
 * its predecessor's counters, so exchanges still running on the old configuration count against
 * the new limits and release into the same counts. (Before, each reload started the counters
 * from zero, and a pool at its {@code maxRequests} admitted as many again.) The limits are the
 * caller's, read from the pool's current {@link dev.ferry.proxy.Upstream}, so a reload may raise or
 * lower them.
 */
final class PoolLoad {
  private final AtomicInteger active = new AtomicInteger();
  private final AtomicInteger retrying = new AtomicInteger();
  private final AtomicInteger connections = new AtomicInteger();
  /** Requests waiting for a connection; a release signals only when there are some. */
  private final AtomicInteger pending = new AtomicInteger();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition connectionFreed = lock.newCondition();

  /** Counts one more request in flight unless there are {@code max} already. */
  boolean tryAdmit(int max) {
    return tryIncrement(active, max);
  }

  void released() {
    active.decrementAndGet();
  }

  int active() {
    return active.get();
  }

  int connections() {
    return connections.get();
  }

  int pending() {
    return pending.get();
  }

  boolean tryStartRetry(int max) {
    return tryIncrement(retrying, max);
  }

  void retryEnded() {
    retrying.decrementAndGet();
  }

  /** Takes a connection slot if fewer than {@code max} are held; never waits. */
  boolean tryTakeConnection(int max) {
    return tryIncrement(connections, max);
  }

  /**
   * Joins the requests waiting for a connection slot, unless {@code maxPending} wait already; false
   * then. Pair a true answer with {@link #awaitConnection}.
   */
  boolean startWaiting(int maxPending) {
    return tryIncrement(pending, maxPending);
  }

  /**
   * Waits up to {@code waitNanos} for a slot (fewer than {@code max} held) after {@link
   * #startWaiting}, and leaves the waiting requests however it ends.
   *
   * @return whether the slot was taken
   */
  boolean awaitConnection(int max, long waitNanos) throws InterruptedException {
    lock.lock();
    try {
      long remaining = waitNanos;
      while (!tryTakeConnection(max)) {
        if (remaining <= 0) {
          return false;
        }
        remaining = connectionFreed.awaitNanos(remaining);
      }
      return true;
    } finally {
      pending.decrementAndGet();
      lock.unlock();
    }
  }

  /**
   * Gives a slot back. A waiter that found none took the lock before it looked and holds it until
   * it waits, so the signal, sent under the lock, cannot fall between its look and its wait.
   */
  void connectionReleased() {
    connections.decrementAndGet();
    if (pending.get() > 0) {
      lock.lock();
      try {
        connectionFreed.signal();
      } finally {
        lock.unlock();
      }
    }
  }

  private static boolean tryIncrement(AtomicInteger counter, int max) {
    for (;;) {
      int now = counter.get();
      if (now >= max) {
        return false;
      }
      if (counter.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }
}
