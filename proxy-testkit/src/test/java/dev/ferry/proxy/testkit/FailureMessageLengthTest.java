package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/**
 * A failing check lists the first 100 recorded exchanges and counts the rest: with thousands
 * recorded, messages ran to megabytes and the line that mattered was lost.
 */
class FailureMessageLengthTest {
  private static final int EXCHANGES = 250;
  private static final int CLIENTS = 10;
  private static final MockWebServer origin = new MockWebServer();

  @BeforeAll
  static void start() throws Exception {
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return new MockResponse().setBody("ok");
      }
    });
    origin.start();
  }

  @AfterAll
  static void stop() throws Exception {
    origin.close();
  }

  @Test
  void listsTheFirstHundredExchangesAndCountsTheRest() throws Exception {
    try (RecordingProxy proxy = RecordingProxy.forward().start()) {
      sendMany(proxy);
      proxy.recording().awaitExchanges(EXCHANGES, Duration.ofSeconds(10));

      assertThatThrownBy(() -> FerryAssertions.assertThat(proxy.recording())
          .hasExchange(e -> e.path("/orders")))
          .satisfies(FailureMessageLengthTest::listsOneHundred);
      assertThatThrownBy(() -> proxy.recording()
          .awaitExchange(e -> e.path("/orders"), Duration.ofMillis(10)))
          .satisfies(FailureMessageLengthTest::listsOneHundred);
    }
  }

  @Test
  void capsTheTrafficListedByFailOnUnexpectedTraffic() {
    Event failed = EngineTestKit.engine("junit-jupiter").selectors(selectClass(Fixture.class))
        .execute().testEvents().failed().stream().findFirst().orElseThrow();
    Throwable thrown = failed.getPayload(TestExecutionResult.class).orElseThrow()
        .getThrowable().orElseThrow();
    assertThat(thrown).hasMessageContaining("unexpected traffic");
    assertThat(thrown.getMessage()).contains("\nAll traffic: " + EXCHANGES + " exchanges were recorded:");
    listsOneHundred(thrown);
  }

  private static void listsOneHundred(Throwable thrown) {
    String message = thrown.getMessage();
    assertThat(message)
        .contains("\n  ... and " + (EXCHANGES - 100) + " more (recording.exchanges() has them all)");
    // 100 listed, and the unexpected one again in failOnUnexpectedTraffic's own list.
    assertThat(message.lines().filter(line -> line.startsWith("  #")).count()).isBetween(100L, 101L);
  }

  /**
   * Several clients at once, each on its own kept-alive connection: one after another, each
   * exchange here waits out a delayed ACK (about 40 ms).
   */
  private static void sendMany(RecordingProxy proxy) throws Exception {
    HttpClient client = proxy.httpClientBuilder().build();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    try {
      List<Future<?>> sent = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        int first = c * (EXCHANGES / CLIENTS);
        sent.add(clients.submit(() -> {
          for (int i = first; i < first + EXCHANGES / CLIENTS; i++) {
            client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + origin.getPort()
                + "/item/" + i)).build(), HttpResponse.BodyHandlers.discarding());
          }
          return null;
        }));
      }
      for (Future<?> done : sent) {
        done.get();
      }
    } finally {
      clients.shutdownNow();
    }
  }

  static class Fixture {
    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward()
        .failOnUnexpectedTraffic(e -> e.pathStartsWith("/item/")
            .matching("not /item/7", x -> !x.request().path().equals("/item/7")));

    @Test
    void makesManyRequests(RecordingProxy mine) throws Exception {
      sendMany(mine);
    }
  }
}
