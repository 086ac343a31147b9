package dev.ferry.samples;

import java.math.BigDecimal;
import java.time.Duration;

/** Durations written as whole or fractional seconds ({@code 30}, {@code 0.5}), on the command line and in the config file. */
final class Seconds {
  private Seconds() {}

  /**
   * Parses {@code value} as seconds.
   *
   * @throws IllegalArgumentException naming {@code what} if it is not a number of seconds
   */
  static Duration parse(String what, String value) {
    try {
      return Duration.ofNanos(new BigDecimal(value.trim()).movePointRight(9).longValueExact());
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException(what + " must be a number of seconds (was " + value + ")");
    }
  }
}
