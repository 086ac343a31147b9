package dev.ferry.proxy.engine.io;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Bounds blocking socket reads and writes without a timer per operation. One thread per proxy
 * sweeps every watched stream a few times per timeout:
 *
 * <ul>
 *   <li>Writes: Java's blocking sockets have no send timeout, so a peer that stops reading would
 *       hold a writer forever. A write that has made no progress past the write timeout has its
 *       socket closed; the blocked write then fails and frees its thread. A write blocked on a
 *       peer that has answered meanwhile gives way sooner, when its output asks to
 *       ({@link ConnectionOutput#yieldToAnswer}).
 *   <li>Reads: a read under SO_TIMEOUT costs the JDK a poll, and on Java 17 two mode switches of
 *       the channel, per read; a plain read that just blocks is one system call. Such reads
 *       publish their deadline, and the sweep shuts down the input of any read still blocked past
 *       it: the read ends, the stream reports a timeout, and the output stays open for an answer
 *       (a 408).
 *   <li>Long waits: a read's long-wait action runs here once its time has come (see
 *       {@link ConnectionInput#onLongWait}).
 * </ul>
 *
 * <p>This is the pattern of Okio's {@code AsyncTimeout}, with a periodic sweep instead of a
 * deadline queue, so that an operation costs two volatile stores and no lock; deadlines fire up
 * to one sweep period late. Streams register on their first watched operation and drop out once
 * their socket is closed (or, for an input, when it is {@linkplain ConnectionInput#unwatch()
 * unwatched}).
 */
public final class IoWatchdog {
  /** How late a read deadline may fire; reads have per-call deadlines, so one fixed period. */
  private static final long READ_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  /**
   * How long a write must be blocked before a peer's bytes count as its answer: long enough that
   * an interim response from an upstream still reading slowly is not taken for one.
   */
  private static final long YIELD_AFTER_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final long writeTimeoutNanos;
  private final long yieldAfterNanos;
  private final Consumer<ConnectionOutput> onWriteTimeout;
  private final Set<ConnectionOutput> outputs = ConcurrentHashMap.newKeySet();
  private final Set<ReadTimeouts> inputs = ConcurrentHashMap.newKeySet();
  private ScheduledExecutorService timer;

  /**
   * @param onWriteTimeout told (on the timer thread) of each output whose socket it closed
   */
  public IoWatchdog(long writeTimeoutNanos, Consumer<ConnectionOutput> onWriteTimeout) {
    this.writeTimeoutNanos = writeTimeoutNanos;
    this.yieldAfterNanos = Math.min(YIELD_AFTER_NANOS, writeTimeoutNanos / 2);
    this.onWriteTimeout = onWriteTimeout;
  }

  /** Starts the sweep on a thread from {@code threads}. */
  public void start(ThreadFactory threads) {
    timer = Executors.newSingleThreadScheduledExecutor(threads);
    long periodNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(10),
        Math.min(READ_PERIOD_NANOS, writeTimeoutNanos / 4));
    timer.scheduleWithFixedDelay(this::sweep, periodNanos, periodNanos, TimeUnit.NANOSECONDS);
  }

  /** Stops the sweep; reads and writes still blocked are no longer bounded. */
  public void stop() {
    if (timer != null) {
      timer.shutdownNow();
    }
    outputs.clear();
    inputs.clear();
  }

  /** Waits up to {@code timeout} for the sweep's thread to end after {@link #stop()}. */
  public void awaitStopped(java.time.Duration timeout) {
    if (timer != null) {
      try {
        timer.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** True while the sweep runs: a watched read relies on it for its deadline. */
  boolean running() {
    return timer != null && !timer.isShutdown();
  }

  long writeTimeoutNanos() {
    return writeTimeoutNanos;
  }

  void watch(ConnectionOutput output) {
    outputs.add(output);
  }

  void watch(ReadTimeouts input) {
    inputs.add(input);
  }

  void unwatch(ReadTimeouts input) {
    inputs.remove(input);
  }

  private void sweep() {
    long now = System.nanoTime();
    for (ConnectionOutput output : outputs) {
      if (output.isClosed()) {
        outputs.remove(output);
      } else if (output.stalledSince(now, writeTimeoutNanos)) {
        outputs.remove(output);
        output.abortStalledWrite();
        onWriteTimeout.accept(output);
      } else if (output.stalledSince(now, yieldAfterNanos)) {
        output.yieldIfAnswered();
      }
    }
    for (ReadTimeouts input : inputs) {
      if (input.isClosed()) {
        inputs.remove(input);
      } else {
        input.expireIfPast(now);
        input.runLongWaitIfDue(now);
      }
    }
  }
}
