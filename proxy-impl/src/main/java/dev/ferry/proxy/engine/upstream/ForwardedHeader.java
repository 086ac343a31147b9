package dev.ferry.proxy.engine.upstream;

/**
 * The RFC 7239 {@code Forwarded} value a reverse proxy sends: this hop's {@code for},
 * {@code host} and {@code proto}, in place of any the client sent, as {@code X-Forwarded-Host}
 * and {@code X-Forwarded-Proto} are. Backends read the first element (Spring's
 * {@code ForwardedHeaderFilter} does), which a client would otherwise write: RFC 7239 §8.1 warns
 * the field may be forged by the client. {@code X-Forwarded-For} keeps the client's chain. The
 * host is a quoted-string with its quotes and backslashes escaped.
 */
final class ForwardedHeader {
  private ForwardedHeader() {}

  /** @param host the host the client asked for; null when it named none (no host= then) */
  static String value(String clientAddress, String host, String proto) {
    return "for=" + node(clientAddress) + (host == null ? "" : ";host=" + quoted(host)) + ";proto=" + proto;
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
}
