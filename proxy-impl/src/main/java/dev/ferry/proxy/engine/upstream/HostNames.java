package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;

/**
 * The one spelling of a host that access decisions, pool keys and DNS all use, so that a rule
 * written for a host holds for every way of writing it.
 *
 * <p>Names are lower-cased, lose one trailing dot and have IDN labels converted to ASCII
 * (UTS #46 nontransitional, {@link Idna}). IP literals are canonicalised: IPv6 to the RFC 5952 compressed
 * form without brackets, IPv4-mapped IPv6 to dotted IPv4. A host whose last label is a number is
 * an IPv4 address and must be written in plain dotted decimal: the legacy forms ({@code 127.1},
 * {@code 2130706433}, {@code 0x7f.0.0.1}, {@code 0177.0.0.1}) are read differently by different
 * resolvers ({@code 0177} is octal to curl and browsers, decimal to the JDK), so they are refused
 * rather than guessed (the WHATWG URL standard's "ends in a number" test decides what is numeric).
 */
public final class HostNames {
  private static final String INVALID_IPV6 = "invalid IPv6 literal";
  private static final String AMBIGUOUS = "ambiguous IP address form: use dotted decimal";
  private static final int MAX_NAME = 253;
  private static final int MAX_LABEL = 63;

  private HostNames() {}

