package dev.ferry.proxy.engine.cache;

import static dev.ferry.proxy.engine.cache.CacheHarness.verdict;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.LogCapture;
import dev.ferry.proxy.engine.ProxyTestExtension;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** PURGE and the /_cache/ admin endpoints, called directly against a running proxy's cache. */
class CacheAdminTest {
  private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 50_000);

  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private CacheHarness h;
  private CacheAdmin admin;

  @BeforeEach
  void start() throws Exception {
    h = new CacheHarness(ferry);
    admin = new CacheAdmin(h.cache(), CacheSpec.inMemory().purgeClients());
  }

  private String url(String path) {
    return "http://127.0.0.1:" + h.proxy.port() + path;
  }

  private static String body(Response response) throws Exception {
    return new String(response.body().bytes(10_000), java.nio.charset.StandardCharsets.UTF_8);
  }

  private void storeTwoVariants(String path) throws Exception {
    h.origin.enqueue(h.response("en").setHeader("Cache-Control", "max-age=100").setHeader("Vary", "Accept-Language"));
    h.origin.enqueue(h.response("fr").setHeader("Cache-Control", "max-age=100").setHeader("Vary", "Accept-Language"));
    h.get(path, "Accept-Language", "en");
    h.get(path, "Accept-Language", "fr");
  }

  @Test
  void purgesEveryVariantOfTheUrlWith200AndAnswers404WhenNothingIsStored() throws Exception {
    storeTwoVariants("/purge-me");
    Request purge = Request.builder().method("PURGE").url(url("/purge-me")).build();
    assertThat(CacheAdmin.isPurge(purge)).isTrue();
    Response purged = admin.purge(purge, LOOPBACK);
    assertThat(purged.status()).isEqualTo(200);
    assertThat(h.cache().stats().entries()).isZero();
    assertThat(admin.purge(purge, LOOPBACK).status()).isEqualTo(404);
    h.origin.enqueue(h.response("refetched").setHeader("Cache-Control", "max-age=100"));
    assertThat(verdict(h.get("/purge-me", "Accept-Language", "en"))).isEqualTo("MISS");
  }

  @Test
  void refusesPurgeFromRemoteClientsUnlessAllowed() throws Exception {
    storeTwoVariants("/guarded");
    InetSocketAddress remote = new InetSocketAddress(InetAddress.getByAddress(new byte[] {10, 1, 2, 3}), 4000);
    Request purge = Request.builder().method("PURGE").url(url("/guarded")).build();
    assertThat(admin.purge(purge, remote).status()).isEqualTo(403);
    assertThat(h.cache().stats().entries()).isEqualTo(2);
    CacheAdmin allowing = new CacheAdmin(h.cache(), List.of("10.0.0.0/8"));
    assertThat(allowing.purge(purge, remote).status()).isEqualTo(200);
  }

  @Test
  void purgeMethodThroughTheProxyPortAnswersLoopbackByDefault() throws Exception {
    storeTwoVariants("/by-default");
    HttpResponse<String> purged = h.request("PURGE", "/by-default");
    assertThat(purged.statusCode()).isEqualTo(200);
    assertThat(h.cache().stats().entries()).isZero();
  }

  @Test
  void refusesPurgeFromLoopbackWhenPurgeFromNamesOtherClients() throws Exception {
    // Behind nginx on the same host every client is loopback: loopback must not stay allowed.
    CacheHarness fronted = new CacheHarness(ferry, CacheSpec.inMemory().purgeFrom("10.1.0.0/16"));
    fronted.origin.enqueue(fronted.response("kept").setHeader("Cache-Control", "max-age=100"));
    fronted.get("/fronted");
    HttpResponse<String> refused = fronted.request("PURGE", "/fronted");
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(verdict(fronted.get("/fronted"))).isEqualTo("HIT");
  }

  @Test
  void purgeMethodTurnedOffIsRefusedToEveryClient() throws Exception {
    CacheHarness off = new CacheHarness(ferry, CacheSpec.inMemory().purgeFrom());
    off.origin.enqueue(off.response("kept").setHeader("Cache-Control", "max-age=100"));
    off.get("/off");
    HttpResponse<String> refused = off.request("PURGE", "/off");
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body()).contains("PURGE method is off");
    assertThat(off.cache().stats().entries()).isEqualTo(1);
  }

  @Test
  void purgesByUrlOrPrefixThroughTheAdminEndpoint() throws Exception {
    storeTwoVariants("/docs/a");
    h.origin.enqueue(h.response("b").setHeader("Cache-Control", "max-age=100"));
    h.get("/docs/b");
    String encoded = java.net.URLEncoder.encode(url("/docs/a"), java.nio.charset.StandardCharsets.UTF_8);
    Response byUrl = admin.handleAdmin(Request.builder().method("POST").url("http://admin/_cache/purge?url=" + encoded).build());
    assertThat(byUrl.status()).isEqualTo(200);
    assertThat(h.cache().stats().entries()).isEqualTo(1);
    assertThat(admin.handleAdmin(Request.builder().method("POST").url("http://admin/_cache/purge?url=" + encoded).build())
        .status()).isEqualTo(404);
    String prefix = java.net.URLEncoder.encode(url("/docs/"), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(admin.handleAdmin(Request.builder().method("POST").url("http://admin/_cache/purge?prefix=" + prefix).build())
        .status()).isEqualTo(200);
    assertThat(h.cache().stats().entries()).isZero();
    assertThat(admin.handleAdmin(Request.builder().method("GET").url("http://admin/_cache/purge?url=" + encoded).build())
        .status()).as("a GET never deletes").isEqualTo(405);
    assertThat(admin.handleAdmin(Request.builder().method("POST").url("http://admin/_cache/purge").build()).status())
        .isEqualTo(400);
  }

  /**
   * Entries are keyed by absolute URL: a path, or anything else, matched none and read as "not
   * cached", and a null failed inside the engine (probe embed F2).
   */
  @Test
  void refusesAPurgeOfSomethingOtherThanAnAbsoluteUrl() throws Exception {
    h.origin.enqueue(h.response("kept").setHeader("Cache-Control", "max-age=100"));
    h.get("/a/2");
    for (String notAUrl : new String[] {"/a/2", "not a url", "ftp://127.0.0.1/a/2", "http:///a/2", "http://"}) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> h.cache().purge(notAUrl), notAUrl)
          .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("purge takes an absolute http or https URL");
      String encoded = java.net.URLEncoder.encode(notAUrl, java.nio.charset.StandardCharsets.UTF_8);
      Response answer = admin.handleAdmin(Request.builder().method("POST").url("http://admin/_cache/purge?url=" + encoded).build());
      assertThat(answer.status()).as(notAUrl).isEqualTo(400);
      assertThat(body(answer)).as(notAUrl).contains("absolute");
    }
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> h.cache().purge(null))
        .isInstanceOf(NullPointerException.class).hasMessage("url");
    assertThat(h.cache().stats().entries()).isEqualTo(1);
    assertThat(h.cache().purge("HTTPS://127.0.0.1:" + h.proxy.port() + "/a/2")).isFalse();
    assertThat(h.cache().purge(url("/a/2"))).isTrue();
  }

  /**
   * A reverse proxy stores normalised paths: a purge naming {@code /t%7Ex} or {@code /dot/./x}
   * removes what {@code /t~x} and {@code /dot/x} stored (it answered 404 and left them served,
   * probe k14); a prefix too, but one ending in a dot segment is not widened.
   */
  @Test
  void purgesAUrlOrPrefixHoweverItsPathIsSpelled() throws Exception {
    for (String path : new String[] {"/t~x", "/dot/x", "/u~1", "/u~2", "/a/.hidden", "/a/shown"}) {
      h.origin.enqueue(h.response(path).setHeader("Cache-Control", "max-age=100"));
      h.get(path);
    }
    assertThat(h.cache().stats().entries()).isEqualTo(6);
    for (String spelled : new String[] {"/t%7Ex", "/dot/./x"}) {
      assertThat(purge("url=" + java.net.URLEncoder.encode(url(spelled), java.nio.charset.StandardCharsets.UTF_8)))
          .as(spelled).isEqualTo(200);
    }
    assertThat(h.cache().stats().entries()).isEqualTo(4);
    assertThat(purge("prefix=" + java.net.URLEncoder.encode(url("/u%7e"), java.nio.charset.StandardCharsets.UTF_8)))
        .isEqualTo(200);
    assertThat(h.cache().stats().entries()).isEqualTo(2);
    assertThat(purge("prefix=/a/.")).isEqualTo(200);
    assertThat(h.cache().stats().entries()).as("/a/shown kept").isEqualTo(1);
    assertThat(verdict(h.get("/a/shown"))).isEqualTo("HIT");
  }

  /**
   * A URL or prefix pasted as it is, escapes and all, names what it names: decoded once as a
   * form value, {@code My%20Doc.pdf} lost its escape and matched nothing, answered "Not in cache"
   * or "Purged" while the entry was still served (probe k26). Encoded as a parameter, it still
   * works (above).
   */
  @Test
  void purgesAUrlOrPrefixWrittenWithItsEscapes() throws Exception {
    for (String path : new String[] {"/files/My%20Doc.pdf", "/a%3Ab", "/q?x=a%26b", "/files/My%20Other"}) {
      h.origin.enqueue(h.response(path).setHeader("Cache-Control", "max-age=100"));
      h.get(path);
    }
    assertThat(h.cache().stats().entries()).isEqualTo(4);
    for (String written : new String[] {"/files/My%20Doc.pdf", "/a%3ab", "/q?x=a%26b"}) {
      assertThat(purge("url=" + url(written))).as(written).isEqualTo(200);
    }
    assertThat(h.cache().stats().entries()).isEqualTo(1);
    assertThat(purge("prefix=/files/My%20")).isEqualTo(200);
    assertThat(h.cache().stats().entries()).isZero();
  }

  /**
   * A URL given encoded, its query with it, is logged decoded and so redacted: the raw reading
   * was logged, its {@code %3Ftoken%3D} unseen by the redaction (probe c28).
   */
  @Test
  void redactsTheSecretsOfAnEncodedUrlItLogs() throws Exception {
    h.origin.enqueue(h.response("secret").setHeader("Cache-Control", "max-age=100"));
    h.get("/k?token=TOPSECRET1");
    try (LogCapture logs = new LogCapture()) {
      assertThat(purge("url=" + url("/k%3Ftoken%3DTOPSECRET1"))).isEqualTo(200);
      assertThat(logs.lines("cache_purge")).singleElement().asString()
          .contains("token=***").doesNotContain("TOPSECRET1");
      // The prefix= forms too (probe v36).
      purge("prefix=/k%3Ftoken%3DTOPSECRET2");
      purge("prefix=" + url("/k%3Ftoken%3DTOPSECRET3"));
      assertThat(logs.lines("cache_purge prefix")).hasSize(2).noneMatch(line -> line.contains("TOPSECRET"));
    }
  }

  private int purge(String query) throws Exception {
    return admin.handleAdmin(Request.builder().method("POST").url("http://admin/_cache/purge?" + query).build()).status();
  }

  /**
   * A path prefix purges under every origin; one that is neither a path nor an absolute URL is
   * refused. {@code prefix=/static/} used to answer "Purged" and remove nothing, keys being
   * absolute URLs (probe k12).
   */
  @Test
  void purgesByPathPrefixAndRefusesAPrefixThatMatchesNothing() throws Exception {
    for (String path : new String[] {"/static/a.css", "/static/b.js", "/page"}) {
      h.origin.enqueue(h.response(path).setHeader("Cache-Control", "max-age=100"));
      h.get(path);
    }
    assertThat(h.cache().stats().entries()).isEqualTo(3);
    Response byPath = admin.handleAdmin(Request.builder().method("POST")
        .url("http://admin/_cache/purge?prefix=/static/").build());
    assertThat(byPath.status()).isEqualTo(200);
    assertThat(h.cache().stats().entries()).isEqualTo(1);
    assertThat(admin.handleAdmin(Request.builder().method("POST")
        .url("http://admin/_cache/purge?prefix=static/").build()).status()).isEqualTo(400);
    assertThat(h.cache().stats().entries()).isEqualTo(1);
  }

  @Test
  void reportsStatsAsJson() throws Exception {
    h.origin.enqueue(h.response("x").setHeader("Cache-Control", "max-age=100"));
    h.get("/counted");
    h.get("/counted");
    Response stats = admin.handleAdmin(Request.builder().method("GET").url("http://admin/_cache/stats").build());
    assertThat(stats.status()).isEqualTo(200);
    assertThat(stats.headers().first("Content-Type")).hasValue("application/json");
    assertThat(body(stats)).startsWith("{\"hits\":1,\"misses\":1,\"hit_rate\":0.5000,\"revalidations\":0,")
        .contains("\"entries\":1,");
    assertThat(admin.handleAdmin(Request.builder().method("GET").url("http://admin/_cache/nope").build()).status())
        .isEqualTo(404);
  }
}
