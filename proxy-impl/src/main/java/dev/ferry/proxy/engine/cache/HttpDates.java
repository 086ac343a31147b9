package dev.ferry.proxy.engine.cache;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * HTTP dates (RFC 9110 §5.6.7): IMF-fixdate, plus the obsolete RFC 850 and asctime forms that a
 * recipient must still accept. Names are matched without case, and the day name is checked only
 * to be one: a weekday that disagrees with the date does not make the date invalid.
 */
final class HttpDates {
  private static final DateTimeFormatter OUT =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US);
  private static final DateTimeFormatter IMF = strict("dd MMM uuuu HH:mm:ss 'GMT'");
  private static final DateTimeFormatter RFC_850 = strict("dd-MMM-uu HH:mm:ss 'GMT'");
  private static final DateTimeFormatter ASCTIME = strict("MMM ppd HH:mm:ss uuuu");
  private static final Set<String> DAYS = Set.of("mon", "tue", "wed", "thu", "fri", "sat", "sun",
      "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday");

  private HttpDates() {}

  static Optional<Instant> parse(String value) {
    String text = value.trim();
    int comma = text.indexOf(',');
    int space = text.indexOf(' ');
    try {
      if (comma > 0 && comma < space && isDay(text.substring(0, comma))) {
        String rest = text.substring(comma + 1).trim();
        return Optional.of(rest.indexOf('-') > 0 ? rfc850(rest) : toInstant(LocalDateTime.parse(rest, IMF)));
      }
      if (space > 0 && isDay(text.substring(0, space))) {
        return Optional.of(toInstant(LocalDateTime.parse(text.substring(space + 1), ASCTIME)));
      }
    } catch (DateTimeParseException e) {
      // not a date in any of the three forms
    }
    return Optional.empty();
  }

  static String format(Instant instant) {
    return OUT.format(instant.atOffset(ZoneOffset.UTC));
  }

  /** RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is in the past century. */
  private static Instant rfc850(String text) {
    LocalDateTime parsed = LocalDateTime.parse(text, RFC_850);
    if (parsed.getYear() > LocalDateTime.now(ZoneOffset.UTC).getYear() + 50) {
      parsed = parsed.minusYears(100);
    }
    return toInstant(parsed);
  }

  private static boolean isDay(String name) {
    return DAYS.contains(name.toLowerCase(Locale.ROOT));
  }

  private static Instant toInstant(LocalDateTime time) {
    return time.toInstant(ZoneOffset.UTC);
  }

  private static DateTimeFormatter strict(String pattern) {
    return new DateTimeFormatterBuilder().parseCaseInsensitive().appendPattern(pattern)
        .toFormatter(Locale.US).withResolverStyle(ResolverStyle.STRICT);
  }
}
