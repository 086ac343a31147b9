package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Request;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** What a shared cache may store (RFC 9111 §3) and what it strips before storing. */
final class StoragePolicy {
  /**
   * Statuses whose caching rules this cache implements (RFC 9110 §15), so that
   * {@code must-understand} lets it store them despite {@code no-store} (RFC 9111 §5.2.2.3).
   */
  private static final Set<Integer> UNDERSTOOD =
      Set.of(200, 203, 204, 206, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501);

  private StoragePolicy() {}

  /**
   * RFC 9111 §3: what a shared cache may store. A response that sets a cookie is stored only
   * when {@code storeSetCookie} (nginx's and Varnish's default): a stored {@code Set-Cookie}
   * would hand one client's session to the next.
   */
  static boolean isStorable(Request request, int status, Headers headers, boolean storeSetCookie,
      Instant received) {
    CacheControl response = CacheControl.of(headers);
    if (response.has("must-understand")) {
      if (!UNDERSTOOD.contains(status)) {
        return false;
      }
    } else if (response.has("no-store")) {
      return false;
    }
    // A qualified private="Field" only keeps those fields out (§5.2.2.7): see strip().
    if (requestForbidsStoring(request, response) || response.hasUnqualified("private")) {
      return false;
    }
    if (!storeSetCookie && headers.contains("Set-Cookie") && !response.fieldNames("private").contains("set-cookie")) {
      return false;
    }
    if (status == 304 || status < 200 || status == 206 && !PartialContent.isSingleRange(headers)) {
      return false;
    }
    if (status == 416) {
      // An answer to the Range it was asked with, which is no part of the key: stored, it
      // answered every later request for the URL, ranged or not (probe k22).
      return false;
    }
    if (Variants.varyStar(headers)) {
      return false;
    }
    boolean explicit = Freshness.hasExplicitFreshness(headers) || response.has("public");
    if (!explicit && !Freshness.HEURISTICALLY_CACHEABLE.contains(status)) {
      return false;
    }
    // Stale at once and without a validator, it is still worth keeping when it may be served
    // stale (RFC 5861): on an upstream error, or while a refresh runs.
    return Freshness.lifetimeSeconds(status, headers, received) > 0 || hasValidators(headers)
        || servableStale(response);
  }

  /**
   * What of the request alone keeps a response to it out of the cache: its {@code no-store}
   * (§5.2.1.5), or its credentials where the response does not allow sharing (§3.5). Such a
   * request says nothing of a response stored for others, which it must leave as it is.
   */
  static boolean requestForbidsStoring(Request request, CacheControl response) {
    return CacheControl.of(request.headers()).has("no-store") || request.headers().contains("Authorization")
        && !(response.has("public") || response.has("s-maxage") || response.has("must-revalidate"));
  }

  private static boolean servableStale(CacheControl response) {
    return !response.forbidsStale()
        && (response.seconds("stale-if-error") > 0 || response.seconds("stale-while-revalidate") > 0);
  }

  /**
   * RFC 9110 §9.3.3: a POST response is reusable for a later GET when it has explicit freshness
   * and a Content-Location equal to the request's target URI.
   */
  static boolean isReusablePost(Request request, Headers headers) {
    if (!Freshness.hasExplicitFreshness(headers)) {
      return false;
    }
    return headers.first("Content-Location")
        .map(location -> location.trim().startsWith("/") ? origin(request) + location.trim()
            : CacheKeys.url(location.trim()))
        .filter(location -> location.equals(Entries.key(request))).isPresent();
  }

  /**
   * The headers to store: without the fields a qualified {@code private} (a shared cache must
   * not store them, §5.2.2.7) or {@code no-cache} (not to be reused unvalidated, §5.2.2.4) lists.
   */
  static Headers strip(Headers stored, Headers policy) {
    CacheControl response = CacheControl.of(policy);
    List<String> fields = new ArrayList<>(response.fieldNames("private"));
    fields.addAll(response.fieldNames("no-cache"));
    Headers kept = stored;
    for (String field : fields) {
      kept = kept.without(field);
    }
    return kept;
  }

  /** The request's origin as its cache keys spell it ({@link CacheKeys}). */
  static String origin(Request request) {
    return CacheKeys.origin(request.scheme(), request.authority());
  }

  static boolean hasValidators(Headers headers) {
    return headers.contains("ETag") || headers.contains("Last-Modified");
  }
}
