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
    boolean hasPort = hostEnd < authority.length();
    // Compared in place: the common case, on every request, copies nothing.
    boolean defaultPort = hasPort && (hostEnd == authority.length() - 1
        || scheme.equalsIgnoreCase("http") && isPort(authority, hostEnd, "80")
        || scheme.equalsIgnoreCase("https") && isPort(authority, hostEnd, "443"));
    boolean trailingDot = hostEnd > 1 && authority.charAt(hostEnd - 1) == '.';
    if (!defaultPort && !trailingDot && !hasUpperCase(authority, hostEnd)) {
      return authority;
    }
    String host = authority.substring(0, trailingDot ? hostEnd - 1 : hostEnd).toLowerCase(Locale.ROOT);
    return !hasPort || defaultPort ? host : host + authority.substring(hostEnd);
  }

  /** Whether what follows the colon at {@code colon} is exactly {@code port}. */
  private static boolean isPort(String authority, int colon, String port) {
    return authority.length() - colon - 1 == port.length() && authority.startsWith(port, colon + 1);
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
