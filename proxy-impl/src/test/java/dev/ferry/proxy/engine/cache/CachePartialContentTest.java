package dev.ferry.proxy.engine.cache;

import static dev.ferry.proxy.engine.cache.CacheHarness.verdict;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.engine.ProxyTestExtension;
import java.net.http.HttpResponse;
import okhttp3.mockwebserver.MockResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Partial content (RFC 9111 §3.3, §3.4) and several ranges at once (RFC 9110 §14.6). */
class CachePartialContentTest {
  private static final String BODY = "0123456789abcdefghij";

  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private CacheHarness h;

  @BeforeEach
  void start() throws Exception {
    h = new CacheHarness(ferry);
  }

  private MockResponse part(int first, int last) {
    return h.response(BODY.substring(first, last + 1)).setResponseCode(206)
        .setHeader("Cache-Control", "max-age=100").setHeader("ETag", "\"whole\"")
        .setHeader("Content-Range", "bytes " + first + "-" + last + "/" + BODY.length());
  }

  @Test
  void answersCoveredRangesFromStoredPartialResponse() throws Exception {
    h.origin.enqueue(part(0, 9));
    h.get("/video", "Range", "bytes=0-9");
    HttpResponse<String> inside = h.get("/video", "Range", "bytes=2-4");
    assertThat(inside.statusCode()).isEqualTo(206);
    assertThat(verdict(inside)).isEqualTo("HIT");
    assertThat(inside.body()).isEqualTo("234");
    assertThat(inside.headers().firstValue("Content-Range")).hasValue("bytes 2-4/20");
    assertThat(h.origin.getRequestCount()).isEqualTo(1);
  }

  /**
   * RFC 9110 §13.2.2: a client's matching If-None-Match is judged before its Range, for a stored
   * part as for a whole entry: 304, where it got the bytes (probe k12).
   */
  @Test
  void answersAClientsMatchingValidatorWith304FromAPartialEntry() throws Exception {
    h.origin.enqueue(part(0, 9));
    h.get("/video", "Range", "bytes=0-9");
    HttpResponse<String> notModified = h.get("/video", "Range", "bytes=2-4", "If-None-Match", "\"whole\"");
    assertThat(notModified.statusCode()).isEqualTo(304);
    assertThat(notModified.headers().firstValue("ETag")).hasValue("\"whole\"");
    assertThat(h.get("/video", "Range", "bytes=2-4", "If-None-Match", "\"other\"").statusCode()).isEqualTo(206);
    assertThat(h.origin.getRequestCount()).isEqualTo(1);
  }

  @Test
  void forwardsRangesAndWholeRequestsThePartialEntryCannotAnswer() throws Exception {
    h.origin.enqueue(part(0, 9));
    h.origin.enqueue(part(15, 19));
    h.origin.enqueue(h.response(BODY).setHeader("Cache-Control", "max-age=100").setHeader("ETag", "\"whole\""));
    h.get("/clip", "Range", "bytes=0-9");
    HttpResponse<String> outside = h.get("/clip", "Range", "bytes=15-19");
    assertThat(verdict(outside)).isEqualTo("MISS");
    assertThat(outside.body()).isEqualTo("fghij");
    assertThat(h.origin.takeRequest().getHeader("Range")).isEqualTo("bytes=0-9");
    assertThat(h.origin.takeRequest().getHeader("Range")).isEqualTo("bytes=15-19");
    HttpResponse<String> whole = h.get("/clip");
    assertThat(whole.statusCode()).isEqualTo(200);
    assertThat(whole.body()).isEqualTo(BODY);
  }

  @Test
  void combinesPartsIntoCompleteResponse() throws Exception {
    h.origin.enqueue(part(0, 9));
    h.origin.enqueue(part(8, 19));
    h.get("/combined", "Range", "bytes=0-9");
    h.get("/combined", "Range", "bytes=8-19");
    HttpResponse<String> whole = h.get("/combined");
    assertThat(whole.statusCode()).isEqualTo(200);
    assertThat(verdict(whole)).isEqualTo("HIT");
    assertThat(whole.body()).isEqualTo(BODY);
    assertThat(whole.headers().firstValue("Content-Range")).isEmpty();
    assertThat(h.origin.getRequestCount()).isEqualTo(2);
  }

  /**
   * Parts combine only up to {@code maxEntryBytes}, the limit of every stored body. Before, a
   * client fetching a large file in pieces built an entry of any size (3 MiB with a 1 MiB
   * limit), which then answered whole requests and pushed the rest out of the cache.
   */
  @Test
  void combinesPartsNoLargerThanMaxEntryBytes() throws Exception {
    h = new CacheHarness(ferry, dev.ferry.proxy.CacheSpec.inMemory().maxEntryBytes(15));
    h.origin.enqueue(part(0, 9));
    h.origin.enqueue(part(8, 19));
    h.origin.enqueue(h.response(BODY).setHeader("Cache-Control", "max-age=100"));
    h.get("/large", "Range", "bytes=0-9");
    h.get("/large", "Range", "bytes=8-19");
    HttpResponse<String> whole = h.get("/large");
    assertThat(verdict(whole)).isEqualTo("MISS");
    assertThat(whole.body()).isEqualTo(BODY);
    assertThat(h.origin.getRequestCount()).isEqualTo(3);
  }

  @Test
  void keepsPartsWithDifferentValidatorsApart() throws Exception {
    h.origin.enqueue(part(0, 9));
    h.origin.enqueue(part(10, 19).setHeader("ETag", "\"changed\""));
    h.origin.enqueue(h.response(BODY).setHeader("Cache-Control", "max-age=100"));
    h.get("/changed", "Range", "bytes=0-9");
    h.get("/changed", "Range", "bytes=10-19");
    assertThat(verdict(h.get("/changed"))).as("parts of two versions never combine").isEqualTo("MISS");
  }

  @Test
  void answersSeveralRangesAsMultipartByteranges() throws Exception {
    h.origin.enqueue(h.response(BODY).setHeader("Cache-Control", "max-age=100").setHeader("Content-Type", "text/plain"));
    h.get("/multi");
    HttpResponse<String> multi = h.get("/multi", "Range", "bytes=0-1, 5-6, -2");
    assertThat(multi.statusCode()).isEqualTo(206);
    String type = multi.headers().firstValue("Content-Type").orElseThrow();
    assertThat(type).startsWith("multipart/byteranges; boundary=");
    String boundary = type.substring(type.indexOf('=') + 1);
    assertThat(multi.body()).isEqualTo(
        "--" + boundary + "\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/20\r\n\r\n01\r\n"
        + "--" + boundary + "\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-6/20\r\n\r\n56\r\n"
        + "--" + boundary + "\r\nContent-Type: text/plain\r\nContent-Range: bytes 18-19/20\r\n\r\nij\r\n"
        + "--" + boundary + "--\r\n");
    assertThat(multi.headers().firstValue("Content-Range")).isEmpty();
    HttpResponse<String> oneSatisfiable = h.get("/multi", "Range", "bytes=3-3, 50-60");
    assertThat(oneSatisfiable.body()).isEqualTo("3");
    assertThat(oneSatisfiable.headers().firstValue("Content-Range")).hasValue("bytes 3-3/20");
    assertThat(h.origin.getRequestCount()).isEqualTo(1);
  }
}
