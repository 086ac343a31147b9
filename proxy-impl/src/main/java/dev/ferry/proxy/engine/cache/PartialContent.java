package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.Headers;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * Stored partial responses (RFC 9111 §3.3, §3.4): a {@code 206} with one {@code Content-Range}
 * of a known complete length is kept as a partial entry, and a new part with the same strong
 * validator that overlaps or touches it is combined with it; once the parts cover the whole
 * representation the entry becomes a complete {@code 200}.
 */
final class PartialContent {
  /** A {@code Content-Range: bytes first-last/complete}. */
  record ContentRange(long first, long last, long complete) {}

  private PartialContent() {}

  static boolean isSingleRange(Headers headers) {
    return contentRange(headers).isPresent();
  }

  /** The single byte range a 206 carries, if it names one within a known complete length. */
  static Optional<ContentRange> contentRange(Headers headers) {
    Optional<String> value = headers.first("Content-Range");
    if (value.isEmpty() || headers.all("Content-Range").size() > 1) {
      return Optional.empty();
    }
    String text = value.get().trim();
    if (!text.regionMatches(true, 0, "bytes ", 0, 6)) {
      return Optional.empty();
    }
    String[] rangeAndLength = text.substring(6).trim().split("/", -1);
    if (rangeAndLength.length != 2) {
      return Optional.empty();
    }
    String[] bounds = rangeAndLength[0].split("-", -1);
    try {
      long first = Long.parseLong(bounds[0]);
      long last = Long.parseLong(bounds[1]);
      long complete = Long.parseLong(rangeAndLength[1]);
      if (bounds.length != 2 || first < 0 || last < first || last >= complete) {
        return Optional.empty();
      }
      return Optional.of(new ContentRange(first, last, complete));
    } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
      return Optional.empty();
    }
  }

  /** The range a partial entry holds (its body matches it, checked when stored). */
  static ContentRange held(CacheEntry partial) {
    return contentRange(partial.headers()).orElseThrow();
  }

  /** True for a 206 whose body is exactly the bytes its Content-Range names. */
  static boolean bodyMatches(Headers headers, long bodyLength) {
    return contentRange(headers).map(range -> range.last - range.first + 1 == bodyLength).orElse(false);
  }

  /**
   * §3.4: {@code incoming} combined with {@code existing}, or empty when they cannot combine:
   * different strong validators, different lengths, a gap between the parts, or a combined body
   * over {@code maxEntryBytes} (the limit every stored body keeps; a client fetching a large
   * file piece by piece would otherwise build an entry that pushes the rest out of the cache).
   * The combined entry takes the newer part's header fields.
   */
  static Optional<CacheEntry> combine(CacheEntry existing, CacheEntry incoming, long maxEntryBytes) {
    if (existing.status() != 206 || incoming.status() != 206 || !sameStrongValidator(existing, incoming)) {
      return Optional.empty();
    }
    ContentRange old = held(existing);
    ContentRange added = held(incoming);
    if (old.complete != added.complete || added.first > old.last + 1 || old.first > added.last + 1) {
      return Optional.empty();
    }
    long first = Math.min(old.first, added.first);
    long last = Math.max(old.last, added.last);
    if (last - first + 1 > maxEntryBytes) {
      return Optional.empty();
    }
    byte[] merged = new byte[(int) (last - first + 1)];
    existing.body().get(merged, (int) (old.first - first), existing.bodyLength());
    incoming.body().get(merged, (int) (added.first - first), incoming.bodyLength());
    Headers headers = incoming.headers().without("Content-Range").without("Content-Length");
    if (first == 0 && last == old.complete - 1) {
      return Optional.of(CacheEntry.of(200, "OK", headers.plus("Content-Length", Long.toString(merged.length)),
          ByteBuffer.wrap(merged), incoming.requestTime(), incoming.responseTime(), incoming.variantKey()));
    }
    return Optional.of(CacheEntry.of(206, incoming.reason(),
        headers.plus("Content-Range", "bytes " + first + "-" + last + "/" + old.complete),
        ByteBuffer.wrap(merged),
        incoming.requestTime(), incoming.responseTime(), incoming.variantKey()));
  }

  /** §3.4 needs a strong validator: a strong ETag here (weak ones and dates do not combine). */
  private static boolean sameStrongValidator(CacheEntry a, CacheEntry b) {
    Optional<String> etag = a.headers().first("ETag");
    return etag.isPresent() && !etag.get().startsWith("W/") && etag.equals(b.headers().first("ETag"));
  }

  static ByteBuffer slice(CacheEntry entry, long offset, long length) {
    ByteBuffer body = entry.body();
    body.position((int) offset).limit((int) (offset + length));
    return body.slice();
  }
}
