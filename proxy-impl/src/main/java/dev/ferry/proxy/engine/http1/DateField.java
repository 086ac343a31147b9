package dev.ferry.proxy.engine.http1;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * HTTP dates as a proxy writes them: IMF-fixdate (RFC 9110 §5.6.7). {@link #now()} is the
 * {@code Date} a proxy adds to a response that came without one (§6.6.1), formatted at most once
 * a second however many responses need it.
 */
public final class DateField {
  private static final DateTimeFormatter IMF_FIXDATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US);

  private record Formatted(long epochSecond, String text) {}

  private static volatile Formatted last = new Formatted(Long.MIN_VALUE, "");

  private DateField() {}

  /** {@code instant} as an IMF-fixdate, such as {@code Sun, 06 Nov 1994 08:49:37 GMT}. */
  public static String format(Instant instant) {
    return IMF_FIXDATE.format(instant.atOffset(ZoneOffset.UTC));
  }

  /** The current time as an IMF-fixdate. */
  public static String now() {
    long second = System.currentTimeMillis() / 1000;
    Formatted formatted = last;
    if (formatted.epochSecond() != second) {
      formatted = new Formatted(second, format(Instant.ofEpochSecond(second)));
      last = formatted;
    }
    return formatted.text();
  }
}
