package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ReplayMatcher#body()} compares whole bodies or nothing: two bodies cut at maxBodyBytes
 * cannot be compared, and used to match on their common prefix.
 */
class ReplayBodyMatchTest {
  private static final ReplayMatcher ON_BODY = ReplayMatcher.methodAndUrl().and(ReplayMatcher.body());

  @Test
  void neverMatchesBodiesLongerThanMaxBodyBytes() throws Exception {
    String prefix = "a".repeat(1000);
    String url;
    Recording recorded;
    try (MockWebServer origin = new MockWebServer()) {
      origin.enqueue(new MockResponse().setBody("for 1"));
      origin.start();
      url = "http://127.0.0.1:" + origin.getPort() + "/q";
      try (RecordingProxy recorder = RecordingProxy.forward().maxBodyBytes(1000).start()) {
        post(recorder, url, HttpRequest.BodyPublishers.ofString(prefix + "1"));
        recorder.recording().awaitExchanges(1, Duration.ofSeconds(5));
        recorded = recorder.recording();
      }
    }
    try (RecordingProxy replay = RecordingProxy.forward().replay(recorded).maxBodyBytes(1000)
        .replayMatcher(ON_BODY).start()) {
      HttpResponse<String> other = post(replay, url, HttpRequest.BodyPublishers.ofString(prefix + "2"));
      assertThat(other.statusCode()).as("a body differing past the cap").isEqualTo(502);
      HttpResponse<String> same = post(replay, url, HttpRequest.BodyPublishers.ofString(prefix + "1"));
      assertThat(same.statusCode()).as("truncated bodies cannot be compared").isEqualTo(502);
    }
  }

  /**
   * A chunked upload over the cap looked whole (its size was taken as the bytes read), so it
   * matched a recorded body equal to its prefix; it is now forwarded, every byte of it.
   */
  @Test
  void forwardsAChunkedBodyOverTheCapWholeRatherThanMatchingItsPrefix(@TempDir Path dir)
      throws Exception {
    Path har = dir.resolve("bodies.har");
    try (MockWebServer origin = new MockWebServer()) {
      origin.enqueue(new MockResponse().setBody("recorded"));
      origin.enqueue(new MockResponse().setBody("live"));
      origin.start();
      String url = "http://127.0.0.1:" + origin.getPort() + "/q";
      try (RecordingProxy recorder = RecordingProxy.forward().start()) {
        post(recorder, url, HttpRequest.BodyPublishers.ofString("a".repeat(10)));
        recorder.recording().awaitExchanges(1, Duration.ofSeconds(5));
        recorder.recording().writeHar(har);
      }
      origin.takeRequest(5, TimeUnit.SECONDS);

      byte[] longer = ("a".repeat(10) + "b").getBytes(StandardCharsets.US_ASCII);
      try (RecordingProxy proxy = RecordingProxy.forward().recordIfMissing(har).maxBodyBytes(10)
          .replayMatcher(ON_BODY).start()) {
        HttpResponse<String> answer = post(proxy, url,
            HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(longer)));
        assertThat(answer.body()).isEqualTo("live");
        assertThat(proxy.recording().awaitExchange(e -> e.path("/q"), Duration.ofSeconds(5))
            .request().headers().all("Transfer-Encoding")).as("sent chunked").containsExactly("chunked");
      }
      RecordedRequest forwarded = origin.takeRequest(5, TimeUnit.SECONDS);
      assertThat(forwarded.getBody().readUtf8()).isEqualTo("a".repeat(10) + "b");
    }
  }

  private static HttpResponse<String> post(RecordingProxy proxy, String url,
      HttpRequest.BodyPublisher body) throws Exception {
    HttpClient client = proxy.httpClientBuilder().build();
    return client.send(HttpRequest.newBuilder(URI.create(url)).POST(body).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
