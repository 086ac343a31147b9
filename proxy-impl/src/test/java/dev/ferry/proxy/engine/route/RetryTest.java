package dev.ferry.proxy.engine.route;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Balancer;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.RetryPolicy;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.ProxyTestExtension;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Issue #10: per-route retries, idempotency, Retry-After, and the retry budget. */
class RetryTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private final HttpClient client = HttpClient.newHttpClient();

  private static String deadEndpoint() throws Exception {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return "http://127.0.0.1:" + socket.getLocalPort();
    }
  }

  private HttpResponse<String> send(ProxyServer proxy, String method, String path) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path))
        .method(method, method.equals("GET") ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString("order")).build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void retriesConnectFailureOnAnotherEndpointWhateverTheMethod() throws Exception {
    Origins live = ferry.track(new Origins("live"));
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.pool(deadEndpoint(), live.url()).ejectAfter(0, Duration.ofSeconds(1))));
    for (int i = 0; i < 6; i++) {
      HttpResponse<String> response = send(proxy, "POST", "/orders/" + i);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("live /orders/" + i);
    }
    assertThat(live.requests()).isEqualTo(6);
    // A body larger than the retry buffer, none of it sent (probe g22: it was a 502).
    for (int i = 0; i < 2; i++) {
      HttpRequest large = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/large/" + i))
          .POST(HttpRequest.BodyPublishers.ofString("x".repeat(100_000))).build();
      assertThat(client.send(large, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }
  }

  /**
   * A backend that starts resetting every request while the proxy holds kept-alive connections
   * to it: the request fails on the pooled connection and again on a fresh one, and the route's
   * one retry still goes to the other endpoint. Before, the fresh connection's resend used up the
   * retry and the client got a 502 with a healthy endpoint left.
   */
  @Test
  void retriesAnotherEndpointAfterAStaleConnectionResendFailedToo() throws Exception {
    Origins failing = ferry.track(new Origins("failing"));
    Origins live = ferry.track(new Origins("live"));
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.pool(failing.url(), live.url()).balance(Balancer.roundRobin()))
            .retry(RetryPolicy.retries(1))));
    for (int i = 0; i < 4; i++) {
      assertThat(send(proxy, "GET", "/warm").statusCode()).isEqualTo(200);
    }
    failing.resetEach();
    for (int i = 0; i < 2; i++) {
      HttpResponse<String> response = send(proxy, "GET", "/after/" + i);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("live /after/" + i);
    }
  }

  @Test
  void retriesNamedStatusesOnlyForIdempotentMethodsUnlessAllowed() throws Exception {
    Origins failing = ferry.track(new Origins("failing"));
    failing.answer(503, "");
    Upstream pool = Upstream.of(failing.url()).ejectAfter(0, Duration.ofSeconds(1));
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(pool).pathPrefix("/any/").retry(RetryPolicy.retries(1).onStatuses(503).nonIdempotent(true)))
        .route(Route.to(pool).retry(RetryPolicy.retries(1).onStatuses(503))));
    assertThat(send(proxy, "GET", "/x").statusCode()).isEqualTo(503);
    assertThat(failing.requests()).isEqualTo(2);
    assertThat(send(proxy, "POST", "/x").statusCode()).isEqualTo(503);
    assertThat(failing.requests()).isEqualTo(3);
    assertThat(send(proxy, "POST", "/any/x").statusCode()).isEqualTo(503);
    assertThat(failing.requests()).isEqualTo(5);
  }

  /** An origin answering every request 503 with this {@code Retry-After}. */
  private Origins busyOrigin(String retryAfter) throws Exception {
    Origins busy = ferry.track(new Origins("busy"));
    busy.answer(503, "Retry-After: " + retryAfter + "\r\n");
    return busy;
  }

  /** A proxy routing everything to {@code busy} (never ejected) with {@code retry}. */
  private ProxyServer busyProxy(Origins busy, RetryPolicy retry) throws Exception {
    return ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.of(busy.url()).ejectAfter(0, Duration.ofSeconds(1))).retry(retry)));
  }

  @Test
  void honoursRetryAfterOnlyUpToTheCap() throws Exception {
    Origins busy = busyOrigin("30");
    ProxyServer proxy = busyProxy(busy, RetryPolicy.retries(2).onStatuses(503).retryAfterCap(Duration.ofSeconds(1)));
    HttpResponse<String> response = send(proxy, "GET", "/");
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.headers().firstValue("Retry-After")).hasValue("30");
    assertThat(busy.requests()).isEqualTo(1);
  }

  /**
   * Every way of saying "much later" is read as later than the cap (probe g8): delta-seconds
   * that overflow milliseconds (it became negative, or unreadable and 0) and the RFC 850 and
   * asctime dates a recipient must accept (RFC 9110 §5.6.7; only IMF-fixdate was read). Each was
   * retried at once, against the upstream's word.
   */
  @ParameterizedTest
  @ValueSource(strings = {"9223372036854775807", "99999999999999999999",
      "Tuesday, 31-Dec-69 23:59:59 GMT", "Fri Dec 31 23:59:59 2100"})
  void readsEveryFormOfALongRetryAfterAsPastTheCap(String retryAfter) throws Exception {
    Origins busy = busyOrigin(retryAfter);
    ProxyServer proxy = busyProxy(busy, RetryPolicy.retries(2).onStatuses(503).retryAfterCap(Duration.ofSeconds(1)));
    assertThat(send(proxy, "GET", "/").statusCode()).isEqualTo(503);
    assertThat(busy.requests()).isEqualTo(1);
  }

  /** RFC 9110 §10.2.3: a Retry-After that is neither seconds nor a date means nothing; it used to stop the retry. */
  @Test
  void ignoresARetryAfterThatIsNeitherSecondsNorADate() throws Exception {
    Origins busy = busyOrigin("soon");
    ProxyServer proxy = busyProxy(busy, RetryPolicy.retries(1).onStatuses(503));
    assertThat(send(proxy, "GET", "/").statusCode()).isEqualTo(503);
    assertThat(busy.requests()).as("the request and its retry").isEqualTo(2);
  }

  /**
   * A long Retry-After from one endpoint does not stop the retry from going to another. Before,
   * any Retry-After above the cap answered the client with the 503 while a healthy endpoint was
   * there to try.
   */
  @Test
  void retriesAnotherEndpointAtOnceWhateverTheRetryAfter() throws Exception {
    Origins busy = busyOrigin("30");
    Origins idle = ferry.track(new Origins("idle"));
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.pool(busy.url(), idle.url()).ejectAfter(0, Duration.ofSeconds(1)))
            .retry(RetryPolicy.retries(1).onStatuses(503).retryAfterCap(Duration.ofSeconds(1)))));
    for (int i = 0; i < 4; i++) {
      HttpResponse<String> response = send(proxy, "GET", "/" + i);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("idle /" + i);
    }
    assertThat(busy.requests()).isPositive();
  }

  /**
   * A retry's pick leaves the pool's turn alone: an endpoint that fails every request (and is not
   * ejected) gets its share of first attempts, not all of them. Before, the retry took the next
   * request's turn, which went to the failing endpoint again: 59 of 60 first attempts, each paid
   * for with a retry (gateway probe F1).
   */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void leavesTheBalancingTurnToTheNextRequestWhenRetrying(boolean weighted) throws Exception {
    Origins busy = busyOrigin("1");
    Origins idle = ferry.track(new Origins("idle"));
    Origins other = ferry.track(new Origins("other"));
    Upstream pool = Upstream.pool(busy.url(), idle.url(), other.url()).ejectAfter(0, Duration.ofSeconds(1))
        .balance(weighted ? Balancer.weighted() : Balancer.roundRobin());
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(pool).retry(RetryPolicy.retries(1).onStatuses(503))));
    for (int i = 0; i < 12; i++) {
      assertThat(send(proxy, "GET", "/" + i).statusCode()).isEqualTo(200);
    }
    assertThat(busy.requests()).as("first attempts on the failing endpoint, a third of them").isEqualTo(4);
  }

  @Test
  void keepsRetriesWithinTheBudgetWhenTheBackendFails() throws Exception {
    Origins failing = ferry.track(new Origins("failing"));
    failing.answer(503, "");
    failing.delay(300);
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.of(failing.url()).ejectAfter(0, Duration.ofSeconds(1)))
            .retry(RetryPolicy.retries(3).onStatuses(503).budgetPercent(20)
                .backoff(Duration.ofMillis(1), Duration.ofMillis(2)))));
    int clients = 30;
    List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      responses.add(client.sendAsync(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + proxy.port() + "/" + i)).build(), HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> response : responses) {
      assertThat(response.get().statusCode()).isEqualTo(503);
    }
    // Without a budget every request would be tried 4 times: 120 requests.
    assertThat(failing.requests()).isGreaterThan(clients).isLessThanOrEqualTo(clients + 20);
  }
}
