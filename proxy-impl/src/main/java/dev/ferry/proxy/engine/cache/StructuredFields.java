package dev.ferry.proxy.engine.cache;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A strict parser of RFC 8941 Structured Field Dictionaries, following its §4.2 algorithms step
 * by step: any deviation (a space around {@code =}, a trailing comma, a bad escape, an integer of
 * 16 digits) fails the whole field, because §4.2 says a field that fails to parse is ignored
 * whole, not repaired.
 *
 * <p>Values: {@link Long} (Integer), {@link BigDecimal} (Decimal), {@link String}, {@link Token},
 * {@code byte[]} (Byte Sequence), {@link Boolean}, or a {@code List<Item>} (Inner List).
 */
final class StructuredFields {
  /** A member or list item with its parameters, in order. */
  record Item(Object value, Map<String, Object> parameters) {}

  /** A Token, kept apart from a String because they differ on the wire and in meaning. */
  record Token(String text) {}

  private final String input;
  private int pos;

  private StructuredFields(String input) {
    this.input = input;
  }

  /** Parses the combined field lines (RFC 8941 §4.2: joined with commas); empty on failure. */
  static Optional<Map<String, Item>> parseDictionary(List<String> lines) {
    StructuredFields parser = new StructuredFields(String.join(",", lines));
    try {
      parser.skipSpaces();
      Map<String, Item> dictionary = parser.dictionary();
      parser.skipSpaces();
      if (parser.pos != parser.input.length()) {
        return Optional.empty();
      }
      return Optional.of(dictionary);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** §4.2.2. */
  private Map<String, Item> dictionary() {
    Map<String, Item> members = new LinkedHashMap<>();
    while (pos < input.length()) {
      String key = key();
      if (peek() == '=') {
        pos++;
        members.put(key, peek() == '(' ? innerList() : item());
      } else {
        members.put(key, new Item(Boolean.TRUE, parameters()));
      }
      skipOptionalWhitespace();
      if (pos == input.length()) {
        return members;
      }
      expect(',');
      skipOptionalWhitespace();
      if (pos == input.length()) {
        throw fail("trailing comma");
      }
    }
    return members;
  }

  /** §4.2.1.2. */
  private Item innerList() {
    expect('(');
    List<Item> items = new ArrayList<>();
    while (pos < input.length()) {
      skipSpaces();
      if (peek() == ')') {
        pos++;
        return new Item(List.copyOf(items), parameters());
      }
      items.add(item());
      char next = peek();
      if (next != ' ' && next != ')') {
        throw fail("inner list item not followed by space or )");
      }
    }
    throw fail("unterminated inner list");
  }

  /** §4.2.3. */
  private Item item() {
    Object value = bareItem();
    return new Item(value, parameters());
  }

  /** §4.2.3.1. */
  private Object bareItem() {
    char c = peek();
    if (c == '-' || isDigit(c)) {
      return number();
    }
    if (c == '"') {
      return string();
    }
    if (c == '*' || isAlpha(c)) {
      return token();
    }
    if (c == ':') {
      return byteSequence();
    }
    if (c == '?') {
      return bool();
    }
    throw fail("unexpected character");
  }

  /** §4.2.3.2. */
  private Map<String, Object> parameters() {
    Map<String, Object> parameters = new LinkedHashMap<>();
    while (peek() == ';') {
      pos++;
      skipSpaces();
      String key = key();
      Object value = Boolean.TRUE;
      if (peek() == '=') {
        pos++;
        value = bareItem();
      }
      parameters.put(key, value);
    }
    return parameters;
  }

  /** §4.2.3.3. */
  private String key() {
    char first = peek();
    if (!(first >= 'a' && first <= 'z') && first != '*') {
      throw fail("key must start with lcalpha or *");
    }
    int start = pos;
    while (pos < input.length()) {
      char c = input.charAt(pos);
      if (!(c >= 'a' && c <= 'z') && !isDigit(c) && "_-.*".indexOf(c) < 0) {
        break;
      }
      pos++;
    }
    return input.substring(start, pos);
  }

  /** §4.2.4. */
  private Object number() {
    int sign = pos;
    if (peek() == '-') {
      pos++;
    }
    // §4.2.4 counts the digits (and the dot) of input_number, not the sign.
    int start = pos;
    if (!isDigit(peek())) {
      throw fail("number without digits");
    }
    boolean decimal = false;
    while (pos < input.length()) {
      char c = input.charAt(pos);
      if (isDigit(c)) {
        pos++;
      } else if (c == '.' && !decimal) {
        if (pos - start > 12) {
          throw fail("decimal integer part too long");
        }
        decimal = true;
        pos++;
      } else {
        break;
      }
      int length = pos - start;
      if (!decimal && length > 15 || decimal && length > 16) {
        throw fail("number too long");
      }
    }
    String text = input.substring(sign, pos);
    if (!decimal) {
      return Long.parseLong(text);
    }
    int fraction = text.length() - text.indexOf('.') - 1;
    if (fraction == 0 || fraction > 3) {
      throw fail("decimal fraction must have 1 to 3 digits");
    }
    return new BigDecimal(text);
  }

  /** §4.2.5. */
  private String string() {
    expect('"');
    StringBuilder out = new StringBuilder();
    while (pos < input.length()) {
      char c = input.charAt(pos++);
      if (c == '\\') {
        char escaped = peek();
        if (escaped != '"' && escaped != '\\') {
          throw fail("bad escape");
        }
        out.append(escaped);
        pos++;
      } else if (c == '"') {
        return out.toString();
      } else if (c < 0x20 || c > 0x7e) {
        throw fail("character outside VCHAR and SP in string");
      } else {
        out.append(c);
      }
    }
    throw fail("unterminated string");
  }

  /** §4.2.6. */
  private Token token() {
    int start = pos++;
    while (pos < input.length() && (isTchar(input.charAt(pos)) || input.charAt(pos) == ':'
        || input.charAt(pos) == '/')) {
      pos++;
    }
    return new Token(input.substring(start, pos));
  }

  /** §4.2.7. */
  private byte[] byteSequence() {
    expect(':');
    int end = input.indexOf(':', pos);
    if (end < 0) {
      throw fail("unterminated byte sequence");
    }
    String encoded = input.substring(pos, end);
    for (int i = 0; i < encoded.length(); i++) {
      char c = encoded.charAt(i);
      if (!isAlpha(c) && !isDigit(c) && c != '+' && c != '/' && c != '=') {
        throw fail("character outside base64 in byte sequence");
      }
    }
    pos = end + 1;
    return Base64.getDecoder().decode(encoded);
  }

  /** §4.2.8. */
  private Boolean bool() {
    expect('?');
    char c = peek();
    if (c != '0' && c != '1') {
      throw fail("boolean must be ?0 or ?1");
    }
    pos++;
    return c == '1';
  }

  private char peek() {
    return pos < input.length() ? input.charAt(pos) : '\0';
  }

  private void expect(char c) {
    if (peek() != c) {
      throw fail("expected " + c);
    }
    pos++;
  }

  private void skipSpaces() {
    while (peek() == ' ') {
      pos++;
    }
  }

  private void skipOptionalWhitespace() {
    while (peek() == ' ' || peek() == '\t') {
      pos++;
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static boolean isAlpha(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
  }

  /** RFC 9110 §5.6.2 tchar. */
  private static boolean isTchar(char c) {
    return isAlpha(c) || isDigit(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }

  private IllegalArgumentException fail(String reason) {
    return new IllegalArgumentException(reason + " at " + pos);
  }
}
