package dev.ferry.proxy.testkit;

import java.net.URI;
import java.util.function.Supplier;
import okhttp3.mockwebserver.MockWebServer;

/**
 * The one place that touches OkHttp's MockWebServer, an optional dependency: only tests that
 * pass one load this class.
 */
final class MockWebServers {
  private MockWebServers() {}

  /** The server's base URI, asked for at proxy start; asking starts the server if needed. */
  static Supplier<URI> upstream(MockWebServer server) {
    return () -> server.url("/").uri();
  }
}
