package dev.ferry.proxy.engine.upstream;

import java.util.List;

/**
 * The RFC 7239 {@code Forwarded} value a reverse proxy sends: the client's elements, kept as
 * {@code X-Forwarded-For}'s are, then this hop's {@code for}, {@code host} and {@code proto}.
 * Nothing the client sent can reach into this hop's element: the host is a quoted-string with
 * its quotes and backslashes escaped, and a client value whose quoted-strings do not close
 * (which would swallow what follows) is dropped.
 */
final class ForwardedHeader {
  private ForwardedHeader() {}

  /** @param host the host the client asked for; null when it named none (no host= then) */
  static String value(List<String> received, String clientAddress, String host, String proto) {
    String element = "for=" + node(clientAddress) + (host == null ? "" : ";host=" + quoted(host)) + ";proto=" + proto;
    if (received.isEmpty()) {
      return element;
    }
    String earlier = String.join(", ", received);
    return closesItsQuotes(earlier) ? earlier + ", " + element : element;
  }

  /** An address as a {@code node}: IPv6 in brackets and quotes, without a zone (not allowed there). */
  private static String node(String address) {
    if (address.indexOf(':') < 0) {
      return address;
    }
    int zone = address.indexOf('%');
    return "\"[" + (zone < 0 ? address : address.substring(0, zone)) + "]\"";
  }

  private static String quoted(String text) {
    return '"' + text.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
  }

  private static boolean closesItsQuotes(String value) {
    boolean inQuotes = false;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (inQuotes && c == '\\') {
        i++;
      } else if (c == '"') {
        inQuotes = !inQuotes;
      }
    }
    return !inQuotes;
  }
}
