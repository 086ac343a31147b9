package dev.ferry.proxy.engine.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.LogCapture;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class OutlierDetectionTest {
  private static final Duration BASE = Duration.ofSeconds(30);

  /** A fake {@code System.nanoTime()}, far from zero so that no test relies on a zero start. */
  private final AtomicLong clock = new AtomicLong(-1_000_000_000_000L);

  @Test
  void ejectsAnEndpointAfterTheThresholdOfFailuresInARow() {
    List<LiveEndpoint> pool = pool(4);
    OutlierDetector detector = detector(pool, 3, 50);
    LiveEndpoint endpoint = pool.get(0);

    detector.onFailure(endpoint, "status_502");
    detector.onFailure(endpoint, "status_502");
    assertThat(endpoint.ejected(clock.get())).isFalse();
    detector.onFailure(endpoint, "connect_failed");

    assertThat(endpoint.ejected(clock.get())).isTrue();
    assertThat(endpoint.state(clock.get())).isEqualTo("ejected");
    assertThat(endpoint.ejected(clock.get() + BASE.toNanos() - 1)).isTrue();
    assertThat(endpoint.ejected(clock.get() + BASE.toNanos())).isFalse();
  }

  @Test
  void startsTheCountAgainAfterASuccess() {
    List<LiveEndpoint> pool = pool(4);
    OutlierDetector detector = detector(pool, 3, 50);
    LiveEndpoint endpoint = pool.get(0);

    detector.onFailure(endpoint, "status_503");
    detector.onFailure(endpoint, "status_503");
    detector.onSuccess(endpoint);
    detector.onFailure(endpoint, "status_503");
    detector.onFailure(endpoint, "status_503");

    assertThat(endpoint.ejected(clock.get())).isFalse();
    assertThat(endpoint.consecutiveFailures()).hasValue(2);
  }

  @Test
  void ejectsLongerEachTimeUpToTenTimesTheBase() {
    List<LiveEndpoint> pool = pool(2);
    OutlierDetector detector = detector(pool, 1, 50);
    LiveEndpoint endpoint = pool.get(0);
    List<Long> seconds = new ArrayList<>();

    for (int ejection = 1; ejection <= 12; ejection++) {
      detector.onFailure(endpoint, "connect_failed");
      long start = clock.get();
      while (endpoint.ejected(clock.get())) {
        clock.addAndGet(Duration.ofSeconds(1).toNanos());
      }
      seconds.add((clock.get() - start) / 1_000_000_000L);
    }

    assertThat(seconds).containsExactly(30L, 60L, 90L, 120L, 150L, 180L, 210L, 240L, 270L, 300L, 300L, 300L);
    assertThat(endpoint.ejections()).isEqualTo(12);
  }

  @Test
  void letsAnEndpointBackWhenItsEjectionEnds() {
    List<LiveEndpoint> pool = pool(3);
    OutlierDetector detector = detector(pool, 2, 50);
    LiveEndpoint endpoint = pool.get(1);
    detector.onFailure(endpoint, "status_500");
    detector.onFailure(endpoint, "status_500");
    assertThat(Candidates.available(pool, 50, clock.get())).doesNotContain(endpoint);

    clock.addAndGet(BASE.toNanos());
    detector.noticeReturns();

    assertThat(Candidates.available(pool, 50, clock.get())).isSameAs(pool);
    detector.onFailure(endpoint, "status_500");
    assertThat(endpoint.ejected(clock.get())).as("a new streak is needed").isFalse();
  }

  @Test
  void keepsAnEjectionAsItIsWhenRequestsStillInFlightFail() {
    List<LiveEndpoint> pool = pool(3);
    OutlierDetector detector = detector(pool, 1, 50);
    LiveEndpoint endpoint = pool.get(0);
    detector.onFailure(endpoint, "status_500");
    clock.addAndGet(BASE.toNanos() / 2);

    detector.onFailure(endpoint, "status_500");
    detector.onFailure(endpoint, "status_500");

    assertThat(endpoint.ejections()).isEqualTo(1);
    assertThat(endpoint.ejected(clock.get() + BASE.toNanos() / 2)).isFalse();
  }

  @Test
  void neverEjectsMoreThanTheMaxEjectedShareOfThePool() {
    List<LiveEndpoint> pool = pool(4);
    OutlierDetector detector = detector(pool, 1, 50);

    for (LiveEndpoint endpoint : pool) {
      detector.onFailure(endpoint, "connect_failed");
    }

    assertThat(pool).filteredOn(e -> e.ejected(clock.get())).containsExactly(pool.get(0), pool.get(1));
    clock.addAndGet(BASE.toNanos());
    detector.onFailure(pool.get(3), "connect_failed");
    assertThat(pool.get(3).ejected(clock.get())).as("ejected once another came back").isTrue();
  }

  @Test
  void ejectsOneEndpointEvenWhenTheShareRoundsToNone() {
    List<LiveEndpoint> pool = pool(3);
    OutlierDetector detector = detector(pool, 1, 10);

    detector.onFailure(pool.get(0), "connect_failed");
    detector.onFailure(pool.get(1), "connect_failed");

    assertThat(pool.get(0).ejected(clock.get())).isTrue();
    assertThat(pool.get(1).ejected(clock.get())).isFalse();
  }

  /**
   * A reload's pool keeps the ejected endpoints it takes on, and logs their return: the new
   * detector knew of no ejection, so {@code endpoint_up} never came (probe soak F1).
   */
  @Test
  void logsTheReturnOfAnEndpointEjectedBeforeAReload() {
    List<LiveEndpoint> pool = pool(2);
    detector(pool, 1, 50).onFailure(pool.get(0), "connect_failed");
    OutlierDetector reloaded = detector(pool, 1, 50);
    try (LogCapture logs = new LogCapture()) {
      clock.addAndGet(BASE.toNanos());
      reloaded.onSuccess(pool.get(1));
      assertThat(logs.lines("endpoint_up pool=api endpoint=10.0.0.1:8080 reason=ejection_ended")).hasSize(1);
    }
  }

  @Test
  void ejectsNothingWhenTurnedOff() {
    List<LiveEndpoint> pool = pool(2);
    OutlierDetector detector = detector(pool, 0, 100);

    for (int i = 0; i < 100; i++) {
      detector.onFailure(pool.get(0), "connect_failed");
    }

    assertThat(pool.get(0).ejected(clock.get())).isFalse();
  }

  private OutlierDetector detector(List<LiveEndpoint> pool, int failures, int maxEjectedPercent) {
    Upstream spec = Upstream.pool("http://10.0.0.1:8080").name("api").maxEjectedPercent(maxEjectedPercent);
    spec = failures == 0 ? spec.ejectAfter(0, BASE) : spec.ejectAfter(failures, BASE);
    return new OutlierDetector(spec, pool, clock::get);
  }

  static List<LiveEndpoint> pool(int size) {
    List<LiveEndpoint> pool = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      pool.add(new LiveEndpoint("api", Upstream.of("http://10.0.0." + (i + 1) + ":8080").endpoints().get(0)));
    }
    return pool;
  }
}
