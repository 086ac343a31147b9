package dev.ferry.proxy.engine.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.util.List;
import org.junit.jupiter.api.Test;

class PanicModeTest {
  private static final long NOW = 5_000_000_000L;

  @Test
  void returnsThePoolItselfWhenEveryEndpointIsAvailable() {
    List<LiveEndpoint> pool = OutlierDetectionTest.pool(3);

    assertThat(Candidates.available(pool, 50, NOW)).isSameAs(pool);
  }

  @Test
  void leavesOutUnhealthyAndEjectedEndpoints() {
    List<LiveEndpoint> pool = OutlierDetectionTest.pool(5);
    pool.get(1).healthy(false);
    pool.get(3).eject(NOW + 1_000);

    assertThat(Candidates.available(pool, 50, NOW)).containsExactly(pool.get(0), pool.get(2), pool.get(4));
    assertThat(Candidates.available(pool, 50, NOW + 1_000)).containsExactly(pool.get(0), pool.get(2), pool.get(3), pool.get(4));
  }

  @Test
  void balancesOverAllEndpointsWhenTooFewAreAvailable() {
    List<LiveEndpoint> pool = OutlierDetectionTest.pool(10);
    for (int i = 0; i < 5; i++) {
      pool.get(i).healthy(false);
    }
    assertThat(Candidates.available(pool, 50, NOW)).as("half is not fewer than half").hasSize(5);

    pool.get(5).healthy(false);

    assertThat(Candidates.available(pool, 50, NOW)).isSameAs(pool);
    assertThat(Candidates.available(pool, 40, NOW)).hasSize(4);
  }

  @Test
  void balancesOverAllEndpointsWhenNoneIsAvailable() {
    List<LiveEndpoint> pool = OutlierDetectionTest.pool(2);
    pool.get(0).healthy(false);
    pool.get(1).eject(NOW + 1_000);

    assertThat(Candidates.available(pool, 1, NOW)).isSameAs(pool);
  }

  @Test
  void returnsNoEndpointWhenPanicModeIsOffAndNoneIsAvailable() {
    List<LiveEndpoint> pool = OutlierDetectionTest.pool(2);
    pool.get(0).healthy(false);
    pool.get(1).healthy(false);

    assertThat(Candidates.available(pool, 0, NOW)).isEmpty();
  }

  @Test
  void tracksWhetherThePoolIsInPanic() {
    List<LiveEndpoint> pool = OutlierDetectionTest.pool(4);
    Candidates candidates = new Candidates("api", 50);
    assertThat(candidates.available(pool, NOW)).isSameAs(pool);
    assertThat(candidates.inPanic()).isFalse();

    pool.get(0).healthy(false);
    pool.get(1).healthy(false);
    pool.get(2).healthy(false);
    assertThat(candidates.available(pool, NOW)).isSameAs(pool);
    assertThat(candidates.inPanic()).isTrue();

    pool.get(2).healthy(true);
    assertThat(candidates.available(pool, NOW)).containsExactly(pool.get(2), pool.get(3));
    assertThat(candidates.inPanic()).isFalse();
  }
}
