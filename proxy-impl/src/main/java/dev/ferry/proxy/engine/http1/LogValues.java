package dev.ferry.proxy.engine.http1;

/**
 * Values for key=value log events: as they are when a logfmt parser reads them back whole, else
 * quoted, with {@code "} and {@code \} escaped, and control and non-ASCII characters as
 * {@code \xHH} (nginx's form), so that no value can end a line. A request target may hold
 * {@code "} and {@code \} (a path of {@code /a"b\c} is a valid request), and a route's name (its
 * pattern, by default) spaces and {@code =}: unquoted, they would end the value early or forge
 * the next key.
 */
public final class LogValues {
  private LogValues() {}

  /** {@code value} as it is where a logfmt parser reads it back whole, else quoted and escaped. */
  public static String of(String value) {
    if (value.isEmpty()) {
      return "\"\"";
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c <= ' ' || c == '"' || c == '\\' || c == '=' || c >= 0x7f) {
        return quoted(value);
      }
    }
    return value;
  }

  /**
   * {@code value} always quoted and escaped (null as {@code "null"}): for a value that is quoted
   * even when it need not be, such as an error's message, which may carry a peer's bytes (a TLS
   * client's server name, a header).
   */
  public static String quoted(Object value) {
    return quoted(String.valueOf(value));
  }

  private static String quoted(String value) {
    StringBuilder out = new StringBuilder(value.length() + 8).append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < ' ' || c >= 0x7f) {
        out.append(String.format(java.util.Locale.ROOT, c > 0xff ? "\\u%04X" : "\\x%02X", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }
}
