package dev.ferry.proxy.engine;

import static dev.ferry.proxy.engine.OriginScript.chunked;
import static dev.ferry.proxy.engine.OriginScript.sized;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.CacheStats;
import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.Filters;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A caching proxy's misses on the event loops, shown there by the proxy's one thread being held (a
 * thread's request is refused 503: no thread, no queue): a miss that need not wait for another
 * request's fetch of its URL (a GET whose URL's last answer could not be stored, a HEAD) is
 * fetched and relayed by the loop, counted and marked as the cache's own fetch would be, its body
 * copied for the store where the answer may now be stored; the first miss of a URL stays with the
 * threads, where concurrent misses wait for one fetch.
 */
@DisabledIfSystemProperty(named = "ferry.test.eventLoop", matches = "false",
    disabledReason = "these tests are of the event loops, which -Dferry.test.eventLoop=false turns off")
class LoopCacheMissTest {
  private static final String NO_STORE = "Cache-Control: no-store\r\n";
  private static final String FRESH = "Cache-Control: max-age=600\r\n";

  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  private static String get(String target) {
    return "GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n";
  }

  private ProxyServer start(HoldingOrigin origin) {
    return ferry.start(ProxyServer.builder().concurrency(Concurrency.boundedPool(1, 0))
        .cache(CacheSpec.inMemory()).upstream(Upstream.of(origin.origin().url("/"))));
  }

