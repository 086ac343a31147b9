package dev.ferry.proxy.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.engine.ProxyTestExtension;
import dev.ferry.proxy.engine.http1.HttpDates;
import java.net.http.HttpResponse;
import java.time.Instant;
import okhttp3.mockwebserver.MockResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Ranges from stored complete responses (RFC 9110 §14) and targeted cache control (RFC 9213). */
class CacheRangeTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @Test
  void answersSingleRangesFromStoredResponse() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(h.response("0123456789").setHeader("Cache-Control", "max-age=100")
        .setHeader("ETag", "\"strong\""));
    h.get("/file");
    HttpResponse<String> middle = h.get("/file", "Range", "bytes=2-5");
    assertThat(middle.statusCode()).isEqualTo(206);
    assertThat(middle.body()).isEqualTo("2345");
    assertThat(middle.headers().firstValue("Content-Range")).hasValue("bytes 2-5/10");
    assertThat(h.get("/file", "Range", "bytes=-3").body()).isEqualTo("789");
    assertThat(h.get("/file", "Range", "bytes=7-").body()).isEqualTo("789");
    assertThat(h.get("/file", "Range", "bytes=8-100").headers().firstValue("Content-Range"))
        .hasValue("bytes 8-9/10");
    HttpResponse<String> unsatisfiable = h.get("/file", "Range", "bytes=10-");
    assertThat(unsatisfiable.statusCode()).isEqualTo(416);
    assertThat(unsatisfiable.headers().firstValue("Content-Range")).hasValue("bytes */10");
    assertThat(h.get("/file", "Range", "bytes=0-1,4-5").headers().firstValue("Content-Type").orElseThrow())
        .as("multiple ranges").startsWith("multipart/byteranges; boundary=");
    assertThat(h.get("/file", "Range", "items=0-1").statusCode()).as("other unit").isEqualTo(200);
    assertThat(h.get("/file", "Range", "bytes=5-2").statusCode()).as("malformed").isEqualTo(200);
    assertThat(h.get("/file", "Range", "bytes=0-0", "If-Range", "\"strong\"").body()).isEqualTo("0");
    assertThat(h.get("/file", "Range", "bytes=0-0", "If-Range", "\"other\"").body()).isEqualTo("0123456789");
    assertThat(h.origin.getRequestCount()).isEqualTo(1);
  }

  /**
   * Overlapping ranges that ask for more than the whole get the whole, once (probe k22:
   * {@code bytes=0-,0-,...} made a hit sixteen times its size, built on the heap); and the
   * cache's own 416 carries no freshness a cache behind it would store it by.
   */
  @Test
  void answersOverlappingRangesWithTheWholeResponseAndA416WithoutFreshness() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(h.response("0123456789").setHeader("Cache-Control", "max-age=100"));
    h.get("/file");
    HttpResponse<String> overlapping = h.get("/file", "Range", "bytes=0-,0-,0-");
    assertThat(overlapping.statusCode()).isEqualTo(200);
    assertThat(overlapping.body()).isEqualTo("0123456789");
    assertThat(h.get("/file", "Range", "bytes=0-5,3-8").statusCode()).as("overlapping").isEqualTo(200);
    assertThat(h.get("/file", "Range", "bytes=0-1,4-5").statusCode()).as("disjoint").isEqualTo(206);
    HttpResponse<String> unsatisfiable = h.get("/file", "Range", "bytes=10-");
    assertThat(unsatisfiable.statusCode()).isEqualTo(416);
    assertThat(unsatisfiable.headers().firstValue("Cache-Control")).isEmpty();
    assertThat(unsatisfiable.headers().firstValue("Expires")).isEmpty();
    assertThat(h.origin.getRequestCount()).isEqualTo(1);
  }

  /**
   * A 416 answers the Range it was asked with, which is no part of the cache key: stored with
   * its freshness, it answered every later request for the URL, ranged or not (probe k22).
   */
  @Test
  void neverStoresA416() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(new MockResponse().setResponseCode(416).setHeader("Cache-Control", "max-age=600")
        .setHeader("Content-Range", "bytes */10"));
    h.origin.enqueue(h.response("0123456789").setHeader("Cache-Control", "max-age=100"));
    assertThat(h.get("/file", "Range", "bytes=100-").statusCode()).isEqualTo(416);
    HttpResponse<String> plain = h.get("/file");
    assertThat(plain.statusCode()).isEqualTo(200);
    assertThat(plain.body()).isEqualTo("0123456789");
    assertThat(h.origin.getRequestCount()).isEqualTo(2);
  }

  /**
   * RFC 9110 §13.1.5 and §8.8.2.2: an If-Range date matches only a strong Last-Modified, one at
   * least a second before the stored Date. Before, a Last-Modified equal to the Date matched, and
   * a download resumed across a change within that second could mix two versions.
   */
  @Test
  void honoursAnIfRangeDateOnlyForAStrongLastModified() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    Instant now = Instant.now();
    String date = HttpDates.format(now);
    String hourAgo = HttpDates.format(now.minusSeconds(3600));
    h.origin.enqueue(h.response("0123456789").setHeader("Cache-Control", "max-age=100")
        .setHeader("Date", date).setHeader("Last-Modified", date));
    h.origin.enqueue(h.response("0123456789").setHeader("Cache-Control", "max-age=100")
        .setHeader("Date", date).setHeader("Last-Modified", hourAgo));
    h.get("/weak");
    h.get("/strong");

    HttpResponse<String> weak = h.get("/weak", "Range", "bytes=0-1", "If-Range", date);
    HttpResponse<String> strong = h.get("/strong", "Range", "bytes=0-1", "If-Range", hourAgo);

    assertThat(weak.statusCode()).isEqualTo(200);
    assertThat(weak.body()).isEqualTo("0123456789");
    assertThat(strong.statusCode()).isEqualTo(206);
    assertThat(strong.body()).isEqualTo("01");
    assertThat(h.origin.getRequestCount()).isEqualTo(2);
  }

  /**
   * RFC 9111 §4.3.2: a cache must not evaluate preconditions that only an origin server can
   * (If-Match, If-Unmodified-Since); the request goes there. Before, a stored response answered it
   * 200 whatever the precondition said.
   */
  @Test
  void forwardsPreconditionsOnlyTheOriginCanEvaluate() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(h.response("stored").setHeader("Cache-Control", "max-age=100")
        .setHeader("ETag", "\"a\"").setHeader("Last-Modified", HttpDates.format(Instant.now().minusSeconds(60))));
    h.origin.enqueue(new MockResponse().setResponseCode(412));
    h.origin.enqueue(new MockResponse().setResponseCode(412));
    h.get("/doc");

    assertThat(h.get("/doc", "If-Match", "\"zzz\"").statusCode()).isEqualTo(412);
    assertThat(h.get("/doc", "If-Unmodified-Since", HttpDates.format(Instant.now().minusSeconds(3600))).statusCode())
        .isEqualTo(412);
    assertThat(h.origin.getRequestCount()).isEqualTo(3);
    HttpResponse<String> plain = h.get("/doc");
    assertThat(plain.body()).as("the stored response stays").isEqualTo("stored");
    assertThat(plain.headers().firstValue("X-Cache")).hasValue("HIT");
  }

  @Test
  void letsTargetedFieldOverrideCacheControlInReverseMode() throws Exception {
    CacheHarness h = new CacheHarness(ferry, CacheSpec.inMemory().hideTargetedField());
    h.origin.enqueue(h.response("for the cdn").setHeader("Cache-Control", "no-store")
        .setHeader("CDN-Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("never cached").setHeader("Cache-Control", "max-age=100")
        .setHeader("CDN-Cache-Control", "no-store"));
    h.origin.enqueue(h.response("fetched again").setHeader("Cache-Control", "max-age=100")
        .setHeader("CDN-Cache-Control", "no-store"));
    HttpResponse<String> first = h.get("/cdn");
    assertThat(first.headers().firstValue("CDN-Cache-Control")).as("hidden from clients").isEmpty();
    assertThat(first.headers().firstValue("Cache-Control")).hasValue("no-store");
    assertThat(h.get("/cdn").headers().firstValue("X-Cache")).hasValue("HIT");
    h.get("/origin-cc");
    assertThat(h.get("/origin-cc").body()).isEqualTo("fetched again");
  }
}
