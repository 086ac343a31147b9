package dev.ferry.proxy.engine.route;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.Await;
import dev.ferry.proxy.engine.ProxyTestExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Issue #10: a pool over its request limit answers 503 at once, naming the pool. */
class CircuitBreakerTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @Test
  void answers503NamingThePoolPastMaxRequests() throws Exception {
    Origins slow = ferry.track(new Origins("slow"));
    slow.delay(1_000);
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of(slow.url()).name("slow-pool").maxRequests(2)));
    HttpClient client = HttpClient.newHttpClient();
    List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      responses.add(client.sendAsync(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + proxy.port() + "/" + i)).build(), HttpResponse.BodyHandlers.ofString()));
    }
    int ok = 0;
    int refused = 0;
    for (CompletableFuture<HttpResponse<String>> future : responses) {
      HttpResponse<String> response = future.get();
      if (response.statusCode() == 200) {
        ok++;
      } else {
        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.body()).contains("slow-pool");
        assertThat(response.headers().firstValue("Retry-After")).hasValue("1");
        refused++;
      }
    }
    assertThat(ok).isEqualTo(2);
    assertThat(refused).isEqualTo(2);
    assertThat(slow.maxConcurrentRequests()).isLessThanOrEqualTo(2);
    assertThat(proxy.stats().failures()).containsEntry("POOL_OVERLOADED", 2L);
  }

  /**
   * The requests a pool has in flight still count after a reload, by the pool's name: one that
   * leaves it unchanged, and one that swaps its endpoints (blue/green). Before, the counters lived
   * in the pool object a reload rebuilds, and a pool at its limit admitted as many again after any
   * reload; later a version that carried them with the endpoints lost them in a swap (probe e13).
   */
  @ParameterizedTest(name = "endpoints swapped: {0}")
  @ValueSource(booleans = {false, true})
  void keepsCountingRequestsInFlightAcrossAReload(boolean swapEndpoints) throws Exception {
    Origins blue = ferry.track(new Origins("blue"));
    Origins green = ferry.track(new Origins("green"));
    blue.hold();
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of(blue.url()).name("held-pool").maxRequests(2)));
    HttpClient client = HttpClient.newHttpClient();
    List<CompletableFuture<HttpResponse<String>>> first = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      first.add(client.sendAsync(request(proxy, "/first" + i), HttpResponse.BodyHandlers.ofString()));
    }
    Await.until(() -> blue.requestsInFlight() == 2, "two requests at the origin");

    Origins next = swapEndpoints ? green : blue;
    proxy.reconfigure(ferry.config(ProxyServer.builder()
        .upstream(Upstream.of(next.url()).name("held-pool").maxRequests(2))));
    HttpResponse<String> third = client.send(request(proxy, "/third"), HttpResponse.BodyHandlers.ofString());

    assertThat(third.statusCode()).isEqualTo(503);
    assertThat(third.body()).contains("held-pool");
    blue.release();
    for (CompletableFuture<HttpResponse<String>> answer : first) {
      assertThat(answer.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }
    // Released into the counters the new pool uses: it admits again, to the new endpoints.
    HttpResponse<String> after = client.send(request(proxy, "/after"), HttpResponse.BodyHandlers.ofString());
    assertThat(after.statusCode()).isEqualTo(200);
    assertThat(after.body()).startsWith(swapEndpoints ? "green" : "blue");
  }

  /** A reload that lowers a pool's connection limit applies it to the connections already held. */
  @Test
  void appliesALoweredConnectionLimitToConnectionsHeldBeforeTheReload() throws Exception {
    Origins held = ferry.track(new Origins("held"));
    held.hold();
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of(held.url()).name("held-pool").maxConnections(3).maxPendingRequests(0)));
    HttpClient client = HttpClient.newHttpClient();
    List<CompletableFuture<HttpResponse<String>>> first = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      first.add(client.sendAsync(request(proxy, "/first" + i), HttpResponse.BodyHandlers.ofString()));
    }
    Await.until(() -> held.requestsInFlight() == 2, "two requests at the origin");

    proxy.reconfigure(ferry.config(ProxyServer.builder()
        .upstream(Upstream.of(held.url()).name("held-pool").maxConnections(2).maxPendingRequests(0))));
    HttpResponse<String> third = client.send(request(proxy, "/third"), HttpResponse.BodyHandlers.ofString());

    assertThat(third.statusCode()).isEqualTo(503);
    assertThat(third.body()).contains("2 connections busy");
    held.release();
    for (CompletableFuture<HttpResponse<String>> answer : first) {
      assertThat(answer.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }
  }

  private static HttpRequest request(ProxyServer proxy, String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path))
        .timeout(Duration.ofSeconds(10)).build();
  }
}
