package dev.ferry.proxy.engine.trace;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * W3C Trace Context §3.3 {@code tracestate}: passed on with its traceparent only when it is
 * well formed, since a recipient must discard the whole field otherwise (more than 32
 * list-members, a key twice, a key or value outside the grammar).
 */
final class TraceState {
  private static final int MAX_MEMBERS = 32;

  private TraceState() {}

  /** Whether the {@code tracestate} field lines, taken as one list, may be sent on. */
  static boolean valid(List<String> lines) {
    Set<String> keys = new HashSet<>();
    for (String line : lines) {
      for (String member : line.split(",", -1)) {
        String trimmed = member.strip();
        if (trimmed.isEmpty()) {
          continue; // empty list-members are allowed and skipped (§3.3.1.1)
        }
        int equals = trimmed.indexOf('=');
        if (equals <= 0 || !validKey(trimmed.substring(0, equals))
            || !validValue(trimmed.substring(equals + 1)) || !keys.add(trimmed.substring(0, equals))
            || keys.size() > MAX_MEMBERS) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Level 2's key, {@code (lcalpha / DIGIT) 0*255(keychar)} with {@code @} among the keychars:
   * a superset of Level 1's {@code simple-key} and {@code tenant-id@system-id}, so that a
   * tracestate a Level 2 tracer wrote is passed on, as both levels require of a valid one.
   */
  private static boolean validKey(String key) {
    return key.length() <= 256 && (isLowerAlpha(key.charAt(0)) || isDigit(key.charAt(0))) && keyChars(key, 1);
  }

  private static boolean keyChars(String key, int from) {
    for (int i = from; i < key.length(); i++) {
      char c = key.charAt(i);
      if (!(isLowerAlpha(c) || isDigit(c) || c == '_' || c == '-' || c == '*' || c == '/' || c == '@')) {
        return false;
      }
    }
    return true;
  }

  /** Up to 256 printable ASCII characters but comma and equals, not ending in a space (§3.3.1.3.2). */
  private static boolean validValue(String value) {
    if (value.isEmpty() || value.length() > 256 || value.charAt(value.length() - 1) == ' ') {
      return false;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c > 0x7e || c == ',' || c == '=') {
        return false;
      }
    }
    return true;
  }

  private static boolean isLowerAlpha(char c) {
    return c >= 'a' && c <= 'z';
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }
}
