package dev.ferry.proxy.engine.cache;

import java.util.ArrayList;
import java.util.List;

/** The {@code Range} header's byte ranges (RFC 9110 §14.1.2), resolved against a length. */
final class ByteRanges {
  /** An inclusive range of byte positions. */
  record Span(long first, long last) {
    long length() {
      return last - first + 1;
    }
  }

  private ByteRanges() {}

  /**
   * The satisfiable ranges of {@code header} for a representation of {@code length} bytes, in
   * request order; empty when none is satisfiable (416); null when the header is malformed or
   * not in bytes, which a recipient ignores (§14.2).
   */
  static List<Span> parse(String header, long length) {
    String spec = header.trim();
    if (!spec.regionMatches(true, 0, "bytes=", 0, 6)) {
      return null;
    }
    List<Span> spans = new ArrayList<>();
    boolean any = false;
    for (String part : spec.substring(6).split(",", -1)) {
      String range = part.trim();
      if (range.isEmpty()) {
        continue;
      }
      any = true;
      int dash = range.indexOf('-');
      if (dash < 0) {
        return null;
      }
      String first = range.substring(0, dash).trim();
      String last = range.substring(dash + 1).trim();
      if (first.isEmpty() && !digits(last) || !first.isEmpty() && (!digits(first) || !last.isEmpty() && !digits(last))) {
        return null;
      }
      if (first.isEmpty()) {
        long suffix = Long.parseLong(last);
        if (suffix > 0 && length > 0) {
          spans.add(new Span(Math.max(0, length - suffix), length - 1));
        }
        continue;
      }
      long start = Long.parseLong(first);
      if (!last.isEmpty() && Long.parseLong(last) < start) {
        return null;
      }
      if (start < length) {
        spans.add(new Span(start, last.isEmpty() ? length - 1 : Math.min(Long.parseLong(last), length - 1)));
      }
    }
    return any ? spans : null;
  }

  private static boolean digits(String text) {
    return !text.isEmpty() && text.length() <= 18 && text.chars().allMatch(c -> c >= '0' && c <= '9');
  }
}
