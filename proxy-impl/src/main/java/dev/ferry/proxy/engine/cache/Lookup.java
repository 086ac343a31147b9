package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.Headers;
import java.time.Instant;

/** Whether a stored response may answer a request without the upstream (RFC 9111 §4.2, §5.2). */
final class Lookup {
  final boolean fresh;
  final boolean servable;

  /** @param stored the entry {@code facts} are of */
  Lookup(CacheEntry stored, StoredFacts facts, CacheControl asked, Instant now, Headers requestHeaders) {
    long age = facts.currentAgeSeconds(now);
    fresh = facts.lifetimeSeconds > age;
    // Age counts whole seconds; a fraction past them is age too, for the request's max-age: a
    // reload's max-age=0 is not answered with a copy stored 0.9 s ago. The two instants are
    // whole seconds apart unless their nanosecond parts differ (no Duration made on every hit).
    boolean pastWholeSeconds = !now.isBefore(stored.responseTime())
        && now.getNano() != stored.responseTime().getNano();
    servable = decide(asked, facts.response, facts.lifetimeSeconds, age, pastWholeSeconds, requestHeaders);
  }

  /**
   * True when the request wants the upstream to validate anything stored: Cache-Control's
   * no-cache, or Pragma's when Cache-Control is absent (RFC 9111 §5.4).
   */
  static boolean asksNoCache(CacheControl asked, Headers requestHeaders) {
    return asked.has("no-cache") || !requestHeaders.contains("Cache-Control")
        && requestHeaders.containsToken("Pragma", "no-cache");
  }

  private boolean decide(CacheControl asked, CacheControl response, long lifetime, long age,
      boolean pastWholeSeconds, Headers requestHeaders) {
    // A qualified no-cache="Field" only withholds those fields, stripped when stored (§5.2.2.4).
    if (asksNoCache(asked, requestHeaders) || response.hasUnqualified("no-cache")) {
      return false;
    }
    if (asked.has("max-age") && (age > asked.seconds("max-age")
        || age == asked.seconds("max-age") && pastWholeSeconds)) {
      return false;
    }
    if (asked.has("min-fresh") && lifetime - age < asked.seconds("min-fresh")) {
      return false;
    }
    if (fresh) {
      return true;
    }
    if (response.forbidsStale()) {
      return false;
    }
    if (!asked.has("max-stale")) {
      return false;
    }
    return asked.argument("max-stale").isEmpty() || age - lifetime <= asked.seconds("max-stale");
  }
}
