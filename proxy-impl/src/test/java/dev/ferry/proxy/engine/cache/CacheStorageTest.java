package dev.ferry.proxy.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.engine.ProxyTestExtension;
import java.io.IOException;
import java.net.http.HttpResponse;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.SocketPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What reaches the store: complete bodies within the limits, never more than the bound, and no
 * {@code Set-Cookie} response unless asked.
 */
class CacheStorageTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @Test
  void neverStoresTruncatedBody() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(h.response("x".repeat(100_000)).setHeader("Cache-Control", "max-age=100")
        .setSocketPolicy(SocketPolicy.DISCONNECT_DURING_RESPONSE_BODY));
    h.origin.enqueue(h.response("complete").setHeader("Cache-Control", "max-age=100"));
    try {
      h.get("/t");
    } catch (IOException expected) {
      // the client sees the cut; what matters is what the cache kept
    }
    assertThat(h.get("/t").body()).isEqualTo("complete");
  }

  /**
   * Caching fields an upstream lists in Connection were for this hop, the proxy's cache included:
   * removed before the cache saw them, a listed no-store stored one user's page for everyone,
   * and a listed Vary was ignored (probe semantics F1). They are obeyed, and never reach the client.
   */
  @Test
  void obeysCachingFieldsAnUpstreamListsInConnection() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(h.response("alice's page").setHeader("Cache-Control", "no-store, private")
        .setHeader("Connection", "Cache-Control"));
    h.origin.enqueue(h.response("bob's page"));
    HttpResponse<String> alice = h.get("/account");
    assertThat(alice.body()).isEqualTo("alice's page");
    assertThat(alice.headers().map()).doesNotContainKeys("cache-control", "connection");
    assertThat(h.get("/account").body()).isEqualTo("bob's page");

    h.origin.enqueue(h.response("for the proxy").setHeader("Cache-Control", "max-age=100")
        .setHeader("Connection", "cache-control"));
    assertThat(h.get("/listed-fresh").headers().map()).doesNotContainKeys("cache-control", "connection");
    HttpResponse<String> hit = h.get("/listed-fresh");
    assertThat(hit.body()).isEqualTo("for the proxy");
    assertThat(CacheHarness.verdict(hit)).isEqualTo("HIT");
    assertThat(hit.headers().map()).doesNotContainKeys("cache-control", "connection");

    h.origin.enqueue(h.response("a's").setHeader("Cache-Control", "max-age=100").setHeader("Vary", "Cookie")
        .setHeader("Connection", "Vary"));
    h.origin.enqueue(h.response("b's").setHeader("Cache-Control", "max-age=100").setHeader("Vary", "Cookie")
        .setHeader("Connection", "Vary"));
    assertThat(h.get("/varied", "Cookie", "user=a").body()).isEqualTo("a's");
    HttpResponse<String> other = h.get("/varied", "Cookie", "user=b");
    assertThat(other.body()).isEqualTo("b's");
    assertThat(other.headers().map()).doesNotContainKeys("vary", "connection");
    assertThat(h.get("/varied", "Cookie", "user=a").body()).isEqualTo("a's");
    assertThat(h.origin.getRequestCount()).isEqualTo(5);

    // A listed Date goes too, and the proxy adds its own, as for a response without one.
    h.origin.enqueue(h.response("dated").setHeader("Connection", "Date"));
    assertThat(h.get("/dated").headers().allValues("Date")).hasSize(1);
  }

  /**
   * A 304 freshening an entry whose caching fields were listed replaces them with its own: its
   * end-to-end Cache-Control reaches clients, where the stored Connection option outlived the
   * field it named and hid it.
   */
  @Test
  void showsTheEndToEndCacheControlOfA304ThatFreshensAnEntryStoredWithListedFields() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(h.response("validated").setHeader("ETag", "\"a\"").setHeader("Cache-Control", "max-age=0")
        .setHeader("Connection", "Cache-Control"));
    h.origin.enqueue(new MockResponse().setResponseCode(304).setHeader("ETag", "\"a\"")
        .setHeader("Cache-Control", "max-age=100"));
    HttpResponse<String> first = h.get("/revalidated");
    assertThat(first.headers().map()).doesNotContainKeys("cache-control", "connection");
    HttpResponse<String> freshened = h.get("/revalidated");
    assertThat(freshened.body()).isEqualTo("validated");
    assertThat(freshened.headers().firstValue("Cache-Control")).hasValue("max-age=100");
    HttpResponse<String> hit = h.get("/revalidated");
    assertThat(CacheHarness.verdict(hit)).isEqualTo("HIT");
    assertThat(hit.headers().firstValue("Cache-Control")).hasValue("max-age=100");
    assertThat(hit.headers().map()).doesNotContainKey("connection");
    assertThat(h.origin.getRequestCount()).isEqualTo(2);
  }

  /** A client's listed Cache-Control was for the proxy too: its no-cache went unheeded (probe semantics F1). */
  @Test
  void obeysCachingFieldsAClientListsInConnection() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(h.response("stored").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("fetched again").setHeader("Cache-Control", "max-age=100"));
    assertThat(h.get("/page").body()).isEqualTo("stored");
    h.origin.takeRequest();
    for (String listed : new String[] {"Cache-Control: no-cache\r\nConnection: Cache-Control",
        "Pragma: no-cache\r\nConnection: Pragma"}) {
      try (java.net.Socket socket = new java.net.Socket("127.0.0.1", h.proxy.port())) {
        socket.getOutputStream().write(("GET /page HTTP/1.1\r\nHost: 127.0.0.1\r\n" + listed + "\r\n\r\n")
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        socket.shutdownOutput();
        String answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(answer).as(listed).startsWith("HTTP/1.1 200").endsWith("fetched again");
      }
      h.origin.enqueue(h.response("fetched again").setHeader("Cache-Control", "max-age=100"));
      okhttp3.mockwebserver.RecordedRequest forwarded = h.origin.takeRequest(5, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(forwarded).as("the request went to the origin").isNotNull();
      assertThat(forwarded.getHeader("Cache-Control")).as("hop-by-hop, not forwarded").isNull();
      assertThat(forwarded.getHeader("Pragma")).isNull();
    }
  }

  @Test
  void streamsBodiesOverTheEntryLimitUncached() throws Exception {
    CacheHarness h = new CacheHarness(ferry, CacheSpec.inMemory().maxEntryBytes(1000));
    h.origin.enqueue(h.response("b".repeat(2000)).setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("small").setHeader("Cache-Control", "max-age=100"));
    assertThat(h.get("/big").body()).hasSize(2000);
    assertThat(h.get("/big").body()).isEqualTo("small");
    assertThat(h.cache().stats().entries()).isEqualTo(1);
  }

  /**
   * With maxEntryBytes equal to maxSizeBytes, a body just under it weighs more than the cache
   * with its head: it was stored and evicted at once, each time counted as an eviction (probe
   * e26). It is not stored, and what it replaces is gone.
   */
  @Test
  void neitherStoresNorCountsAsEvictedAnEntryHeavierThanTheCache() throws Exception {
    CacheHarness h = new CacheHarness(ferry, CacheSpec.inMemory().maxSizeBytes(100_000).maxEntryBytes(100_000));
    h.origin.enqueue(h.response("old").setHeader("Cache-Control", "max-age=0").setHeader("ETag", "\"a\""));
    for (int i = 0; i < 3; i++) {
      h.origin.enqueue(h.response("x".repeat(99_500)).setHeader("Cache-Control", "max-age=600"));
    }
    h.origin.enqueue(h.response("small").setHeader("Cache-Control", "max-age=600"));
    assertThat(h.get("/near-bound").body()).isEqualTo("old");
    assertThat(h.cache().stats().entries()).isEqualTo(1);
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> miss = h.get("/near-bound");
      assertThat(miss.body()).hasSize(99_500);
      assertThat(CacheHarness.verdict(miss)).isNotEqualTo("HIT");
    }
    assertThat(h.cache().stats().entries()).isZero();
    assertThat(h.cache().stats().evictions()).isZero();
    assertThat(h.get("/near-bound").body()).isEqualTo("small");
    assertThat(CacheHarness.verdict(h.get("/near-bound"))).isEqualTo("HIT");
  }

  /**
   * A variant that fits alone took its URL's other variants over the bound, and Caffeine
   * evicted them all at once: alternating languages never hit (probe v32). The older variants
   * make room instead.
   */
  @Test
  void keepsTheNewVariantWhenItsSiblingsWouldOutweighTheCache() throws Exception {
    CacheHarness h = new CacheHarness(ferry, CacheSpec.inMemory().maxSizeBytes(10_000).maxEntryBytes(10_000));
    for (String language : new String[] {"en", "fr"}) {
      h.origin.enqueue(h.response(language.repeat(3000)).setHeader("Cache-Control", "max-age=600")
          .setHeader("Vary", "Accept-Language"));
    }
    String[] english = {"Accept-Language", "en"};
    String[] french = {"Accept-Language", "fr"};
    assertThat(CacheHarness.verdict(h.get("/page", english))).isEqualTo("MISS");
    assertThat(CacheHarness.verdict(h.get("/page", english))).isEqualTo("HIT");
    assertThat(CacheHarness.verdict(h.get("/page", french))).isEqualTo("MISS");
    HttpResponse<String> hit = h.get("/page", french);
    assertThat(CacheHarness.verdict(hit)).isEqualTo("HIT");
    assertThat(hit.body()).isEqualTo("fr".repeat(3000));
    assertThat(h.cache().stats().evictions()).as("en, dropped to make room, counted").isEqualTo(1);
  }

  @Test
  void servesLargeHitsWholeAndKeepsTheConnectionInStep() throws Exception {
    CacheHarness h = new CacheHarness(ferry, CacheSpec.inMemory().maxEntryBytes(4 << 20));
    StringBuilder text = new StringBuilder();
    for (int i = 0; text.length() < 300_000; i++) {
      text.append(i).append(',');
    }
    String body = text.toString();
    h.origin.enqueue(h.response(body).setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("after").setHeader("Cache-Control", "no-store"));
    assertThat(h.get("/large").body()).isEqualTo(body);
    // A hit goes out as head and body in one gathering write, larger than any copy buffer.
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> hit = h.get("/large");
      assertThat(CacheHarness.verdict(hit)).isEqualTo("HIT");
      assertThat(hit.body()).isEqualTo(body);
    }
    HttpResponse<String> head = h.request("HEAD", "/large");
    assertThat(head.headers().firstValueAsLong("Content-Length")).hasValue(body.length());
    assertThat(head.body()).isEmpty();
    // The same keep-alive connection carries on from the byte where the hits ended.
    assertThat(h.get("/other").body()).isEqualTo("after");
    assertThat(h.origin.getRequestCount()).isEqualTo(2);
  }

  @Test
  void storesChunkedBodyOnceComplete() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(new MockResponse().setHeader("Cache-Control", "max-age=100").setHeader("Trailer", "X-Sum")
        .setChunkedBody("chunked body", 3));
    h.get("/chunked");
    HttpResponse<String> hit = h.get("/chunked");
    assertThat(hit.headers().firstValue("X-Cache")).hasValue("HIT");
    assertThat(hit.body()).isEqualTo("chunked body");
    // Sent with its length, the hit has no trailer section to announce (probe cache F3).
    assertThat(hit.headers().firstValue("Trailer")).isEmpty();
  }

  @Test
  void holdsTheByteBoundUnderAFloodOfUrls() throws Exception {
    CacheHarness h = new CacheHarness(ferry, CacheSpec.inMemory().maxSizeBytes(1 << 20).maxEntryBytes(20_000));
    h.origin.setDispatcher(new okhttp3.mockwebserver.Dispatcher() {
      @Override
      public MockResponse dispatch(okhttp3.mockwebserver.RecordedRequest request) {
        return h.response(request.getPath() + "z".repeat(10_000)).setHeader("Cache-Control", "max-age=100");
      }
    });
    for (int i = 0; i < 300; i++) {
      assertThat(h.get("/flood/" + i).body()).startsWith("/flood/" + i + "z");
    }
    assertThat(h.cache().stats().bytes()).isLessThanOrEqualTo(1 << 20);
    assertThat(h.cache().stats().evictions()).isPositive();
    for (int i = 0; i < 300; i += 7) {
      assertThat(h.get("/flood/" + i).body()).startsWith("/flood/" + i + "z");
    }
  }

  @Test
  void keepsEntryIntactWhenClientLeavesMidBody() throws Exception {
    CacheHarness h = new CacheHarness(ferry, CacheSpec.inMemory().maxEntryBytes(4 << 20));
    String body = "0123456789".repeat(200_000);
    h.origin.enqueue(h.response(body).setHeader("Cache-Control", "max-age=100").throttleBody(64 * 1024, 5,
        java.util.concurrent.TimeUnit.MILLISECONDS));
    h.origin.enqueue(h.response(body).setHeader("Cache-Control", "max-age=100"));
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", h.proxy.port())) {
      socket.getOutputStream().write("GET /partial HTTP/1.1\r\nHost: a\r\n\r\n".getBytes());
      socket.getInputStream().readNBytes(100_000);
    }
    HttpResponse<String> next = h.get("/partial");
    assertThat(next.body()).isEqualTo(body);
    HttpResponse<String> again = h.get("/partial");
    assertThat(again.body()).isEqualTo(body);
    assertThat(again.headers().firstValue("X-Cache")).hasValue("HIT");
  }

  @Test
  void leavesSetCookieResponsesUnstoredByDefault() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(h.response("for alice").setHeader("Cache-Control", "max-age=100")
        .setHeader("Set-Cookie", "session=alice"));
    h.origin.enqueue(h.response("for bob").setHeader("Cache-Control", "max-age=100")
        .setHeader("Set-Cookie", "session=bob"));
    HttpResponse<String> alice = h.get("/account");
    assertThat(alice.headers().firstValue("Set-Cookie")).hasValue("session=alice");
    HttpResponse<String> bob = h.get("/account");
    assertThat(bob.body()).isEqualTo("for bob");
    assertThat(bob.headers().firstValue("Set-Cookie")).hasValue("session=bob");
    assertThat(bob.headers().firstValue("X-Cache")).hasValue("MISS");
    assertThat(h.origin.getRequestCount()).isEqualTo(2);
    assertThat(h.cache().stats().entries()).isZero();
  }

  @Test
  void storesSetCookieResponsesWhenAsked() throws Exception {
    CacheHarness h = new CacheHarness(ferry, CacheSpec.inMemory().storeSetCookie(true));
    h.origin.enqueue(h.response("shared").setHeader("Cache-Control", "max-age=100")
        .setHeader("Set-Cookie", "region=eu"));
    h.get("/landing");
    HttpResponse<String> hit = h.get("/landing");
    assertThat(hit.headers().firstValue("X-Cache")).hasValue("HIT");
    assertThat(hit.headers().firstValue("Set-Cookie")).hasValue("region=eu");
    assertThat(h.origin.getRequestCount()).isEqualTo(1);
  }

  @Test
  void checksCacheSizesWhenTheProxyIsBuiltInAnyOrder() {
    ProxyServer entryFirst = ProxyServer.builder()
        .cache(CacheSpec.inMemory().maxEntryBytes(20L << 20).maxSizeBytes(64L << 20)).build();
    entryFirst.close();
    assertThatThrownBy(() -> ProxyServer.builder()
        .cache(CacheSpec.inMemory().maxEntryBytes(20L << 20)).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("maxEntryBytes must not exceed maxSizeBytes (was 20971520 > 10485760)");
  }
}
