package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.http1.HttpDates;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/** Freshness lifetime and current age of stored responses, per RFC 9111 §4.2, for a shared cache. */
final class Freshness {
  /** RFC 9110 §15.1: statuses a cache may store without explicit freshness. */
  static final Set<Integer> HEURISTICALLY_CACHEABLE =
      Set.of(200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501);
  private static final long MAX_HEURISTIC_SECONDS = Duration.ofDays(1).toSeconds();

  private Freshness() {}

  /** The lifetime of a stored entry. */
  static long lifetimeSeconds(CacheEntry entry, Headers policy) {
    return lifetimeSeconds(entry.status(), policy, entry.responseTime());
  }

  /**
   * Seconds the response stays fresh: s-maxage, max-age, Expires - Date, or the heuristic.
   * {@code received} stands in for a missing or invalid Date (RFC 9110 §6.6.1: a recipient with
   * a clock uses the time it received the message).
   */
  static long lifetimeSeconds(int status, Headers headers, Instant received) {
    CacheControl cc = CacheControl.of(headers);
    if (cc.has("s-maxage")) {
      return cc.seconds("s-maxage");
    }
    if (cc.has("max-age")) {
      return cc.seconds("max-age");
    }
    Instant date = date(headers, received);
    Optional<String> expires = headers.first("Expires");
    if (expires.isPresent()) {
      // An invalid Expires, such as "0", means already expired (RFC 9111 §5.3).
      return HttpDates.parse(expires.get())
          .map(expiry -> Math.max(0, Duration.between(date, expiry).getSeconds())).orElse(0L);
    }
    if (!HEURISTICALLY_CACHEABLE.contains(status) && !cc.has("public")) {
      return 0;
    }
    Optional<Instant> lastModified = headers.first("Last-Modified").flatMap(HttpDates::parse);
    if (lastModified.isEmpty() || lastModified.get().isAfter(date)) {
      return 0;
    }
    // RFC 9111 §4.2.2: a fraction (10%) of the time since the last modification.
    return Math.min(MAX_HEURISTIC_SECONDS, Duration.between(lastModified.get(), date).getSeconds() / 10);
  }

  /** True if the response carries explicit freshness (so any status may be stored). */
  static boolean hasExplicitFreshness(Headers headers) {
    CacheControl cc = CacheControl.of(headers);
    return cc.has("s-maxage") || cc.has("max-age") || headers.contains("Expires");
  }

  /**
   * RFC 9111 §4.2.3 corrected_initial_age of a stored response: its age when it was received, by
   * its {@code Age} and {@code Date} fields and the time its request took.
   */
  static long initialAgeSeconds(CacheEntry stored) {
    long ageValue = stored.headers().first("Age").map(Freshness::parseAge).orElse(0L);
    Instant date = date(stored.headers(), stored.responseTime());
    long apparentAge = Math.max(0, Duration.between(date, stored.responseTime()).getSeconds());
    long responseDelay = Math.max(0, Duration.between(stored.requestTime(), stored.responseTime()).getSeconds());
    return Math.max(apparentAge, ageValue + responseDelay);
  }

  /**
   * RFC 9111 §4.2.3 current_age at {@code now} of a response received at {@code responseTime}
   * aged {@code initialAgeSeconds} then, in seconds, at most 2^31: past the greatest
   * delta-seconds a cache takes and sends that value (§1.2.2).
   */
  static long currentAgeSeconds(long initialAgeSeconds, Instant responseTime, Instant now) {
    long residentTime = Math.max(0, now.getEpochSecond() - responseTime.getEpochSecond()
        - (now.getNano() < responseTime.getNano() ? 1 : 0));
    return Math.min(CacheControl.DELTA_SECONDS_MAX, initialAgeSeconds + residentTime);
  }

  static Instant date(Headers headers, Instant received) {
    return headers.first("Date").flatMap(HttpDates::parse).orElse(received);
  }

  /**
   * RFC 9111 §5.1: {@code Age} is a single delta-seconds; of a list ({@code 7200, 0}, or lines
   * joined by the codec) the first member counts, as for repeated lines. Anything else is 0.
   */
  private static long parseAge(String value) {
    int comma = value.indexOf(',');
    String first = (comma < 0 ? value : value.substring(0, comma)).trim();
    if (first.isEmpty() || !first.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return 0;
    }
    return CacheControl.deltaSeconds(first);
  }
}
