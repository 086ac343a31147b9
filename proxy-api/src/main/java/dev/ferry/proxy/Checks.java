package dev.ferry.proxy;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/** The argument checks of the API's builders and values, with one message style for all. */
final class Checks {
  private Checks() {}

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
          + "(was \"" + value.replaceAll("\\p{Cntrl}", "?") + "\")");
    }
    return value;
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
}
