package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.ExchangeListener;
import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #8 item 5: a response a filter drops is closed by the engine, which releases the cache's
 * request-coalescing slot and the upstream connection behind it; read afterwards, it fails.
 */
class BodyReleaseTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @Test
  @Timeout(10)
  void releasesCacheSlotAndConnectionOfAResponseAFilterReplaced() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setHeader("Cache-Control", "max-age=60").setBody("first"));
    origin.enqueue(new MockResponse().setHeader("Cache-Control", "max-age=60").setBody("second"));
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of(origin.url("/").toString()))
        .cache(CacheSpec.inMemory())
        .filter((exchange, chain) -> {
          Response response = chain.proceed(exchange.request());
          if (exchange.request().headers().first("X-Replace").isPresent()) {
            return Response.text(200, "replaced\n");
          }
          return response;
        }));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse replaced = raw.send("GET /page HTTP/1.1\r\nHost: a\r\nX-Replace: 1\r\n\r\n").readResponse();
      assertThat(replaced.bodyText()).isEqualTo("replaced\n");
      // A miss for the same URL is answered at once, not after the coalescing wait.
      RawClient.RawResponse next = raw.send("GET /page HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(next.status()).isEqualTo(200);
      assertThat(next.bodyText()).isEqualTo("second");
    }
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS)).isNotNull();
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS)).isNotNull();
    ferry.assertNoLeaks(proxy);
  }

  /**
   * A request body that fails with an unchecked exception while it goes upstream (a filter's
   * stream, or a body a filter read before proceeding with it) is a 500, and its half-written
   * upstream connection is closed: it was neither closed nor pooled, past the proxy's stop too
   * (probe e24).
   */
  @Test
  @Timeout(20)
  void closesTheUpstreamConnectionOfABodyThatFailsUnchecked() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of(origin.url("/").toString()))
        .filter((exchange, chain) -> {
          if (exchange.request().path().equals("/read-first")) {
            exchange.request().body().bytes(1 << 16);
            return chain.proceed(exchange.request());
          }
          InputStream broken = new InputStream() {
            @Override
            public int read() {
              throw new IllegalStateException("decoder failed");
            }
          };
          return chain.proceed(exchange.request().withBody(Body.of(broken, 5)));
        }));
    for (String path : new String[] {"/read-first", "/broken", "/read-first", "/broken"}) {
      try (RawClient raw = new RawClient(proxy.address())) {
        RawClient.RawResponse response = raw.send("POST " + path
            + " HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello").readResponse();
        assertThat(response.status()).as(path).isEqualTo(500);
      }
    }
    ferry.assertNoLeaks(proxy);
  }

  @Test
  @Timeout(10)
  void readingAnUpstreamBodyTheEngineClosedFailsInsteadOfEndingEarly() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("fifteen bytes!\n"));
    AtomicReference<Response> dropped = new AtomicReference<>();
    CountDownLatch ended = new CountDownLatch(1);
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of(origin.url("/").toString()))
        .listener(new ExchangeListener() {
          @Override
          public void exchangeCompleted(ExchangeSummary summary) {
            ended.countDown();
          }
        })
        .filter((exchange, chain) -> {
          // The misuse: the upstream's response handed on (to another thread, say) and read
          // after the filter answered by itself.
          dropped.set(chain.proceed(exchange.request()));
          return Response.text(200, "answered by the filter\n");
        }));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText())
          .isEqualTo("answered by the filter\n");
    }
    assertThat(ended.await(5, TimeUnit.SECONDS)).isTrue();
    assertThatThrownBy(() -> dropped.get().body().bytes(1000))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("closed before its end");
    ferry.assertNoLeaks(proxy);
  }
}
