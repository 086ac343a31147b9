package dev.ferry.proxy.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.engine.Await;
import dev.ferry.proxy.engine.ProxyTestExtension;
import dev.ferry.proxy.engine.http1.HttpDates;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** RFC 9111 §4.2: freshness from the response, and the request directives that bend it. */
class CacheFreshnessTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private CacheHarness h;

  @BeforeEach
  void start() throws Exception {
    h = new CacheHarness(ferry);
  }

  private String cacheStatus(HttpResponse<String> response) {
    return response.headers().firstValue("X-Cache").orElse("none");
  }

  @Test
  void servesFreshResponseWithAgeAndWithoutTheOrigin() throws Exception {
    h.origin.enqueue(h.response("fresh").setHeader("Cache-Control", "max-age=60"));
    assertThat(cacheStatus(h.get("/a"))).isEqualTo("MISS");
    h.advance(Duration.ofSeconds(10));
    HttpResponse<String> hit = h.get("/a");
    assertThat(cacheStatus(hit)).isEqualTo("HIT");
    assertThat(hit.body()).isEqualTo("fresh");
    assertThat(hit.headers().firstValue("Age")).hasValue("10");
    assertThat(h.origin.getRequestCount()).isEqualTo(1);
    assertThat(h.cache().stats().hits()).isEqualTo(1);
    assertThat(h.cache().stats().misses()).isEqualTo(1);
  }

  @Test
  void refetchesOnceMaxAgeHasPassed() throws Exception {
    h.origin.enqueue(h.response("v1").setHeader("Cache-Control", "max-age=60"));
    h.origin.enqueue(h.response("v2").setHeader("Cache-Control", "max-age=60"));
    h.get("/a");
    h.advance(Duration.ofSeconds(61));
    HttpResponse<String> second = h.get("/a");
    assertThat(second.body()).isEqualTo("v2");
    assertThat(cacheStatus(second)).isEqualTo("MISS");
  }

  /** §5.2 allows no whitespace around '=': such a max-age gives no freshness (§4.2.1). */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"max-age =100", "max-age= 100"})
  void ignoresMaxAgeWithWhitespaceAroundEquals(String cacheControl) throws Exception {
    storeFirstOfTwoVersions("/spaced", cacheControl);
    h.advance(Duration.ofSeconds(1));
    HttpResponse<String> second = h.get("/spaced");
    assertThat(second.body()).isEqualTo("v2");
    assertThat(h.origin.getRequestCount()).isEqualTo(2);
  }

  /**
   * RFC 9111 §1.2.2: only a delta-seconds too large to represent is taken as 2^31; leading zeros
   * do not make one so. Before, any value of more than 10 digits was 2^31 seconds: fresh for 68
   * years from max-age or s-maxage, or stale at once from Age.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"max-age=000000000010", "s-maxage=0000000000010"})
  void readsDeltaSecondsWithLeadingZerosByTheirValue(String directive) throws Exception {
    storeFirstOfTwoVersions("/z", directive);
    h.advance(Duration.ofSeconds(5));
    assertThat(cacheStatus(h.get("/z"))).isEqualTo("HIT");
    h.advance(Duration.ofSeconds(6));
    assertThat(h.get("/z").body()).isEqualTo("v2");
  }

  /** The origin answers {@code path} with v1, then v2, both with {@code cacheControl}; v1 is fetched. */
  private void storeFirstOfTwoVersions(String path, String cacheControl) throws Exception {
    h.origin.enqueue(h.response("v1").setHeader("Cache-Control", cacheControl));
    h.origin.enqueue(h.response("v2").setHeader("Cache-Control", cacheControl));
    h.get(path);
  }

  @Test
  void readsAgeAndMaxStaleWithLeadingZerosByTheirValue() throws Exception {
    h.origin.enqueue(h.response("aged").setHeader("Cache-Control", "max-age=60").setHeader("Age", "00000000005"));
    h.origin.enqueue(h.response("again").setHeader("Cache-Control", "max-age=60"));
    h.get("/age");
    HttpResponse<String> hit = h.get("/age");
    assertThat(cacheStatus(hit)).isEqualTo("HIT");
    assertThat(hit.headers().firstValue("Age")).hasValue("5");
    h.advance(Duration.ofSeconds(57));
    assertThat(cacheStatus(h.get("/age", "Cache-Control", "max-stale=000000000001"))).isEqualTo("MISS");
  }

  /**
   * RFC 9111 §1.2.2: an age past the greatest delta-seconds is sent as 2^31 (2147483648); it kept
   * counting past it (probe k27).
   */
  @Test
  void capsTheAgeItSendsAtTwoToTheThirtyFirst() throws Exception {
    h.origin.enqueue(h.response("ancient").setHeader("Cache-Control", "max-age=60").setHeader("Age", "2147483640"));
    h.get("/ancient");
    h.advance(Duration.ofSeconds(100));
    HttpResponse<String> stale = h.get("/ancient", "Cache-Control", "max-stale");
    assertThat(stale.body()).isEqualTo("ancient");
    assertThat(stale.headers().firstValue("Age")).hasValue("2147483648");
    assertThat(h.origin.getRequestCount()).isEqualTo(1);
  }

  @Test
  void prefersSharedMaxAgeOverMaxAge() throws Exception {
    h.origin.enqueue(h.response("shared").setHeader("Cache-Control", "max-age=1, s-maxage=100"));
    h.get("/s");
    h.advance(Duration.ofSeconds(50));
    assertThat(cacheStatus(h.get("/s"))).isEqualTo("HIT");
  }

  @Test
  void computesFreshnessFromExpiresMinusDate() throws Exception {
    h.origin.enqueue(h.response("expires").setHeader("Expires",
        HttpDates.format(h.clock.instant().plusSeconds(30))));
    h.get("/e");
    h.advance(Duration.ofSeconds(20));
    assertThat(cacheStatus(h.get("/e"))).isEqualTo("HIT");
  }

  @Test
  void treatsInvalidExpiresAsExpired() throws Exception {
    h.origin.enqueue(h.response("x").setHeader("Expires", "0"));
    h.origin.enqueue(h.response("y").setHeader("Expires", "0"));
    h.get("/i");
    assertThat(h.get("/i").body()).isEqualTo("y");
  }

  @Test
  void usesTenPercentHeuristicFromLastModified() throws Exception {
    h.origin.enqueue(h.response("heuristic").setHeader("Last-Modified",
        HttpDates.format(h.clock.instant().minusSeconds(1000))));
    h.get("/h");
    h.advance(Duration.ofSeconds(90));
    assertThat(cacheStatus(h.get("/h"))).isEqualTo("HIT");
  }

  @Test
  void neverStoresNoStorePrivateOrAuthorizedResponses() throws Exception {
    h.origin.enqueue(h.response("a").setHeader("Cache-Control", "no-store, max-age=60"));
    h.origin.enqueue(h.response("b").setHeader("Cache-Control", "no-store, max-age=60"));
    h.origin.enqueue(h.response("c").setHeader("Cache-Control", "private, max-age=60"));
    h.origin.enqueue(h.response("d").setHeader("Cache-Control", "private, max-age=60"));
    h.origin.enqueue(h.response("e").setHeader("Cache-Control", "max-age=60"));
    h.origin.enqueue(h.response("f").setHeader("Cache-Control", "max-age=60"));
    h.get("/ns");
    assertThat(h.get("/ns").body()).isEqualTo("b");
    h.get("/p");
    assertThat(h.get("/p").body()).isEqualTo("d");
    h.get("/auth", "Authorization", "Bearer x");
    assertThat(h.get("/auth", "Authorization", "Bearer x").body()).isEqualTo("f");
  }

  @Test
  void storesAuthorizedResponseMarkedPublic() throws Exception {
    h.origin.enqueue(h.response("shared").setHeader("Cache-Control", "public, max-age=60"));
    h.get("/pub", "Authorization", "Bearer x");
    assertThat(cacheStatus(h.get("/pub", "Authorization", "Bearer x"))).isEqualTo("HIT");
  }

  @Test
  void honoursRequestMaxAgeAndMinFresh() throws Exception {
    h.origin.enqueue(h.response("v1").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("v2").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("v3").setHeader("Cache-Control", "max-age=100"));
    h.get("/r");
    h.advance(Duration.ofSeconds(30));
    assertThat(h.get("/r", "Cache-Control", "max-age=10").body()).isEqualTo("v2");
    h.advance(Duration.ofSeconds(80));
    assertThat(h.get("/r", "Cache-Control", "min-fresh=30").body()).isEqualTo("v3");
  }

  /**
   * A request's max-age=0 (a browser's reload) is not answered with a copy stored a fraction of
   * a second ago: age is counted in whole seconds, and 0.3 s passed for 0 (probe cache F1).
   */
  @Test
  void revalidatesForRequestMaxAgeZeroWithinTheSecondTheResponseWasStored() throws Exception {
    h.origin.enqueue(h.response("v1").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("v2").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("v3").setHeader("Cache-Control", "max-age=100"));
    h.get("/reload");
    h.advance(Duration.ofMillis(300));
    assertThat(h.get("/reload", "Cache-Control", "max-age=0").body()).isEqualTo("v2");
    h.advance(Duration.ofMillis(5300));
    assertThat(h.get("/reload", "Cache-Control", "max-age=5").body()).as("5.3 s old for max-age=5").isEqualTo("v3");
    assertThat(h.get("/reload", "Cache-Control", "max-age=5").body()).as("0 s old").isEqualTo("v3");
  }

  @Test
  void answersOnlyIfCachedWith504WhenAbsent() throws Exception {
    HttpResponse<String> response = h.get("/missing", "Cache-Control", "only-if-cached");
    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(h.origin.getRequestCount()).isZero();
  }

  /**
   * Preconditions only the origin can judge (If-Match, If-Unmodified-Since) are no reason to
   * contact it against only-if-cached: 504. Such requests went to the origin (probe k12).
   */
  @Test
  void answersOnlyIfCachedWith504WhenOnlyTheOriginCouldJudgeTheRequest() throws Exception {
    h.origin.enqueue(h.response("v1").setHeader("Cache-Control", "max-age=100").setHeader("ETag", "\"a\""));
    h.get("/guarded");
    assertThat(h.get("/guarded", "Cache-Control", "only-if-cached", "If-Match", "\"a\"").statusCode()).isEqualTo(504);
    assertThat(h.get("/guarded", "Cache-Control", "only-if-cached",
        "If-Unmodified-Since", "Wed, 01 Oct 2025 00:00:00 GMT").statusCode()).isEqualTo(504);
    assertThat(h.origin.getRequestCount()).isEqualTo(1);
  }

  @Test
  void servesStaleWithinClientMaxStaleUnlessMustRevalidate() throws Exception {
    h.origin.enqueue(h.response("old").setHeader("Cache-Control", "max-age=10"));
    h.origin.enqueue(h.response("strict").setHeader("Cache-Control", "max-age=10, must-revalidate"));
    h.origin.enqueue(h.response("strict-new").setHeader("Cache-Control", "max-age=10, must-revalidate"));
    h.get("/stale");
    h.get("/strict");
    h.advance(Duration.ofSeconds(30));
    HttpResponse<String> stale = h.get("/stale", "Cache-Control", "max-stale=60");
    assertThat(cacheStatus(stale)).isEqualTo("STALE");
    assertThat(stale.body()).isEqualTo("old");
    assertThat(h.get("/strict", "Cache-Control", "max-stale=60").body()).isEqualTo("strict-new");
    assertThat(h.cache().stats().staleServed()).isEqualTo(1);
  }

  /**
   * RFC 9111 §5.2.2.2: a must-revalidate response the cache cannot revalidate (the origin
   * fails) is answered 504, never served stale; it was the upstream failure's 502.
   */
  @Test
  void answers504WhenAMustRevalidateResponseCannotBeRevalidated() throws Exception {
    h.origin.enqueue(h.response("strict").setHeader("Cache-Control", "max-age=10, must-revalidate"));
    h.get("/strict");
    h.advance(Duration.ofSeconds(30));
    h.origin.shutdown(); // the origin is gone: connections to it are refused
    HttpResponse<String> response = h.get("/strict", "Cache-Control", "max-stale=60");
    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(response.body()).doesNotContain("strict").startsWith("Stored response must be revalidated");
    // The access log and metrics say the cache missed, as of any miss (they said nothing, probe k27).
    Await.until(() -> h.summaries.size() == 2, "both exchanges to be reported");
    assertThat(h.summaries.get(1).failure()).hasValue("REVALIDATION_FAILED");
    assertThat(h.summaries.get(1).cache()).hasValue("MISS");
    // A plain miss whose upstream failed too (probe v36: it had no verdict).
    assertThat(h.get("/never-stored").statusCode()).isEqualTo(502);
    Await.until(() -> h.summaries.size() == 3, "the failed miss to be reported");
    assertThat(h.summaries.get(2).cache()).hasValue("MISS");
  }

  @Test
  void revalidatesOnRequestNoCache() throws Exception {
    h.origin.enqueue(h.response("v1").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("v2").setHeader("Cache-Control", "max-age=100"));
    h.get("/nc");
    assertThat(h.get("/nc", "Cache-Control", "no-cache").body()).isEqualTo("v2");
  }
}
