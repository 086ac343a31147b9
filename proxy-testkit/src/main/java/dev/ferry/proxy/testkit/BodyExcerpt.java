package dev.ferry.proxy.testkit;

/**
 * Bodies as failure messages show them: whole up to {@value #WHOLE} characters, else a window
 * with the size, so that a failed check on a large body (a gzip of 1 MiB decodes to up to
 * 64 MiB) still gives a message a person can read (probe t27: messages of 3 MB).
 */
final class BodyExcerpt {
  static final int WHOLE = 1_000;
  private static final int BEFORE = 300;

  private BodyExcerpt() {}

  /** {@code text} whole, or its first {@value #WHOLE} characters and how long it is. */
  static String of(String text) {
    if (text.length() <= WHOLE) {
      return text;
    }
    return text.substring(0, WHOLE) + "… (" + text.length() + " characters in all)";
  }

  /**
   * {@code text} whole, or the window of it around {@code index} (where two texts first differ),
   * saying where the window lies.
   */
  static String around(String text, int index) {
    if (text.length() <= WHOLE) {
      return text;
    }
    int from = Math.max(0, Math.min(index, text.length()) - BEFORE);
    int to = Math.min(text.length(), from + WHOLE);
    return (from > 0 ? "…" : "") + text.substring(from, to) + (to < text.length() ? "…" : "")
        + " (characters " + from + " to " + to + " of " + text.length() + ")";
  }

  /** The index of the first character where {@code a} and {@code b} differ. */
  static int firstDifference(String a, String b) {
    int n = Math.min(a.length(), b.length());
    for (int i = 0; i < n; i++) {
      if (a.charAt(i) != b.charAt(i)) {
        return i;
      }
    }
    return n;
  }
}
