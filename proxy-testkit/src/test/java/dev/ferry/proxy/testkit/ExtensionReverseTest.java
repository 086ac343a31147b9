package dev.ferry.proxy.testkit;

import static dev.ferry.proxy.testkit.FerryAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A reverse proxy per test in front of one origin. */
class ExtensionReverseTest {
  private static final MockWebServer origin = startOrigin();

  @RegisterExtension
  static FerryProxyExtension proxy = FerryProxyExtension
      .reverse(java.net.URI.create("http://127.0.0.1:" + origin.getPort()))
      .perTest();

  private static MockWebServer startOrigin() {
    MockWebServer server = new MockWebServer();
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return server;
  }

  @AfterAll
  static void stopOrigin() throws IOException {
    origin.close();
  }

  @Test
  void recordsReverseProxiedExchanges(RecordingProxy reverse) throws Exception {
    origin.enqueue(new MockResponse().setHeader("Content-Type", "application/json")
        .setBody("{\"order\":{\"id\":42,\"items\":[{\"sku\":\"a-1\"}]}}"));

    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(reverse.baseUri().resolve("/orders/42")).build(),
        HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(reverse.isForward()).isFalse();
    reverse.recording().awaitExchanges(1, Duration.ofSeconds(5));
    assertThat(reverse.recording()).exchange(e -> e.path("/orders/42"))
        .hasStatus(200)
        .hasResponseJsonField("order.id", 42)
        .hasResponseJsonField("order.items[0].sku", "a-1");
    assertThat(reverse.recording().exchanges().get(0).upstream())
        .contains("127.0.0.1:" + origin.getPort());
  }
}
