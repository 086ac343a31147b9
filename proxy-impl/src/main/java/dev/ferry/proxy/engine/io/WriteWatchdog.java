package dev.ferry.proxy.engine.io;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Bounds blocking writes. Java's blocking sockets have no send timeout, so a peer that stops
 * reading would hold a writer (and its connection task) forever. One timer thread per proxy looks
 * at every watched output a few times per timeout and closes the socket of any write that has made
 * no progress past its deadline; the blocked write then fails and frees its thread. This is the
 * pattern of Okio's {@code AsyncTimeout}, with a periodic sweep instead of a deadline queue, so
 * that a write costs two volatile stores and no lock.
 *
 * <p>Outputs register themselves on their first write and drop out of the sweep once their
 * socket is closed.
 */
public final class WriteWatchdog {
  private final long timeoutNanos;
  private final Consumer<ConnectionOutput> onTimeout;
  private final Set<ConnectionOutput> watched = ConcurrentHashMap.newKeySet();
  private ScheduledExecutorService timer;

  /**
   * @param onTimeout told (on the timer thread) of each output whose socket it closed
   */
  public WriteWatchdog(long timeoutNanos, Consumer<ConnectionOutput> onTimeout) {
    this.timeoutNanos = timeoutNanos;
    this.onTimeout = onTimeout;
  }

  /** Starts the sweep on a thread from {@code threads}. */
  public void start(ThreadFactory threads) {
    timer = Executors.newSingleThreadScheduledExecutor(threads);
    long periodNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(10),
        Math.min(TimeUnit.SECONDS.toNanos(1), timeoutNanos / 4));
    timer.scheduleWithFixedDelay(this::sweep, periodNanos, periodNanos, TimeUnit.NANOSECONDS);
  }

  /** Stops the sweep; writes still blocked are no longer bounded. */
  public void stop() {
    if (timer != null) {
      timer.shutdownNow();
    }
    watched.clear();
  }

  long timeoutNanos() {
    return timeoutNanos;
  }

  void watch(ConnectionOutput output) {
    watched.add(output);
  }

  private void sweep() {
    long now = System.nanoTime();
    for (ConnectionOutput output : watched) {
      if (output.isClosed()) {
        watched.remove(output);
      } else if (output.stalledSince(now, timeoutNanos)) {
        watched.remove(output);
        output.abortStalledWrite();
        onTimeout.accept(output);
      }
    }
  }
}
