package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Which request methods the event loops serve themselves, shown there by the proxy's one thread
 * being held (a thread's request is refused 503: no thread, no queue), and what an unsafe
 * method served on a loop does to the cache.
 */
@DisabledIfSystemProperty(named = "ferry.test.eventLoop", matches = "false",
    disabledReason = "these tests are of the event loops, which -Dferry.test.eventLoop=false turns off")
class LoopMethodsTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  /**
   * A DELETE and an OPTIONS without a body (a CORS preflight) are the loop's, as a GET is, and
   * reach the origin without a {@code Content-Length}; what may make the proxy answer itself or
   * change the target (an OPTIONS of {@code *}, or with {@code Max-Forwards}) and a DELETE
   * with a body (whose connection upstream cannot be kept) wait for a thread.
   */
  @Test
  void servesBodilessDeleteAndOptionsOnTheLoop() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.origin().url("/")))
        .concurrency(Concurrency.boundedPool(1, 0)));
    try (RawClient held = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 1);
      try (RawClient raw = new RawClient(proxy.address())) {
        assertThat(raw.send("DELETE /items/1 HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
        assertThat(raw.send("DELETE /items/2 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").readResponse()
            .status()).isEqualTo(200);
        assertThat(raw.send("OPTIONS /items HTTP/1.1\r\nHost: a\r\nOrigin: http://app.test\r\n"
            + "Access-Control-Request-Method: PUT\r\n\r\n").readResponse().status()).isEqualTo(200);
      }
      for (String handedOver : new String[] {"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
          "OPTIONS /items HTTP/1.1\r\nHost: a\r\nMax-Forwards: 0\r\n\r\n",
          "DELETE /items/3 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"}) {
        try (RawClient raw = new RawClient(proxy.address())) {
          assertThat(raw.send(handedOver).readResponse().status()).as(handedOver).isEqualTo(503);
        }
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    origin.origin().takeRequest(); // the held POST
    for (String line : new String[] {"DELETE /items/1 HTTP/1.1", "DELETE /items/2 HTTP/1.1", "OPTIONS /items HTTP/1.1"}) {
      TinyOrigin.Received received = origin.origin().takeRequest();
      assertThat(received.requestLine()).isEqualTo(line);
      assertThat(received.header("content-length")).as(line).isNull();
    }
    assertThat(origin.requests().get()).isEqualTo(4);
  }

  /**
   * RFC 9111 §4.4: a successful POST or DELETE invalidates what the cache holds for its URL, also
   * when its route does not cache (a route that does may serve that URL), on the loops as on the
   * threads. A loop once served such a POST without telling the cache, whose stale copy then
   * answered the next GET.
   */
  @Test
  void invalidatesWhatAnUnsafeRequestOnARouteWithoutTheCacheNames() throws Exception {
    for (boolean loops : new boolean[] {true, false}) {
      AtomicInteger requests = new AtomicInteger();
      TinyOrigin origin = HoldingOrigin.start(ferry, new CountDownLatch(0), requests,
          "Cache-Control: max-age=600\r\n", line -> ("n" + requests.get()).getBytes());
      Upstream upstream = Upstream.of(origin.url("/"));
      ProxyServer proxy = ferry.start(ProxyServer.builder().eventLoop(loops).cache(CacheSpec.inMemory())
          .route(Route.to(upstream).path("/items").method("POST", "DELETE").cache(false))
          .upstream(upstream));
      try (RawClient raw = new RawClient(proxy.address())) {
        String get = "GET /items HTTP/1.1\r\nHost: a\r\n\r\n";
        assertThat(raw.send(get).readResponse().bodyText()).isEqualTo("n1");
        assertThat(raw.send(get).readResponse().header("x-cache")).as("loops: %s", loops).isEqualTo("HIT");
        assertThat(raw.send("POST /items HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx").readResponse()
            .status()).isEqualTo(200);
        RawClient.RawResponse afterPost = raw.send(get).readResponse();
        assertThat(afterPost.header("x-cache")).as("loops: %s", loops).isEqualTo("MISS");
        assertThat(afterPost.bodyText()).isEqualTo("n3");
        assertThat(raw.send("DELETE /items HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
        assertThat(raw.send(get).readResponse().bodyText()).as("loops: %s", loops).isEqualTo("n5");
      }
      assertThat(requests.get()).isEqualTo(5);
    }
  }
}
