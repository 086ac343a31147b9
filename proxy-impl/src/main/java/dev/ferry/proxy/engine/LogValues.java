package dev.ferry.proxy.engine;

/**
 * Values for key=value log events: as they are when a logfmt parser reads them back whole, else
 * quoted, with {@code "} and {@code \} escaped. A request target may hold both (a path of
 * {@code /a"b\c} is a valid request), and an unquoted one would end the value early or run into
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
      if (c <= ' ' || c == '"' || c == '\\' || c == '=') {
        return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
      }
    }
    return value;
  }
}
