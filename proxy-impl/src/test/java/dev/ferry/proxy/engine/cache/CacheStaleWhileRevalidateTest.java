package dev.ferry.proxy.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.Filters;
import dev.ferry.proxy.engine.Await;
import dev.ferry.proxy.engine.ProxyTestExtension;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** RFC 5861 §3: serve stale at once, refresh in the background, leave no thread behind. */
class CacheStaleWhileRevalidateTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @Test
  void servesStaleNowAndRefreshesInTheBackground() throws Exception {
    int port;
    CacheHarness h = new CacheHarness(ferry);
    port = h.proxy.port();
    h.origin.enqueue(h.response("v1").setHeader("Cache-Control", "max-age=10, stale-while-revalidate=60")
        .setHeader("ETag", "\"1\""));
    h.origin.enqueue(h.response("v2").setHeader("Cache-Control", "max-age=100").setHeader("ETag", "\"2\"")
        .setHeadersDelay(200, TimeUnit.MILLISECONDS));
    h.get("/swr");
    h.advance(Duration.ofSeconds(30));
    HttpResponse<String> stale = h.get("/swr");
    assertThat(stale.body()).isEqualTo("v1");
    assertThat(stale.headers().firstValue("X-Cache")).hasValue("STALE");
    h.origin.takeRequest();
    assertThat(h.origin.takeRequest(10, TimeUnit.SECONDS).getHeader("If-None-Match")).isEqualTo("\"1\"");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    HttpResponse<String> refreshed = h.get("/swr");
    while (!refreshed.body().equals("v2") && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      refreshed = h.get("/swr", "Cache-Control", "only-if-cached");
    }
    assertThat(refreshed.body()).isEqualTo("v2");
    assertThat(h.origin.getRequestCount()).isEqualTo(2);
    // The refresh stores v2 and only then ends its thread: wait for that, do not race it.
    Await.until(() -> Thread.getAllStackTraces().keySet().stream().noneMatch(
        thread -> thread.getName().startsWith("ferry-cache-refresh-" + port + "-")),
        "the background refresh's thread to end");
  }

  /**
   * Many stale URLs behind a slow upstream: each is served stale at once, and no more than
   * {@link BackgroundRefresh#MAX_RUNNING} refreshes run at a time. Before, each URL started a
   * thread of its own and an upstream request, without bound (300 URLs: 300 threads).
   */
  @Test
  void runsAtMostMaxRunningRefreshesAtOnce() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicInteger refreshing = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger mostAtOnce = new java.util.concurrent.atomic.AtomicInteger();
    h.origin.setDispatcher(new okhttp3.mockwebserver.Dispatcher() {
      @Override
      public okhttp3.mockwebserver.MockResponse dispatch(RecordedRequest request) throws InterruptedException {
        if (request.getHeader("If-None-Match") != null) {
          mostAtOnce.accumulateAndGet(refreshing.incrementAndGet(), Math::max);
          try {
            release.await(20, TimeUnit.SECONDS);
          } finally {
            refreshing.decrementAndGet();
          }
        }
        return h.response("v1").setHeader("Cache-Control", "max-age=10, stale-while-revalidate=600")
            .setHeader("ETag", "\"1\"");
      }
    });
    int urls = BackgroundRefresh.MAX_RUNNING + 8;
    for (int i = 0; i < urls; i++) {
      h.get("/many/" + i);
    }
    h.advance(Duration.ofSeconds(30));
    try {
      for (int i = 0; i < urls; i++) {
        HttpResponse<String> stale = h.get("/many/" + i);
        assertThat(stale.headers().firstValue("X-Cache")).hasValue("STALE");
      }
      Await.until(() -> refreshing.get() == BackgroundRefresh.MAX_RUNNING, "the refreshes to reach the origin");
      assertThat(mostAtOnce.get()).isEqualTo(BackgroundRefresh.MAX_RUNNING);
    } finally {
      release.countDown();
    }
    Await.until(() -> refreshing.get() == 0, "the held refreshes to end");
  }

  /** A refresh keeps the Host a filter chose, as the request it stands for did. */
  @Test
  void refreshesWithTheHostAFilterRewrote() throws Exception {
    CacheHarness h = new CacheHarness(ferry, CacheSpec.inMemory(), Filters.rewriteHost("backend.internal:8080"));
    h.origin.enqueue(h.response("v1").setHeader("Cache-Control", "max-age=10, stale-while-revalidate=60"));
    h.origin.enqueue(h.response("v2").setHeader("Cache-Control", "max-age=100"));
    h.get("/host");
    h.advance(Duration.ofSeconds(30));
    assertThat(h.get("/host").body()).isEqualTo("v1");
    assertThat(h.origin.takeRequest().getHeader("Host")).isEqualTo("backend.internal:8080");
    RecordedRequest refresh = h.origin.takeRequest(10, TimeUnit.SECONDS);
    assertThat(refresh.getHeader("Host")).isEqualTo("backend.internal:8080");
    assertThat(refresh.getHeader("X-Forwarded-Host")).isEqualTo("127.0.0.1:" + h.proxy.port());
  }

  @Test
  void revalidatesInTheForegroundPastTheWindow() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(h.response("v1").setHeader("Cache-Control", "max-age=10, stale-while-revalidate=5"));
    h.origin.enqueue(h.response("v2").setHeader("Cache-Control", "max-age=10"));
    h.get("/late");
    h.advance(Duration.ofSeconds(60));
    assertThat(h.get("/late").body()).isEqualTo("v2");
  }

  /** Pragma: no-cache, without Cache-Control, asks what Cache-Control: no-cache asks (RFC 9111 §5.4). */
  @Test
  void revalidatesInTheForegroundUnderPragmaNoCache() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(h.response("v1").setHeader("Cache-Control", "max-age=10, stale-while-revalidate=60"));
    h.origin.enqueue(h.response("v2").setHeader("Cache-Control", "max-age=10"));
    h.get("/pragma");
    h.advance(Duration.ofSeconds(30));
    HttpResponse<String> answer = h.get("/pragma", "Pragma", "no-cache");
    assertThat(answer.body()).isEqualTo("v2");
    assertThat(answer.headers().firstValue("X-Cache")).hasValue("MISS");
  }

  /** s-maxage implies proxy-revalidate (RFC 9111 §5.2.2.10): no stale answer while it refreshes. */
  @Test
  void revalidatesInTheForegroundUnderSMaxage() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(h.response("v1").setHeader("Cache-Control", "s-maxage=10, stale-while-revalidate=600"));
    h.origin.enqueue(h.response("v2").setHeader("Cache-Control", "s-maxage=10"));
    h.get("/shared");
    h.advance(Duration.ofSeconds(20));
    assertThat(h.get("/shared").body()).isEqualTo("v2");
  }
}
