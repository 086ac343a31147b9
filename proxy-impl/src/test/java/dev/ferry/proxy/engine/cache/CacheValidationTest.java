package dev.ferry.proxy.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.engine.ProxyTestExtension;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Validation (RFC 9111 §4.3), Vary (§4.1), invalidation (§4.4) and what is never stored. */
class CacheValidationTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private CacheHarness h;

  @BeforeEach
  void start() throws Exception {
    h = new CacheHarness(ferry);
  }

  private static String verdict(HttpResponse<String> response) {
    return response.headers().firstValue("X-Cache").orElse("none");
  }

  @Test
  void revalidatesStaleEntryWithItsValidatorsAndServesItOn304() throws Exception {
    h.origin.enqueue(h.response("body").setHeader("Cache-Control", "max-age=10").setHeader("ETag", "\"v1\"")
        .setHeader("Last-Modified", "Wed, 01 Oct 2025 00:00:00 GMT").setHeader("X-Version", "1"));
    h.origin.enqueue(new MockResponse().setResponseCode(304).setHeader("ETag", "\"v1\"")
        .setHeader("Cache-Control", "max-age=100").setHeader("X-Version", "2"));
    h.get("/v");
    h.advance(Duration.ofSeconds(30));
    HttpResponse<String> revalidated = h.get("/v");
    assertThat(verdict(revalidated)).isEqualTo("REVALIDATED");
    assertThat(revalidated.body()).isEqualTo("body");
    assertThat(revalidated.headers().firstValue("X-Version")).hasValue("2");
    h.origin.takeRequest();
    RecordedRequest conditional = h.origin.takeRequest();
    assertThat(conditional.getHeader("If-None-Match")).isEqualTo("\"v1\"");
    assertThat(conditional.getHeader("If-Modified-Since")).isEqualTo("Wed, 01 Oct 2025 00:00:00 GMT");
    h.advance(Duration.ofSeconds(50));
    assertThat(verdict(h.get("/v"))).as("the 304's max-age now applies").isEqualTo("HIT");
    assertThat(h.cache().stats().revalidations()).isEqualTo(1);
  }

  /** A HEAD that revalidated the stored GET with a 304 is one revalidation (probe o22: two). */
  @Test
  void countsAHeadRevalidatedWithA304Once() throws Exception {
    h.origin.enqueue(h.response("body").setHeader("Cache-Control", "max-age=10").setHeader("ETag", "\"v1\""));
    h.origin.enqueue(new MockResponse().setResponseCode(304).setHeader("ETag", "\"v1\"")
        .setHeader("Cache-Control", "max-age=100"));
    h.get("/h");
    h.advance(Duration.ofSeconds(30));
    HttpResponse<String> head = h.request("HEAD", "/h");
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(verdict(head)).isEqualTo("REVALIDATED");
    assertThat(h.cache().stats().revalidations()).isEqualTo(1);
    assertThat(verdict(h.get("/h"))).as("the 304's max-age now applies").isEqualTo("HIT");
  }

  /**
   * A request that may not store (its {@code no-store}, its credentials) is revalidated for its
   * client alone. A 304 to it removed the shared entry, every variant with it: a purge open to
   * any client (probe k12).
   */
  @ParameterizedTest
  @ValueSource(strings = {"Cache-Control=no-store, no-cache", "Authorization=Bearer t"})
  void leavesTheSharedEntryWhenARequestThatMayNotStoreRevalidatesIt(String field) throws Exception {
    h.origin.setDispatcher(new okhttp3.mockwebserver.Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        MockResponse answer = "\"v1\"".equals(request.getHeader("If-None-Match"))
            ? new MockResponse().setResponseCode(304) : h.response("shared");
        return answer.setHeader("Cache-Control", "max-age=100").setHeader("ETag", "\"v1\"");
      }
    });
    h.get("/s");
    String[] nameValue = field.split("=", 2);
    HttpResponse<String> revalidated = h.get("/s", nameValue[0], nameValue[1], "Pragma", "no-cache");
    assertThat(revalidated.body()).isEqualTo("shared");
    assertThat(h.origin.getRequestCount()).as("the revalidation reached the origin").isEqualTo(2);
    assertThat(verdict(h.get("/s"))).as("the next client").isEqualTo("HIT");
    assertThat(h.origin.getRequestCount()).isEqualTo(2);
  }

  @Test
  void replacesEntryWhenRevalidationReturnsNewContent() throws Exception {
    h.origin.enqueue(h.response("old").setHeader("Cache-Control", "max-age=1").setHeader("ETag", "\"a\""));
    h.origin.enqueue(h.response("new").setHeader("Cache-Control", "max-age=100").setHeader("ETag", "\"b\""));
    h.get("/r");
    h.advance(Duration.ofSeconds(5));
    assertThat(h.get("/r").body()).isEqualTo("new");
    assertThat(verdict(h.get("/r"))).isEqualTo("HIT");
    assertThat(h.get("/r").body()).isEqualTo("new");
  }

  @Test
  void answersClientsConditionalRequestWith304FromFreshEntry() throws Exception {
    h.origin.enqueue(h.response("content").setHeader("Cache-Control", "max-age=100").setHeader("ETag", "W/\"x\""));
    h.get("/c");
    HttpResponse<String> notModified = h.get("/c", "If-None-Match", "\"other\", W/\"x\"");
    assertThat(notModified.statusCode()).isEqualTo(304);
    assertThat(notModified.headers().firstValue("ETag")).hasValue("W/\"x\"");
    assertThat(h.get("/c", "If-None-Match", "\"other\"").statusCode()).isEqualTo(200);
    assertThat(h.origin.getRequestCount()).isEqualTo(1);
  }

  /** A stored response without a body is a whole response: its head goes out on every hit. */
  @Test
  void servesAStoredResponseWithAnEmptyBody() throws Exception {
    h.origin.setDispatcher(new okhttp3.mockwebserver.Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        MockResponse response = h.response("").setHeader("Cache-Control", "max-age=60");
        return request.getPath().equals("/moved") ? response.setResponseCode(301).setHeader("Location", "/z") : response;
      }
    });
    for (String path : new String[] {"/empty", "/moved"}) {
      assertThat(verdict(h.get(path))).isEqualTo("MISS");
      try (java.net.Socket raw = new java.net.Socket("127.0.0.1", h.proxy.port())) {
        raw.setSoTimeout(5000);
        raw.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + h.proxy.port()
            + "\r\nConnection: close\r\n\r\n")
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        String answer = new String(raw.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        assertThat(answer).as(path).startsWith(path.equals("/empty") ? "HTTP/1.1 200" : "HTTP/1.1 301")
            .contains("X-Cache: HIT", "Content-Length: 0");
      }
    }
    assertThat(h.origin.getRequestCount()).isEqualTo(2);
  }

  /** RFC 9110 §13.2.1: preconditions count only where the response would be a 2xx. */
  @Test
  void answers304OnlyFromAStored2xx() throws Exception {
    h.origin.enqueue(h.response("gone").setResponseCode(404).setHeader("Cache-Control", "max-age=60")
        .setHeader("ETag", "\"n\"").setHeader("Last-Modified", "Wed, 01 Oct 2025 00:00:00 GMT"));
    h.get("/missing");
    for (String[] condition : new String[][] {{"If-None-Match", "\"n\""},
        {"If-Modified-Since", "Thu, 01 Jan 2026 00:00:00 GMT"}}) {
      HttpResponse<String> answer = h.get("/missing", condition);
      assertThat(answer.statusCode()).as(condition[0]).isEqualTo(404);
      assertThat(answer.body()).isEqualTo("gone");
      assertThat(verdict(answer)).isEqualTo("HIT");
    }
    assertThat(h.origin.getRequestCount()).isEqualTo(1);
  }

  /** RFC 9111 §4.3.4: a 304 whose strong ETag is not the stored one's updates nothing. */
  @Test
  void fetchesAgainWhenA304NamesAnotherRepresentation() throws Exception {
    h.origin.enqueue(h.response("AAAA").setHeader("Cache-Control", "max-age=1").setHeader("ETag", "\"a\""));
    h.origin.enqueue(new MockResponse().setResponseCode(304).setHeader("ETag", "\"b\"")
        .setHeader("Cache-Control", "max-age=60"));
    h.origin.enqueue(h.response("BBBB").setHeader("Cache-Control", "max-age=60").setHeader("ETag", "\"b\""));
    h.get("/tag");
    h.advance(Duration.ofSeconds(5));
    HttpResponse<String> answer = h.get("/tag");
    assertThat(answer.body()).isEqualTo("BBBB");
    assertThat(answer.headers().firstValue("ETag")).hasValue("\"b\"");
    h.origin.takeRequest();
    assertThat(h.origin.takeRequest().getHeader("If-None-Match")).isEqualTo("\"a\"");
    assertThat(h.origin.takeRequest().getHeader("If-None-Match")).as("asked again without it").isNull();
    HttpResponse<String> stored = h.get("/tag");
    assertThat(verdict(stored)).isEqualTo("HIT");
    assertThat(stored.body()).isEqualTo("BBBB");
  }

  /**
   * A 304 without Date or Age was generated at the origin now: the response's age starts again
   * from it, not from the stored Date and Age (RFC 9110 §6.6.1, RFC 9111 §5.1).
   */
  @Test
  void restartsTheAgeOfAResponseA304Validated() throws Exception {
    h.origin.enqueue(h.response("body").setHeader("Cache-Control", "max-age=10").setHeader("Age", "5")
        .setHeader("ETag", "\"d\""));
    h.origin.enqueue(new MockResponse().setResponseCode(304).setHeader("ETag", "\"d\"")
        .setHeader("Cache-Control", "max-age=10"));
    h.get("/age");
    h.advance(Duration.ofSeconds(8));
    HttpResponse<String> revalidated = h.get("/age");
    assertThat(verdict(revalidated)).isEqualTo("REVALIDATED");
    assertThat(revalidated.headers().firstValue("Age")).hasValue("0");
    h.advance(Duration.ofSeconds(6));
    HttpResponse<String> hit = h.get("/age");
    assertThat(verdict(hit)).isEqualTo("HIT");
    assertThat(hit.headers().firstValue("Age")).hasValue("6");
    assertThat(h.origin.getRequestCount()).isEqualTo(2);
  }

  /** A relative Location (RFC 9110 §10.2.2) names a URL of the same origin, invalidated too. */
  @Test
  void invalidatesARelativeLocationAfterUnsafeRequest() throws Exception {
    h.origin.enqueue(h.response("target v1").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("created").setResponseCode(201).setHeader("Location", "target"));
    h.origin.enqueue(h.response("target v2").setHeader("Cache-Control", "max-age=100"));
    h.get("/i/target");
    h.send(HttpRequest.newBuilder(h.uri("/i/poster")).POST(HttpRequest.BodyPublishers.ofString("{}")));
    assertThat(h.get("/i/target").body()).isEqualTo("target v2");
  }

  /** The Location is compared in the form keys take: a reverse proxy's paths are normalised. */
  @Test
  void invalidatesALocationSpelledAnotherWay() throws Exception {
    h.origin.enqueue(h.response("v1").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("created").setResponseCode(201).setHeader("Location", "/a/./%7Eb"));
    h.origin.enqueue(h.response("v2").setHeader("Cache-Control", "max-age=100"));
    h.get("/a/~b");
    h.send(HttpRequest.newBuilder(h.uri("/a")).POST(HttpRequest.BodyPublishers.ofString("{}")));
    assertThat(h.get("/a/~b").body()).isEqualTo("v2");
  }

  /**
   * Dot-segments that climb above the root are dropped when a reference is resolved (RFC 3986
   * §5.2.4): {@code ../c} from {@code /w} names {@code /c} (probe k24; {@code URI.resolve}
   * kept {@code /../c}, which named nothing).
   */
  @Test
  void invalidatesALocationWhoseDotSegmentsClimbAboveTheRoot() throws Exception {
    String[][] cases = {{"/w", "Content-Location", "../c"}, {"/w2", "Location", "../../c2"},
        {"/w3", "Content-Location", "/../c3"},
        {"/d/w4", "Location", "http://" + h.uri("/").getRawAuthority() + "/d/../../c4"}};
    for (String[] c : cases) {
      String stored = "/c" + c[0].replaceAll("\\D", "");
      h.origin.enqueue(h.response("v1").setHeader("Cache-Control", "max-age=100"));
      h.origin.enqueue(h.response("done").setHeader(c[1], c[2]));
      h.origin.enqueue(h.response("v2").setHeader("Cache-Control", "max-age=100"));
      h.get(stored);
      h.send(HttpRequest.newBuilder(h.uri(c[0])).PUT(HttpRequest.BodyPublishers.ofString("x")));
      assertThat(h.get(stored).body()).as("%s: %s", c[1], c[2]).isEqualTo("v2");
    }
  }

  /**
   * A Location may name a fragment (RFC 9110 §10.2.2), which is no part of a cache key: the URL
   * with it never existed to be removed, and the page stayed (probe k12).
   */
  @Test
  void invalidatesALocationThatNamesAFragment() throws Exception {
    h.origin.enqueue(h.response("thread v1").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("").setResponseCode(303).setHeader("Location", "/thread/7#post-1"));
    h.origin.enqueue(h.response("thread v2").setHeader("Cache-Control", "max-age=100"));
    h.get("/thread/7");
    h.send(HttpRequest.newBuilder(h.uri("/reply")).POST(HttpRequest.BodyPublishers.ofString("text")));
    assertThat(h.get("/thread/7").body()).isEqualTo("thread v2");
  }

  @Test
  void keepsSeparateVariantsPerVaryValue() throws Exception {
    h.origin.enqueue(h.response("english").setHeader("Cache-Control", "max-age=100").setHeader("Vary", "Accept-Language"));
    h.origin.enqueue(h.response("french").setHeader("Cache-Control", "max-age=100").setHeader("Vary", "Accept-Language"));
    assertThat(h.get("/page", "Accept-Language", "en").body()).isEqualTo("english");
    assertThat(h.get("/page", "Accept-Language", "fr").body()).isEqualTo("french");
    assertThat(h.get("/page", "Accept-Language", "en").body()).isEqualTo("english");
    assertThat(h.get("/page", "Accept-Language", "fr").body()).isEqualTo("french");
    assertThat(h.origin.getRequestCount()).isEqualTo(2);
    assertThat(h.cache().stats().entries()).isEqualTo(2);
  }

  @Test
  void neverMatchesVaryStar() throws Exception {
    h.origin.enqueue(h.response("a").setHeader("Cache-Control", "max-age=100").setHeader("Vary", "*"));
    h.origin.enqueue(h.response("b").setHeader("Cache-Control", "max-age=100").setHeader("Vary", "*"));
    h.get("/star");
    assertThat(h.get("/star").body()).isEqualTo("b");
  }

  @Test
  void invalidatesTargetAndLocationAfterUnsafeRequest() throws Exception {
    h.origin.enqueue(h.response("list v1").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("item v1").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("created").setResponseCode(201).setHeader("Location", "/items/1"));
    h.origin.enqueue(h.response("list v2").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("item v2").setHeader("Cache-Control", "max-age=100"));
    h.get("/items");
    h.get("/items/1");
    HttpResponse<String> post = h.send(HttpRequest.newBuilder(h.uri("/items"))
        .POST(HttpRequest.BodyPublishers.ofString("{}")));
    assertThat(verdict(post)).isEqualTo("BYPASS");
    assertThat(h.get("/items").body()).isEqualTo("list v2");
    assertThat(h.get("/items/1").body()).isEqualTo("item v2");
  }

  @Test
  void answersHeadFromStoredGet() throws Exception {
    h.origin.enqueue(h.response("twelve bytes").setHeader("Cache-Control", "max-age=100"));
    h.get("/head");
    HttpResponse<String> head = h.send(HttpRequest.newBuilder(h.uri("/head"))
        .method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertThat(verdict(head)).isEqualTo("HIT");
    assertThat(head.headers().firstValue("Content-Length")).hasValue("12");
    assertThat(h.origin.getRequestCount()).isEqualTo(1);
  }

  /** A GET stored from a chunked response has a length: a HEAD hit sends it (it sent none). */
  @Test
  void answersHeadFromAStoredChunkedGetWithItsLength() throws Exception {
    h.origin.enqueue(h.response("").setChunkedBody("twelve bytes", 5).setHeader("Cache-Control", "max-age=100"));
    assertThat(h.get("/chunked").body()).isEqualTo("twelve bytes");
    HttpResponse<String> head = h.send(HttpRequest.newBuilder(h.uri("/chunked"))
        .method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertThat(verdict(head)).isEqualTo("HIT");
    assertThat(head.headers().firstValue("Content-Length")).hasValue("12");
    assertThat(h.origin.getRequestCount()).isEqualTo(1);
  }

  /**
   * RFC 9111 §4.3.5: a 200 to a forwarded HEAD freshens the stored GET it validates, and one
   * with another validator makes it go (both were left as they were).
   */
  @Test
  void updatesOrDropsTheStoredGetFromAHeadResponse() throws Exception {
    h.origin.enqueue(h.response("body").setHeader("Cache-Control", "max-age=1").setHeader("ETag", "\"hf\""));
    h.get("/head-fresh");
    h.advance(Duration.ofSeconds(5));
    // A HEAD's Content-Length is the GET's.
    h.origin.enqueue(h.response("").setHeader("Cache-Control", "max-age=100").setHeader("ETag", "\"hf\"")
        .setHeader("X-Fresh", "1").setHeader("Content-Length", "4"));
    h.send(HttpRequest.newBuilder(h.uri("/head-fresh")).method("HEAD", HttpRequest.BodyPublishers.noBody()));
    HttpResponse<String> freshened = h.get("/head-fresh");
    assertThat(verdict(freshened)).isEqualTo("HIT");
    assertThat(freshened.body()).isEqualTo("body");
    assertThat(freshened.headers().firstValue("X-Fresh")).hasValue("1");

    h.origin.enqueue(h.response("v1").setHeader("Cache-Control", "max-age=100").setHeader("ETag", "\"v1\""));
    h.origin.enqueue(h.response("").setHeader("Cache-Control", "max-age=100").setHeader("ETag", "\"v2\""));
    h.origin.enqueue(h.response("v2").setHeader("Cache-Control", "max-age=100").setHeader("ETag", "\"v2\""));
    h.get("/head-changed");
    h.send(HttpRequest.newBuilder(h.uri("/head-changed")).header("Cache-Control", "no-cache")
        .method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertThat(h.get("/head-changed").body()).as("the stored v1 went").isEqualTo("v2");
    assertThat(h.origin.getRequestCount()).isEqualTo(5);
  }

  @Test
  void purgesOneUrlOrAll() throws Exception {
    h.origin.enqueue(h.response("1").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("2").setHeader("Cache-Control", "max-age=100"));
    h.get("/p");
    h.cache().purge("http://127.0.0.1:" + h.proxy.port() + "/p");
    assertThat(h.get("/p").body()).isEqualTo("2");
    h.cache().purgeAll();
    assertThat(h.cache().stats().entries()).isZero();
  }
}
