package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Random;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import okio.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 13 §1: a recording keeps its bodies within a byte budget, reserved before allocating,
 * and counts what it drops or truncates; it never grows with the traffic.
 */
class RecordingBudgetTest {
  private static final int MIB = 1024 * 1024;
  private static final byte[] PAYLOAD = new byte[MIB];
  private static final MockWebServer origin = new MockWebServer();

  @BeforeAll
  static void startOrigin() throws Exception {
    new Random(13).nextBytes(PAYLOAD);
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return new MockResponse().setHeader("Content-Type", "application/octet-stream")
            .setBody(new Buffer().write(PAYLOAD));
      }
    });
    origin.start();
  }

  @AfterAll
  static void stopOrigin() throws Exception {
    origin.close();
  }

  @Test
  void dropsOldestExchangeWhenOverByteBudget() throws Exception {
    try (RecordingProxy proxy = RecordingProxy.reverse(origin.url("/").uri())
        .maxRecordingBytes(16 * MIB).start()) {
      fetch(proxy, 300);
      Recording recording = proxy.recording();
      recording.await(() -> recording.size() + recording.dropped() == 300, Duration.ofSeconds(10));

      assertThat(recording.size() + recording.dropped()).isEqualTo(300);
      assertThat(recording.recordedBytes()).isLessThanOrEqualTo(16L * MIB);
      assertThat(recording.size()).isBetween(1, 16);
      assertThat(recording.dropped()).isGreaterThanOrEqualTo(284);
      RecordedExchange last = recording.exchanges().get(recording.size() - 1);
      assertThat(last.request().path()).isEqualTo("/299");
      assertThat(last.response().body().truncated()).isFalse();
      assertThat(last.response().body().bytes()).isEqualTo(PAYLOAD);
      assertThat(recording.toString()).contains("dropped");
    }
  }

  @Test
  void truncatesNewBodiesWhenConfiguredToKeepEveryExchange() throws Exception {
    try (RecordingProxy proxy = RecordingProxy.reverse(origin.url("/").uri())
        .maxRecordingBytes(4 * MIB).overflow(RecordingOverflow.TRUNCATE_BODIES).start()) {
      fetch(proxy, 10);
      Recording recording = proxy.recording();
      recording.awaitExchanges(10, Duration.ofSeconds(10));

      assertThat(recording.dropped()).isZero();
      assertThat(recording.truncatedBodies()).isGreaterThanOrEqualTo(6);
      assertThat(recording.recordedBytes()).isLessThanOrEqualTo(4L * MIB);
      RecordedBody last = recording.exchanges().get(9).response().body();
      assertThat(last.truncated()).isTrue();
      assertThat(last.size()).isEqualTo(MIB);
    }
  }

  @Test
  void releasesTheBudgetWhenCleared() throws Exception {
    try (RecordingProxy proxy = RecordingProxy.reverse(origin.url("/").uri()).start()) {
      fetch(proxy, 3);
      proxy.recording().awaitExchanges(3, Duration.ofSeconds(5));
      assertThat(proxy.recording().recordedBytes()).isEqualTo(3L * MIB);

      proxy.recording().clear();

      assertThat(proxy.recording().recordedBytes()).isZero();
    }
  }

  @Test
  void rejectsANegativeBudgetNamingIt() {
    assertThatThrownBy(() -> RecordingProxy.forward().maxRecordingBytes(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxRecordingBytes must not be negative (was -1)");
    assertThatThrownBy(() -> FerryProxyExtension.forward().maxExchanges(0))
        .hasMessage("maxExchanges must be at least 1 (was 0)");
  }

  /** Bodies far smaller than a capture's largest chunk reserve about their own size. */
  @Test
  void keepsSmallBodiesWithinABudgetBelowOneChunk() throws Exception {
    try (MockWebServer small = new MockWebServer()) {
      for (int i = 0; i < 5; i++) {
        small.enqueue(new MockResponse().setBody("x".repeat(1000)));
      }
      small.start();
      try (RecordingProxy proxy = RecordingProxy.reverse(small.url("/").uri())
          .maxRecordingBytes(10_000).start()) {
        HttpClient client = proxy.httpClientBuilder().build();
        for (int i = 0; i < 5; i++) {
          client.send(HttpRequest.newBuilder(proxy.baseUri().resolve("/" + i)).build(),
              HttpResponse.BodyHandlers.ofString());
        }
        Recording recording = proxy.recording();
        recording.awaitExchanges(5, Duration.ofSeconds(10));
        assertThat(recording.dropped()).isZero();
        assertThat(recording.truncatedBodies()).isZero();
        assertThat(recording.exchanges()).allSatisfy(e ->
            assertThat(e.response().body().bytes()).hasSize(1000));
        assertThat(recording.recordedBytes()).isLessThanOrEqualTo(10_000);
      }
    }
  }

  /**
   * Exchanges that fit the budget together are all kept, whole, however small the budget: each
   * capture used to reserve at least 1 KiB, dropping every older exchange to make room it never
   * used, and then truncating bodies too (probe t24). Past the budget the oldest are dropped,
   * and under DROP_OLDEST no body that fits is truncated.
   */
  @Test
  void keepsEveryExchangeThatFitsASmallBudget() throws Exception {
    for (long budget : new long[] {2100, 1200, 500}) {
      try (MockWebServer small = new MockWebServer();
          RecordingProxy proxy = RecordingProxy.forward().maxRecordingBytes(budget).start()) {
        small.setDispatcher(new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            return new MockResponse().setBody("0123456789".repeat(10));
          }
        });
        small.start();
        HttpClient client = proxy.httpClientBuilder().build();
        Recording recording = proxy.recording();
        for (int i = 0; i < 6; i++) {
          HttpResponse<String> response = client.send(HttpRequest.newBuilder(small.url("/k" + i).uri())
              .POST(HttpRequest.BodyPublishers.ofString("R".repeat(50))).build(), HttpResponse.BodyHandlers.ofString());
          assertThat(response.body()).hasSize(100);
          int done = i + 1;
          assertThat(recording.await(() -> recording.size() + recording.dropped() == done, Duration.ofSeconds(5)))
              .as("budget %d, exchange %d recorded", budget, done).isTrue();
        }
        int fit = (int) Math.min(6, budget / 150);
        assertThat(recording.size()).as("budget %d kept", budget).isEqualTo(fit);
        assertThat(recording.dropped()).as("budget %d dropped", budget).isEqualTo(6 - fit);
        assertThat(recording.truncatedBodies()).as("budget %d truncated", budget).isZero();
        assertThat(recording.exchanges()).allSatisfy(e -> {
          assertThat(e.request().body().bytes()).hasSize(50);
          assertThat(e.response().body().bytes()).hasSize(100);
        });
        assertThat(recording.exchanges().get(fit - 1).request().path()).isEqualTo("/k5");
      }
    }
  }

  /** Sends {@code count} requests, reading and discarding each 1 MiB response. */
  private static void fetch(RecordingProxy proxy, int count) throws Exception {
    HttpClient client = proxy.httpClientBuilder().build();
    for (int i = 0; i < count; i++) {
      HttpResponse<InputStream> response = client.send(
          HttpRequest.newBuilder(proxy.baseUri().resolve(URI.create("/" + i))).build(),
          HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream body = response.body()) {
        assertThat(body.transferTo(java.io.OutputStream.nullOutputStream())).isEqualTo(MIB);
      }
    }
  }
}
