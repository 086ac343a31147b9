package dev.ferry.proxy.engine.http1;

import java.util.Locale;

/**
 * An authority in its one spelling (RFC 9110 §4.2.3): the host in lower case without a trailing
 * dot, and no port when it is empty or the scheme's default. The cache keys on it, and a reverse
 * proxy sends it upstream ({@code Host} when preserved, {@code X-Forwarded-Host},
 * {@code Forwarded}), so that what the origin is told and what the answer is stored under never
 * differ: {@code SITE.TEST.} and {@code site.test:80} were one entry, stored from an answer the
 * origin built for the spelling it was told (probe p24).
 */
public final class CanonicalAuthority {
  private CanonicalAuthority() {}

  /** {@code authority} ({@code host[:port]}, an IPv6 literal bracketed) in its one spelling. */
  public static String of(String scheme, String authority) {
    int close = authority.lastIndexOf(']');
    int colon = authority.lastIndexOf(':');
    int hostEnd = colon > close ? colon : authority.length();
    String port = hostEnd == authority.length() ? null : authority.substring(hostEnd + 1);
    boolean defaultPort = port != null && (port.isEmpty() || (scheme.equalsIgnoreCase("http") && port.equals("80"))
        || (scheme.equalsIgnoreCase("https") && port.equals("443")));
    boolean trailingDot = hostEnd > 1 && authority.charAt(hostEnd - 1) == '.';
    if (!defaultPort && !trailingDot && !hasUpperCase(authority, hostEnd)) {
      return authority; // the common case, on every request: no copy
    }
    String host = authority.substring(0, trailingDot ? hostEnd - 1 : hostEnd).toLowerCase(Locale.ROOT);
    return port == null || defaultPort ? host : host + ":" + port;
  }

  private static boolean hasUpperCase(String text, int end) {
    for (int i = 0; i < end; i++) {
      char c = text.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        return true;
      }
    }
    return false;
  }
}
