package dev.ferry.samples;

import java.math.BigDecimal;
import java.time.Duration;

/** Durations written as whole or fractional seconds ({@code 30}, {@code 0.5}), on the command line and in the config file. */
final class Seconds {
  private Seconds() {}

  /** The longest a duration may be, as the engine's builders take it (365 days). */
  private static final long MAX_SECONDS = 365L * 24 * 3600;

  /**
   * Parses {@code value} as a positive number of seconds, at most 365 days. The message names the
   * value as it was written, not in {@link Duration}'s {@code PT-1S} form.
   *
   * @throws IllegalArgumentException naming {@code what} if it is not a number of seconds, or
   *     not positive, or longer than 365 days
   */
  static Duration parse(String what, String value) {
    BigDecimal seconds;
    try {
      seconds = new BigDecimal(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(what + " must be a number of seconds (was " + value + ")");
    }
    if (seconds.signum() <= 0) {
      throw new IllegalArgumentException(what + " must be a positive number of seconds (was " + value + ")");
    }
    if (seconds.compareTo(BigDecimal.valueOf(MAX_SECONDS)) > 0) {
      throw new IllegalArgumentException(what + " must be at most " + MAX_SECONDS + " seconds, 365 days (was "
          + value + ")");
    }
    Duration duration = Duration.ofNanos(seconds.movePointRight(9).longValue());
    if (duration.isZero()) {
      throw new IllegalArgumentException(what + " must be at least a nanosecond (was " + value + ")");
    }
    return duration;
  }
}
