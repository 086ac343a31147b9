package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.Upstream;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #8 item 5: a response a filter drops is closed by the engine, which releases the cache's
 * request-coalescing slot and the upstream connection behind it.
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
}
