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
    String[] lower = new String[names.length];
    for (int i = 0; i < names.length; i++) {
      lower[i] = names[i].toLowerCase(Locale.ROOT);
    }
    return new NameSet(byLength(lower));
  }

  /**
   * {@code names} grouped by length: element {@code n} holds the names of {@code n} chars, so a
   * lookup compares only candidates of the right length. Shared with the head parser's table of
   * well-known field names.
   */
  static String[][] byLength(String... names) {
    int longest = 0;
    for (String name : names) {
      longest = Math.max(longest, name.length());
    }
    String[][] groups = new String[longest + 1][];
    Arrays.fill(groups, NONE);
    for (String name : names) {
      String[] group = Arrays.copyOf(groups[name.length()], groups[name.length()].length + 1);
      group[group.length - 1] = name;
      groups[name.length()] = group;
    }
    return groups;
  }

  public boolean contains(String name) {
    int length = name.length();
    if (length >= byLength.length) {
      return false;
    }
    String[] candidates = byLength[length];
    if (candidates.length == 0 || length == 0) {
      return candidates.length > 0;
    }
    // Most lookups miss: a first char that differs in more than ASCII case rules a candidate out
    // without a call (set bit 0x20 folds letters, and equal chars stay equal).
    int first = name.charAt(0) | 0x20;
    for (String candidate : candidates) {
      if ((candidate.charAt(0) | 0x20) == first && candidate.equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }
}
