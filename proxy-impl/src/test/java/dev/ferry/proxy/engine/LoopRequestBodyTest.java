package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Requests with a small body that came whole with the head (a POST, PUT or PATCH with a
 * {@code Content-Length} of up to 16 KiB) on the event loops, shown there by the proxy's one
 * thread being held (a thread's request would be refused 503: no thread, no queue), and such
 * bodies still arriving, awaited there; and what stays with the threads: larger ones, chunked
 * ones, unsafe methods where the cache is on.
 */
@DisabledIfSystemProperty(named = "ferry.test.eventLoop", matches = "false",
    disabledReason = "these tests are of the event loops, which -Dferry.test.eventLoop=false turns off")
class LoopRequestBodyTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  private static ProxyServer.Builder oneThread() {
    return ProxyServer.builder().concurrency(Concurrency.boundedPool(1, 0));
  }

  /**
   * A POST, a PUT and a PATCH with bodies, an empty POST and one without a length reach the origin
   * from the loop with their bodies and lengths; a GET pipelined behind a POST is answered after
   * it, in order.
   */
  @Test
  void sendsSmallBodiesFromTheLoopWhileEveryThreadIsBusy() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread().upstream(Upstream.of(origin.origin().url("/"))));
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 1);
      String body = "x".repeat(10_000);
      for (String method : new String[] {"POST", "PUT", "PATCH"}) {
        RawClient.RawResponse response = raw.send(method + " /b HTTP/1.1\r\nHost: a\r\nContent-Length: "
            + body.length() + "\r\n\r\n" + body).readResponse();
        assertThat(response.status()).as(method).isEqualTo(200);
      }
      assertThat(raw.send("POST /empty HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").readResponse().status())
          .isEqualTo(200);
      assertThat(raw.send("POST /none HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      raw.send("POST /first HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /second HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(raw.readResponse().status()).isEqualTo(200);
      assertThat(raw.readResponse().status()).isEqualTo(200);
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    origin.origin().takeRequest(); // the held POST
    for (String method : new String[] {"POST", "PUT", "PATCH"}) {
      TinyOrigin.Received received = origin.origin().takeRequest();
      assertThat(received.requestLine()).isEqualTo(method + " /b HTTP/1.1");
      assertThat(received.header("content-length")).isEqualTo("10000");
      assertThat(new String(received.body(), StandardCharsets.ISO_8859_1)).isEqualTo("x".repeat(10_000));
    }
    assertThat(origin.origin().takeRequest().header("content-length")).isEqualTo("0");
    assertThat(origin.origin().takeRequest().header("content-length")).isEqualTo("0");
    TinyOrigin.Received first = origin.origin().takeRequest();
    assertThat(new String(first.body(), StandardCharsets.ISO_8859_1)).isEqualTo("hello");
    assertThat(origin.origin().takeRequest().requestLine()).isEqualTo("GET /second HTTP/1.1");
  }

  /**
   * A small body still arriving when its head is read (one larger than a network segment) is
   * awaited on the loop, as a head in pieces is, and sent from there whole while the one thread
   * is held.
   */
  @Test
  void awaitsASmallBodyStillArrivingOnTheLoop() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread().upstream(Upstream.of(origin.origin().url("/"))));
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 1);
      String body = "b".repeat(6000);
      raw.send("POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: " + body.length() + "\r\n\r\n"
          + body.substring(0, 1400));
      Thread.sleep(100); // the input's shape: the rest of the body comes later
      raw.send(body.substring(1400));
      assertThat(raw.readResponse().bodyText()).isEqualTo("ok");
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    origin.origin().takeRequest(); // the held POST
    assertThat(new String(origin.origin().takeRequest().body(), StandardCharsets.ISO_8859_1)).isEqualTo("b".repeat(6000));
  }

  /**
   * A small body that stops coming is answered 408 at the idle timeout after its last bytes, by
   * the threads as before, none of it sent upstream; the next client is served.
   */
  @Test
  void answers408ToASmallBodyThatStopsComing() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.origin().url("/")))
        .idleTimeout(java.time.Duration.ofMillis(400)));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("POST /stalled HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello");
      assertThat(raw.readResponse().status()).isEqualTo(408);
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
    }
    assertThat(origin.requests().get()).isEqualTo(1);
    assertThat(proxy.stats().failures()).containsKey("REQUEST_TIMEOUT");
  }

  /**
   * With the one thread held, a body over 16 KiB, a chunked one, and a POST on a caching route
   * (whose cache invalidates what it names) wait for a thread: refused 503, none sent.
   */
  @Test
  void leavesLargeChunkedAndCachedRouteBodiesToTheThreads() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread().upstream(Upstream.of(origin.origin().url("/"))));
    try (RawClient held = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 1);
      String large = "y".repeat(20_000);
      try (RawClient raw = new RawClient(proxy.address())) {
        assertThat(raw.send("POST /large HTTP/1.1\r\nHost: a\r\nContent-Length: " + large.length() + "\r\n\r\n"
            + large).readResponse().status()).isEqualTo(503);
      }
      try (RawClient raw = new RawClient(proxy.address())) {
        assertThat(raw.send("POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n")
            .readResponse().status()).isEqualTo(503);
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    HoldingOrigin cachedOrigin = HoldingOrigin.answeringOk(ferry);
    ProxyServer caching = ferry.start(oneThread().upstream(Upstream.of(cachedOrigin.origin().url("/")))
        .cache(CacheSpec.inMemory()));
    try (RawClient held = new RawClient(caching.address())) {
      HoldingOrigin.hold(held, "/hold", cachedOrigin.requests(), 1);
      try (RawClient raw = new RawClient(caching.address())) {
        assertThat(raw.send("POST /cached HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nc").readResponse().status())
            .isEqualTo(503);
      }
      assertThat(cachedOrigin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(origin.requests().get()).isEqualTo(1);
    assertThat(cachedOrigin.requests().get()).isEqualTo(1);
  }

  /**
   * A POST that meets an upstream connection closed under it, before any answer, is not sent
   * again (the upstream may have acted on it): 502, the origin having had it once; a GET in its
   * place goes again on a new connection, as on the threads.
   */
  @Test
  void neverResendsAPostWhoseKeptConnectionClosed() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger requests = new AtomicInteger();
    AtomicInteger posts = new AtomicInteger();
    TinyOrigin[] self = new TinyOrigin[1];
    // Answers each connection's first request (a held POST once released); closes at its second.
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      TinyOrigin.Received request = self[0].readRequest(in);
      if (request == null) {
        return;
      }
      requests.incrementAndGet();
      if (request.requestLine().startsWith("POST /hold ")) {
        try {
          release.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          return;
        }
      }
      out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      TinyOrigin.Received second = self[0].readRequest(in);
      if (second != null && second.requestLine().startsWith("POST")) {
        posts.incrementAndGet();
      }
    }));
    ProxyServer proxy = ferry.start(oneThread().upstream(Upstream.of(self[0].url("/"))));
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", requests, 1);
      assertThat(raw.send("GET /warm HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      assertThat(raw.send("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\np").readResponse().status())
          .isEqualTo(502);
      assertThat(posts.get()).isEqualTo(1);
      assertThat(raw.send("GET /warm-again HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      assertThat(raw.send("GET /g HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      release.countDown();
      assertThat(held.readResponse().bodyText()).isEqualTo("ok");
    }
  }

  /** A forward proxy's POST to an {@code http} URL goes from the loop with its body. */
  @Test
  void forwardsASmallPostFromTheLoop() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread());
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, origin.origin().url("/hold"), origin.requests(), 1);
      assertThat(raw.send("POST " + origin.origin().url("/f") + " HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody")
          .readResponse().bodyText()).isEqualTo("ok");
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    origin.origin().takeRequest();
    TinyOrigin.Received posted = origin.origin().takeRequest();
    assertThat(posted.requestLine()).isEqualTo("POST /f HTTP/1.1");
    assertThat(new String(posted.body(), StandardCharsets.ISO_8859_1)).isEqualTo("body");
  }

  /**
   * A GET or HEAD with {@code Content-Length: 0}, as Java 17's {@code HttpClient} sends every
   * GET, is a request without a body: served on the loop while the one thread is held (it was
   * handed to the threads, so every request of a Java 17 client took a thread), and sent
   * upstream without the field, as the threads send it. A GET with a body stays the threads'.
   */
  @Test
  void servesAGetWithAnEmptyContentLengthOnTheLoop() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread().upstream(Upstream.of(origin.origin().url("/"))));
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 1);
      assertThat(raw.send("GET /empty HTTP/1.1\r\nContent-Length: 0\r\nHost: a\r\n"
          + "User-Agent: Java-http-client/17\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
      assertThat(raw.send("HEAD /empty HTTP/1.1\r\nContent-Length: 0\r\nHost: a\r\n\r\n").readResponse(true).status())
          .isEqualTo(200);
      try (RawClient other = new RawClient(proxy.address())) {
        assertThat(other.send("GET /body HTTP/1.1\r\nContent-Length: 2\r\nHost: a\r\n\r\nhi").readResponse().status())
            .isEqualTo(503);
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    origin.origin().takeRequest(); // the held one
    TinyOrigin.Received get = origin.origin().takeRequest();
    assertThat(get.requestLine()).isEqualTo("GET /empty HTTP/1.1");
    assertThat(get.header("content-length")).isNull();
    assertThat(origin.origin().takeRequest().requestLine()).isEqualTo("HEAD /empty HTTP/1.1");
  }
}
