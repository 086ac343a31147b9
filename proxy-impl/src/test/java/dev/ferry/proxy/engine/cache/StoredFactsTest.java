package dev.ferry.proxy.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.Await;
import dev.ferry.proxy.engine.http1.HttpDates;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The facts a hit needs of a stored entry: worked out once, right for each entry, holding none. */
class StoredFactsTest {
  private static final Instant RESPONDED = Instant.parse("2026-12-04T10:00:00.250Z");

  @Test
  void worksOutAHotEntryOnce() {
    AtomicInteger workedOut = new AtomicInteger();
    StoredFacts.Memo memo = new StoredFacts.Memo(stored -> {
      workedOut.incrementAndGet();
      return facts(stored);
    });
    CacheEntry hot = entry("max-age=60", 0);

    for (int i = 0; i < 1_000; i++) {
      assertThat(memo.of(hot).lifetimeSeconds).isEqualTo(60);
    }

    assertThat(workedOut).hasValue(1);
  }

  @Test
  void answersEachEntryWithItsOwnFactsWhenSlotsAreShared() {
    StoredFacts.Memo memo = new StoredFacts.Memo(StoredFactsTest::facts);
    List<CacheEntry> entries = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      entries.add(entry("max-age=" + i, i % 7));
    }

    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < entries.size(); i++) {
        StoredFacts facts = memo.of(entries.get(i));
        assertThat(facts.lifetimeSeconds).isEqualTo(i);
        assertThat(facts.currentAgeSeconds(RESPONDED)).isEqualTo(i % 7);
      }
    }
  }

  @Test
  void agesWithTheClockFromTheAgeItWasReceivedWith() {
    // Age 30 and a Date 5 s before the response: corrected_initial_age is 30 (RFC 9111 §4.2.3).
    CacheEntry stored = CacheEntry.of(200, "OK", Headers.of("Cache-Control", "max-age=100", "Age", "30",
        "Date", HttpDates.format(RESPONDED.minusSeconds(5))), new byte[0], RESPONDED.minusMillis(100),
        RESPONDED, "");
    StoredFacts facts = facts(stored);

    assertThat(facts.currentAgeSeconds(RESPONDED)).isEqualTo(30);
    assertThat(facts.currentAgeSeconds(RESPONDED.plus(Duration.ofMillis(9_999)))).isEqualTo(39);
    assertThat(facts.currentAgeSeconds(RESPONDED.plusSeconds(10))).isEqualTo(40);
    assertThat(facts.currentAgeSeconds(RESPONDED.minusSeconds(3))).as("a clock set back").isEqualTo(30);
    assertThat(facts.stalenessSeconds(RESPONDED.plusSeconds(75))).isEqualTo(5);
  }

  @Test
  void keepsNoEntryAlive() {
    StoredFacts.Memo memo = new StoredFacts.Memo(StoredFactsTest::facts);
    CacheEntry stored = entry("max-age=60", 0);
    memo.of(stored);
    WeakReference<CacheEntry> held = new WeakReference<>(stored);
    stored = null;

    Await.until(() -> {
      System.gc();
      return held.get() == null;
    }, "the remembered entry collected");
  }

  private static StoredFacts facts(CacheEntry stored) {
    CacheControl response = CacheControl.of(stored.headers());
    return new StoredFacts(stored, response, Freshness.lifetimeSeconds(stored, stored.headers()), null);
  }

  private static CacheEntry entry(String cacheControl, int age) {
    return CacheEntry.of(200, "OK", Headers.of("Cache-Control", cacheControl, "Age", Integer.toString(age)),
        new byte[0], RESPONDED, RESPONDED, "");
  }
}
