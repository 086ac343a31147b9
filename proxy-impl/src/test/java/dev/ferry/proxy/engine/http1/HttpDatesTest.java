package dev.ferry.proxy.engine.http1;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** RFC 9110 §5.6.7 dates in all three forms. */
class HttpDatesTest {
  private static final Instant NOV_6 = Instant.parse("1994-11-06T08:49:37Z");

  @Test
  void parsesAllThreeForms() {
    assertThat(HttpDates.parse("Sun, 06 Nov 1994 08:49:37 GMT")).hasValue(NOV_6);
    assertThat(HttpDates.parse("Sunday, 06-Nov-94 08:49:37 GMT")).hasValue(NOV_6);
    assertThat(HttpDates.parse("Sun Nov  6 08:49:37 1994")).hasValue(NOV_6);
    assertThat(HttpDates.parse("Sun Nov 16 08:49:37 1994")).hasValue(NOV_6.plus(Duration.ofDays(10)));
  }

  /**
   * RFC 9110 §5.6.7: a two-digit year that appears more than 50 years ahead is the last such
   * year in the past, judged by the date: a day late in the year fifty years on was kept a
   * century ahead, and an Expires in 1976 made a response fresh for fifty years (probe k26).
   */
  @Test
  void readsAnRfc850DateMoreThanFiftyYearsAheadInThePast() {
    java.time.format.DateTimeFormatter rfc850 = java.time.format.DateTimeFormatter
        .ofPattern("EEEE, dd-MMM-yy HH:mm:ss 'GMT'", java.util.Locale.ROOT);
    java.time.LocalDateTime fiftyYearsOn = java.time.LocalDateTime.now(java.time.ZoneOffset.UTC)
        .withNano(0).plusYears(50);
    java.time.LocalDateTime beyond = fiftyYearsOn.plusDays(2);
    java.time.LocalDateTime within = fiftyYearsOn.minusDays(2);
    assertThat(HttpDates.parse(beyond.format(rfc850)))
        .hasValue(beyond.minusYears(100).toInstant(java.time.ZoneOffset.UTC));
    assertThat(HttpDates.parse(within.format(rfc850)))
        .hasValue(within.toInstant(java.time.ZoneOffset.UTC));
  }

  @Test
  void ignoresCaseAndAWrongWeekday() {
    assertThat(HttpDates.parse("sun, 06 nov 1994 08:49:37 gmt")).hasValue(NOV_6);
    assertThat(HttpDates.parse("Mon, 06 Nov 1994 08:49:37 GMT")).as("weekday not checked").hasValue(NOV_6);
    assertThat(HttpDates.parse("SUNDAY, 06-NOV-94 08:49:37 GMT")).hasValue(NOV_6);
    assertThat(HttpDates.parse("fri Nov  6 08:49:37 1994")).hasValue(NOV_6);
  }

  @Test
  void rejectsWhatIsNoDate() {
    assertThat(HttpDates.parse("0")).isEmpty();
    assertThat(HttpDates.parse("")).isEmpty();
    assertThat(HttpDates.parse("Xyz, 06 Nov 1994 08:49:37 GMT")).isEmpty();
    assertThat(HttpDates.parse("Sun, 31 Feb 1994 08:49:37 GMT")).as("no such day").isEmpty();
    assertThat(HttpDates.parse("Sun, 06 Nov 1994 08:49:37 UTC")).isEmpty();
    assertThat(HttpDates.parse("1994-11-06T08:49:37Z")).isEmpty();
    assertThat(HttpDates.parse("Sun, 06 Nov 1994 24:00:00 GMT")).as("no hour 24").isEmpty();
    assertThat(HttpDates.parse("Sun, 06 Nov 1994 08:60:37 GMT")).as("no minute 60").isEmpty();
    assertThat(HttpDates.parse("Wed, 29 Feb 1995 08:49:37 GMT")).as("1995 is no leap year").isEmpty();
    assertThat(HttpDates.parse("Sun, 06 Nob 1994 08:49:37 GMT")).as("no such month").isEmpty();
    assertThat(HttpDates.parse("Sun, 6x Nov 1994 08:49:37 GMT")).isEmpty();
  }

  @Test
  void readsTheFixedFormByPositionAsTheFormatterWould() {
    assertThat(HttpDates.parse("Thu, 29 Feb 1996 23:59:59 GMT")).hasValue(Instant.parse("1996-02-29T23:59:59Z"));
    assertThat(HttpDates.parse("  Sun, 06 Nov 1994 08:49:37 GMT ")).as("padded: the general way").hasValue(NOV_6);
    for (Instant instant : new Instant[] {NOV_6, Instant.EPOCH, Instant.parse("2038-01-19T03:14:08Z")}) {
      assertThat(HttpDates.parse(HttpDates.format(instant))).hasValue(instant);
    }
  }
}
