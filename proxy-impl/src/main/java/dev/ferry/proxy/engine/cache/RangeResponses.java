package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.HttpDates;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Answers byte ranges (RFC 9110 §14) from a stored complete response or from a partial entry
 * that covers them: one range as a 206 with Content-Range, several as
 * {@code multipart/byteranges} (§14.6), none satisfiable as 416. Other units, a malformed Range,
 * a failed If-Range, more than {@link #MAX_RANGES} ranges, or ranges that add up to more than
 * the whole (overlaps; defences against many-small-ranges and overlap abuse, §14.2 and §17.15)
 * fall back to the whole response, which the RFC allows.
 */
final class RangeResponses {
  static final int MAX_RANGES = 16;

  private RangeResponses() {}

  /** For a complete stored 200: the partial answer, or empty to serve the whole response. */
  static Optional<Response> answer(Headers request, CacheEntry stored, Headers served) {
    Optional<String> range = request.first("Range");
    if (range.isEmpty() || stored.status() != 200 || !ifRangeMatches(request, stored.headers())) {
      return Optional.empty();
    }
    return respond(range.get(), stored, 0, stored.bodyLength(), served);
  }

  /**
   * For a partial entry: the answer when the entry holds every requested byte, else empty, and
   * the request goes upstream.
   */
  static Optional<Response> answerFromPartial(Headers request, CacheEntry partial, Headers served) {
    Optional<String> range = request.first("Range");
    if (range.isEmpty() || !ifRangeMatches(request, partial.headers())) {
      return Optional.empty();
    }
    PartialContent.ContentRange held = PartialContent.held(partial);
    List<ByteRanges.Span> spans = ByteRanges.parse(range.get(), held.complete());
    if (spans == null || spans.isEmpty()
        || spans.stream().anyMatch(span -> span.first() < held.first() || span.last() > held.last())) {
      return Optional.empty();
    }
    return respond(range.get(), partial, held.first(), held.complete(), served);
  }

  private static Optional<Response> respond(String range, CacheEntry stored, long offset, long length,
      Headers served) {
    List<ByteRanges.Span> spans = ByteRanges.parse(range, length);
    if (spans == null || spans.size() > MAX_RANGES || covered(spans) > length) {
      // Overlapping ranges ask for more than the whole: "bytes=0-,0-,..." made a hit 16 times
      // its size, built on the heap (probe k22). The whole response, once, as nginx answers.
      return Optional.empty();
    }
    Headers base = served.without("Content-Length").without("Content-Range");
    if (spans.isEmpty()) {
      // The stored freshness is the representation's, not this answer's: a cache behind would
      // store the 416 and answer every request with it.
      return Optional.of(Response.builder().status(416)
          .headers(base.without("Content-Type").without("Cache-Control").without("Expires")
              .plus("Content-Range", "bytes */" + length)).build());
    }
    if (spans.size() == 1) {
      ByteRanges.Span span = spans.get(0);
      return Optional.of(Response.builder().status(206)
          .headers(base.plus("Content-Range", contentRange(span, length)))
          .body(new StoredBody(PartialContent.slice(stored, span.first() - offset, span.length()))).build());
    }
    String boundary = "ferry-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
    Optional<String> type = served.first("Content-Type");
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (ByteRanges.Span span : spans) {
      String head = "--" + boundary + "\r\n" + type.map(t -> "Content-Type: " + t + "\r\n").orElse("")
          + "Content-Range: " + contentRange(span, length) + "\r\n\r\n";
      body.writeBytes(head.getBytes(StandardCharsets.ISO_8859_1));
      ByteBuffer part = PartialContent.slice(stored, span.first() - offset, span.length());
      byte[] bytes = new byte[part.remaining()];
      part.get(bytes);
      body.writeBytes(bytes);
      body.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
    }
    body.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.ISO_8859_1));
    return Optional.of(Response.builder().status(206)
        .headers(base.without("Content-Type").plus("Content-Type", "multipart/byteranges; boundary=" + boundary))
        .body(new StoredBody(ByteBuffer.wrap(body.toByteArray()))).build());
  }

  /** The bytes the ranges ask for, overlaps counted each time. */
  private static long covered(List<ByteRanges.Span> spans) {
    long total = 0;
    for (ByteRanges.Span span : spans) {
      total += span.length();
    }
    return total;
  }

  private static String contentRange(ByteRanges.Span span, long length) {
    return "bytes " + span.first() + "-" + span.last() + "/" + length;
  }

  /**
   * RFC 9110 §13.1.5: a strong ETag, or the exact date of a strong Last-Modified, must still
   * match. A Last-Modified is strong to a cache only when the stored Date is at least a second
   * later (§8.8.2.2): within its own second the resource may have changed again.
   */
  private static boolean ifRangeMatches(Headers request, Headers stored) {
    Optional<String> ifRange = request.first("If-Range");
    if (ifRange.isEmpty()) {
      return true;
    }
    String value = ifRange.get().trim();
    if (value.startsWith("\"") || value.startsWith("W/")) {
      Optional<String> etag = stored.first("ETag");
      return !value.startsWith("W/") && etag.isPresent() && !etag.get().startsWith("W/") && etag.get().equals(value);
    }
    Optional<Instant> date = HttpDates.parse(value);
    Optional<Instant> modified = stored.first("Last-Modified").flatMap(HttpDates::parse);
    Optional<Instant> sent = stored.first("Date").flatMap(HttpDates::parse);
    return date.isPresent() && modified.isPresent() && date.get().equals(modified.get())
        && sent.isPresent() && !sent.get().isBefore(modified.get().plusSeconds(1));
  }
}
