package dev.ferry.proxy.engine.http1;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
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
public final class HttpDates {
  private static final DateTimeFormatter IMF = strict("dd MMM uuuu HH:mm:ss 'GMT'");
  private static final DateTimeFormatter RFC_850 = strict("dd-MMM-uu HH:mm:ss 'GMT'");
  private static final DateTimeFormatter ASCTIME = strict("MMM ppd HH:mm:ss uuuu");
  private static final String MONTHS = "janfebmaraprmayjunjulaugsepoctnovdec";
  private static final Set<String> DAYS = Set.of("mon", "tue", "wed", "thu", "fri", "sat", "sun",
      "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday");

  private HttpDates() {}

  /** The instant {@code value} names in any of the three forms; empty if it is none of them. */
  public static Optional<Instant> parse(String value) {
    Instant fixdate = imfFixdate(value);
    if (fixdate != null) {
      return Optional.of(fixdate);
    }
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

  /**
   * The form every current server sends, {@code Sun, 06 Nov 1994 08:49:37 GMT}, read by position
   * with no formatter: a cache hit reads a date or two, and a formatter's parse costs more than
   * the rest of the hit. Null for anything else (or an impossible date), which then goes the
   * general way.
   */
  private static Instant imfFixdate(String text) {
    if (text.length() != 29 || text.charAt(3) != ',' || text.charAt(4) != ' '
        || text.charAt(7) != ' ' || text.charAt(11) != ' ' || text.charAt(16) != ' '
        || text.charAt(19) != ':' || text.charAt(22) != ':' || text.charAt(25) != ' '
        || !text.regionMatches(true, 26, "GMT", 0, 3)
        || !DAYS.contains(text.substring(0, 3).toLowerCase(Locale.ROOT))) {
      return null;
    }
    int month = -1;
    for (int i = 0; i < 12; i++) {
      if (text.regionMatches(true, 8, MONTHS, i * 3, 3)) {
        month = i + 1;
        break;
      }
    }
    int day = digits(text, 5, 2);
    int year = digits(text, 12, 4);
    int hour = digits(text, 17, 2);
    int minute = digits(text, 20, 2);
    int second = digits(text, 23, 2);
    if (month < 0 || day < 0 || year < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59
        || second < 0 || second > 59) {
      return null;
    }
    try {
      long days = LocalDate.of(year, month, day).toEpochDay();
      return Instant.ofEpochSecond(days * 86_400 + hour * 3_600 + minute * 60 + second);
    } catch (DateTimeException e) {
      return null; // 30 February and the like: the general way rejects it too
    }
  }

  /** The decimal number in {@code count} chars from {@code from}, or -1 unless all are digits. */
  private static int digits(String text, int from, int count) {
    int value = 0;
    for (int i = from; i < from + count; i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  /** {@code instant} as an IMF-fixdate, the form a sender generates. */
  public static String format(Instant instant) {
    return DateField.format(instant);
  }

  /** RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is in the past century. */
  private static Instant rfc850(String text) {
    LocalDateTime parsed = LocalDateTime.parse(text, RFC_850);
    // RFC 9110 §5.6.7: "more than 50 years in the future" by the date, not the year: a date late
    // in the year fifty years on was kept a century ahead, fresh for fifty years (probe k26).
    if (parsed.isAfter(LocalDateTime.now(ZoneOffset.UTC).plusYears(50))) {
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
