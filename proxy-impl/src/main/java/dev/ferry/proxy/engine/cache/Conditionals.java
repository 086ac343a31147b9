package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.engine.http1.HopByHop;
import dev.ferry.proxy.engine.http1.HttpDates;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Conditional requests against stored responses (RFC 9110 §13) and 304 header updates. */
final class Conditionals {
  private Conditionals() {}

  /**
   * RFC 9110 §13.1.2 and §13.1.3: the client's own conditional request, against the entry. For
   * If-Modified-Since, RFC 9111 §4.3.2 compares with Last-Modified, else the stored Date, else
   * the time the response was received. Only a stored 2xx answers 304: RFC 9110 §13.2.1 has
   * preconditions ignored when the response would be anything else (a 404 is not "not modified").
   */
  static boolean notModified(Headers request, CacheEntry entry) {
    if (entry.status() / 100 != 2) {
      return false;
    }
    Headers stored = entry.headers();
    List<String> ifNoneMatch = request.all("If-None-Match");
    if (!ifNoneMatch.isEmpty()) {
      String etag = stored.first("ETag").map(Conditionals::weak).orElse(null);
      for (String value : ifNoneMatch) {
        for (String candidate : FieldLists.members(value)) {
          String tag = candidate.trim();
          if (tag.equals("*") || (etag != null && weak(tag).equals(etag))) {
            return true;
          }
        }
      }
      return false;
    }
    // One HTTP-date or none: a field given twice is a list, which is invalid and ignored (§13.1.3).
    List<String> ifModifiedSince = request.all("If-Modified-Since");
    Instant since = ifModifiedSince.size() == 1
        ? HttpDates.parse(ifModifiedSince.get(0)).orElse(null) : null;
    if (since == null) {
      return false; // and nothing stored parsed: a plain GET, the usual hit, asks for no date
    }
    Instant modified = stored.first("Last-Modified").flatMap(HttpDates::parse)
        .orElseGet(() -> Freshness.date(stored, entry.responseTime()));
    return !modified.isAfter(since);
  }

  /** The request with the client's validators replaced by the stored response's (RFC 9111 §4.3.1). */
  static Request conditional(Request request, CacheEntry stored) {
    Headers.Builder conditional = request.headers().toBuilder()
        .remove("If-None-Match").remove("If-Modified-Since").remove("If-Match")
        .remove("If-Unmodified-Since").remove("If-Range").remove("Range");
    stored.headers().first("ETag").ifPresent(etag -> conditional.set("If-None-Match", etag));
    stored.headers().first("Last-Modified").ifPresent(date -> conditional.set("If-Modified-Since", date));
    return request.withHeaders(conditional.build());
  }

  static Headers notModifiedHeaders(Headers headers) {
    Headers.Builder kept = Headers.builder();
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i).toLowerCase(Locale.ROOT);
      if (!name.startsWith("content-") || name.equals("content-location")) {
        kept.add(headers.name(i), headers.value(i));
      }
    }
    return kept.build();
  }

  /**
   * RFC 9111 §4.3.4: whether a 304 may update the stored response it answered. A strong ETag in
   * the 304 must be the stored one's, compared strongly; a weak one, compared weakly; without an
   * ETag, its Last-Modified must be the stored one. A 304 without validators answers the
   * validators this cache sent, and updates that response: a deliberate leniency, as RFC 9111
   * would update only a stored response without validators, and servers that omit the ETag from
   * their 304s (which RFC 9110 §15.4.5 asks them to repeat) would otherwise never be freshened.
   */
  static boolean selects(Headers notModified, Headers stored) {
    String etag = notModified.first("ETag").map(String::trim).orElse(null);
    if (etag != null) {
      String storedTag = stored.first("ETag").map(String::trim).orElse(null);
      if (storedTag == null) {
        return false;
      }
      return etag.startsWith("W/") ? weak(etag).equals(weak(storedTag)) : etag.equals(storedTag);
    }
    Instant modified = notModified.first("Last-Modified").flatMap(HttpDates::parse).orElse(null);
    return modified == null
        || modified.equals(stored.first("Last-Modified").flatMap(HttpDates::parse).orElse(null));
  }

  /**
   * RFC 9111 §3.2: a 304's fields replace the stored ones, except the body's framing. The 304
   * was generated at the origin now: without its own Date it gets one of {@code received}
   * (RFC 9110 §6.6.1), and without an Age the stored one goes, so the response's age starts
   * again from its validation (RFC 9111 §5.1).
   */
  static Headers updateHeaders(Headers stored, Headers fresh, Instant received) {
    Headers.Builder updated = stored.toBuilder();
    if (!fresh.contains("Date")) {
      updated.set("Date", HttpDates.format(received));
    }
    if (!fresh.contains("Age")) {
      updated.remove("Age");
    }
    for (int i = 0; i < fresh.size(); i++) {
      String name = fresh.name(i);
      if (updatable(name)) {
        updated.remove(name);
      }
    }
    for (int i = 0; i < fresh.size(); i++) {
      String name = fresh.name(i);
      if (updatable(name)) {
        updated.add(name, fresh.value(i));
      }
    }
    List<String> options = connectionOptions(stored, fresh);
    updated.remove("Connection");
    if (!options.isEmpty()) {
      updated.add("Connection", String.join(", ", options));
    }
    return updated.build();
  }

  private static boolean updatable(String name) {
    return !name.equalsIgnoreCase("Content-Length") && !name.equalsIgnoreCase("Via")
        && !name.equalsIgnoreCase("Connection");
  }

  /**
   * The Connection options of a freshened entry. Caching fields an upstream listed stay on the
   * stored response for this cache, still listed, so that hits never show them
   * ({@code HopByHop.stripForCache}): a stored one the 304 does not replace stays listed, one it
   * replaces is the 304's, listed only if the 304 lists it. Merged as any other field, the stored
   * options outlived the fields they named and hid the 304's end-to-end {@code Cache-Control}.
   */
  private static List<String> connectionOptions(Headers stored, Headers fresh) {
    List<String> options = new ArrayList<>();
    for (String option : HopByHop.connectionOptions(stored)) {
      if (!fresh.contains(option) || HopByHop.connectionLists(fresh, option)) {
        options.add(option);
      }
    }
    for (String option : HopByHop.connectionOptions(fresh)) {
      if (options.stream().noneMatch(option::equalsIgnoreCase)) {
        options.add(option);
      }
    }
    return options;
  }

  static String weak(String tag) {
    return tag.startsWith("W/") ? tag.substring(2) : tag;
  }
}
