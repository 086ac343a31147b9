package dev.ferry.samples;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * One value of a YAML config file with where it was written: its key path
 * ({@code pools[0].endpoints[1]}) and its line. Jackson's tree model drops locations, so the file
 * is read with Jackson's streaming YAML parser into these nodes; every error then names the line.
 * Duplicate keys are errors (YAML would silently keep the last).
 */
final class ConfigNode {
  private static final YAMLFactory YAML = new YAMLFactory();
  private static final Pattern DECIMAL = Pattern.compile("[-+]?(0|[1-9][0-9]*)");

  private final Path file;
  private final String key;
  private final String path;
  private final int line;
  /** A {@code Map<String, ConfigNode>}, a {@code List<ConfigNode>}, a scalar, or null. */
  private final Object value;
  /**
   * A scalar as the file writes it: YAML 1.1 types {@code yes} as true, {@code 1.10} as 1.1 and
   * {@code 010} as 8, which text options must not see (a header match on {@code yes} matched
   * {@code true}, probe g14); null for a mapping, a list or nothing.
   */
  private final String written;

  private ConfigNode(Path file, String key, String path, int line, Object value) {
    this(file, key, path, line, value, null);
  }

  private ConfigNode(Path file, String key, String path, int line, Object value, String written) {
    this.file = file;
    this.key = key;
    this.path = path;
    this.line = line;
    this.value = value;
    this.written = written;
  }

  /**
   * The file's bytes, or null if it cannot be read now (the parse then says why). Here, in a
   * class without a logger: the CLI reads its config before it sets up logging, and the first
   * logger made would fix slf4j's binding and level.
   */
  static byte[] bytes(Path file) {
    try {
      return java.nio.file.Files.readAllBytes(file);
    } catch (java.io.IOException e) {
      return null;
    }
  }

  /**
   * Reads {@code file}; an empty file is an empty mapping.
   *
   * @throws ConfigFileException if it cannot be read or is not valid YAML, naming the line
   */
  static ConfigNode read(Path file) {
    try (JsonParser parser = YAML.createParser(file.toFile())) {
      if (parser.nextToken() == null) {
        return new ConfigNode(file, "", "", 1, new LinkedHashMap<String, ConfigNode>());
      }
      ConfigNode root = read(parser, file, "", "", line(parser.currentTokenLocation()));
      if (parser.nextToken() != null) {
        throw new ConfigFileException(file, line(parser.currentTokenLocation()),
            "only one YAML document is allowed");
      }
      // A document with nothing in it ("---" alone) is as empty as an empty file.
      return root.value == null ? new ConfigNode(file, "", "", 1, new LinkedHashMap<String, ConfigNode>()) : root;
    } catch (JsonProcessingException e) {
      throw new ConfigFileException(file, e.getLocation() == null ? 0 : line(e.getLocation()),
          problem(e.getOriginalMessage()));
    } catch (IOException e) {
      throw new ConfigFileException(file, 0, "cannot read: " + PemFiles.why(e));
    }
  }

