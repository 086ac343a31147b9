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
    String host = authority;
    String port = "";
    int close = authority.lastIndexOf(']');
    int colon = authority.lastIndexOf(':');
    if (colon > close) {
      host = authority.substring(0, colon);
      port = authority.substring(colon + 1);
    }
    host = host.toLowerCase(Locale.ROOT);
    if (host.endsWith(".") && host.length() > 1) {
      host = host.substring(0, host.length() - 1);
    }
    boolean defaultPort = port.isEmpty() || (scheme.equalsIgnoreCase("http") && port.equals("80"))
        || (scheme.equalsIgnoreCase("https") && port.equals("443"));
    String canonical = defaultPort ? host : host + ":" + port;
    return canonical.equals(authority) ? authority : canonical;
  }
}
