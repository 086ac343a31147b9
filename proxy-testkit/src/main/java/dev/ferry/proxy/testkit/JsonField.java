package dev.ferry.proxy.testkit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.Comparator;
import java.util.Optional;

/**
 * Looks up a field in a JSON body by a dotted path such as {@code order.items[0].id}, with the
 * Jackson tree the testkit already has for HAR: no JSON-path dependency.
 */
final class JsonField {
  // A body with anything after its first value is not JSON; Jackson stops reading there by
  // default, so {"status":"ok"}<html>... passed as JSON (probe t24).
  private static final ObjectReader STRICT =
      HarWriter.JSON.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /** Numbers by value, so that 2 equals 2.0 at any depth (probe t24); anything else as Jackson does. */
  private static final Comparator<JsonNode> BY_VALUE = (a, b) -> {
    if (a.isNumber() && b.isNumber()) {
      return decimal(a).compareTo(decimal(b));
    }
    return a.equals(b) ? 0 : 1;
  };

  private JsonField() {}

  /** A float as it is written (0.1f is 0.1, not the double nearest it), as at the top level. */
  private static BigDecimal decimal(JsonNode number) {
    return number.isFloat() ? new BigDecimal(Float.toString(number.floatValue())) : number.decimalValue();
  }

  /**
   * Parses a whole body as one JSON value.
   *
   * @throws IOException if the body is empty, malformed, or has content after its first value;
   *     the message says which
   */
  static JsonNode parse(String json) throws IOException {
    JsonNode root;
    try {
      root = STRICT.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IOException(e.getOriginalMessage(), e);
    }
    if (root == null || root.isMissingNode()) {
      throw new IOException("the body is empty");
    }
    return root;
  }

  /** The node at the path, or empty if the path leads nowhere. */
  static Optional<JsonNode> find(JsonNode root, String path) {
    JsonNode node = root;
    for (String step : path.split("\\.")) {
      String name = step;
      int bracket = step.indexOf('[');
      if (bracket >= 0) {
        name = step.substring(0, bracket);
      }
      if (!name.isEmpty()) {
        node = node == null ? null : node.get(name);
      }
      while (bracket >= 0 && node != null) {
        int close = step.indexOf(']', bracket);
        if (close < 0) {
          throw new IllegalArgumentException("path has an unclosed [ (was " + path + ")");
        }
        node = node.get(Integer.parseInt(step.substring(bracket + 1, close)));
        bracket = step.indexOf('[', close);
      }
      if (node == null) {
        return Optional.empty();
      }
    }
    return Optional.of(node);
  }

  /**
   * Numbers compare by value (1 equals 1.0), also inside objects and lists, text by content,
   * anything else as a JSON tree.
   */
  static boolean equalTo(JsonNode node, Object expected) {
    if (expected == null) {
      return node.isNull();
    }
    if (node.isNumber() && expected instanceof Number) {
      return decimal(node).compareTo(new BigDecimal(expected.toString())) == 0;
    }
    if (node.isTextual() && expected instanceof CharSequence) {
      return node.textValue().equals(expected.toString());
    }
    return node.equals(BY_VALUE, HarWriter.JSON.valueToTree(expected));
  }
}