  private static ConfigNode read(JsonParser parser, Path file, String key, String path, int line) throws IOException {
    JsonToken token = parser.currentToken();
    if (parser instanceof YAMLParser yaml && yaml.isCurrentAlias()) {
      // Jackson reads an alias as its anchor's name, not the anchored value: a rule written
      // with one would hold the wrong text, silently.
      throw new ConfigFileException(file, line(parser.currentTokenLocation()),
          (path.isEmpty() ? "" : path + ": ") + "YAML aliases (*name) are not supported; write the value out");
    }
    if (token == JsonToken.START_OBJECT) {
      Map<String, ConfigNode> fields = new LinkedHashMap<>();
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String name = parser.currentName();
        int keyLine = line(parser.currentTokenLocation());
        String childPath = path.isEmpty() ? name : path + "." + name;
        parser.nextToken();
        if (fields.put(name, read(parser, file, name, childPath, keyLine)) != null) {
          throw new ConfigFileException(file, keyLine, childPath + " is given twice");
        }
      }
      return new ConfigNode(file, key, path, line, fields);
    }
    if (token == JsonToken.START_ARRAY) {
      List<ConfigNode> items = new ArrayList<>();
      while (parser.nextToken() != JsonToken.END_ARRAY) {
        items.add(read(parser, file, key, path + "[" + items.size() + "]", line(parser.currentTokenLocation())));
      }
      return new ConfigNode(file, key, path, line, items);
    }
    Object scalar = switch (token) {
      case VALUE_STRING -> parser.getText();
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> number(parser);
      case VALUE_TRUE -> Boolean.TRUE;
      case VALUE_FALSE -> Boolean.FALSE;
      default -> null;
    };
    return new ConfigNode(file, key, path, line, scalar, scalar == null ? null : parser.getText());
  }

  /**
   * A number, or its text where Java has no such number ({@code .inf}, {@code .nan}): the option
   * reading it then refuses it, naming its key.
   */
  private static Object number(JsonParser parser) throws IOException {
    try {
      return parser.getNumberValue();
    } catch (JsonProcessingException e) {
      return parser.getText();
    }
  }

  /**
   * SnakeYAML's message without its location lines and source excerpt (the line is reported
   * apart): "while parsing a flow node; expected the node content, but found '<stream end>'".
   */
  private static String problem(String message) {
    List<String> parts = new ArrayList<>();
    for (String part : message.split("\\R")) {
      if (!part.isBlank() && !Character.isWhitespace(part.charAt(0))) {
        parts.add(part.trim());
      }
    }
    return parts.isEmpty() ? message : String.join("; ", parts);
  }

  private static int line(JsonLocation location) {
    return location.getLineNr();
  }

  /** The key path, like {@code routes[2].retries}. */
  String path() {
    return path;
  }

  /** The 1-based line of the key (or of the item, in a list). */
  int line() {
    return line;
  }

  /**
   * The fields of a mapping, in file order.
   *
   * @throws ConfigFileException if this is not a mapping or has a key not in {@code allowed}
   */
  Map<String, ConfigNode> fields(List<String> allowed) {
    if (!(value instanceof Map)) {
      throw error("must be a mapping of " + String.join(", ", allowed));
    }
    @SuppressWarnings("unchecked")
    Map<String, ConfigNode> fields = (Map<String, ConfigNode>) value;
    for (ConfigNode field : fields.values()) {
      if (!allowed.contains(field.key)) {
        throw field.error("is not a known key; expected one of " + String.join(", ", allowed));
      }
    }
    return fields;
  }

  /**
   * The entries of a mapping with keys of the user's choosing (header names), in file order.
   *
   * @throws ConfigFileException if this is not a mapping
   */
  @SuppressWarnings("unchecked")
  Map<String, ConfigNode> entries() {
    if (!(value instanceof Map)) {
      throw error("must be a mapping");
    }
    return (Map<String, ConfigNode>) value;
  }

  /** True if this is a mapping. */
  boolean isMapping() {
    return value instanceof Map;
  }

  /** True if this is a list. */
  boolean isList() {
    return value instanceof List;
  }

  /**
   * The items of a list; a single value counts as a list of one.
   *
   * @throws ConfigFileException if this is a mapping
   */
  @SuppressWarnings("unchecked")
  List<ConfigNode> list() {
    if (value instanceof List) {
      return (List<ConfigNode>) value;
    }
    if (value instanceof Map || value == null) {
      throw error("must be a value or a list of values, not " + (value == null ? "empty" : "a mapping"));
    }
    return List.of(this);
  }

  /**
   * The items of a section that is a list of mappings (pools, routes, filters).
   *
   * @throws ConfigFileException unless this is a list, naming how an item is written
   */
  @SuppressWarnings("unchecked")
  List<ConfigNode> items(String example) {
    if (!(value instanceof List)) {
      throw error("must be a list, one item per entry, each written like " + example);
    }
    return (List<ConfigNode>) value;
  }

  /** A scalar as text, as written ({@code yes}, {@code 1.10}, {@code 010}: not true, 1.1, 8). */
  String text() {
    if (written == null) {
      throw error("must be a single value");
    }
    return written;
  }

  /** A whole number that fits an {@code int}. */
  int integer() {
    long number = longValue();
    if (number < Integer.MIN_VALUE || number > Integer.MAX_VALUE) {
      throw error("must be a whole number up to " + Integer.MAX_VALUE + " (was " + number + ")");
    }
    return (int) number;
  }

  /** A whole number, quoted or not ({@code "8080"}, as templating tools quote every value). */
  long longValue() {
    if (!(value instanceof Integer || value instanceof Long || value instanceof String)) {
      throw error("must be a whole number (was " + shown() + ")");
    }
    if (!DECIMAL.matcher(written).matches()) {
      // YAML 1.1 reads 010 as 8, 0x1F as 31 and 1_000 as 1000: taken silently, a typo changes
      // a limit (probe g14).
      throw error("must be a whole number in decimal digits, without leading zeros (was " + written + ")");
    }
    try {
      return Long.parseLong(written);
    } catch (NumberFormatException e) {
      throw error("must be a whole number up to " + Long.MAX_VALUE + " (was " + written + ")");
    }
  }

  /** Whole or fractional seconds. */
  Duration seconds() {
    if (!(value instanceof Number || value instanceof String)) {
      throw error("must be a number of seconds (was " + shown() + ")");
    }
    return call(() -> Seconds.parse(path, written));
  }

  /**
   * {@code true} or {@code false} as written, quoted or not ({@code "true"}, as templating tools
   * quote every value); not YAML 1.1's {@code yes}, {@code on}, {@code no}, {@code off}, read as
   * written like every other value (probe g22: a quoted {@code "true"} was refused with a message
   * that showed {@code true}).
   */
  boolean bool() {
    if ((value instanceof Boolean || value instanceof String) && written != null) {
      if (written.equalsIgnoreCase("true")) {
        return true;
      }
      if (written.equalsIgnoreCase("false")) {
        return false;
      }
    }
    throw error("must be true or false (was " + shown() + ")");
  }

  /**
   * Runs a builder call for this value, giving its validation errors this node's line and path.
   *
   * @throws ConfigFileException if the call throws {@link IllegalArgumentException} or
   *     {@link IllegalStateException}
   */
  <T> T call(Supplier<T> builderCall) {
    try {
      return builderCall.get();
    } catch (ConfigFileException e) {
      throw e;
    } catch (IllegalArgumentException | IllegalStateException e) {
      String message = e.getMessage();
      throw new ConfigFileException(file, line, message.startsWith(path) ? message : path + ": " + message);
    }
  }

  /** An error about this value, naming its line and key path ("the file" for the top level). */
  ConfigFileException error(String rule) {
    return new ConfigFileException(file, line, (path.isEmpty() ? "the file" : path) + " " + rule);
  }

  /** The value as an error message shows it: a scalar as written, else what kind of value it is. */
  private String shown() {
    return value instanceof List ? "a list" : value instanceof Map ? "a mapping"
        : value == null ? "nothing" : written;
  }

  /** The directory of the file, against which relative paths in it resolve. */
  Path directory() {
    Path parent = file.toAbsolutePath().getParent();
    return parent == null ? Path.of(".") : parent;
  }
}
