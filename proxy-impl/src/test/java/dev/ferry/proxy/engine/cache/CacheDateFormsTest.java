package dev.ferry.proxy.engine.cache;

import static dev.ferry.proxy.engine.cache.CacheHarness.verdict;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.engine.ProxyTestExtension;
import dev.ferry.proxy.engine.http1.HttpDates;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Freshness from dates in the obsolete forms, and what an unusable Date means for it. */
class CacheDateFormsTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @Test
  void readsRfc850AndAsctimeExpires() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    Instant in30 = h.clock.instant().plusSeconds(30);
    String rfc850 = String.format("Thursday, %s GMT",
        java.time.format.DateTimeFormatter.ofPattern("dd-MMM-yy HH:mm:ss", java.util.Locale.US)
            .format(in30.atOffset(java.time.ZoneOffset.UTC)));
    String asctime = java.time.format.DateTimeFormatter.ofPattern("'Thu' MMM ppd HH:mm:ss yyyy", java.util.Locale.US)
        .format(in30.atOffset(java.time.ZoneOffset.UTC));
    h.origin.enqueue(h.response("850").setHeader("Expires", rfc850));
    h.origin.enqueue(h.response("asctime").setHeader("Expires", asctime));
    h.get("/850");
    h.get("/asctime");
    h.advance(Duration.ofSeconds(20));
    assertThat(verdict(h.get("/850"))).isEqualTo("HIT");
    assertThat(verdict(h.get("/asctime"))).isEqualTo("HIT");
  }

  @Test
  void usesTimeReceivedForInvalidDate() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(h.response("dated by arrival").setHeader("Date", "yesterday-ish")
        .setHeader("Expires", HttpDates.format(h.clock.instant().plusSeconds(60))));
    h.get("/baddate");
    h.advance(Duration.ofSeconds(30));
    assertThat(verdict(h.get("/baddate"))).as("lifetime 60 s from when it arrived").isEqualTo("HIT");
  }
}
