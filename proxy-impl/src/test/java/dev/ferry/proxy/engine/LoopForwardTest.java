package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.Exchange;
import dev.ferry.proxy.ExchangeListener;
import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.ProxyServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A forward proxy's requests on the event loops (on by default): GETs and HEADs to absolute
 * {@code http} URLs go to their origins from the loops, answered there while the proxy's one
 * thread is held by a POST (which the threads serve); what the loops leave to the threads
 * ({@code https} targets, the proxy's own paths) waits for that thread.
 */
@DisabledIfSystemProperty(named = "ferry.test.eventLoop", matches = "false",
    disabledReason = "these tests are of the event loops, which -Dferry.test.eventLoop=false turns off")
class LoopForwardTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  /** A forward proxy whose concurrency model has one thread and no queue. */
  private static ProxyServer.Builder oneThread() {
    return ProxyServer.builder().concurrency(Concurrency.boundedPool(1, 0));
  }

  /** Takes the proxy's one thread with a POST through it to {@code origin}, held there. */
  private static RawClient held(ProxyServer proxy, HoldingOrigin origin, int nth) throws Exception {
    RawClient held = new RawClient(proxy.address());
    HoldingOrigin.hold(held, origin.origin().url("/hold"), origin.requests(), nth);
    return held;
  }

  private static RawClient.RawResponse get(RawClient raw, String url) throws Exception {
    return raw.send("GET " + url + " HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
  }

  /**
   * GETs and a HEAD to an origin by address, answered while the one thread is held: the origin
   * gets them in origin-form, with the URL's authority as Host and the proxy's Via, and no
   * reverse proxy's forwarding fields; the client gets the answer with Via, over one connection.
   */
  @Test
  void forwardsGetsOnTheLoopsWhileEveryThreadIsBusy() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread());
    assertThat(proxy.config().eventLoop()).isTrue();
    try (RawClient held = held(proxy, origin, 1); RawClient raw = new RawClient(proxy.address())) {
      for (int i = 0; i < 3; i++) {
        RawClient.RawResponse response = get(raw, origin.origin().url("/g" + i + "?q=" + i));
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.bodyText()).isEqualTo("ok");
        assertThat(response.header("via")).isEqualTo("1.1 ferry");
      }
      RawClient.RawResponse head = raw.send("HEAD " + origin.origin().url("/h")
          + " HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(true);
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("content-length")).isEqualTo("2");
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(origin.origin().takeRequest().requestLine()).isEqualTo("POST /hold HTTP/1.1");
    TinyOrigin.Received first = origin.origin().takeRequest();
    assertThat(first.requestLine()).isEqualTo("GET /g0?q=0 HTTP/1.1");
    assertThat(first.header("host")).isEqualTo("127.0.0.1:" + origin.origin().port());
    assertThat(first.header("via")).isEqualTo("1.1 ferry");
    assertThat(first.header("x-forwarded-for")).isNull();
    assertThat(first.header("forwarded")).isNull();
    assertThat(origin.origin().takeRequest().requestLine()).isEqualTo("GET /g1?q=1 HTTP/1.1");
    assertThat(origin.origin().takeRequest().requestLine()).isEqualTo("GET /g2?q=2 HTTP/1.1");
    assertThat(origin.origin().takeRequest().requestLine()).isEqualTo("HEAD /h HTTP/1.1");
    // The held POST's connection, and one the loop kept for all four.
    assertThat(origin.origin().connectionCount()).isEqualTo(2);
  }

  /**
   * An origin named by a host name is looked up off the loop and served there; one whose name
   * does not resolve is answered 502, and the client's connection goes on.
   */
  @Test
  void looksUpOriginNamesOffTheLoops() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread());
    try (RawClient held = held(proxy, origin, 1); RawClient raw = new RawClient(proxy.address())) {
      for (int i = 0; i < 2; i++) {
        RawClient.RawResponse named = get(raw, "http://localhost:" + origin.origin().port() + "/n" + i);
        assertThat(named.status()).isEqualTo(200);
        assertThat(named.bodyText()).isEqualTo("ok");
        RawClient.RawResponse unknown = get(raw, "http://no-such-host.invalid/x");
        assertThat(unknown.status()).isEqualTo(502);
        assertThat(unknown.bodyText()).contains("no-such-host.invalid (unknown host)");
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(proxy.stats().failures()).containsEntry("UPSTREAM_UNREACHABLE", 2L);
  }

  /**
   * A request back to the proxy's own listener, by a name that resolves to it, is refused 403 on
   * the loop (a request loop, as the threads refuse it), never sent round again.
   */
  @Test
  void refusesARequestBackToTheProxyItself() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread());
    try (RawClient held = held(proxy, origin, 1); RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse looped = get(raw, "http://localhost:" + proxy.address().getPort() + "/again");
      assertThat(looped.status()).isEqualTo(403);
      assertThat(looped.bodyText()).contains("loop");
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(proxy.stats().failures()).containsEntry("DENIED", 1L);
    assertThat(origin.requests().get()).isEqualTo(1);
  }

  /**
   * An origin that refuses connections is answered 502 on the loop while the one thread is held;
   * the next request on the connection is served.
   */
  @Test
  void answers502ForARefusingOriginAndKeepsTheConnection() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    RefusingPort refusing = ferry.track(new RefusingPort());
    ProxyServer proxy = ferry.start(oneThread());
    try (RawClient held = held(proxy, origin, 1); RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse refused = get(raw, refusing.url("/r"));
      assertThat(refused.status()).isEqualTo(502);
      assertThat(refused.header("x-request-id")).isNotBlank();
      // Word for word the threads' answer: the authority no address of which took the connection.
      assertThat(refused.bodyText()).isEqualTo("Could not connect to origin server: 127.0.0.1:" + refusing.port() + "\n");
      assertThat(get(raw, origin.origin().url("/after")).bodyText()).isEqualTo("ok");
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(proxy.stats().failures()).containsEntry("UPSTREAM_UNREACHABLE", 1L);
  }

  /**
   * An origin that accepts but never answers is answered 504 at the upstream timeout, naming its
   * host as the threads do (a held thread would time out too: none is held); the next request on
   * the connection is served.
   */
  @Test
  void answers504ForASilentOriginAndKeepsTheConnection() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    CountDownLatch silence = new CountDownLatch(1);
    TinyOrigin silent = ferry.track(new TinyOrigin((socket, in, out) -> {
      try {
        silence.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        // closes
      }
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstreamTimeout(Duration.ofMillis(300)));
    try (RawClient raw = new RawClient(proxy.address())) {
      // The host as the threads name it: normalised (RFC 3986 §3.2.2: case-insensitive).
      RawClient.RawResponse timedOut = get(raw, "http://LocalHost:" + silent.port() + "/s");
      assertThat(timedOut.status()).isEqualTo(504);
      assertThat(timedOut.bodyText()).contains("no response from localhost");
      assertThat(get(raw, origin.origin().url("/after")).bodyText()).isEqualTo("ok");
    } finally {
      silence.countDown();
    }
    assertThat(proxy.stats().failures()).containsEntry("UPSTREAM_TIMEOUT", 1L);
  }

  /**
   * An origin that closes its connection after each answer without saying so: the connection
   * the loop kept is found closed before the next request goes out, which goes on a new one.
   */
  @Test
  void opensANewConnectionWhereTheOriginClosedTheKeptOne() throws Exception {
    TinyOrigin closing = ferry.track(TinyOrigin.answeringThenClosing(
        "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nonce"));
    ProxyServer proxy = ferry.start(ProxyServer.builder());
    try (RawClient raw = new RawClient(proxy.address())) {
      for (int i = 0; i < 3; i++) {
        assertThat(get(raw, closing.url("/c" + i)).bodyText()).isEqualTo("once");
        int connections = i + 1;
        Await.until(() -> closing.connectionCount() == connections, "the origin's connection " + connections);
      }
    }
    assertThat(proxy.stats().failures()).isEmpty();
  }

  /**
   * A forward proxy with the cache: the miss is fetched and stored by the threads, the hit (and
   * a HEAD of it) sent by the loop while the one thread is held.
   */
  @Test
  void answersCacheHitsOfAForwardProxyOnTheLoops() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger requests = new AtomicInteger();
    TinyOrigin origin = HoldingOrigin.start(ferry, release, requests, "Cache-Control: max-age=600\r\n",
        line -> "stored".getBytes(StandardCharsets.ISO_8859_1));
    ProxyServer proxy = ferry.start(oneThread().cache(CacheSpec.inMemory()));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(get(raw, origin.url("/page")).header("x-cache")).isEqualTo("MISS");
    }
    Await.until(() -> proxy.stats().activeConnections() == 0 && proxy.stats().activeWorkers() == 0,
        "the priming connection's thread to be free");
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, origin.url("/hold"), requests, 2);
      RawClient.RawResponse hit = get(raw, origin.url("/page"));
      assertThat(hit.header("x-cache")).isEqualTo("HIT");
      assertThat(hit.bodyText()).isEqualTo("stored");
      RawClient.RawResponse head = raw.send("HEAD " + origin.url("/page")
          + " HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(true);
      assertThat(head.header("x-cache")).isEqualTo("HIT");
      assertThat(head.header("content-length")).isEqualTo("6");
      release.countDown();
      assertThat(held.readResponse().bodyText()).isEqualTo("stored");
    }
    assertThat(requests.get()).isEqualTo(2);
    assertThat(proxy.cache().orElseThrow().stats().hits()).isEqualTo(2);
  }

  /**
   * What the loops leave to the threads waits for a thread: with the one thread held and no
   * queue, an {@code https} URL (TLS to the origin) and the proxy's own {@code /_stats} are
   * refused 503 for want of one, where a loop would have answered.
   */
  @Test
  void leavesHttpsTargetsAndTheProxysOwnPathsToTheThreads() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread());
    try (RawClient held = held(proxy, origin, 1)) {
      for (String target : new String[] {"https://127.0.0.1:1/x", "/_stats"}) {
        try (RawClient raw = new RawClient(proxy.address())) {
          assertThat(get(raw, target).status()).as(target).isEqualTo(503);
        }
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
  }

  /**
   * A listener that wants more than the completed exchange (the testkit's recorder) keeps every
   * request on the threads for the proxy's life: no loop, no lookup thread is started for it; one
   * that wants only completions leaves them running.
   */
  @Test
  void startsNoLoopsWhereListenersWantMoreThanCompletions() {
    ExchangeListener started = new ExchangeListener() {
      @Override
      public void exchangeStarted(Exchange exchange) {}
    };
    RealProxyServer recording = (RealProxyServer) ferry.start(ProxyServer.builder().listener(started));
    assertThat(recording.config().eventLoop()).isTrue();
    assertThat(recording.eventLoops()).isNull();
    assertThat(Thread.getAllStackTraces().keySet()).noneMatch(thread ->
        thread.getName().startsWith("ferry-loop-" + recording.port() + "-"));
    ExchangeListener completions = new ExchangeListener() {
      @Override
      public void exchangeCompleted(ExchangeSummary summary) {}
    };
    RealProxyServer counting = (RealProxyServer) ferry.start(ProxyServer.builder().listener(completions));
    assertThat(counting.eventLoops()).hasSize(Runtime.getRuntime().availableProcessors());
  }
}
