package dev.ferry.proxy.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.function.Supplier;
import okhttp3.mockwebserver.MockWebServer;

/**
 * The one place that touches OkHttp's MockWebServer, an optional dependency: only tests that
 * pass one load this class.
 */
final class MockWebServers {
  private MockWebServers() {}

  /**
   * The server's base URI, asked for at proxy start; asking starts the server if needed, and a
   * server started so is handed to {@link StartedUpstreams}, to be closed with the tests.
   */
  static Supplier<URI> upstream(MockWebServer server) {
    return () -> {
      try {
        server.start();
        StartedUpstreams.started(server);
      } catch (IllegalArgumentException alreadyStarted) {
        // "start() already called": the test started it, and closes it.
      } catch (IOException e) {
        throw new UncheckedIOException("could not start the MockWebServer", e);
      }
      return server.url("/").uri();
    };
  }
}
