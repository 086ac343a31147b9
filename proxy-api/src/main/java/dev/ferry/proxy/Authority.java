package dev.ferry.proxy;

import java.util.Locale;
import java.util.Objects;

/** Parsing of {@code host[:port]} authorities, shared by the API's value types. */
final class Authority {
  private Authority() {}

  static void check(String authority) {
    Objects.requireNonNull(authority, "authority");
    if (authority.isEmpty()) {
      throw new IllegalArgumentException("authority must be host or host:port (was empty)");
    }
    for (int i = 0; i < authority.length(); i++) {
      char c = authority.charAt(i);
      if (c <= 0x20 || c >= 0x7f || c == '/' || c == '?' || c == '#' || c == '@' || c == '\\') {
        throw new IllegalArgumentException(String.format(Locale.ROOT,
            "Unexpected char %#04x at %d in authority: %s", (int) c, i, authority));
      }
    }
    int port = port(authority, 0);
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be between 0 and 65535 in authority " + authority);
    }
  }

  static String host(String authority) {
    if (authority.startsWith("[")) {
      int end = authority.indexOf(']');
      return end < 0 ? authority : authority.substring(1, end);
    }
    int colon = authority.lastIndexOf(':');
    return colon < 0 ? authority : authority.substring(0, colon);
  }

  static int port(String authority, int defaultPort) {
    int colon = authority.lastIndexOf(':');
    if (colon < 0 || authority.indexOf(']') > colon) {
      return defaultPort;
    }
    int digits = authority.length() - colon - 1;
    if (digits == 0) {
      return defaultPort;
    }
    if (digits > 5) {
      return -1;
    }
    // Parsed in place: this runs for every request and every upstream endpoint.
    int port = 0;
    for (int i = colon + 1; i < authority.length(); i++) {
      char c = authority.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      port = port * 10 + (c - '0');
    }
    return port;
  }
}
