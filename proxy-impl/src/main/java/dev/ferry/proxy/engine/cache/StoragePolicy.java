package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Request;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** What a shared cache may store (RFC 9111 §3) and how Vary variants are keyed (§4.1). */
final class StoragePolicy {
  private StoragePolicy() {}

  /**
   * RFC 9111 §3: what a shared cache may store. A response that sets a cookie is stored only
   * when {@code storeSetCookie} (nginx's and Varnish's default): a stored {@code Set-Cookie}
   * would hand one client's session to the next.
   */
  static boolean isStorable(Request request, int status, Headers headers, boolean storeSetCookie) {
    CacheControl asked = CacheControl.of(request.headers());
    CacheControl response = CacheControl.of(headers);
    if (asked.has("no-store") || response.has("no-store") || response.has("private")) {
      return false;
    }
    if (!storeSetCookie && headers.contains("Set-Cookie")) {
      return false;
    }
    if (status == 206 || status == 304 || status < 200) {
      return false;
    }
    if (headers.all("Vary").stream().anyMatch(v -> v.trim().equals("*"))) {
      return false;
    }
    if (request.headers().contains("Authorization")
        && !(response.has("public") || response.has("s-maxage") || response.has("must-revalidate"))) {
      return false;
    }
    boolean explicit = Freshness.hasExplicitFreshness(headers) || response.has("public");
    if (!explicit && !Freshness.HEURISTICALLY_CACHEABLE.contains(status)) {
      return false;
    }
    return Freshness.lifetimeSeconds(status, headers) > 0 || hasValidators(headers);
  }

  static List<String> varyNames(Headers headers) {
    List<String> names = new ArrayList<>();
    for (String value : headers.all("Vary")) {
      for (String name : value.split(",")) {
        String trimmed = name.trim().toLowerCase(Locale.ROOT);
        if (!trimmed.isEmpty()) {
          names.add(trimmed);
        }
      }
    }
    return List.copyOf(names);
  }

  /** RFC 9111 §4.1: values compared after combining fields and normalising whitespace. */
  static List<String> varyValues(List<String> names, Headers request) {
    List<String> values = new ArrayList<>(names.size());
    for (String name : names) {
      values.add(String.join(",", request.all(name)).replaceAll("\\s*,\\s*", ",").replaceAll("\\s+", " ").trim());
    }
    return values;
  }

  static boolean hasValidators(Headers headers) {
    return headers.contains("ETag") || headers.contains("Last-Modified");
  }
}
