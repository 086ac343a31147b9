package dev.ferry.proxy;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** The argument checks of the API's builders and values, with one message style for all. */
final class Checks {
  private Checks() {}

  /**
   * {@code value} as an error message may show it, its control characters as {@code ?}: a
   * message lands in a log or on a terminal, where a CR LF would forge a line and an escape
   * sequence would repaint the screen (probe v24).
   */
  static String shown(String value) {
    // \p{Cc}: the C1 controls (U+0080-U+009F, a CSI among them) too, which \p{Cntrl} leaves.
    return value.replaceAll("\\p{Cc}", "?");
  }

  /** @throws IllegalArgumentException "OPTION must be between MIN and MAX (was VALUE)" */
  static int range(String option, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(String.format(Locale.ROOT,
          "%s must be between %d and %d (was %d)", option, min, max, value));
    }
    return value;
  }

  /**
   * A name that goes into log lines, metric labels and stats: not blank, and without control
   * characters, which would let it break or forge a line of a log.
   *
   * @throws IllegalArgumentException "OPTION must be ... (was VALUE)", the value escaped
   */
  static String name(String option, String value) {
    Objects.requireNonNull(value, option);
    if (value.isBlank() || value.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException(option + " must not be blank or hold control characters "
          + "(was \"" + shown(value) + "\")");
    }
    return value;
  }

  /**
   * Compiles the regular expression {@code option} takes. It names its filter or route in logs
   * and stats, so a control character in it would forge a log line (probe v25): a regex writes
   * one as {@code \r}, {@code \n} or {@code \xHH} instead.
   *
   * @throws IllegalArgumentException naming the option, if it holds a control character or is
   *     not a regular expression
   */
  static Pattern regex(String option, String regex) {
    Objects.requireNonNull(regex, option);
    if (regex.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException(option + " must not hold control characters; write them as "
          + "\\r, \\n or \\xHH (was " + shown(regex) + ")");
    }
    try {
      return Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException(option + " is not a regular expression: " + e.getDescription()
          + " near index " + e.getIndex() + " (was " + shown(regex) + ")", e);
    }
  }

  /**
   * The longest duration an option takes: longer is no different from it in practice, and a
   * duration past 292 years has no count of nanoseconds, which the engine keeps time in.
   */
  static final Duration MAX_DURATION = Duration.ofDays(365);

  /**
   * @throws IllegalArgumentException "OPTION must be positive (was VALUE)", or "OPTION must be at
   *     most 365 days (was VALUE)"
   */
  static Duration positive(String option, Duration value) {
    Objects.requireNonNull(value, option);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(option + " must be positive (was " + value + ")");
    }
    if (value.compareTo(MAX_DURATION) > 0) {
      throw new IllegalArgumentException(option + " must be at most 365 days (was " + value + ")");
    }
    return value;
  }

  /**
   * What in {@code path} a normalised request path never holds (RFC 3986 §6.2.2, as the engine
   * normalises request paths before routing), or null.
   */
  static String unnormalisedPath(String path) {
    String unescaped = unescapedCharacter(path, "");
    if (unescaped != null) {
      return unescaped;
    }
    if (path.contains("//")) {
      return "an empty segment (//)";
    }
    if (path.contains("\\")) {
      return "a backslash";
    }
    for (String segment : path.split("/", -1)) {
      if (segment.equals(".") || segment.equals("..")) {
        return "a dot-segment (" + segment + ")";
      }
    }
    for (int i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
      char decoded = (char) Integer.parseInt(path.substring(i + 1, i + 3), 16);
      if (decoded == '/' || decoded == '\\') {
        return "an escaped slash or backslash (" + path.substring(i, i + 3) + "), which requests may not hold";
      }
      if (Character.isLetterOrDigit(decoded) && decoded < 0x80 || "-._~".indexOf(decoded) >= 0) {
        return "an escaped unreserved character (" + path.substring(i, i + 3) + " for " + decoded + ")";
      }
      if (!path.substring(i + 1, i + 3).equals(path.substring(i + 1, i + 3).toUpperCase(Locale.ROOT))) {
        return "an escape in lower case (" + path.substring(i, i + 3) + ")";
      }
    }
    return null;
  }

  /**
   * The first character in {@code target} that a request path never holds unescaped (RFC 3986
   * §3.3: unreserved, sub-delims, {@code :}, {@code @}, {@code /} and escapes) and that is not
   * in {@code alsoAllowed}, or a {@code %} that escapes nothing, described; null if none.
   */
  static String unescapedCharacter(String target, String alsoAllowed) {
    for (int i = 0; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c == '%' && (i + 2 >= target.length() || Character.digit(target.charAt(i + 1), 16) < 0
          || Character.digit(target.charAt(i + 2), 16) < 0)) {
        return "a % that escapes nothing";
      }
      if (!(c < 0x80 && Character.isLetterOrDigit(c)) && "-._~!$&'()*+,;=:@/%".indexOf(c) < 0
          && alsoAllowed.indexOf(c) < 0) {
        return "a character a request path never holds unescaped (" + (c <= 0x20 || c >= 0x7f
            ? String.format(Locale.ROOT, "U+%04X", (int) c) : String.valueOf(c)) + "; escape it, %XX in upper case)";
      }
    }
    return null;
  }
}
