package dev.ferry.samples;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Where the CLI's log lines go: standard error, in the order they were logged. Access lines are
 * batched, as nginx's {@code access_log ... buffer= flush=} does: written once {@value
 * #FLUSH_CHARS} characters are waiting, every {@value #FLUSH_MILLIS} ms, before any other event,
 * and at exit. Written one by one (a write and a lock shared by every connection thread per
 * exchange), access lines took 7.4 % of the CLI's CPU samples on the 1 KiB miss path, batched
 * 3.5 % ({@code ACCESS_LOG=1 PROFILER=async samples/bench/profile.sh}). Other events
 * go out at once, after the access lines before them, so the log keeps its order.
 *
 * <p>Batched lines are held in memory only until one of those: a JVM killed without its
 * shutdown hooks ({@code kill -9}) loses up to {@value #FLUSH_MILLIS} ms of them. Writing is
 * done under the lock, so a standard error that blocks (a stalled pipe) holds loggers back
 * rather than letting the batch grow.
 */
final class CliLogSink {
  static final int FLUSH_CHARS = 32 * 1024;
  static final long FLUSH_MILLIS = 100;

  private static final ReentrantLock lock = new ReentrantLock();
  private static final StringBuilder pending = new StringBuilder(FLUSH_CHARS + 1024);
  private static ScheduledExecutorService flusher;

  private CliLogSink() {}

  /** Writes {@code line} (ending with its line separator), batched if {@code access}. */
  static void write(CharSequence line, boolean access) {
    lock.lock();
    try {
      pending.append(line);
      if (!access || pending.length() >= FLUSH_CHARS) {
        flushLocked();
      } else if (flusher == null) {
        startFlusher();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Writes what is batched now (the shutdown hook's last step). */
  static void flush() {
    lock.lock();
    try {
      flushLocked();
    } finally {
      lock.unlock();
    }
  }

  private static void flushLocked() {
    if (pending.length() > 0) {
      // Read at each write: a test that swaps System.err gets the lines it caused.
      System.err.print(pending);
      pending.setLength(0);
    }
  }

  private static void startFlusher() {
    flusher = Executors.newSingleThreadScheduledExecutor(task -> {
      Thread thread = new Thread(task, "ferry-cli-log-flush");
      thread.setDaemon(true);
      return thread;
    });
    flusher.scheduleWithFixedDelay(CliLogSink::flush, FLUSH_MILLIS, FLUSH_MILLIS, TimeUnit.MILLISECONDS);
  }
}
