package dev.ferry.proxy.engine;

/**
 * Values for key=value log events: as they are when a logfmt parser reads them back whole, else
 * quoted, with {@code "} and {@code \} escaped, and control and non-ASCII characters as
 * {@code \xHH} (nginx's form), so that no value can end a line. A request target may hold
 * {@code "} and {@code \} (a path of {@code /a"b\c} is a valid request), and a route's name (its
 * pattern, by default) spaces and {@code =}: unquoted, they would end the value early or forge
 * the next key.
 */
final class LogValues {
  private LogValues() {}

  static String of(String value) {
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
