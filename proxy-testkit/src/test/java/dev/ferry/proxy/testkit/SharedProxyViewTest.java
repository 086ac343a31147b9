package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 13 §4: on one proxy shared by a class, each test's recording is its own view; nothing
 * clears another test's exchanges, and the port stays the same.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SharedProxyViewTest {
  private static final MockWebServer origin = new MockWebServer();
  private static final AtomicInteger port = new AtomicInteger();
  private static final CountDownLatch slowArrived = new CountDownLatch(1);
  private static final CountDownLatch slowMayAnswer = new CountDownLatch(1);

  @RegisterExtension
  static FerryProxyExtension proxy = FerryProxyExtension.forward().perClass();

  @BeforeAll
  static void startOrigin() throws Exception {
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
        if (request.getPath().equals("/slow")) {
          slowArrived.countDown();
          slowMayAnswer.await(10, TimeUnit.SECONDS);
        }
        return new MockResponse().setBody("ok");
      }
    });
    origin.start();
  }

  @AfterAll
  static void stopOrigin() throws Exception {
    origin.close();
  }

  @Test
  @Order(1)
  void recordsItsOwnTraffic(RecordingProxy mine) throws Exception {
    port.set(mine.port());
    get(mine, "/first");
    FerryAssertions.assertThat(mine.recording()).eventually().hasExchangeCount(1);
    mine.inject(e -> e.path("/second"), Fault.status(503));
  }

  @Test
  @Order(2)
  void startsEmptyOnTheSameProxyWithoutTheLastTestsFaults(RecordingProxy mine) throws Exception {
    assertThat(mine.port()).isEqualTo(port.get());
    assertThat(mine.recording().exchanges()).isEmpty();

    assertThat(get(mine, "/second").statusCode()).isEqualTo(200);

    FerryAssertions.assertThat(mine.recording()).eventually()
        .hasExchangeCount(1).hasExchange(e -> e.path("/second").status(200));
  }

  /** A view's clear hides what was recorded so far, not an exchange still in flight (probe e11). */
  @Test
  @Order(3)
  void keepsAnExchangeInFlightThroughAClearOfTheView(RecordingProxy mine) throws Exception {
    get(mine, "/before");
    FerryAssertions.assertThat(mine.recording()).eventually().hasExchange(e -> e.path("/before"));
    CompletableFuture<HttpResponse<String>> slow = mine.httpClientBuilder().build().sendAsync(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + origin.getPort() + "/slow")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(slowArrived.await(10, TimeUnit.SECONDS)).isTrue();

    mine.recording().clear();
    slowMayAnswer.countDown();

    assertThat(slow.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    FerryAssertions.assertThat(mine.recording()).eventually().hasExchange(e -> e.path("/slow"));
    assertThat(mine.recording().exchanges()).extracting(e -> e.request().path()).containsExactly("/slow");
  }

  private static HttpResponse<String> get(RecordingProxy mine, String path) throws Exception {
    return mine.httpClientBuilder().build().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + origin.getPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
