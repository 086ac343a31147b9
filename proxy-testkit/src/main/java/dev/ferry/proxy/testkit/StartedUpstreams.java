package dev.ferry.proxy.testkit;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Upstream servers the testkit started itself while starting a proxy (a MockWebServer given to
 * {@code inFrontOf} that was not running yet): whoever started the proxy closes them when the
 * tests that use them are over, so that no server thread or port outlives them.
 */
final class StartedUpstreams {
  private static final ThreadLocal<List<Closeable>> STARTING = new ThreadLocal<>();

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
   * Closes its servers when the JUnit store holding it closes. Both interfaces: JUnit before 5.13
   * closes only a {@code CloseableResource}, and 5.13 on warn about one that is not also
   * {@code AutoCloseable} (probe t27).
   */
  static final class Closing implements ExtensionContext.Store.CloseableResource, AutoCloseable {
    private final List<Closeable> servers;

    Closing(List<Closeable> servers) {
      this.servers = servers;
    }

    /** Closes every server, each even if another fails. */
    @Override
    public void close() throws IOException {
      IOException failure = null;
      for (Closeable server : servers) {
        try {
          server.close();
        } catch (IOException e) {
          failure = e;
        }
      }
      if (failure != null) {
        throw failure;
      }
    }
  }
}
