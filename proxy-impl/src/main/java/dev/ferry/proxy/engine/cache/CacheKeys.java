package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.engine.http1.CanonicalAuthority;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.TargetPaths;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The URL an entry is stored under, with its origin in one spelling (RFC 9110 §4.2.3): scheme
 * and host in lower case, without a trailing dot on the host or the scheme's default port. A
 * client writing {@code SITE.TEST} or {@code site.test:80} reaches the entry stored for
 * {@code site.test}, and a purge or an invalidation of one spelling removes it; without this,
 * each spelling was an entry of its own, which purges missed and any client could multiply.
 * The path and query are left as they are (a reverse proxy's path is already normalised), but
 * for their percent-escapes, in RFC 3986's normal form ({@link #target}: {@code %3a} and
 * {@code %3A} are one character, {@code %7e} is {@code ~}): a forward proxy's client spelling a
 * path either way reaches one entry, and a write or a purge in one spelling removes the other
 * (probes k12, v14).
 */
final class CacheKeys {
  private CacheKeys() {}

  /** {@code scheme://authority} in its one spelling. */
  static String origin(String scheme, String authority) {
    return scheme.toLowerCase(Locale.ROOT) + "://" + CanonicalAuthority.of(scheme, authority);
  }

  /**
   * An absolute URL (or a prefix of one that reaches past its authority) with its origin in its
   * one spelling; anything else as it is.
   */
  /** True for {@code http://} or {@code https://} (any case) followed by an authority. */
  static boolean isAbsoluteHttp(String url) {
    int scheme = url.indexOf("://");
    return (scheme == 4 && url.regionMatches(true, 0, "http", 0, 4)
        || scheme == 5 && url.regionMatches(true, 0, "https", 0, 5))
        && url.length() > scheme + 3 && "/?#".indexOf(url.charAt(scheme + 3)) < 0;
  }

  static String url(String url) {
    int scheme = url.indexOf("://");
    if (scheme <= 0) {
      return url;
    }
    int pathStart = url.indexOf('/', scheme + 3);
    int queryStart = url.indexOf('?', scheme + 3);
    int end = pathStart < 0 ? queryStart : queryStart < 0 ? pathStart : Math.min(pathStart, queryStart);
    if (end < 0) {
      return url; // a prefix that ends inside the authority: it may go on with a port
    }
    return origin(url.substring(0, scheme), url.substring(scheme + 3, end)) + target(url.substring(end));
  }

  /**
   * The keys a path and query may be stored under: as written (a forward proxy's) and normalised
   * as a reverse proxy's request targets are ({@link TargetPaths}), so that a purge or an
   * invalidation written either way removes what a request of either spelling stored (probes
   * k12, k14). With {@code prefix}, a path ending in a {@code .} or {@code ..} segment is taken
   * as written only: normalised, it would reach past what it names ({@code /a/.} is {@code /a/}).
   */
  static Set<String> spellings(String path, boolean prefix) {
    Set<String> spellings = new LinkedHashSet<>(2);
    spellings.add(target(path));
    if (prefix && (path.endsWith("/.") || path.endsWith("/.."))) {
      return spellings;
    }
    try {
      spellings.add(TargetPaths.normalise(path));
    } catch (HttpFailureException ignored) {
      // No request could have stored a path the normaliser refuses.
    }
    return spellings;
  }

  /**
   * A path and query (or a prefix of them) in RFC 3986's syntax-based normal form (§6.2.2): the
   * escapes of unreserved characters decoded ({@code %7E} is {@code ~}), the others' hex digits in
   * upper case. URLs that differ only so are one resource to every client and origin.
   */
  static String target(String target) {
    int percent = target.indexOf('%');
    if (percent < 0) {
      return target;
    }
    StringBuilder normal = null;
    int copied = 0;
    for (int i = percent; i >= 0 && i + 2 < target.length(); i = target.indexOf('%', i + 1)) {
      int high = Character.digit(target.charAt(i + 1), 16);
      int low = Character.digit(target.charAt(i + 2), 16);
      if (high < 0 || low < 0 || target.charAt(i + 1) > 'f' || target.charAt(i + 2) > 'f') {
        continue;
      }
      char decoded = (char) (high * 16 + low);
      String spelled = isUnreserved(decoded) ? String.valueOf(decoded)
          : target.substring(i, i + 3).toUpperCase(Locale.ROOT);
      if (spelled.equals(target.substring(i, i + 3))) {
        continue;
      }
      if (normal == null) {
        normal = new StringBuilder(target.length());
      }
      normal.append(target, copied, i).append(spelled);
      copied = i + 3;
      i += 2;
    }
    return normal == null ? target : normal.append(target, copied, target.length()).toString();
  }

  private static boolean isUnreserved(char c) {
    return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
        || c == '-' || c == '.' || c == '_' || c == '~';
  }
}
