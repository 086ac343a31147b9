package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * A request one test sends without waiting for it reaches a class's shared proxy while the next
 * test runs and counts there: the failure says so and how to avoid it (probe testkit3 F1), where
 * it used to read as if the next test had made the request.
 */
class LateRequestHintTest {
  private static final String HINT = "This test shares its class's proxy";
  static final MockWebServer origin = origin();

  @AfterAll
  static void stopOrigin() throws Exception {
    origin.shutdown();
  }

  @Test
  void explainsAnUnexpectedRequestThatAnEarlierTestSentLate() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(UnexpectedFixture.class)).execute()
        .testEvents()
        .assertStatistics(s -> s.started(2).succeeded(1).failed(1))
        .assertThatEvents().haveExactly(1, finishedWithFailure(message(m ->
            m.contains("unexpected traffic") && m.contains("/late") && m.contains(HINT)
                && m.contains("perTest()"))));
  }

  @Test
  void explainsAnExchangeCountRaisedByAnEarlierTestsLateRequest() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(CountFixture.class)).execute()
        .testEvents()
        .assertStatistics(s -> s.started(2).succeeded(1).failed(1))
        .assertThatEvents().haveExactly(1, finishedWithFailure(message(m ->
            m.startsWith("Expected 1 exchanges") && m.contains("/late") && m.contains(HINT))));
  }

  /** A count that is short is no sign of another test's traffic: no hint. */
  @Test
  void givesNoHintWhenTooFewExchangesWereRecorded() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(ShortCountFixture.class)).execute()
        .testEvents()
        .assertStatistics(s -> s.started(1).failed(1))
        .assertThatEvents().haveExactly(1, finishedWithFailure(message(m ->
            m.startsWith("Expected 2 exchanges") && !m.contains(HINT))));
  }

  /** The first test leaves a request that goes out only once the second has begun. */
  @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
  abstract static class LateSender {
    abstract FerryProxyExtension proxy();

    abstract CountDownLatch secondStarted();

    /** What the second test checks once the late request has been recorded. */
    void check() {}

    @Test
    @Order(1)
    void firesAndForgets() throws Exception {
      get();
      HttpClient client = proxy().httpClientBuilder().build();
      CompletableFuture.runAsync(() -> {
        try {
          if (secondStarted().await(10, TimeUnit.SECONDS)) {
            client.send(HttpRequest.newBuilder(origin.url("/late").uri()).build(),
                HttpResponse.BodyHandlers.discarding());
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
    }

    @Test
    @Order(2)
    void runsWhileTheLateRequestArrives() throws Exception {
      get();
      secondStarted().countDown();
      proxy().recording().awaitExchange(e -> e.path("/late"), Duration.ofSeconds(10));
      check();
    }

    private void get() throws Exception {
      URI url = origin.url("/expected").uri();
      assertThat(proxy().httpClientBuilder().build().send(HttpRequest.newBuilder(url).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
    }
  }

  static class UnexpectedFixture extends LateSender {
    static final CountDownLatch secondStarted = new CountDownLatch(1);

    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward()
        .failOnUnexpectedTraffic(e -> e.path("/expected"));

    @Override
    FerryProxyExtension proxy() {
      return proxy;
    }

    @Override
    CountDownLatch secondStarted() {
      return secondStarted;
    }
  }

  static class CountFixture extends LateSender {
    static final CountDownLatch secondStarted = new CountDownLatch(1);

    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward();

    @Override
    FerryProxyExtension proxy() {
      return proxy;
    }

    @Override
    CountDownLatch secondStarted() {
      return secondStarted;
    }

    @Override
    void check() {
      FerryAssertions.assertThat(proxy.recording()).hasExchangeCount(1);
    }
  }

  static class ShortCountFixture {
    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward();

    @Test
    void expectsMoreThanItMade() {
      FerryAssertions.assertThat(proxy.recording()).hasExchangeCount(2);
    }
  }

  private static MockWebServer origin() {
    MockWebServer origin = new MockWebServer();
    origin.setDispatcher(new okhttp3.mockwebserver.Dispatcher() {
      @Override
      public MockResponse dispatch(okhttp3.mockwebserver.RecordedRequest request) {
        return new MockResponse().setBody("ok");
      }
    });
    return origin;
  }
}
