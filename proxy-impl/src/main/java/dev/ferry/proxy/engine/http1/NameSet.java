package dev.ferry.proxy.engine.http1;

import java.util.Arrays;
import java.util.Locale;

/**
 * A small fixed set of field names, matched ignoring ASCII case with no allocation: names are
 * grouped by length, so a lookup compares at most the few names of the same length. It replaces
 * lower-casing every field name of every message to look it up in a {@code Set}.
 */
public final class NameSet {
  private static final String[] NONE = new String[0];
  public static final NameSet EMPTY = of();

  private final String[][] byLength;

  private NameSet(String[][] byLength) {
    this.byLength = byLength;
  }

  public static NameSet of(String... names) {
    int longest = 0;
    for (String name : names) {
      longest = Math.max(longest, name.length());
    }
    String[][] byLength = new String[longest + 1][];
    Arrays.fill(byLength, NONE);
    for (String name : names) {
      String[] same = byLength[name.length()];
      same = Arrays.copyOf(same, same.length + 1);
      same[same.length - 1] = name.toLowerCase(Locale.ROOT);
      byLength[name.length()] = same;
    }
    return new NameSet(byLength);
  }

  public boolean contains(String name) {
    int length = name.length();
    if (length >= byLength.length) {
      return false;
    }
    for (String candidate : byLength[length]) {
      if (candidate.equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }
}
