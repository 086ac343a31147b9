package dev.ferry.proxy;

import java.net.InetAddress;
import java.net.UnknownHostException;
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
            "Unexpected char %#04x at %d in authority: %s", (int) c, i, Checks.shown(authority)));
      }
    }
    checkHost(authority);
    int port = port(authority, 0);
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be between 0 and 65535 in authority " + authority);
    }
  }

  /** The host's shape: a bracketed IPv6 literal, or a name or IPv4 address without colons. */
  private static void checkHost(String authority) {
    if (authority.startsWith("[")) {
      int end = authority.indexOf(']');
      if (end < 0) {
        throw new IllegalArgumentException("authority has an IPv6 literal without its ]: " + authority);
      }
      if (end + 1 < authority.length() && authority.charAt(end + 1) != ':') {
        throw new IllegalArgumentException("authority has text after its IPv6 literal's ]: " + authority);
      }
      if (end > 1 && !isIpv6(authority.substring(1, end))) { // an empty one names no host: the caller's to say
        throw new IllegalArgumentException("authority has an invalid IPv6 literal: " + authority);
      }
      return;
    }
    int colon = authority.indexOf(':');
    if (authority.indexOf('[') >= 0 || authority.indexOf(']') >= 0
        || colon >= 0 && authority.indexOf(':', colon + 1) >= 0) {
      throw new IllegalArgumentException("authority must be host or host:port, an IPv6 address in brackets"
          + " ([::1]:8080) (was " + Checks.shown(authority) + ")");
    }
  }

  private static boolean isIpv6(String literal) {
    if (literal.indexOf(':') < 0) {
      return false;
    }
    for (int i = 0; i < literal.length(); i++) {
      char c = literal.charAt(i);
      if (!(c == ':' || c == '.' || Character.digit(c, 16) >= 0 && c < 0x80)) {
        return false;
      }
    }
    try {
      // Bracketed, the text is parsed as an IPv6 literal and never looked up.
      InetAddress.getByName("[" + literal + "]");
      return true;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /**
   * WHATWG URL "ends in a number": the last label (a trailing dot aside) is all digits, or
   * {@code 0x} and hex digits, so the host is an IPv4 address whatever else it holds.
   */
  static boolean endsInNumber(String host) {
    String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
    String last = name.substring(name.lastIndexOf('.') + 1);
    String digits = last.regionMatches(true, 0, "0x", 0, 2) ? last.substring(2) : last;
    int radix = digits.length() < last.length() ? 16 : 10;
    return !last.isEmpty() && digits.chars().allMatch(c -> c < 0x80 && Character.digit(c, radix) >= 0);
  }

  /**
   * Whether {@code host} is spelled as the proxy takes a host in requests: an IPv6 literal, or
   * labels of letters, digits, {@code -} and {@code _}, none empty, with at most a trailing dot;
   * no percent-escape.
   */
  static boolean isHostSpelling(String host) {
    if (host.indexOf(':') >= 0) {
      return true; // an IPv6 literal, checked with its brackets
    }
    String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
    return !name.isEmpty() && !name.startsWith(".") && !name.endsWith(".") && !name.contains("..")
        && name.chars().allMatch(c -> c < 0x80 && (Character.isLetterOrDigit(c) || c == '-' || c == '_' || c == '.'));
  }

  /**
   * An IPv4 address in a legacy form (hex, octal, too few parts: {@code 127.1}, {@code 0x7f.1},
   * {@code 2130706433}), which resolvers read differently and the proxy refuses in requests.
   */
  static boolean isLegacyIpv4(String host) {
    return host.indexOf(':') < 0 && endsInNumber(host) && !isDottedDecimal(host.endsWith(".") ? host.substring(0, host.length() - 1) : host);
  }

  /** Four parts from 0 to 255 in decimal, without leading zeros. */
  private static boolean isDottedDecimal(String host) {
    String[] parts = host.split("\\.", -1);
    if (parts.length != 4) {
      return false;
    }
    for (String part : parts) {
      if (part.isEmpty() || part.length() > 3 || part.length() > 1 && part.charAt(0) == '0'
          || !part.chars().allMatch(c -> c >= '0' && c <= '9') || Integer.parseInt(part) > 255) {
        return false;
      }
    }
    return true;
  }

  /**
   * What tells two spellings of one host apart from two hosts: case and a root dot aside, and an
   * IPv6 literal in its one canonical form ({@code [0:0:0:0:0:0:0:1]} is {@code [::1]}). Names
   * are not resolved.
   */
  static String identity(String host) {
    if (host.indexOf(':') >= 0) {
      try {
        return InetAddress.getByName("[" + host + "]").getHostAddress();
      } catch (UnknownHostException e) {
        return host; // checked before: not reached
      }
    }
    String lower = host.toLowerCase(Locale.ROOT);
    return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
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
