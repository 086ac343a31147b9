package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Response;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;

/**
 * Answers a single byte range (RFC 9110 §14) from a complete stored 200: 206 with
 * Content-Range, or 416 when unsatisfiable. Multiple ranges, other units and a failed If-Range
 * fall back to the whole response, which the RFC allows.
 */
final class RangeResponses {
  private RangeResponses() {}

  /** Returns the partial answer, or empty to serve the whole stored response. */
  static Optional<Response> answer(Headers request, StoredResponse stored, Headers served) {
    Optional<String> range = request.first("Range");
    if (range.isEmpty() || stored.status() != 200 || !ifRangeMatches(request, stored.headers())) {
      return Optional.empty();
    }
    String spec = range.get().trim();
    if (!spec.regionMatches(true, 0, "bytes=", 0, 6) || spec.indexOf(',') >= 0) {
      return Optional.empty();
    }
    long length = stored.body().length;
    long[] bounds = parse(spec.substring(6).trim(), length);
    if (bounds == null) {
      return Optional.empty();
    }
    Headers base = served.without("Content-Length").without("Content-Range");
    if (bounds[0] < 0) {
      return Optional.of(Response.builder().status(416)
          .headers(base.without("Content-Type").plus("Content-Range", "bytes */" + length)).build());
    }
    byte[] slice = Arrays.copyOfRange(stored.body(), (int) bounds[0], (int) bounds[1] + 1);
    return Optional.of(Response.builder().status(206)
        .headers(base.plus("Content-Range", "bytes " + bounds[0] + "-" + bounds[1] + "/" + length))
        .body(Body.of(slice)).build());
  }

  /**
   * Returns {first, last}, {-1, -1} when unsatisfiable, or null when the spec is malformed
   * (a malformed Range is ignored, RFC 9110 §14.2).
   */
  private static long[] parse(String spec, long length) {
    int dash = spec.indexOf('-');
    if (dash < 0) {
      return null;
    }
    String first = spec.substring(0, dash).trim();
    String last = spec.substring(dash + 1).trim();
    if (!digits(first) && !first.isEmpty() || !digits(last) && !last.isEmpty() || first.isEmpty() && last.isEmpty()) {
      return null;
    }
    if (first.isEmpty()) {
      long suffix = Long.parseLong(last);
      if (suffix == 0 || length == 0) {
        return new long[] {-1, -1};
      }
      return new long[] {Math.max(0, length - suffix), length - 1};
    }
    long start = Long.parseLong(first);
    long end = last.isEmpty() ? length - 1 : Math.min(Long.parseLong(last), length - 1);
    if (!last.isEmpty() && Long.parseLong(last) < start) {
      return null;
    }
    if (start >= length) {
      return new long[] {-1, -1};
    }
    return new long[] {start, end};
  }

  /** RFC 9110 §13.1.5: a strong ETag or an exact Last-Modified date must still match. */
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
    return date.isPresent() && modified.isPresent() && date.get().equals(modified.get());
  }

  private static boolean digits(String text) {
    return !text.isEmpty() && text.length() <= 18 && text.chars().allMatch(c -> c >= '0' && c <= '9');
  }
}
