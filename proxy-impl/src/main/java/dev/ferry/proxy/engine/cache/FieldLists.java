package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.engine.http1.Tokens;
import java.util.ArrayList;
import java.util.List;

/**
 * The members of a list-based field value (RFC 9110 §5.6.1): split at commas outside quoted
 * strings (§5.6.4, where a backslash escapes the next character), untrimmed, empty ones kept.
 * A comma inside {@code text/html;p="a,b"} or an entity tag does not split it; every comma after
 * a quote that is never closed does.
 */
final class FieldLists {
  private FieldLists() {}

  static List<String> members(String value) {
    return members(value, false);
  }

  /**
   * As {@link #members(String)}; with {@code argumentsOnly}, a quote opens a quoted-string only
   * right after a member's first {@code =}, and is a character like any other elsewhere:
   * Cache-Control's grammar has quoted-strings only as a directive's whole argument, and
   * {@code foo=a"b, private, c"d}, {@code "a, private, b"} (probe v24) or
   * {@code foo=a="b, private, c"} (v25) hid the {@code private} between two stray quotes.
   */
  static List<String> members(String value, boolean argumentsOnly) {
    List<String> parts = new ArrayList<>();
    boolean quoted = false;
    int start = 0;
    int argumentStart = -1;
    boolean equalsSeen = false;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (quoted && c == '\\') {
        i++;
      } else if (c == '"' && (quoted || !argumentsOnly || i == argumentStart)) {
        quoted = !quoted;
      } else if (c == '=' && !quoted && !equalsSeen) {
        equalsSeen = true;
        // Only a directive's argument: a member whose name is no token has none (probe v26:
        // "=\", private, \"" and "a\"b=\", private" hid the private).
        // Nor one with whitespace before its = (RFC 9111 §5.2 has none there; probe v27:
        // "foo =\"a, private, b\"" hid the private), which CacheControl reads as no directive.
        argumentStart = isTokenAfterWhitespace(value, start, i) ? i + 1 : -1;
      } else if (c == ',' && !quoted) {
        parts.add(value.substring(start, i));
        start = i + 1;
        equalsSeen = false;
      }
    }
    if (quoted) {
      // A quoted-string never closed is malformed (§5.6.4), and no comma after its quote is
      // quoted: a member after it still counts, so that "foo=\"a, private" keeps a shared cache
      // from storing the response (probe k24; nginx reads it so too).
      parts.addAll(List.of(value.substring(start).split(",", -1)));
    } else {
      parts.add(value.substring(start));
    }
    return parts;
  }

  /**
   * Whether {@code value}'s characters from {@code start} to {@code end}, past the list's OWS, are
   * a token; in place, as every Cache-Control of every hit goes through it.
   */
  private static boolean isTokenAfterWhitespace(String value, int start, int end) {
    while (start < end && (value.charAt(start) == ' ' || value.charAt(start) == '\t')) {
      start++;
    }
    if (start == end) {
      return false;
    }
    for (int i = start; i < end; i++) {
      if (!Tokens.isTokenChar(value.charAt(i))) {
        return false;
      }
    }
    return true;
  }
}
