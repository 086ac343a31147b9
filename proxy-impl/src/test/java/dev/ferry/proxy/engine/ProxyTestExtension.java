package dev.ferry.proxy.engine;

import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.ProxyStats;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Owns the origins and proxies of one engine test and checks, after it, that they left nothing
 * behind: the model is OkHttp's {@code OkHttpClientTestRule}.
 *
 * <pre>{@code
 * @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
 *
 * MockWebServer origin = ferry.mockOrigin();
 * ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
 * TinyOrigin tiny = ferry.track(TinyOrigin.answering("HTTP/1.1 204 No Content\r\n\r\n"));
 * }</pre>
 *
 * <p>After each test it closes the tracked resources in reverse order (origins first, so an
 * exchange still waiting on one ends), stops every proxy, and then fails, after waiting with a
 * deadline, if a proxy's thread is still alive, if a stopped proxy still counts a connection, an
 * exchange or an open upstream connection, or if any thread died of an uncaught exception
 * during the test.
 */
public final class ProxyTestExtension implements BeforeEachCallback, AfterEachCallback {
  private final Duration deadline;
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();
  private final List<StartedProxy> proxies = new ArrayList<>();
  private final List<String> uncaught = new CopyOnWriteArrayList<>();
  private Thread.UncaughtExceptionHandler previousHandler;

  private record StartedProxy(ProxyServer proxy, int port) {}

  /** Waits up to ten seconds for a leak check to pass. */
  public ProxyTestExtension() {
    this(Duration.ofSeconds(10));
  }

  ProxyTestExtension(Duration deadline) {
    this.deadline = deadline;
  }

  /** Builds and starts a proxy that is stopped and checked for leaks after the test. */
  public ProxyServer start(ProxyServer.Builder builder) {
    ProxyServer proxy = build(builder).start();
    proxies.add(new StartedProxy(proxy, proxy.port()));
    return proxy;
  }

  /**
   * Builds {@code builder}; with {@code -Dferry.test.eventLoop=false}, with the event loops off
   * (they are on by default for a reverse proxy without TLS), so that the suite can be run
   * against the concurrency model's threads alone:
   * {@code ./mvnw -o -pl proxy-impl test -Dferry.test.eventLoop=false}.
   */
  private static ProxyServer build(ProxyServer.Builder builder) {
    if (loopsOff()) {
      builder.eventLoop(false);
    }
    return builder.build();
  }

  /**
   * {@code builder}'s configuration for a reconfigure, built as {@link #start} builds a proxy:
   * with the loops off in a threads-only run, which a running proxy's {@code eventLoop} must match.
   */
  public ProxyConfig config(ProxyServer.Builder builder) {
    if (loopsOff()) {
      builder.eventLoop(false);
    }
    return builder.buildConfig();
  }

  /** Whether the run keeps the event loops off ({@code -Dferry.test.eventLoop=false}). */
  static boolean loopsOff() {
    return "false".equals(System.getProperty("ferry.test.eventLoop"));
  }

  /** A started MockWebServer, shut down after the test. */
  public MockWebServer mockOrigin() throws IOException {
    MockWebServer origin = track(new MockWebServer());
    origin.start();
    return origin;
  }

  /** Closes {@code resource} after the test, before the proxies stop; returns it. */
  public <T extends AutoCloseable> T track(T resource) {
    resources.push(Objects.requireNonNull(resource, "resource"));
    return resource;
  }

  /**
   * Waits until {@code proxy} has no exchange in progress and every upstream connection it holds
   * open is idle in its pool; fails at the deadline. Callable in the middle of a test.
   */
  public void assertNoLeaks(ProxyServer proxy) {
    Await.until(() -> {
      ProxyStats stats = proxy.stats();
      return stats.activeExchanges() == 0
          && stats.upstreamConnectionsOpen() == stats.upstreamConnectionsIdle();
    }, deadline, () -> "no active exchange and every open upstream connection idle: " + proxy.stats());
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    uncaught.clear();
    previousHandler = Thread.getDefaultUncaughtExceptionHandler();
    Thread.UncaughtExceptionHandler delegate = previousHandler;
    Thread.setDefaultUncaughtExceptionHandler((thread, error) -> {
      uncaught.add(thread.getName() + ": " + error);
      if (delegate != null) {
        delegate.uncaughtException(thread, error);
      } else {
        System.err.print("Exception in thread \"" + thread.getName() + "\" ");
        error.printStackTrace(System.err);
      }
    });
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    List<Throwable> failures = new ArrayList<>();
    try {
      while (!resources.isEmpty()) {
        try {
          resources.pop().close();
        } catch (Exception | AssertionError e) {
          failures.add(e);
        }
      }
      // All stopped before any is checked: two proxies on different addresses (::1 and
      // 127.0.0.1) may share a port number, and their threads are told apart by it alone.
      for (StartedProxy started : proxies) {
        try {
          started.proxy().close();
        } catch (RuntimeException e) {
          failures.add(e);
        }
      }
      for (StartedProxy started : proxies) {
        try {
          checkStopped(started);
        } catch (RuntimeException | AssertionError e) {
          failures.add(e);
        }
      }
      if (!uncaught.isEmpty()) {
        failures.add(new AssertionError("uncaught exceptions during the test: " + uncaught));
      }
    } finally {
      proxies.clear();
      resources.clear();
      uncaught.clear();
      Thread.setDefaultUncaughtExceptionHandler(previousHandler);
    }
    if (!failures.isEmpty()) {
      Throwable first = failures.get(0);
      failures.subList(1, failures.size()).forEach(first::addSuppressed);
      if (first instanceof Exception) {
        throw (Exception) first;
      }
      throw (Error) first;
    }
  }

  private void checkStopped(StartedProxy started) {
    ProxyServer proxy = started.proxy();
    ThreadLeaks.assertNoThreadsFor(started.port());
    Await.until(() -> {
      ProxyStats stats = proxy.stats();
      return stats.activeConnections() == 0 && stats.activeExchanges() == 0
          && stats.upstreamConnectionsOpen() == 0;
    }, deadline, () -> "stopped proxy on port " + started.port()
        + " to hold no connection, exchange or upstream connection: " + proxy.stats());
    if (proxy instanceof RealProxyServer real) {
      Await.until(() -> real.requestBuffers().taken() == 0, deadline,
          () -> "stopped proxy on port " + started.port() + " to give back its request buffers: "
              + real.requestBuffers().taken() + " bytes held");
      Await.until(() -> real.requestSpool().taken() == 0, deadline,
          () -> "stopped proxy on port " + started.port() + " to give back its request spool: "
              + real.requestSpool().taken() + " bytes held");
    }
  }
}
