package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ExchangeListener;
import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.Filters;
import dev.ferry.proxy.ProxyServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A forward proxy's built-in credentials check, rate limit, access rules on clients and methods
 * and header rewrites on the event loops, shown there by the proxy's one thread being held (a
 * thread's request is refused 503: no thread, no queue): what they pass goes to its origin from
 * the loop, what they refuse is answered there (407, 429, 403); access rules on destinations are
 * checked there too, on every address a name has, where the loop connects.
 */
@DisabledIfSystemProperty(named = "ferry.test.eventLoop", matches = "false",
    disabledReason = "these tests are of the event loops, which -Dferry.test.eventLoop=false turns off")
class LoopForwardFiltersTest {
  private static final String ALICE = "Proxy-Authorization: Basic "
      + Base64.getEncoder().encodeToString("alice:s3cret".getBytes()) + "\r\n";

  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  private static ProxyServer.Builder oneThread() {
    return ProxyServer.builder().concurrency(Concurrency.boundedPool(1, 0));
  }

  private static String get(String url, String fields) {
    return "GET " + url + " HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n";
  }

  /**
   * With proxy credentials, a rate limit, client and method rules and a request header rewrite,
   * GETs with the credentials go to the origin from the loop without them (they are for this
   * hop), rewritten; one without credentials is answered 407 with the challenge, a denied method
   * 403, and the request past the burst 429 (the 407's request took a token, the rate limit
   * coming before the credentials check; the 403's none, refused before it), all while the one
   * thread is held, the connection kept throughout.
   */
  @Test
  void servesAndRefusesOnTheLoopsThroughAForwardProxysFilters() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread()
        .filter(Filters.accessControl().denyMethods("PATCH").allowClients("127.0.0.0/8", "::1/128").build())
        .filter(Filters.rateLimit().perSecond(0.001).burst(5).build())
        .filter(Filters.proxyAuthentication().credentials(Map.of("alice", "s3cret")).build())
        .filter(Filters.setRequestHeader("X-Env", "test")));
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, origin.origin().url("/hold"), ALICE, origin.requests(), 1);
      for (int i = 0; i < 2; i++) {
        assertThat(raw.send(get(origin.origin().url("/passed"), ALICE)).readResponse().bodyText()).isEqualTo("ok");
      }
      RawClient.RawResponse anonymous = raw.send(get(origin.origin().url("/anonymous"), "")).readResponse();
      assertThat(anonymous.status()).isEqualTo(407);
      assertThat(anonymous.header("proxy-authenticate")).startsWith("Basic realm=");
      RawClient.RawResponse denied = raw.send("PATCH " + origin.origin().url("/denied") + " HTTP/1.1\r\nHost: a\r\n"
          + ALICE + "Content-Length: 1\r\n\r\nx").readResponse();
      assertThat(denied.status()).isEqualTo(403);
      assertThat(raw.send(get(origin.origin().url("/passed"), ALICE)).readResponse().bodyText()).isEqualTo("ok");
      RawClient.RawResponse limited = raw.send(get(origin.origin().url("/limited"), ALICE)).readResponse();
      assertThat(limited.status()).as("the held POST, three GETs and the 407 spent the burst of five; the 403, refused first, none").isEqualTo(429);
      assertThat(limited.header("retry-after")).isNotNull();
      assertThat(origin.requests().get()).as("requests the origin got while the thread was held").isEqualTo(4);
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    origin.origin().takeRequest(); // the held POST
    for (int i = 0; i < 3; i++) {
      TinyOrigin.Received passed = origin.origin().takeRequest();
      assertThat(passed.requestLine()).isEqualTo("GET /passed HTTP/1.1");
      assertThat(passed.header("proxy-authorization")).isNull();
      assertThat(passed.header("x-env")).isEqualTo("test");
    }
    assertThat(proxy.stats().failures()).containsEntry("PROXY_AUTHENTICATION_REQUIRED", 1L)
        .containsEntry("DENIED", 1L).containsEntry("RATE_LIMITED", 1L);
  }

  /**
   * A forward proxy's cache hits go through its filters on the loop: with the one thread held, a
   * GET with the credentials is answered from the store, a response header rewrite on it; one
   * without them is answered 407, not from the store.
   */
  @Test
  void answersCacheHitsThroughAForwardProxysFilters() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger requests = new AtomicInteger();
    TinyOrigin origin = HoldingOrigin.start(ferry, release, requests, "Cache-Control: max-age=600\r\n",
        line -> "stored".getBytes(StandardCharsets.ISO_8859_1));
    ProxyServer proxy = ferry.start(oneThread().cache(CacheSpec.inMemory())
        .filter(Filters.setResponseHeader("X-Tier", "edge"))
        .filter(Filters.proxyAuthentication().credentials(Map.of("alice", "s3cret")).build()));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send(get(origin.url("/page"), ALICE)).readResponse().header("x-cache")).isEqualTo("MISS");
    }
    Await.until(() -> proxy.stats().activeConnections() == 0 && proxy.stats().activeWorkers() == 0,
        "the priming connection's thread to be free");
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, origin.url("/hold"), ALICE, requests, 2);
      RawClient.RawResponse hit = raw.send(get(origin.url("/page"), ALICE)).readResponse();
      assertThat(hit.header("x-cache")).isEqualTo("HIT");
      assertThat(hit.header("x-tier")).isEqualTo("edge");
      assertThat(hit.bodyText()).isEqualTo("stored");
      RawClient.RawResponse anonymous = raw.send(get(origin.url("/page"), "")).readResponse();
      assertThat(anonymous.status()).isEqualTo(407);
      assertThat(anonymous.header("x-cache")).isNull();
      release.countDown();
      assertThat(held.readResponse().bodyText()).isEqualTo("stored");
    }
    assertThat(requests.get()).isEqualTo(2);
    assertThat(proxy.cache().orElseThrow().stats().hits()).isEqualTo(1);
  }

  /**
   * Access rules on destinations are the loop's too: a denied name is refused 403 there, and an
   * allowed origin served, while the one thread is held; a name allowed by its text whose address
   * a rule denies is looked up and refused 403 where the loop connects, naming the rule, nothing
   * sent (a loop's thread completes the exchange). They went to the threads until 2026-12-07.
   */
  @Test
  void checksAForwardProxysDestinationRulesOnTheLoop() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread()
        .filter(Filters.accessControl().denyHosts("blocked.example").build()));
    try (RawClient held = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, origin.origin().url("/hold"), origin.requests(), 1);
      try (RawClient raw = new RawClient(proxy.address())) {
        assertThat(raw.send(get(origin.origin().url("/loop"), "")).readResponse().bodyText()).isEqualTo("ok");
        RawClient.RawResponse denied = raw.send(get("http://blocked.example/", "")).readResponse();
        assertThat(denied.status()).isEqualTo(403);
        assertThat(denied.bodyText()).contains("deny host blocked.example");
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(origin.requests().get()).isEqualTo(2);

    List<String> completedOn = new CopyOnWriteArrayList<>();
    ProxyServer byAddress = ferry.start(ProxyServer.builder()
        .filter(Filters.accessControl().denyHosts("127.0.0.0/8").build())
        .listener(new ExchangeListener() {
          @Override
          public void exchangeCompleted(ExchangeSummary summary) {
            completedOn.add(Thread.currentThread().getName());
          }
        }));
    try (RawClient raw = new RawClient(byAddress.address())) {
      RawClient.RawResponse denied = raw.send(get("http://localhost:" + origin.origin().port() + "/named", ""))
          .readResponse();
      assertThat(denied.status()).isEqualTo(403);
      assertThat(denied.bodyText()).contains("rule deny host 127.0.0.0/8");
    }
    Await.until(() -> completedOn.size() == 1, "the exchange to complete");
    assertThat(completedOn.get(0)).startsWith("ferry-loop-" + byAddress.address().getPort() + "-");
    assertThat(origin.requests().get()).isEqualTo(2);
  }

  /**
   * With the cache on, rules a request's host can be judged by without its addresses leave its
   * hits to the loop: under a rule on a name, a hit is answered there while the one thread is
   * held, the denied name refused 403. Where a rule on addresses needs a name's, the threads look
   * them up before a hit may be served (503 while the thread is held); an address in the URL is
   * judged at once, on the loop.
   */
  @Test
  void servesCacheHitsOnTheLoopUnlessTheRulesWaitForAddresses() throws Exception {
    try (Primed byName = primed(Filters.accessControl().denyHosts("blocked.example").build());
        RawClient raw = new RawClient(byName.proxy.address())) {
      assertThat(raw.send(get(byName.named, "")).readResponse().header("x-cache")).isEqualTo("HIT");
      assertThat(raw.send(get("http://blocked.example/page", "")).readResponse().status()).isEqualTo(403);
    }
    try (Primed byAddress = primed(Filters.accessControl().denyHosts("10.0.0.0/8").build())) {
      try (RawClient raw = new RawClient(byAddress.proxy.address())) {
        assertThat(raw.send(get(byAddress.origin.url("/page"), "")).readResponse().header("x-cache"))
            .isEqualTo("HIT");
      }
      try (RawClient raw = new RawClient(byAddress.proxy.address())) {
        assertThat(raw.send(get(byAddress.named, "")).readResponse().status()).as("a name under an address rule")
            .isEqualTo(503);
      }
    }
  }

  /**
   * A caching forward proxy with {@code rules} and one thread, whose cache holds its origin's
   * {@code /page} by address and by name ({@link #named}), its one thread then held by a POST the
   * origin answers once this is closed.
   */
  private Primed primed(dev.ferry.proxy.Filter rules) throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger requests = new AtomicInteger();
    TinyOrigin origin = HoldingOrigin.start(ferry, release, requests, "Cache-Control: max-age=600\r\n",
        line -> "stored".getBytes(StandardCharsets.ISO_8859_1));
    ProxyServer proxy = ferry.start(oneThread().cache(CacheSpec.inMemory()).filter(rules));
    String named = "http://localhost:" + origin.port() + "/page";
    for (String url : List.of(origin.url("/page"), named)) {
      try (RawClient raw = new RawClient(proxy.address())) {
        assertThat(raw.send(get(url, "")).readResponse().header("x-cache")).as(url).isEqualTo("MISS");
      }
    }
    Await.until(() -> proxy.stats().activeConnections() == 0 && proxy.stats().activeWorkers() == 0,
        "the priming connections' thread to be free");
    RawClient held = new RawClient(proxy.address());
    HoldingOrigin.hold(held, origin.url("/hold"), requests, 3);
    return new Primed(proxy, origin, named, held, release);
  }

  private record Primed(ProxyServer proxy, TinyOrigin origin, String named, RawClient held,
      CountDownLatch release) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      release.countDown();
      try {
        assertThat(held.readResponse().bodyText()).isEqualTo("stored");
      } finally {
        held.close();
      }
    }
  }
}