  /**
   * A URL whose answer may not be stored is fetched again for each request, on the loop: each
   * answer the origin's own, marked MISS and counted as a miss, while the one thread is held; a
   * HEAD of a URL with nothing stored goes too, and a GET for a range, as it came (the origin's
   * 206 relayed); {@code only-if-cached} with nothing stored is answered 504 there.
   */
  @Test
  void fetchesMissesOfUrlsWhoseAnswersCannotBeStoredOnTheLoops() throws Exception {
    OriginScript script = new OriginScript().path("/dynamic", n -> sized(NO_STORE, "answer " + n))
        .path("/ranged", n -> sized(206, NO_STORE + "Content-Range: bytes 0-1/8\r\n", "ab"));
    HoldingOrigin origin = script.start(ferry);
    ProxyServer proxy = start(origin);
    OriginScript.prime(proxy, "/dynamic");
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 2);
      for (int n = 2; n <= 4; n++) {
        RawClient.RawResponse miss = raw.send(get("/dynamic")).readResponse();
        assertThat(miss.header("x-cache")).isEqualTo("MISS");
        assertThat(miss.header("cache-control")).isEqualTo("no-store");
        assertThat(miss.bodyText()).isEqualTo("answer " + n);
      }
      RawClient.RawResponse head = raw.send("HEAD /page HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(true);
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("x-cache")).isEqualTo("MISS");
      RawClient.RawResponse ranged = raw.send("GET /ranged HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n\r\n")
          .readResponse();
      assertThat(ranged.status()).isEqualTo(206);
      assertThat(ranged.header("content-range")).isEqualTo("bytes 0-1/8");
      assertThat(ranged.header("x-cache")).isEqualTo("MISS");
      assertThat(ranged.bodyText()).isEqualTo("ab");
      assertThat(script.request("/ranged", 1).header("Range")).isEqualTo("bytes=0-1");
      RawClient.RawResponse cachedOnly = raw.send(get("/absent").replace("\r\n\r\n",
          "\r\nCache-Control: only-if-cached\r\n\r\n")).readResponse();
      assertThat(cachedOnly.status()).isEqualTo(504);
      assertThat(cachedOnly.header("x-cache")).isEqualTo("MISS");
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(script.requests("/dynamic")).isEqualTo(4);
    assertThat(script.requests("/page")).isEqualTo(1);
    assertThat(script.requests("/ranged")).isEqualTo(1);
    assertThat(script.requests("/absent")).isZero();
    CacheStats stats = proxy.cache().orElseThrow().stats();
    assertThat(stats.misses()).as("four GETs, a HEAD, a range and only-if-cached").isEqualTo(7);
    assertThat(stats.hits()).isZero();
    assertThat(stats.entries()).isZero();
  }

  /**
   * A URL whose answer could not be stored and now can is stored by the loop that fetched it, as
   * the cache's own fetch stores it, its body copied as it passed: with a length, in chunks (the
   * client sent them as they came, the store keeps the data) and to an HTTP/1.0 client (sent it
   * without the chunks); the next request is a hit, answered while the thread is still held.
   */
  @Test
  void storesWhatTheLoopFetchedWhereItMayNowBeStored() throws Exception {
    OriginScript script = new OriginScript()
        .path("/sized", n -> n == 1 ? sized(NO_STORE, "not stored") : sized(FRESH, "stored whole"))
        .path("/chunked", n -> n == 1 ? sized(NO_STORE, "not stored") : chunked(FRESH, "stored ", "in ", "chunks"))
        .path("/old-client", n -> n == 1 ? sized(NO_STORE, "not stored") : chunked(FRESH, "sent ", "plain"));
    HoldingOrigin origin = script.start(ferry);
    ProxyServer proxy = start(origin);
    OriginScript.prime(proxy, "/sized", "/chunked", "/old-client");
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 4);
      RawClient.RawResponse fetched = raw.send(get("/sized")).readResponse();
      assertThat(fetched.header("x-cache")).isEqualTo("MISS");
      assertThat(fetched.bodyText()).isEqualTo("stored whole");
      RawClient.RawResponse chunks = raw.send(get("/chunked")).readResponse();
      assertThat(chunks.header("transfer-encoding")).isEqualTo("chunked");
      assertThat(chunks.bodyText()).isEqualTo("stored in chunks");
      try (RawClient old = new RawClient(proxy.address())) {
        RawClient.RawResponse plain = old.send("GET /old-client HTTP/1.0\r\nHost: a\r\n\r\n").readResponse();
        assertThat(plain.header("transfer-encoding")).isNull();
        assertThat(plain.bodyText()).isEqualTo("sent plain");
      }
      for (String[] stored : new String[][] {{"/sized", "stored whole"}, {"/chunked", "stored in chunks"},
          {"/old-client", "sent plain"}}) {
        RawClient.RawResponse hit = raw.send(get(stored[0])).readResponse();
        assertThat(hit.header("x-cache")).as(stored[0]).isEqualTo("HIT");
        assertThat(hit.bodyText()).as(stored[0]).isEqualTo(stored[1]);
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(script.requests("/sized")).isEqualTo(2);
    assertThat(script.requests("/chunked")).isEqualTo(2);
    assertThat(script.requests("/old-client")).isEqualTo(2);
    assertThat(proxy.cache().orElseThrow().stats().entries()).isEqualTo(3);
  }

  /**
   * An answer that may be stored but whose body the upstream cuts short is relayed as far as it
   * came and never stored: the next request goes to the origin again, from the loop.
   */
  @Test
  void storesNothingOfABodyTheUpstreamCutShort() throws Exception {
    OriginScript script = new OriginScript().path("/cut", n -> switch (n) {
      case 1 -> sized(NO_STORE, "not stored");
      case 2 -> ("HTTP/1.1 200 OK\r\n" + FRESH + "Content-Length: 20\r\nConnection: close\r\n\r\nonly half")
          .getBytes(StandardCharsets.ISO_8859_1);
      default -> sized(NO_STORE, "whole");
    });
    HoldingOrigin origin = script.start(ferry);
    ProxyServer proxy = start(origin);
    OriginScript.prime(proxy, "/cut");
    try (RawClient held = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 2);
      try (RawClient cut = new RawClient(proxy.address())) {
        cut.send(get("/cut"));
        assertThat(new String(cut.input().readAllBytes(), StandardCharsets.ISO_8859_1))
            .startsWith("HTTP/1.1 200 ").endsWith("only half");
      }
      try (RawClient raw = new RawClient(proxy.address())) {
        RawClient.RawResponse next = raw.send(get("/cut")).readResponse();
        assertThat(next.header("x-cache")).isEqualTo("MISS");
        assertThat(next.bodyText()).isEqualTo("whole");
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(script.requests("/cut")).isEqualTo(3);
    assertThat(proxy.cache().orElseThrow().stats().entries()).isZero();
  }

  /**
   * The loop's misses are answered as the threads answer them: status line, fields (but
   * {@code Date} and the request id) and body equal to those of a proxy without loops, for an
   * answer with a length, one in chunks, a HEAD's and an HTTP/1.0 client's, through a proxy-wide
   * response rewrite, while the loops' proxy's one thread is held.
   */
  @Test
  void answersMissesAsTheThreadsDo() throws Exception {
    OriginScript script = new OriginScript()
        .path("/sized", n -> sized(NO_STORE + "X-Origin: o1\r\n", "the same"))
        .path("/chunked", n -> chunked(NO_STORE, "in ", "chunks"));
    HoldingOrigin origin = script.start(ferry);
    ProxyServer onLoops = ferry.start(caching(ProxyServer.builder().concurrency(Concurrency.boundedPool(1, 0)), origin));
    ProxyServer onThreads = ferry.start(caching(ProxyServer.builder().eventLoop(false), origin));
    OriginScript.prime(onLoops, "/sized", "/chunked");
    OriginScript.prime(onThreads, "/sized", "/chunked");
    try (RawClient held = new RawClient(onLoops.address()); RawClient loop = new RawClient(onLoops.address());
        RawClient thread = new RawClient(onThreads.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 5); // the loops' proxy's one thread
      for (RawClient.RawResponse answered : LoopParity.sameAnswers(loop, thread, get("/sized"), get("/chunked"),
          "HEAD /page HTTP/1.1\r\nHost: a\r\n\r\n", "GET /sized HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n")) {
        assertThat(answered.header("x-cache")).isEqualTo("MISS");
        assertThat(answered.header("x-tier")).isEqualTo("edge");
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(onLoops.cache().orElseThrow().stats().misses()).isEqualTo(onThreads.cache().orElseThrow().stats().misses());
  }

  /**
   * A forward proxy's misses of a URL whose answer cannot be stored are fetched from the loop too,
   * while its one thread is held.
   */
  @Test
  void fetchesAForwardProxysMissesOnTheLoops() throws Exception {
    OriginScript script = new OriginScript().path("/dynamic", n -> sized(NO_STORE, "answer " + n));
    HoldingOrigin origin = script.start(ferry);
    ProxyServer proxy = ferry.start(ProxyServer.builder().concurrency(Concurrency.boundedPool(1, 0))
        .cache(CacheSpec.inMemory()));
    String url = origin.origin().url("/dynamic");
    OriginScript.prime(proxy, url);
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, origin.origin().url("/hold"), origin.requests(), 2);
      for (int n = 2; n <= 3; n++) {
        RawClient.RawResponse miss = raw.send(get(url)).readResponse();
        assertThat(miss.header("x-cache")).isEqualTo("MISS");
        assertThat(miss.bodyText()).isEqualTo("answer " + n);
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(proxy.cache().orElseThrow().stats().misses()).isEqualTo(3);
  }

  private static ProxyServer.Builder caching(ProxyServer.Builder builder, HoldingOrigin origin) {
    return builder.cache(CacheSpec.inMemory()).filter(Filters.setResponseHeader("X-Tier", "edge"))
        .upstream(Upstream.of(origin.origin().url("/")));
  }

  /**
   * A URL's first miss is the loop's too, and the misses of it that come while the loop fetches
   * it wait for its answer, on the threads, as for a thread's fetch: with one of three threads
   * held, the loop fetches {@code /slow}, a second client's miss of it waits on a free thread (all
   * three are taken then: neither first miss had one), and the origin is asked once; that client
   * is answered from the store when the loop's answer came. A URL whose answer may not be stored
   * releases its waiter to fetch for itself.
   */
  @Test
  void letsTheMissesThatComeWhileALoopFetchesWaitForIt() throws Exception {
    CountDownLatch slow = new CountDownLatch(1);
    OriginScript script = new OriginScript()
        .path("/slow", n -> {
          await(slow);
          return sized(FRESH, "fetched once");
        })
        .path("/slow-private", n -> {
          await(slow);
          return sized("Cache-Control: private\r\n", "answer " + n);
        });
    HoldingOrigin origin = script.start(ferry);
    ProxyServer proxy = ferry.start(ProxyServer.builder().concurrency(Concurrency.boundedPool(3, 0))
        .cache(CacheSpec.inMemory()).upstream(Upstream.of(origin.origin().url("/"))));
    try (RawClient held = new RawClient(proxy.address()); RawClient first = new RawClient(proxy.address());
        RawClient second = new RawClient(proxy.address()); RawClient third = new RawClient(proxy.address());
        RawClient fourth = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 1);
      first.send(get("/slow"));
      third.send(get("/slow-private"));
      Await.until(() -> script.requests("/slow") == 1 && script.requests("/slow-private") == 1,
          "the loop's fetches to reach the origin");
      second.send(get("/slow"));
      fourth.send(get("/slow-private"));
      Await.until(() -> proxy.stats().activeWorkers() == 3, "the two misses to wait on the free threads");
      slow.countDown();
      RawClient.RawResponse fetched = first.readResponse();
      assertThat(fetched.header("x-cache")).isEqualTo("MISS");
      assertThat(fetched.bodyText()).isEqualTo("fetched once");
      RawClient.RawResponse waited = second.readResponse();
      assertThat(waited.header("x-cache")).isEqualTo("HIT");
      assertThat(waited.bodyText()).isEqualTo("fetched once");
      assertThat(third.readResponse().bodyText()).isEqualTo("answer 1");
      assertThat(fourth.readResponse().bodyText()).as("fetched for itself").isEqualTo("answer 2");
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(script.requests("/slow")).isEqualTo(1);
    assertThat(script.requests("/slow-private")).isEqualTo(2);
  }

  /**
   * A chunked answer that may be stored but outgrows the entry limit as it passes is relayed whole
   * from the loop and not stored; its URL's next miss goes upstream at once, as after a head that
   * says it may not be stored, on the loop while the thread is held.
   */
  @Test
  void storesNothingOfABodyOverTheEntryLimit() throws Exception {
    String big = "b".repeat(1500);
    OriginScript script = new OriginScript().path("/big", n -> chunked(FRESH, big.substring(0, 700), big.substring(700)));
    HoldingOrigin origin = script.start(ferry);
    ProxyServer proxy = ferry.start(ProxyServer.builder().concurrency(Concurrency.boundedPool(1, 0))
        .cache(CacheSpec.inMemory().maxEntryBytes(1000)).upstream(Upstream.of(origin.origin().url("/"))));
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 1);
      for (int i = 0; i < 2; i++) {
        RawClient.RawResponse answer = raw.send(get("/big")).readResponse();
        assertThat(answer.header("x-cache")).isEqualTo("MISS");
        assertThat(answer.bodyText()).isEqualTo(big);
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(script.requests("/big")).isEqualTo(2);
    assertThat(proxy.cache().orElseThrow().stats().entries()).isZero();
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
