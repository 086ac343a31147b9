package dev.ferry.proxy.testkit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
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
  // default, so {"status":"ok"}<html>... passed as JSON (probe t24). Its decimals are read as
  // written: as doubles, 1.00000000000000001 was 1.0 and 1e400 was Infinity (probe v24). Trailing
  // zeros are kept, so that a failure shows 2.50 as 2.50, not 2.5.
  private static final ObjectReader STRICT = HarWriter.JSON.reader()
      .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .without(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES);

  /** Numbers by value, so that 2 equals 2.0 at any depth (probe t24); anything else as Jackson does. */
  private static final Comparator<JsonNode> BY_VALUE = (a, b) -> {
    if (a.isNumber() && b.isNumber()) {
      return sameNumber(a.numberValue(), b.numberValue()) ? 0 : 1;
    }
    return a.equals(b) ? 0 : 1;
  };

  private JsonField() {}

  /**
   * True if both numbers have the same written value. A float or double counts as its
   * {@code toString()}: 0.1f is 0.1, not the double nearest it. That is why the expected side is
   * converted by {@code HarWriter.JSON}, which leaves USE_BIG_DECIMAL_FOR_FLOATS off: that feature
   * would widen a Float to that double, while a BigDecimal stays exact either way. NaN, the
   * infinities and numbers that do not print as decimals equal nothing: JSON cannot write them.
   */
  private static boolean sameNumber(Number a, Number b) {
    Optional<BigDecimal> x = written(a);
    Optional<BigDecimal> y = written(b);
    return x.isPresent() && y.isPresent() && x.get().compareTo(y.get()) == 0;
  }

  private static Optional<BigDecimal> written(Number number) {
    try {
      return Optional.of(new BigDecimal(number.toString()));
    } catch (NumberFormatException e) {
      return Optional.empty(); // NaN, Infinity, or a Number of one's own that prints otherwise.
    }
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
   * Numbers compare by their written value (1 equals 1.0; 1.00000000000000001 does not, and 1e400
   * is a number like any other), also inside objects and lists, text by content, anything else as
   * a JSON tree.
   */
  static boolean equalTo(JsonNode node, Object expected) {
    if (expected == null) {
      return node.isNull();
    }
    if (node.isNumber() && expected instanceof Number) {
      return sameNumber(node.numberValue(), (Number) expected);
    }
    if (node.isTextual() && expected instanceof CharSequence) {
      return node.textValue().equals(expected.toString());
    }
    // HarWriter.JSON rather than STRICT's settings: an expected Float stays a float (sameNumber).
    return node.equals(BY_VALUE, HarWriter.JSON.valueToTree(expected));
  }
}
