package dev.ferry.proxy.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.Optional;

/**
 * Looks up a field in a JSON body by a dotted path such as {@code order.items[0].id}, with the
 * Jackson tree the testkit already has for HAR: no JSON-path dependency.
 */
final class JsonField {
  private JsonField() {}

  /** The node at the path, or empty if the body is not JSON or the path leads nowhere. */
  static Optional<JsonNode> find(String json, String path) {
    JsonNode node;
    try {
      node = HarWriter.JSON.readTree(json);
    } catch (IOException e) {
      return Optional.empty();
    }
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

  /** Numbers compare by value (1 equals 1.0), text by content, anything else as a JSON tree. */
  static boolean equalTo(JsonNode node, Object expected) {
    if (expected == null) {
      return node.isNull();
    }
    if (node.isNumber() && expected instanceof Number) {
      return node.decimalValue().compareTo(new BigDecimal(expected.toString())) == 0;
    }
    if (node.isTextual() && expected instanceof CharSequence) {
      return node.textValue().equals(expected.toString());
    }
    return node.equals(HarWriter.JSON.valueToTree(expected));
  }
}
