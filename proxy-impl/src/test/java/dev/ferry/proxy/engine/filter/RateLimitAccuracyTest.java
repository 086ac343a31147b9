package dev.ferry.proxy.engine.filter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Filters;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.Test;

/**
 * Under concurrent load, the requests admitted over a window stay within burst + rate x time,
 * and the rest are told when to come back.
 */
class RateLimitAccuracyTest {

  @Test
  void admitsAtMostBurstPlusRateTimesElapsed() throws Exception {
    double rate = 20;
    int burst = 10;
    try (MockWebServer origin = new MockWebServer()) {
      origin.setDispatcher(new Dispatcher() {
        @Override
        public MockResponse dispatch(RecordedRequest request) {
          return new MockResponse().setBody("ok");
        }
      });
      origin.start();
      try (ProxyServer proxy = ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
          .filter(Filters.rateLimit().perSecond(rate).burst(burst).build()).build().start()) {
        HttpClient client = HttpClient.newHttpClient();
        AtomicInteger admitted = new AtomicInteger();
        AtomicInteger limited = new AtomicInteger();
        List<String> retryAfter = new ArrayList<>();
        long started = System.nanoTime();
        long deadline = started + TimeUnit.MILLISECONDS.toNanos(1500);
        List<CompletableFuture<Void>> workers = new ArrayList<>();
        for (int w = 0; w < 8; w++) {
          workers.add(CompletableFuture.runAsync(() -> {
            while (System.nanoTime() < deadline) {
              HttpResponse<String> response = client.sendAsync(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/r")).build(),
                  HttpResponse.BodyHandlers.ofString()).join();
              if (response.statusCode() == 200) {
                admitted.incrementAndGet();
              } else if (response.statusCode() == 429) {
                limited.incrementAndGet();
                synchronized (retryAfter) {
                  retryAfter.add(response.headers().firstValue("Retry-After").orElse("missing"));
                }
              }
            }
          }));
        }
        CompletableFuture.allOf(workers.toArray(new CompletableFuture[0])).get(30, TimeUnit.SECONDS);
        double elapsedSeconds = (System.nanoTime() - started) / 1e9;
        assertThat(admitted.get()).isLessThanOrEqualTo((int) Math.ceil(burst + rate * elapsedSeconds));
        assertThat(admitted.get()).isGreaterThanOrEqualTo(burst);
        assertThat(limited.get()).isPositive();
        assertThat(retryAfter).allMatch(value -> value.equals("1"));
        assertThat(origin.getRequestCount()).isEqualTo(admitted.get());
      }
    }
  }
}
