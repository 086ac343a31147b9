package dev.ferry.proxy.testkit;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Upstream servers the testkit started itself while starting a proxy (a MockWebServer given to
 * {@code inFrontOf} that was not running yet), which it closes when the JVM exits.
 */
final class StartedUpstreams {
  private static final ThreadLocal<List<Closeable>> STARTING = new ThreadLocal<>();
  private static final List<Closeable> AT_EXIT = new CopyOnWriteArrayList<>();
  private static final AtomicBoolean HOOKED = new AtomicBoolean();

  private StartedUpstreams() {}

  /** Runs {@code start}, adding to {@code into} the servers started meanwhile on this thread. */
  static <T> T collect(Supplier<T> start, List<Closeable> into) {
    List<Closeable> previous = STARTING.get();
    STARTING.set(into);
    try {
      return start.get();
    } finally {
      if (previous == null) {
        STARTING.remove();
      } else {
        STARTING.set(previous);
      }
    }
  }

  /** Reports a server just started on behalf of the proxy starting on this thread. */
  static void started(Closeable server) {
    List<Closeable> collecting = STARTING.get();
    if (collecting != null) {
      collecting.add(server);
    }
  }

  /**
   * Closes {@code servers} when the JVM exits. Not when the JUnit run ends: a build that reuses
   * one JVM for several runs (surefire with {@code forkCount} over 1 runs each class as a run of
   * its own) handed later classes a server closed for good, since a MockWebServer cannot start
   * again, and their requests got 502 (probe t28). A test class may still close its server
   * itself, in {@code @AfterAll}; closing it again is harmless.
   */
  static void closeAtExit(List<Closeable> servers) {
    AT_EXIT.addAll(servers);
    if (HOOKED.compareAndSet(false, true)) {
      Runtime.getRuntime().addShutdownHook(new Thread(StartedUpstreams::closeAll, "ferry-testkit-upstreams"));
    }
  }

  private static void closeAll() {
    for (Closeable server : AT_EXIT) {
      try {
        server.close();
      } catch (IOException e) {
        // The JVM is exiting: the server's port goes with it.
      }
    }
  }
}
