package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The policy of Java 17's default pool: the CPU load is given, as the JVM would report it. */
class PoolSizerTest {
  private double load;
  private final PoolSizer sizer = new PoolSizer(200, 1000, () -> load);

  @Test
  void growsByAQuarterWhileConnectionsWaitAndTheCpusHaveRoom() {
    load = 0.40;
    assertThat(sizer.next(200, true, 0)).isEqualTo(250);
    assertThat(sizer.next(250, true, 0)).isEqualTo(312);
    assertThat(sizer.next(900, true, 0)).isEqualTo(1000);
    assertThat(sizer.next(1000, true, 0)).as("the ceiling at most").isEqualTo(1000);
  }

  @Test
  void keepsItsCapWithoutWaitingConnectionsOrBetweenTheThresholds() {
    load = 0.10;
    assertThat(sizer.next(200, false, 0)).as("nobody waits for a thread").isEqualTo(200);
    load = 0.80;
    assertThat(sizer.next(400, true, 0)).as("a load between the thresholds").isEqualTo(400);
  }

  @Test
  void shrinksAGrownCapWhenTheCpusAreSaturated() {
    load = 0.97;
    assertThat(sizer.next(500, true, 0)).isEqualTo(400);
    assertThat(sizer.next(220, true, 0)).as("never below the base").isEqualTo(200);
    assertThat(sizer.next(200, true, 0)).isEqualTo(200);
  }

  @Test
  void returnsToItsBaseThirtySecondsAfterTheLastWait() {
    load = 0.50;
    long start = TimeUnit.SECONDS.toNanos(100);
    assertThat(sizer.next(500, true, start)).isEqualTo(625);
    assertThat(sizer.next(625, false, start + TimeUnit.SECONDS.toNanos(29))).isEqualTo(625);
    assertThat(sizer.next(625, false, start + TimeUnit.SECONDS.toNanos(31))).isEqualTo(200);
  }

  @Test
  void readsNoLoadWhileNobodyWaitsAndTheCapIsAtItsBase() {
    AtomicInteger reads = new AtomicInteger();
    PoolSizer counting = new PoolSizer(200, 1000, () -> {
      reads.incrementAndGet();
      return 0.10;
    });
    assertThat(counting.next(200, false, 0)).isEqualTo(200);
    assertThat(reads).hasValue(0);
    assertThat(counting.next(200, true, 0)).isEqualTo(250);
    assertThat(reads).hasValue(1);
  }

  @Test
  void neverGrowsWhereTheLoadIsUnknown() {
    load = -1;
    assertThat(sizer.next(200, true, 0)).isEqualTo(200);
  }

  @Test
  void growsASmallPoolByAtLeastOneThread() {
    load = 0.10;
    assertThat(new PoolSizer(1, 5, () -> load).next(1, true, 0)).isEqualTo(2);
    assertThat(new PoolSizer(3, 5, () -> load).next(3, true, 0)).isEqualTo(4);
  }

  @Test
  void readsALoadFromThisJvm() {
    double reported = PoolSizer.systemCpuLoad().getAsDouble();
    assertThat(reported).as("getCpuLoad of the JVM this runs on").isBetween(0.0, 1.0);
  }
}
