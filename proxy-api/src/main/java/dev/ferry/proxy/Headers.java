package dev.ferry.proxy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An immutable, ordered list of HTTP header fields.
 *
 * <p>Names keep the case they were given and are looked up case-insensitively; a name may occur
 * more than once and the order of fields is preserved exactly, as it goes over the wire. Names
 * must be RFC 9110 tokens and values must not contain CR, LF, NUL or other control characters
 * (horizontal tab excepted); anything else is rejected with an {@link IllegalArgumentException}
 * that names the character and its index.
 *
 * <pre>{@code
 * Headers headers = Headers.of("Content-Type", "text/plain", "Cache-Control", "no-store");
 * headers.first("content-type");          // Optional[text/plain]
 * headers.with("Cache-Control", "max-age=60");
 * }</pre>
 */
public final class Headers {
  private static final Headers EMPTY = new Headers(new String[0], 0);
  private static final boolean[] TCHAR = new boolean[128];
  private static final Set<String> PROXY_MANAGED = Set.of("host", "content-length",
      "transfer-encoding", "connection", "proxy-connection", "keep-alive", "te", "trailer", "upgrade");

  static {
    for (char c = '0'; c <= '9'; c++) {
      TCHAR[c] = true;
    }
    for (char c = 'a'; c <= 'z'; c++) {
      TCHAR[c] = true;
      TCHAR[c - 32] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TCHAR[c] = true;
    }
  }

  /**
   * Alternating names and values: name0, value0, name1, value1, ...; the first {@link #length}
   * slots are used. The array may be the builder's own, handed over by {@link Builder#build()}
   * without a trimming copy (the builder copies it before changing anything again).
   */
  private final String[] namesAndValues;
  private final int length;

  private Headers(String[] namesAndValues, int length) {
    this.namesAndValues = namesAndValues;
    this.length = length;
  }

  /** Returns the empty header list. */
  public static Headers empty() {
    return EMPTY;
  }

