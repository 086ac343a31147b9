package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * Probe t25: once a recording dropped exchanges past its bounds, the checks that rely on
 * something being absent passed as if the dropped traffic never happened. They now fail, naming
 * the bound to raise, and failOnUnexpectedTraffic judges each exchange as it is recorded.
 */
class DroppedExchangesTest {
  private static MockWebServer origin;

  @BeforeAll
  static void startOrigin() throws Exception {
    origin = new MockWebServer();
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return new MockResponse().setBody("x".repeat(100));
      }
    });
    origin.start();
  }

  @AfterAll
  static void stopOrigin() throws Exception {
    origin.shutdown();
  }

  @Test
  void failsUnexpectedTrafficTheRecordingDropped() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(DroppingFixture.class)).execute()
        .testEvents()
        .assertStatistics(s -> s.started(1).failed(1))
        .assertThatEvents().haveExactly(1, finishedWithFailure(instanceOf(AssertionError.class),
            message(m -> m.contains("unexpected traffic (expected path^=/ok): 1 exchange was:")
                && m.contains("GET " + origin.url("/tracking/forbidden")))));
  }

  @Test
  void refusesChecksADroppedExchangeCouldDecideNamingMaxExchanges() throws Exception {
    try (RecordingProxy proxy = RecordingProxy.forward().maxExchanges(2).start()) {
      Recording recording = sendAndRecord(proxy, "/tracking/forbidden", "/ok/1", "/ok/2");
      assertThat(recording.dropped()).isEqualTo(1);

      String reason = "1 exchange was dropped to stay within maxExchanges (2): raise maxExchanges";
      RecordingAssert recorded = FerryAssertions.assertThat(recording);
      assertThatThrownBy(() -> recorded.hasNoExchange(e -> e.pathStartsWith("/tracking")))
          .hasMessageContaining("Cannot tell whether no exchange has").hasMessageContaining(reason);
      assertThatThrownBy(() -> recorded.hasNoExchangeTo("tracking.example"))
          .hasMessageContaining(reason);
      assertThatThrownBy(() -> recorded.allExchangesMatch(e -> e.pathStartsWith("/ok")))
          .hasMessageContaining(reason);
      assertThatThrownBy(() -> recorded.hasExchangeCount(2)).hasMessageContaining(reason);
      assertThatThrownBy(() -> recorded.hasExchangeCount(2, e -> e.pathStartsWith("/ok")))
          .hasMessageContaining(reason);
      recorded.hasExchange(e -> e.path("/ok/2"));
    }
  }

  @Test
  void refusesChecksADroppedExchangeCouldDecideNamingTheByteBudget() throws Exception {
    try (RecordingProxy proxy = RecordingProxy.forward().maxRecordingBytes(250).start()) {
      Recording recording = sendAndRecord(proxy, "/a", "/b", "/c");
      assertThat(recording.dropped()).isEqualTo(1);

      assertThatThrownBy(() -> FerryAssertions.assertThat(recording).hasNoExchange(e -> e.path("/x")))
          .hasMessageContaining("1 exchange was dropped to stay within the byte budget "
              + "(maxRecordingBytes 250): raise maxRecordingBytes")
          .hasMessageContaining("RecordingOverflow.TRUNCATE_BODIES");
    }
  }

  /** A test's view counts its own drops: another test's, on a shared proxy, decide nothing here. */
  @Test
  void countsOnlyTheDropsOfATestsOwnExchangesOnASharedProxy() throws Exception {
    try (RecordingProxy proxy = RecordingProxy.forward().maxExchanges(1).start()) {
      sendAndRecord(proxy, "/earlier/1", "/earlier/2");
      RecordingProxy view = proxy.openView();
      Recording mine = sendAndRecord(view, "/mine");

      assertThat(proxy.recording().dropped()).isEqualTo(2);
      assertThat(mine.dropped()).isZero();
      FerryAssertions.assertThat(mine).hasNoExchange(e -> e.pathStartsWith("/earlier"))
          .hasExchangeCount(1);
      view.close();
    }
  }

  /** Sends GETs for {@code paths} in turn and waits until each is recorded or dropped. */
  private static Recording sendAndRecord(RecordingProxy proxy, String... paths) throws Exception {
    HttpClient client = proxy.httpClientBuilder().build();
    Recording recording = proxy.recording();
    long before = recording.size() + recording.dropped();
    for (String path : paths) {
      client.send(HttpRequest.newBuilder(origin.url(path).uri()).build(),
          HttpResponse.BodyHandlers.discarding());
    }
    long expected = before + paths.length;
    assertThat(recording.await(() -> recording.size() + recording.dropped() == expected,
        Duration.ofSeconds(5))).as("all %d exchanges recorded or dropped", expected).isTrue();
    return recording;
  }

  static class DroppingFixture {
    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward().maxExchanges(2)
        .failOnUnexpectedTraffic(e -> e.pathStartsWith("/ok"));

    @Test
    void callsTrackingBeforeTwoExpectedRequests(RecordingProxy proxy) throws Exception {
      sendAndRecord(proxy, "/tracking/forbidden", "/ok/1", "/ok/2");
      assertThat(proxy.recording().dropped()).isEqualTo(1);
    }
  }
}
