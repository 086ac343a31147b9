package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 13 §3: record-if-missing does not save the proxy's own failures by default. */
class RecordIfMissingFailuresTest {

  @Test
  void leavesOutAndReportsAnswersTheProxyMadeItself(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("session.har");
    String down = downUrl();
    try (MockWebServer origin = new MockWebServer()) {
      origin.enqueue(new MockResponse().setBody("from the origin"));
      origin.start();
      String up = "http://127.0.0.1:" + origin.getPort() + "/up";
      RecordingProxy proxy = RecordingProxy.forward().recordIfMissing(har).start();
      try {
        HttpClient client = proxy.httpClientBuilder().build();
        assertThat(get(client, up).statusCode()).isEqualTo(200);
        assertThat(get(client, down).statusCode()).isEqualTo(502);
        FerryAssertions.assertThat(proxy.recording()).eventually().hasExchangeCount(2);
      } finally {
        proxy.close();
      }

      assertThat(proxy.unrecorded()).singleElement()
          .satisfies(e -> assertThat(e.request().url()).isEqualTo(down));
      assertThat(Recording.fromHar(har).exchanges()).singleElement()
          .satisfies(e -> assertThat(e.request().path()).isEqualTo("/up"));
    }
  }

  @Test
  void savesTheProxysFailuresWhenAskedTo(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("outage.har");
    String down = downUrl();
    try (RecordingProxy proxy = RecordingProxy.forward().recordIfMissing(har)
        .recordFailures(true).start()) {
      assertThat(get(proxy.httpClientBuilder().build(), down).statusCode()).isEqualTo(502);
      FerryAssertions.assertThat(proxy.recording()).eventually().hasExchangeCount(1);
    }

    RecordedExchange saved = Recording.fromHar(har).exchanges().get(0);
    assertThat(saved.response().status()).isEqualTo(502);
    assertThat(saved.proxyMade()).isTrue();
    assertThat(saved.response().body().text()).isNotEmpty();
  }

  private static HttpResponse<String> get(HttpClient client, String url) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A URL on a port nothing listens on: connecting to it fails at once. */
  private static String downUrl() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return "http://127.0.0.1:" + socket.getLocalPort() + "/down";
    }
  }
}
