package dev.ferry.proxy.engine;

import static dev.ferry.proxy.engine.OriginScript.notModified;
import static dev.ferry.proxy.engine.OriginScript.sized;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.CacheStats;
import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.Filters;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A caching proxy's revalidations on the event loops, shown there by the proxy's one thread being
 * held (a thread's request is refused 503: no thread, no queue): a stale entry's validators go
 * upstream from the loop, a 304 freshens the entry, which answers (REVALIDATED); a new answer
 * replaces it (MISS); a 304 for another representation sends the request again, unconditionally;
 * a server error or a failure within {@code stale-if-error} is hidden behind the stale entry, and
 * a {@code must-revalidate} entry the origin could not revalidate is answered 504, all as the
 * threads' cache does it.
 */
@DisabledIfSystemProperty(named = "ferry.test.eventLoop", matches = "false",
    disabledReason = "these tests are of the event loops, which -Dferry.test.eventLoop=false turns off")
class LoopRevalidationTest {
  private static final String STALE_V1 = "Cache-Control: max-age=0\r\nETag: \"v1\"\r\n";
  /** Not HTTP: the proxy answers 502 for it. */
  private static final byte[] GARBAGE = "garbage\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);

  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  private static String get(String target, String... fields) {
    return "GET " + target + " HTTP/1.1\r\nHost: a\r\n" + String.join("", fields) + "\r\n";
  }

  private ProxyServer start(HoldingOrigin origin) {
    return ferry.start(ProxyServer.builder().concurrency(Concurrency.boundedPool(1, 0))
        .cache(CacheSpec.inMemory()).upstream(Upstream.of(origin.origin().url("/"))));
  }

  /**
   * A stale entry with an ETag, and one with only a date, are revalidated from the loop while the
   * thread is held: the origin is sent the stored validators, its 304 freshens the entry (its
   * new fields kept), and the stored body answers, marked REVALIDATED; a client's own matching
   * validator gets a 304, a HEAD the head alone, a range its part of the stored body (the whole
   * entry revalidated). Counted as revalidations, not misses.
   */
  @Test
  void revalidatesStaleEntriesOnTheLoops() throws Exception {
    String lastModified = "Last-Modified: Mon, 02 Nov 2026 10:00:00 GMT\r\n";
    OriginScript script = new OriginScript()
        .path("/page", n -> n == 1 ? sized(STALE_V1, "stored page")
            : notModified(STALE_V1 + "X-Checked: " + n + "\r\n"))
        .path("/dated", n -> n == 1 ? sized("Cache-Control: max-age=0\r\n" + lastModified, "stored dated")
            : notModified("Cache-Control: max-age=0\r\n"));
    HoldingOrigin origin = script.start(ferry);
    ProxyServer proxy = start(origin);
    OriginScript.prime(proxy, "/page", "/dated");
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 3);
      RawClient.RawResponse page = raw.send(get("/page")).readResponse();
      assertThat(page.status()).isEqualTo(200);
      assertThat(page.header("x-cache")).isEqualTo("REVALIDATED");
      assertThat(page.header("x-checked")).isEqualTo("2");
      assertThat(page.bodyText()).isEqualTo("stored page");
      assertThat(script.request("/page", 2).header("If-None-Match")).isEqualTo("\"v1\"");
      RawClient.RawResponse matched = raw.send(get("/page", "If-None-Match: \"v1\"\r\n")).readResponse();
      assertThat(matched.status()).isEqualTo(304);
      assertThat(matched.header("x-cache")).isEqualTo("REVALIDATED");
      RawClient.RawResponse head = raw.send("HEAD /page HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(true);
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("x-cache")).isEqualTo("REVALIDATED");
      assertThat(head.header("content-length")).isEqualTo("11");
      RawClient.RawResponse part = raw.send(get("/page", "Range: bytes=0-5\r\n")).readResponse();
      assertThat(part.status()).isEqualTo(206);
      assertThat(part.header("x-cache")).isEqualTo("REVALIDATED");
      assertThat(part.bodyText()).isEqualTo("stored");
      assertThat(script.request("/page", 5).header("Range")).as("the whole entry revalidated").isNull();
      RawClient.RawResponse dated = raw.send(get("/dated")).readResponse();
      assertThat(dated.header("x-cache")).isEqualTo("REVALIDATED");
      assertThat(dated.bodyText()).isEqualTo("stored dated");
      assertThat(script.request("/dated", 2).header("If-Modified-Since")).isEqualTo("Mon, 02 Nov 2026 10:00:00 GMT");
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(script.requests("/page")).isEqualTo(5);
    CacheStats stats = proxy.cache().orElseThrow().stats();
    assertThat(stats.revalidations()).isEqualTo(5);
    assertThat(stats.misses()).as("the priming requests").isEqualTo(2);
  }

  /**
   * An origin that answers a revalidation with a new representation: relayed from the loop, marked
   * MISS, and stored in place of the old one, whose validators the next revalidation sends.
   */
  @Test
  void storesTheNewAnswerOfAnOriginWhoseRepresentationChanged() throws Exception {
    OriginScript script = new OriginScript().path("/page", n -> switch (n) {
      case 1 -> sized(STALE_V1, "first");
      case 2 -> sized("Cache-Control: max-age=0\r\nETag: \"v2\"\r\n", "second");
      default -> notModified("ETag: \"v2\"\r\n");
    });
    HoldingOrigin origin = script.start(ferry);
    ProxyServer proxy = start(origin);
    OriginScript.prime(proxy, "/page");
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 2);
      RawClient.RawResponse changed = raw.send(get("/page")).readResponse();
      assertThat(changed.header("x-cache")).isEqualTo("MISS");
      assertThat(changed.bodyText()).isEqualTo("second");
      RawClient.RawResponse again = raw.send(get("/page")).readResponse();
      assertThat(again.header("x-cache")).isEqualTo("REVALIDATED");
      assertThat(again.bodyText()).isEqualTo("second");
      assertThat(script.request("/page", 3).header("If-None-Match")).isEqualTo("\"v2\"");
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(proxy.cache().orElseThrow().stats().misses()).isEqualTo(2);
  }

  /**
   * A 304 whose ETag is not the stored one's may update nothing (RFC 9111 §4.3.4): the entry goes
   * and the loop asks again, without validators, relaying and storing that answer.
   */
  @Test
  void asksAgainWithoutValidatorsAfterA304ForAnotherRepresentation() throws Exception {
    OriginScript script = new OriginScript().path("/page", n -> switch (n) {
      case 1 -> sized(STALE_V1, "first");
      case 2 -> notModified("ETag: \"elsewhere\"\r\n");
      default -> sized("Cache-Control: max-age=600\r\nETag: \"v3\"\r\n", "third");
    });
    HoldingOrigin origin = script.start(ferry);
    ProxyServer proxy = start(origin);
    OriginScript.prime(proxy, "/page");
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 2);
      RawClient.RawResponse fetched = raw.send(get("/page")).readResponse();
      assertThat(fetched.status()).isEqualTo(200);
      assertThat(fetched.header("x-cache")).isEqualTo("MISS");
      assertThat(fetched.bodyText()).isEqualTo("third");
      assertThat(script.request("/page", 2).header("If-None-Match")).isEqualTo("\"v1\"");
      assertThat(script.request("/page", 3).header("If-None-Match")).isNull();
      RawClient.RawResponse hit = raw.send(get("/page")).readResponse();
      assertThat(hit.header("x-cache")).isEqualTo("HIT");
      assertThat(hit.bodyText()).isEqualTo("third");
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(script.requests("/page")).isEqualTo(3);
  }

  /**
   * Within {@code stale-if-error}, a revalidation answered with a server error, or not answered
   * at all (a response that is not HTTP: 502), is answered with the stale entry, marked STALE; a
   * {@code must-revalidate} entry the origin could not revalidate is answered 504, its server
   * error relayed as it came. The next request is served as well, from the loop.
   */
  @Test
  void answersAsStaleIfErrorAndMustRevalidateSayWhenTheOriginFails() throws Exception {
    OriginScript script = new OriginScript()
        .path("/soft", n -> n == 1 ? sized(STALE_V1.replace("max-age=0", "max-age=0, stale-if-error=600"), "stale soft")
            : n == 2 ? sized(503, "", "down") : GARBAGE)
        .path("/hard", n -> n == 1 ? sized(STALE_V1.replace("max-age=0", "max-age=0, must-revalidate"), "stale hard")
            : n == 2 ? sized(503, "", "down") : GARBAGE);
    HoldingOrigin origin = script.start(ferry);
    ProxyServer proxy = start(origin);
    OriginScript.prime(proxy, "/soft", "/hard");
    try (RawClient held = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 3);
      try (RawClient raw = new RawClient(proxy.address())) {
        for (int i = 0; i < 2; i++) {
          RawClient.RawResponse stale = raw.send(get("/soft")).readResponse();
          assertThat(stale.status()).isEqualTo(200);
          assertThat(stale.header("x-cache")).isEqualTo("STALE");
          assertThat(stale.bodyText()).isEqualTo("stale soft");
        }
      }
      try (RawClient raw = new RawClient(proxy.address())) {
        RawClient.RawResponse relayed = raw.send(get("/hard")).readResponse();
        assertThat(relayed.status()).isEqualTo(503);
        assertThat(relayed.bodyText()).isEqualTo("down");
        RawClient.RawResponse failed = raw.send(get("/hard")).readResponse();
        assertThat(failed.status()).isEqualTo(504);
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(script.requests("/soft")).isEqualTo(3);
    assertThat(script.requests("/hard")).isEqualTo(3);
    Await.until(() -> proxy.stats().activeExchanges() == 0, "every exchange to end");
  }

  /**
   * The loop's revalidations are answered as the threads answer them: status line, fields (but
   * {@code Date} and the request id) and body equal to those of a proxy without loops, for a GET,
   * a client's conditional GET, a HEAD and an HTTP/1.0 client's GET, through a proxy-wide
   * response rewrite, with the same counts.
   */
  @Test
  void answersRevalidationsAsTheThreadsDo() throws Exception {
    OriginScript script = new OriginScript().path("/page",
        n -> n <= 2 ? sized(STALE_V1 + "X-Origin: o1\r\n", "stored page") : notModified(STALE_V1 + "X-Seen: yes\r\n"));
    HoldingOrigin origin = script.start(ferry);
    ProxyServer onLoops = ferry.start(caching(ProxyServer.builder().concurrency(Concurrency.boundedPool(1, 0)), origin));
    ProxyServer onThreads = ferry.start(caching(ProxyServer.builder().eventLoop(false), origin));
    OriginScript.prime(onLoops, "/page");
    OriginScript.prime(onThreads, "/page");
    try (RawClient held = new RawClient(onLoops.address()); RawClient loop = new RawClient(onLoops.address());
        RawClient thread = new RawClient(onThreads.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 3);
      for (RawClient.RawResponse answered : LoopParity.sameAnswers(loop, thread, get("/page"),
          get("/page", "If-None-Match: \"v1\"\r\n"), "HEAD /page HTTP/1.1\r\nHost: a\r\n\r\n",
          "GET /page HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n")) {
        assertThat(answered.header("x-cache")).isEqualTo("REVALIDATED");
        assertThat(answered.header("x-seen")).isEqualTo("yes");
        assertThat(answered.header("x-tier")).isEqualTo("edge");
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    CacheStats loops = onLoops.cache().orElseThrow().stats();
    CacheStats threads = onThreads.cache().orElseThrow().stats();
    assertThat(loops.revalidations()).isEqualTo(threads.revalidations()).isEqualTo(4);
    assertThat(loops.misses()).isEqualTo(threads.misses());
  }

  /**
   * Within {@code stale-while-revalidate} the stale entry answers from the loop at once, and its
   * refresh runs in the background.
   */
  @Test
  void answersWithinStaleWhileRevalidateFromTheLoop() throws Exception {
    OriginScript script = new OriginScript().path("/page", n -> n == 1
        ? sized(STALE_V1.replace("max-age=0", "max-age=0, stale-while-revalidate=600"), "stale page")
        : notModified(STALE_V1));
    HoldingOrigin origin = script.start(ferry);
    ProxyServer proxy = start(origin);
    OriginScript.prime(proxy, "/page");
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 2);
      RawClient.RawResponse stale = raw.send(get("/page")).readResponse();
      assertThat(stale.header("x-cache")).isEqualTo("STALE");
      assertThat(stale.bodyText()).isEqualTo("stale page");
      Await.until(() -> proxy.cache().orElseThrow().stats().revalidations() == 1, "the background refresh");
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(script.request("/page", 2).header("If-None-Match")).isEqualTo("\"v1\"");
  }

  private static ProxyServer.Builder caching(ProxyServer.Builder builder, HoldingOrigin origin) {
    return builder.cache(CacheSpec.inMemory()).filter(Filters.setResponseHeader("X-Tier", "edge"))
        .upstream(Upstream.of(origin.origin().url("/")));
  }
}
