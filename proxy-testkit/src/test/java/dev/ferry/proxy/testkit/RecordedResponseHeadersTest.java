package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;

/**
 * Recorded responses are what the client got, also for answers the proxy makes itself: the
 * engine adds their Date and Content-Length as it writes the head, after the recorder saw the
 * response, so a proxy-made 502, a replay miss and a replayed answer were recorded without them
 * (probe t25).
 */
class RecordedResponseHeadersTest {
  private static final Duration WAIT = Duration.ofSeconds(5);

  @Test
  void recordsTheDateAndLengthOfAProxyMadeAnswer() throws Exception {
    URI down = closedPortUrl("/down");
    try (RecordingProxy proxy = RecordingProxy.forward().start()) {
      HttpResponse<String> got = send(proxy, down);

      assertThat(got.statusCode()).isEqualTo(502);
      assertRecordedAsReceived(got, proxy.recording().awaitExchange(e -> e.path("/down"), WAIT));
    }
  }

  @Test
  void recordsTheDateAndLengthOfReplayedAnswersAndReplayMisses() throws Exception {
    Recording live;
    try (MockWebServer origin = new MockWebServer();
        RecordingProxy recorder = RecordingProxy.forward().start()) {
      origin.enqueue(new MockResponse().setBody("recorded body"));
      origin.start();
      HttpResponse<String> got = send(recorder, origin.url("/orders").uri());
      assertRecordedAsReceived(got, recorder.recording().awaitExchange(e -> e.path("/orders"), WAIT));
      live = recorder.recording();
    }
    try (RecordingProxy proxy = RecordingProxy.forward().replay(live).start()) {
      URI recorded = URI.create(live.exchanges().get(0).request().url());
      HttpResponse<String> replayed = send(proxy, recorded);
      HttpResponse<String> missed = send(proxy, closedPortUrl("/missing"));

      assertThat(replayed.body()).isEqualTo("recorded body");
      assertRecordedAsReceived(replayed, proxy.recording().awaitExchange(e -> e.path("/orders"), WAIT));
      assertThat(missed.statusCode()).isEqualTo(502);
      assertRecordedAsReceived(missed, proxy.recording().awaitExchange(e -> e.path("/missing"), WAIT));
    }
  }

  /**
   * Caching fields an upstream lists in Connection stay on the response for the proxy's cache,
   * and the writer drops them: the recording, too, has what the client got.
   */
  @Test
  void recordsNoFieldTheUpstreamsConnectionListed() throws Exception {
    try (MockWebServer origin = new MockWebServer();
        RecordingProxy proxy = RecordingProxy.forward().start()) {
      origin.enqueue(new MockResponse().setBody("listed").setHeader("Cache-Control", "no-store")
          .setHeader("Connection", "Cache-Control"));
      origin.start();
      HttpResponse<String> got = send(proxy, origin.url("/listed").uri());
      assertThat(got.headers().map()).doesNotContainKeys("cache-control", "connection");
      RecordedExchange exchange = proxy.recording().awaitExchange(e -> e.path("/listed"), WAIT);
      assertRecordedAsReceived(got, exchange);
      assertThat(exchange.response().headers().contains("Cache-Control")).isFalse();
    }
  }

  /**
   * The recorded Content-Length is the one on the wire; the recorded Date is the engine's to the
   * second, taken as the head went out: the engine formats its own a moment later.
   */
  private static void assertRecordedAsReceived(HttpResponse<?> got, RecordedExchange exchange) {
    RecordedResponse recorded = exchange.response();
    assertThat(recorded.header("Content-Length")).as("Content-Length of %s", exchange)
        .isEqualTo(got.headers().firstValue("Content-Length"));
    ZonedDateTime sent = date(got.headers().firstValue("Date").orElseThrow());
    ZonedDateTime kept = date(recorded.header("Date").orElseThrow(
        () -> new AssertionError("no Date recorded for " + exchange)));
    assertThat(Duration.between(kept, sent)).as("Date of %s", exchange)
        .isBetween(Duration.ZERO, Duration.ofSeconds(1));
    assertThat(recorded.headers().contains("Connection")).as("hop-by-hop Connection").isFalse();
  }

  private static ZonedDateTime date(String value) {
    return ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME);
  }

  private static HttpResponse<String> send(RecordingProxy proxy, URI url) throws Exception {
    HttpClient client = proxy.httpClientBuilder().build();
    return client.send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static URI closedPortUrl(String path) throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      port = socket.getLocalPort();
    }
    return URI.create("http://127.0.0.1:" + port + path);
  }
}
