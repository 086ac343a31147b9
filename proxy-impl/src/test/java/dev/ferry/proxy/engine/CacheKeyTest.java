package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.ProxyCache;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One URL is one cache entry, however the client spells its host (RFC 9110 §4.2.3: case, a
 * trailing dot, the default port). Before, each spelling was an entry of its own: a purge of one
 * left the others served, and any client could multiply the entries of a resource.
 */
class CacheKeyTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @Test
  void storesOneEntryForEverySpellingOfTheOrigin() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("v1").setHeader("Cache-Control", "max-age=100"));
    origin.enqueue(new MockResponse().setBody("v2").setHeader("Cache-Control", "max-age=100"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .cache(CacheSpec.inMemory()));
    assertThat(get(proxy, "site.test").header("X-Cache")).isEqualTo("MISS");
    for (String host : new String[] {"SITE.TEST", "site.test:80", "Site.Test."}) {
      RawClient.RawResponse hit = get(proxy, host);
      assertThat(hit.header("X-Cache")).as(host).isEqualTo("HIT");
      assertThat(hit.bodyText()).isEqualTo("v1");
    }
    ProxyCache cache = proxy.cache().orElseThrow();
    assertThat(cache.stats().entries()).isEqualTo(1);
    assertThat(cache.purge("http://SITE.test:80/c")).isTrue();
    RawClient.RawResponse after = get(proxy, "site.test");
    assertThat(after.header("X-Cache")).isEqualTo("MISS");
    assertThat(after.bodyText()).isEqualTo("v2");
  }

  /**
   * A forward proxy keys paths as the client wrote them: a write to {@code /d%7Ed} invalidates
   * the stored {@code /d~d} too, its normalised spelling (it left it served, probe k12).
   */
  @Test
  void invalidatesTheNormalisedSpellingOfAWritesTargetInAForwardProxy() throws Exception {
    MockWebServer origin = originAroundAWrite("written");
    ProxyServer proxy = cachingForwardProxy();
    String base = "http://127.0.0.1:" + origin.getPort();
    assertThat(forward(proxy, "GET " + base + "/d~d").bodyText()).isEqualTo("v1");
    assertThat(forward(proxy, "GET " + base + "/d~d").header("X-Cache")).isEqualTo("HIT");
    assertThat(forward(proxy, "PUT " + base + "/d%7Ed").status()).isEqualTo(200);
    assertThat(forward(proxy, "GET " + base + "/d~d").bodyText()).isEqualTo("v2");
  }

  /**
   * Probe poison2: a forward proxy sent a write carrying {@code Upgrade} past the cache without
   * invalidating: the origin's 200 to {@code DELETE} with {@code Upgrade: websocket} left the
   * stored GET served (RFC 9111 §4.4).
   */
  @Test
  void invalidatesAfterAWriteThatAskedForAnUpgradeTheOriginDeclined() throws Exception {
    MockWebServer origin = originAroundAWrite("deleted");
    ProxyServer proxy = cachingForwardProxy();
    String base = "http://127.0.0.1:" + origin.getPort();
    assertThat(forward(proxy, "GET " + base + "/doc").bodyText()).isEqualTo("v1");
    assertThat(forward(proxy, "GET " + base + "/doc").header("X-Cache")).isEqualTo("HIT");
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("DELETE " + base + "/doc HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\nContent-Length: 0\r\n\r\n").readResponse().bodyText()).isEqualTo("deleted");
    }
    assertThat(forward(proxy, "GET " + base + "/doc").bodyText()).isEqualTo("v2");
  }

  /**
   * Percent-escapes differing in the case of their hex digits are one character (RFC 3986
   * §6.2.2.1): one entry, and a write in one spelling invalidates the other (it left the stored
   * {@code /e%3ae} served after {@code DELETE /e%3Ae}, probe k12).
   */
  @Test
  void treatsPercentEscapesInEitherCaseAsOneUrlInAForwardProxy() throws Exception {
    MockWebServer origin = originAroundAWrite("deleted");
    ProxyServer proxy = cachingForwardProxy();
    String base = "http://127.0.0.1:" + origin.getPort();
    assertThat(forward(proxy, "GET " + base + "/e%3ae?q=%c3%a9").bodyText()).isEqualTo("v1");
    assertThat(forward(proxy, "GET " + base + "/e%3Ae?q=%C3%a9").header("X-Cache")).isEqualTo("HIT");
    assertThat(forward(proxy, "DELETE " + base + "/e%3Ae?q=%C3%A9").status()).isEqualTo(200);
    assertThat(forward(proxy, "GET " + base + "/e%3ae?q=%c3%a9").bodyText()).isEqualTo("v2");
    assertThat(proxy.cache().orElseThrow().purge(base + "/e%3Ae?q=%c3%A9")).isTrue();
  }

  /**
   * Escapes of unreserved characters are those characters (RFC 3986 §6.2.2.2): a forward
   * proxy's entry stored as {@code /u/t%7ex} is purged as {@code /u/t~x} (it stayed, probe v14),
   * and a URL without a path is the one with {@code /} (probe e14).
   */
  @Test
  void purgesAForwardProxysEntryHoweverItsPathIsSpelled() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    for (int i = 0; i < 2; i++) {
      origin.enqueue(new MockResponse().setBody("v" + i).setHeader("Cache-Control", "max-age=100"));
    }
    ProxyServer proxy = cachingForwardProxy();
    String base = "http://127.0.0.1:" + origin.getPort();
    forward(proxy, "GET " + base + "/u/t%7ex");
    forward(proxy, "GET " + base + "/");
    ProxyCache cache = proxy.cache().orElseThrow();
    assertThat(cache.stats().entries()).isEqualTo(2);
    assertThat(cache.purge(base + "/u/t~x")).isTrue();
    assertThat(cache.purge(base)).isTrue();
    assertThat(cache.stats().entries()).isZero();
  }

  /** An origin answering a fresh "v1", then {@code written} to a write, then a fresh "v2". */
  private MockWebServer originAroundAWrite(String written) throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("v1").setHeader("Cache-Control", "max-age=100"));
    origin.enqueue(new MockResponse().setBody(written));
    origin.enqueue(new MockResponse().setBody("v2").setHeader("Cache-Control", "max-age=100"));
    return origin;
  }

  private ProxyServer cachingForwardProxy() throws Exception {
    return ferry.start(ProxyServer.builder().allowPrivateDestinations(true).cache(CacheSpec.inMemory()));
  }

  private static RawClient.RawResponse forward(ProxyServer proxy, String requestLine) throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      return raw.send(requestLine + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n").readResponse();
    }
  }

  private static RawClient.RawResponse get(ProxyServer proxy, String host) throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      return raw.send("GET /c HTTP/1.1\r\nHost: " + host + "\r\n\r\n").readResponse();
    }
  }
}
