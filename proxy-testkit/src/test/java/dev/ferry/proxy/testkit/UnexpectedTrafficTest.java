package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineTestKit;

/** failOnUnexpectedTraffic fails the test that made the traffic, listing it. */
class UnexpectedTrafficTest {

  @Test
  void failsATestThatMadeUnmatchedReplayRequests() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(ReplayFixture.class)).execute()
        .testEvents()
        .assertStatistics(s -> s.started(1).failed(1))
        .assertThatEvents().haveExactly(1, finishedWithFailure(instanceOf(AssertionError.class),
            message(m -> m.contains("unexpected traffic (the replay had no recording for them)")
                && m.contains("GET http://127.0.0.1:9/nowhere"))));
  }

  @Test
  void passesWhenAllTrafficIsExpected() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(QuietFixture.class)).execute()
        .testEvents().assertStatistics(s -> s.started(1).succeeded(1));
  }

  /** An exchange still in progress when the test ends counts: the check waits for it. */
  @Test
  void failsATestWhoseUnexpectedRequestWasStillInProgress() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(InProgressFixture.class)).execute()
        .testEvents()
        .assertStatistics(s -> s.started(1).failed(1))
        .assertThatEvents().haveExactly(1, finishedWithFailure(instanceOf(AssertionError.class),
            message(m -> m.contains("unexpected traffic") && m.contains("/tracking"))));
  }

  /**
   * The CONNECT that opens an intercepted HTTPS session is the proxy's plumbing: the requests in
   * the session are judged, not it. It used to fail every such test, listing
   * {@code CONNECT localhost:<port> -> 200 Connection Established} as unexpected.
   */
  @Test
  void judgesTheRequestsOfAnInterceptedSessionNotItsConnect() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(InterceptedFixture.class)).execute()
        .testEvents()
        .assertStatistics(s -> s.started(2).succeeded(1).failed(1))
        .assertThatEvents().haveExactly(1, finishedWithFailure(instanceOf(AssertionError.class),
            message(m -> m.contains("unexpected traffic (expected path^=/api/): 1 exchange was:")
                && m.contains("GET https://localhost:" + InterceptedFixture.origin.port() + "/tracking")
                && !m.substring(0, m.indexOf("All traffic")).contains("CONNECT"))));
  }

  /** A tunnel the proxy does not decrypt is all it sees of the session: the CONNECT is judged. */
  @Test
  void judgesATunnelItDoesNotIntercept() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(TunnelFixture.class)).execute()
        .testEvents()
        .assertStatistics(s -> s.started(1).failed(1))
        .assertThatEvents().haveExactly(1, finishedWithFailure(instanceOf(AssertionError.class),
            message(m -> m.contains("unexpected traffic")
                && m.contains("CONNECT localhost:" + TunnelFixture.origin.port()))));
  }

  static class InterceptedFixture {
    static final HttpsOrigin origin = HttpsOrigin.start();

    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward().interceptHttps()
        .configure(b -> b.upstreamTls(origin.upstreamTls()))
        .failOnUnexpectedTraffic(e -> e.pathStartsWith("/api/"));

    @AfterAll
    static void stopOrigin() {
      origin.close();
    }

    @Test
    void callsOnlyTheApi() throws Exception {
      assertThat(get(proxy.httpClientBuilder().build(), origin.url("/api/orders"))).isEqualTo(200);
    }

    @Test
    void callsTrackingToo() throws Exception {
      assertThat(get(proxy.httpClientBuilder().build(), origin.url("/api/orders"))).isEqualTo(200);
      assertThat(get(proxy.httpClientBuilder().build(), origin.url("/tracking"))).isEqualTo(200);
    }
  }

  static class TunnelFixture {
    static final HttpsOrigin origin = HttpsOrigin.start();

    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward()
        .failOnUnexpectedTraffic(e -> e.pathStartsWith("/api/"));

    @AfterAll
    static void stopOrigin() {
      origin.close();
    }

    @Test
    void callsTheApiThroughATunnel() throws Exception {
      HttpClient client = proxy.httpClientBuilder().sslContext(origin.clientContext()).build();
      assertThat(get(client, origin.url("/api/orders"))).isEqualTo(200);
    }
  }

  private static int get(HttpClient client, URI url) throws Exception {
    return client.send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  static class InProgressFixture {
    static final MockWebServer origin = new MockWebServer();

    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward()
        .failOnUnexpectedTraffic(e -> e.path("/expected"));

    @AfterAll
    static void stopOrigin() throws Exception {
      origin.shutdown();
    }

    @Test
    void endsWhileItsRequestAwaitsTheOrigin() throws Exception {
      origin.enqueue(new MockResponse().setHeadersDelay(300, TimeUnit.MILLISECONDS).setBody("late"));
      proxy.httpClientBuilder().build().sendAsync(
          HttpRequest.newBuilder(origin.url("/tracking").uri()).build(), HttpResponse.BodyHandlers.discarding());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (origin.getRequestCount() == 0) {
        assertThat(System.nanoTime()).as("the request to reach the origin").isLessThan(deadline);
        Thread.onSpinWait();
      }
    }
  }

  static class ReplayFixture {
    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward()
        .replay(emptyHar()).failOnUnexpectedTraffic();

    @Test
    void asksForSomethingNotRecorded() throws Exception {
      HttpResponse<String> response = proxy.httpClientBuilder().build().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:9/nowhere")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(502);
      proxy.recording().awaitExchanges(1, Duration.ofSeconds(5));
    }
  }

  static class QuietFixture {
    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward()
        .failOnUnexpectedTraffic(e -> e.host("127.0.0.1"));

    @Test
    void makesNoRequests() {
      assertThat(proxy.recording().size()).isZero();
    }
  }

  private static Path emptyHar() {
    try {
      Path file = Files.createTempFile("ferry-empty", ".har");
      Recording.create().writeHar(file);
      file.toFile().deleteOnExit();
      return file;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
