package dev.ferry.proxy.engine.route;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.ProxyTestExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

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
        refused++;
      }
    }
    assertThat(ok).isEqualTo(2);
    assertThat(refused).isEqualTo(2);
    assertThat(slow.maxConcurrentRequests()).isLessThanOrEqualTo(2);
    assertThat(proxy.stats().failures()).containsEntry("POOL_OVERLOADED", 2L);
  }
}
