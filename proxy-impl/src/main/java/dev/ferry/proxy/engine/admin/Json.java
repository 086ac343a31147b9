package dev.ferry.proxy.engine.admin;

import java.util.Locale;

/**
 * A minimal JSON writer for the engine's own documents (stats, access log lines): the engine
 * depends on no JSON library, and what it writes is a handful of flat objects. Strings are
 * escaped per RFC 8259; non-finite numbers are written as 0.
 */
public final class Json {
  private final StringBuilder out = new StringBuilder(256);
  private boolean first = true;

  public Json begin() {
    out.append('{');
    first = true;
    return this;
  }

  public Json end() {
    out.append('}');
    first = false;
    return this;
  }

  /** Starts a nested object under {@code name}; close it with {@link #end()}. */
  public Json object(String name) {
    key(name);
    out.append('{');
    first = true;
    return this;
  }

  public Json field(String name, String value) {
    key(name);
    if (value == null) {
      out.append("null");
    } else {
      quote(value);
    }
    return this;
  }

  public Json field(String name, long value) {
    key(name);
    out.append(value);
    return this;
  }

  public Json field(String name, double value) {
    key(name);
    out.append(Double.isFinite(value) ? String.format(Locale.ROOT, "%.3f", value) : "0");
    return this;
  }

  public Json field(String name, boolean value) {
    key(name);
    out.append(value);
    return this;
  }

  private void key(String name) {
    if (!first) {
      out.append(',');
    }
    first = false;
    quote(name);
    out.append(':');
  }

  private void quote(String value) {
    out.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == '\u2028' || c == '\u2029') {
            out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  @Override
  public String toString() {
    return out.toString();
  }
}
