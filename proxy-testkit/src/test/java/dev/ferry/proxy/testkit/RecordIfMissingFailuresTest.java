package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
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

  /**
   * A response body cut at maxBodyBytes could never be replayed (its replay answers 502), so it is
   * not saved, and the report says why; it used to be saved, and every later run answered 502.
   */
  @Test
  void leavesOutAResponseBodyCutAtMaxBodyBytesAndSaysWhy(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("big.har");
    try (MockWebServer origin = new MockWebServer()) {
      origin.enqueue(new MockResponse().setBody("x".repeat(2000)));
      origin.enqueue(new MockResponse().setBody("small"));
      origin.start();
      String base = "http://127.0.0.1:" + origin.getPort();
      RecordingProxy proxy = RecordingProxy.forward().recordIfMissing(har).maxBodyBytes(1000).start();
      try {
        HttpClient client = proxy.httpClientBuilder().build();
        assertThat(get(client, base + "/big").body()).hasSize(2000);
        assertThat(get(client, base + "/small").body()).isEqualTo("small");
        FerryAssertions.assertThat(proxy.recording()).eventually().hasExchangeCount(2);
      } finally {
        proxy.close();
      }

      assertThat(proxy.unrecorded()).singleElement()
          .satisfies(e -> assertThat(e.request().path()).isEqualTo("/big"));
      assertThat(Recording.fromHar(har).exchanges()).singleElement()
          .satisfies(e -> assertThat(e.request().path()).isEqualTo("/small"));
      assertThat(new RecordIfMissing(har, false).report(proxy.unrecorded(), 0))
          .contains("GET " + base + "/big")
          .contains("response body cut at maxBodyBytes, 1000 of 2000 bytes kept: raise maxBodyBytes");
    }
  }

  /**
   * An entry saved before the fix above, its response body cut, is no match for record-if-missing:
   * the request is forwarded and recorded whole, so the file heals once maxBodyBytes is raised
   * and then replays offline, also in pure replay.
   */
  @Test
  void forwardsAgainAnEntryThatCannotBeReplayedAndHealsTheFile(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("old.har");
    String url;
    try (MockWebServer origin = new MockWebServer()) {
      origin.enqueue(new MockResponse().setBody("x".repeat(2000)));
      origin.enqueue(new MockResponse().setBody("y".repeat(2000)));
      origin.start();
      url = writeCutEntry(origin, har);
      try (RecordingProxy proxy = RecordingProxy.forward().recordIfMissing(har).start()) {
        HttpResponse<String> healed = get(proxy.httpClientBuilder().build(), url);
        assertThat(healed.statusCode()).isEqualTo(200);
        assertThat(healed.body()).isEqualTo("y".repeat(2000));
        proxy.recording().awaitExchanges(1, Duration.ofSeconds(5));
      }
      assertThat(origin.getRequestCount()).isEqualTo(2);
    }
    // The origin is gone: the complete entry answers.
    try (RecordingProxy offline = RecordingProxy.forward().recordIfMissing(har).start()) {
      assertThat(get(offline.httpClientBuilder().build(), url).body()).isEqualTo("y".repeat(2000));
    }
    try (RecordingProxy replay = RecordingProxy.forward().replay(har).start()) {
      assertThat(get(replay.httpClientBuilder().build(), url).body()).isEqualTo("y".repeat(2000));
    }
  }

  /**
   * Records {@code origin}'s next answer to {@code /big}, 2000 bytes, cut at 1000, into
   * {@code har}, as a version that saved cut bodies did; returns the URL.
   */
  private static String writeCutEntry(MockWebServer origin, Path har) throws Exception {
    String url = "http://127.0.0.1:" + origin.getPort() + "/big";
    try (RecordingProxy old = RecordingProxy.forward().maxBodyBytes(1000).start()) {
      get(old.httpClientBuilder().build(), url);
      old.recording().awaitExchanges(1, Duration.ofSeconds(5));
      old.recording().writeHar(har);
    }
    return url;
  }

  /** Pure replay of an entry cut at maxBodyBytes still answers 502 saying so. */
  @Test
  void replayAloneStillRefusesAnEntryThatCannotBeReplayed(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("cut.har");
    String url;
    try (MockWebServer origin = new MockWebServer()) {
      origin.enqueue(new MockResponse().setBody("x".repeat(2000)));
      origin.start();
      url = writeCutEntry(origin, har);
    }
    try (RecordingProxy replay = RecordingProxy.forward().replay(har).start()) {
      HttpResponse<String> answer = get(replay.httpClientBuilder().build(), url);
      assertThat(answer.statusCode()).isEqualTo(502);
      assertThat(answer.body()).contains("holds 1000 of its 2000 bytes");
    }
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