  /** Letters, digits, hyphens, underscores and dots only: a name IDN would leave as it is. */
  private static boolean isPlainAscii(String host) {
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '-' || c == '.' || c == '_')) {
        return false;
      }
    }
    return true;
  }

  /**
   * Returns the canonical form of {@code host} (a name, an IPv4 literal, or an IPv6 literal with
   * or without brackets). Never resolves anything.
   *
   * @throws HttpFailureException {@code MALFORMED_REQUEST} for an ambiguous IPv4 form or a host
   *     that is no valid name or literal
   */
  public static String normalise(String host) throws HttpFailureException {
    if (host.startsWith("[")) {
      if (host.length() < 3 || !host.endsWith("]")) {
        throw malformed(INVALID_IPV6);
      }
      return ipv6(host.substring(1, host.length() - 1));
    }
    if (host.indexOf(':') >= 0) {
      try {
        return ipv6(host);
      } catch (HttpFailureException e) {
        // Without brackets, a colon is as likely a port too many as an IPv6 address.
        throw e.detail().equals(INVALID_IPV6)
            ? malformed("invalid host: a second port, or an IPv6 address without its brackets") : e;
      }
    }
    String name;
    if (isPlainAscii(host)) {
      // The common case, on every request: nothing for IDN to map.
      name = host.toLowerCase(Locale.ROOT);
    } else {
      try {
        // IDN mapping may itself produce dots (U+3002) and ASCII digits (fullwidth forms), so the
        // numeric test below runs on its output.
        name = Idna.toAscii(host);
      } catch (IllegalArgumentException e) {
        throw malformed("invalid host name");
      }
    }
    if (name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    if (name.isEmpty()) {
      throw malformed("empty host");
    }
    if (endsInNumber(name)) {
      ipv4(name);
      return name;
    }
    checkName(name);
    return name;
  }

  /**
   * Returns the address a normalised host denotes when it is an IP literal, without any lookup;
   * empty for a name.
   */
  public static Optional<InetAddress> literal(String normalised) {
    try {
      if (normalised.indexOf(':') >= 0) {
        return Optional.of(InetAddress.getByName(normalised));
      }
      if (!normalised.isEmpty() && endsInNumber(normalised)) {
        return Optional.of(InetAddress.getByAddress(ipv4(normalised)));
      }
    } catch (UnknownHostException | HttpFailureException e) {
      return Optional.empty();
    }
    return Optional.empty();
  }

  /** True if every char of {@code text} from {@code from} passes; a loop, as this runs per request. */
  private static boolean allMatch(String text, int from, java.util.function.IntPredicate test) {
    for (int i = from; i < text.length(); i++) {
      if (!test.test(text.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /** WHATWG URL "ends in a number": the last label is all digits, or 0x and hex digits. */
  private static boolean endsInNumber(String name) {
    int last = name.lastIndexOf('.') + 1;
    if (last == name.length()) {
      return false;
    }
    if (name.startsWith("0x", last)) {
      return allMatch(name, last + 2, c -> Character.digit(c, 16) >= 0);
    }
    return allMatch(name, last, c -> c >= '0' && c <= '9');
  }

  /** Parses strict dotted decimal: four parts, 0 to 255, no leading zeros. */
  private static byte[] ipv4(String text) throws HttpFailureException {
    byte[] bytes = new byte[4];
    int parts = 0;
    int start = 0;
    for (int end = 0; end <= text.length(); end++) {
      if (end < text.length() && text.charAt(end) != '.') {
        continue;
      }
      int length = end - start;
      if (parts == 4 || length == 0 || length > 3 || (length > 1 && text.charAt(start) == '0')) {
        throw malformed(AMBIGUOUS);
      }
      int value = 0;
      for (int i = start; i < end; i++) {
        char c = text.charAt(i);
        if (c < '0' || c > '9') {
          throw malformed(AMBIGUOUS);
        }
        value = value * 10 + (c - '0');
      }
      if (value > 255) {
        throw malformed(AMBIGUOUS);
      }
      bytes[parts++] = (byte) value;
      start = end + 1;
    }
    if (parts != 4) {
      throw malformed(AMBIGUOUS);
    }
    return bytes;
  }

  private static String ipv6(String text) throws HttpFailureException {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c != ':' && c != '.' && Character.digit(c, 16) < 0) {
        // Zone identifiers (%eth0) among others: they name an interface of this host.
        throw malformed(INVALID_IPV6);
      }
    }
    if (text.indexOf(':') < 0) {
      throw malformed(INVALID_IPV6);
    }
    int dot = text.indexOf('.');
    if (dot >= 0) {
      ipv4(text.substring(text.lastIndexOf(':') + 1));
    }
    InetAddress address;
    try {
      // Only hex digits, colons and dots remain, with a colon: the JDK parses it as a literal
      // and never asks DNS.
      address = InetAddress.getByName(text);
    } catch (UnknownHostException e) {
      throw malformed(INVALID_IPV6);
    }
    if (address instanceof Inet4Address) {
      return address.getHostAddress(); // IPv4-mapped: the JDK already unwrapped it
    }
    return compressed(address.getAddress());
  }

  /** {@code address:port} with an IPv6 address in brackets, as in a URL: {@code [::1]:8080}. */
  public static String authorityText(InetAddress address, int port) {
    String text = addressText(address);
    return (address instanceof Inet4Address ? text : "[" + text + "]") + ":" + port;
  }

  /**
   * A client's address as forwarding headers carry it: IPv6 in RFC 5952 text ({@code ::1}, not
   * Java's {@code 0:0:0:0:0:0:0:1}), as nginx and Envoy write it, so an upstream's allow-list or
   * log search for {@code ::1} matches; no zone id.
   */
  public static String addressText(InetAddress address) {
    return address instanceof Inet4Address ? address.getHostAddress() : compressed(address.getAddress());
  }

  /** RFC 5952 §4: lower case, no leading zeros, the longest run of zero groups (first on a tie) as {@code ::}. */
  static String compressed(byte[] bytes) {
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((bytes[2 * i] & 0xff) << 8) | (bytes[2 * i + 1] & 0xff);
    }
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < 8; ) {
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = Math.max(j, i + 1);
    }
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        text.append("::");
        i += bestLength - 1;
        continue;
      }
      if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
        text.append(':');
      }
      text.append(Integer.toHexString(groups[i]));
    }
    return text.toString();
  }

  private static void checkName(String name) throws HttpFailureException {
    if (name.length() > MAX_NAME) {
      throw malformed("host name too long");
    }
    int labelLength = 0;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == '.') {
        if (labelLength == 0) {
          throw malformed("invalid host name");
        }
        labelLength = 0;
      } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
        if (++labelLength > MAX_LABEL) {
          throw malformed("invalid host name");
        }
      } else {
        throw malformed("invalid host name");
      }
    }
    if (labelLength == 0) {
      // Only one trailing dot is the root; a second would leave the name unmatched by its rules.
      throw malformed("invalid host name");
    }
  }

  private static HttpFailureException malformed(String detail) {
    return new HttpFailureException(ProxyFailure.MALFORMED_REQUEST, detail);
  }
}