  /**
   * Returns headers made of alternating names and values.
   *
   * @throws IllegalArgumentException if the count is odd or a name or value is invalid
   */
  public static Headers of(String... namesAndValues) {
    Objects.requireNonNull(namesAndValues, "namesAndValues");
    if (namesAndValues.length % 2 != 0) {
      throw new IllegalArgumentException(
          "namesAndValues must alternate names and values (was " + namesAndValues.length
              + " strings)");
    }
    Builder builder = builder();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      builder.add(namesAndValues[i], namesAndValues[i + 1]);
    }
    return builder.build();
  }

  /**
   * Whether the proxy sets this field itself on every message it sends: {@code Host}, the
   * framing fields ({@code Content-Length}, {@code Transfer-Encoding}) and the hop-by-hop ones
   * ({@code Connection}, {@code Keep-Alive}, {@code TE}, {@code Trailer}, {@code Upgrade},
   * {@code Proxy-Connection}), in an underscore spelling too ({@code Content_Length}), which the
   * proxy drops with the field. Options that name a header of the proxy's own (a request ID, a
   * cache status) refuse these, since the value would be overwritten or would break framing.
   *
   * <pre>{@code
   * Headers.isProxyManaged("content-length"); // true
   * Headers.isProxyManaged("X-Request-Id");   // false
   * }</pre>
   */
  public static boolean isProxyManaged(String name) {
    return PROXY_MANAGED.contains(name.trim().toLowerCase(Locale.ROOT).replace('_', '-'));
  }

  /** Checks {@code name} for an option naming a header the proxy adds; see {@link #isProxyManaged}. */
  static void checkOwnFieldName(String name, String option) {
    checkName(Objects.requireNonNull(name, option));
    if (isProxyManaged(name)) {
      throw new IllegalArgumentException(option + " cannot be " + name
          + ": the proxy manages Host, message framing and hop-by-hop headers");
    }
  }

  /** Returns a new, empty builder. */
  public static Builder builder() {
    return new Builder(new String[24], 0);
  }

  /** Returns a builder that starts with these fields. */
  public Builder toBuilder() {
    return new Builder(Arrays.copyOf(namesAndValues, length + 4), length);
  }

  /** Returns the number of fields, counting repeated names separately. */
  public int size() {
    return length / 2;
  }

  /** Returns true if there are no fields. */
  public boolean isEmpty() {
    return length == 0;
  }

  /**
   * Returns the name of field {@code index}, in the case it was given.
   *
   * @throws IndexOutOfBoundsException unless {@code 0 <= index < size()}
   */
  public String name(int index) {
    return namesAndValues[Objects.checkIndex(index, length / 2) * 2];
  }

  /**
   * Returns the value of field {@code index}.
   *
   * @throws IndexOutOfBoundsException unless {@code 0 <= index < size()}
   */
  public String value(int index) {
    return namesAndValues[Objects.checkIndex(index, length / 2) * 2 + 1];
  }

  /** Returns the first value of the named field, looked up case-insensitively. */
  public Optional<String> first(String name) {
    Objects.requireNonNull(name, "name");
    for (int i = 0; i < length; i += 2) {
      if (namesAndValues[i].equalsIgnoreCase(name)) {
        return Optional.of(namesAndValues[i + 1]);
      }
    }
    return Optional.empty();
  }

  /** Returns every value of the named field in order, or an empty list. */
  public List<String> all(String name) {
    Objects.requireNonNull(name, "name");
    List<String> values = null;
    for (int i = 0; i < length; i += 2) {
      if (namesAndValues[i].equalsIgnoreCase(name)) {
        if (values == null) {
          values = new ArrayList<>(2);
        }
        values.add(namesAndValues[i + 1]);
      }
    }
    return values == null ? List.of() : Collections.unmodifiableList(values);
  }

  /** Returns true if at least one field has this name. */
  public boolean contains(String name) {
    Objects.requireNonNull(name, "name");
    for (int i = 0; i < length; i += 2) {
      if (namesAndValues[i].equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Returns true if a field of this name holds {@code token} in its comma-separated list,
   * compared case-insensitively ({@code Connection: keep-alive, Upgrade} contains {@code upgrade}).
   */
  public boolean containsToken(String name, String token) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(token, "token");
    // Scanned in place: the proxy asks this of every message it relays (Connection, TE).
    for (int i = 0; i < length; i += 2) {
      if (namesAndValues[i].equalsIgnoreCase(name) && listsToken(namesAndValues[i + 1], token)) {
        return true;
      }
    }
    return false;
  }

  private static boolean listsToken(String value, String token) {
    int start = 0;
    while (start <= value.length()) {
      int comma = value.indexOf(',', start);
      int end = comma < 0 ? value.length() : comma;
      int from = start;
      while (from < end && value.charAt(from) <= ' ') {
        from++;
      }
      int to = end;
      while (to > from && value.charAt(to - 1) <= ' ') {
        to--;
      }
      if (to - from == token.length() && value.regionMatches(true, from, token, 0, token.length())) {
        return true;
      }
      start = end + 1;
    }
    return false;
  }

  /** Returns a copy in which {@code name} has the single value {@code value}, replacing any. */
  public Headers with(String name, String value) {
    return toBuilder().set(name, value).build();
  }

  /** Returns a copy with one more field at the end. */
  public Headers plus(String name, String value) {
    return toBuilder().add(name, value).build();
  }

  /** Returns a copy without any field of this name. */
  public Headers without(String name) {
    if (!contains(name)) {
      return this;
    }
    return toBuilder().remove(name).build();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Headers that
        && Arrays.equals(namesAndValues, 0, length, that.namesAndValues, 0, that.length);
  }

  @Override
  public int hashCode() {
    int result = 1;
    for (int i = 0; i < length; i++) {
      result = 31 * result + namesAndValues[i].hashCode();
    }
    return result;
  }

  /** Returns the fields one per line, as {@code Name: value}. */
  @Override
  public String toString() {
    StringBuilder result = new StringBuilder();
    for (int i = 0; i < length; i += 2) {
      result.append(namesAndValues[i]).append(": ").append(namesAndValues[i + 1]).append('\n');
    }
    return result.toString();
  }

  static void checkName(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("header name must not be empty");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!isTokenChar(c)) {
        throw new IllegalArgumentException(String.format(Locale.ROOT,
            "Unexpected char %#04x at %d in header name: %s", (int) c, i, Checks.shown(name)));
      }
    }
  }

  static void checkValue(String value, String name) {
    Objects.requireNonNull(value, "value");
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if ((c < 0x20 && c != '\t') || c == 0x7f || c > 0xff) {
        throw new IllegalArgumentException(String.format(Locale.ROOT,
            "Unexpected char %#04x at %d in %s value", (int) c, i, name));
      }
    }
  }

  /** RFC 9110 §5.6.2 tchar. */
  static boolean isTokenChar(char c) {
    return c < 128 && TCHAR[c];
  }

  /**
   * A mutable builder of {@link Headers}. Not thread-safe.
   */
  public static final class Builder {
    // A bare array rather than a list: a message's fields are copied a few times per exchange.
    private String[] namesAndValues;
    private int size;
    /** Whether a built {@link Headers} holds {@link #namesAndValues}: copy it before a change. */
    private boolean shared;

    private Builder(String[] namesAndValues, int size) {
      this.namesAndValues = namesAndValues;
      this.size = size;
    }

    /**
     * Adds field number {@code index} of {@code from} at the end, keeping any existing fields of
     * the same name. It was checked when {@code from} was built, so nothing is checked again:
     * the cheap way to copy some fields of one message into another.
     *
     * @throws IndexOutOfBoundsException unless {@code 0 <= index < from.size()}
     */
    public Builder add(Headers from, int index) {
      Objects.checkIndex(index, from.size());
      append(from.name(index), from.value(index));
      return this;
    }

    /**
     * Adds a field at the end, keeping any existing fields of the same name.
     *
     * @throws IllegalArgumentException if the name is not a token or the value holds a control
     *     character
     */
    public Builder add(String name, String value) {
      checkName(name);
      checkValue(value, name);
      append(name, value);
      return this;
    }

    /** Replaces every field of this name with one field holding {@code value}. */
    public Builder set(String name, String value) {
      checkName(name);
      checkValue(value, name);
      remove(name);
      append(name, value);
      return this;
    }

    /** Removes every field of this name. */
    public Builder remove(String name) {
      Objects.requireNonNull(name, "name");
      unshare();
      int kept = 0;
      for (int i = 0; i < size; i += 2) {
        if (!namesAndValues[i].equalsIgnoreCase(name)) {
          namesAndValues[kept++] = namesAndValues[i];
          namesAndValues[kept++] = namesAndValues[i + 1];
        }
      }
      Arrays.fill(namesAndValues, kept, size, null);
      size = kept;
      return this;
    }

    /** Returns the immutable header list. */
    public Headers build() {
      if (size == 0) {
        return EMPTY;
      }
      shared = true;
      return new Headers(namesAndValues, size);
    }

    private void unshare() {
      if (shared) {
        namesAndValues = namesAndValues.clone();
        shared = false;
      }
    }

    private void append(String name, String value) {
      if (size + 2 > namesAndValues.length) {
        namesAndValues = Arrays.copyOf(namesAndValues, Math.max(8, namesAndValues.length * 2));
        shared = false;
      } else {
        unshare();
      }
      namesAndValues[size++] = name;
      namesAndValues[size++] = value;
    }
  }
}
