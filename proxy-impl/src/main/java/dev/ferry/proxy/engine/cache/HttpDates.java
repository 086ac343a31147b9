package dev.ferry.proxy.engine.cache;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Optional;

/** HTTP dates (RFC 9110 §5.6.7): IMF-fixdate, plus the obsolete RFC 850 and asctime forms. */
final class HttpDates {
  private static final DateTimeFormatter IMF =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US);
  private static final DateTimeFormatter RFC_850 =
      DateTimeFormatter.ofPattern("EEEE, dd-MMM-yy HH:mm:ss 'GMT'", Locale.US);
  private static final DateTimeFormatter ASCTIME =
      DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US);

  private HttpDates() {}

  static Optional<Instant> parse(String value) {
    String text = value.trim();
    for (DateTimeFormatter format : new DateTimeFormatter[] {IMF, RFC_850, ASCTIME}) {
      try {
        LocalDateTime parsed = LocalDateTime.parse(text, format);
        if (format == RFC_850 && parsed.getYear() > LocalDateTime.now(ZoneOffset.UTC).getYear() + 50) {
          parsed = parsed.minusYears(100);
        }
        return Optional.of(parsed.toInstant(ZoneOffset.UTC));
      } catch (DateTimeParseException e) {
        // try the next form
      }
    }
    return Optional.empty();
  }

  static String format(Instant instant) {
    return IMF.format(instant.atOffset(ZoneOffset.UTC));
  }
}
