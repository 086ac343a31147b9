package dev.ferry.proxy.engine.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.ferry.proxy.Balancer;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LeastRequestsTest {

  @Test
  void prefersTheLessLoadedOfTwo() {
    List<LiveEndpoint> pool = Pools.of(2);
    load(pool.get(0), 3);
    EndpointPicker picker = Pickers.create(Balancer.leastRequests(), pool, new SplittableRandom(7));

    Map<LiveEndpoint, Integer> counts = Pools.count(picker, pool, 1_000);

    assertThat(counts.get(pool.get(1))).isEqualTo(1_000);
  }

  @Test
  void neverPicksTheBusiestEndpoint() {
    List<LiveEndpoint> pool = Pools.of(5);
    load(pool.get(2), 10);
    load(pool.get(4), 1);
    EndpointPicker picker = Pickers.create(Balancer.leastRequests(), pool, new SplittableRandom(7));

    Map<LiveEndpoint, Integer> counts = Pools.count(picker, pool, 10_000);

    // Any pair holding the busiest one holds a less loaded one too.
    assertThat(counts.get(pool.get(2))).isZero();
    // The idle ones win every pair but each other's, so they beat the one with 1 in flight.
    assertThat(counts.get(pool.get(0))).isGreaterThan(counts.get(pool.get(4)));
  }

  @Test
  void spreadsEvenlyWhenLoadIsEqual() {
    List<LiveEndpoint> pool = Pools.of(4);
    EndpointPicker picker = Pickers.create(Balancer.leastRequests(), pool, new SplittableRandom(7));

    Map<LiveEndpoint, Integer> counts = Pools.count(picker, pool, 100_000);

    for (int count : counts.values()) {
      assertThat(count / 100_000.0).isCloseTo(0.25, within(0.01));
    }
  }

  @Test
  void drawsInProportionToWeightWhenLoadIsEqual() {
    List<LiveEndpoint> pool = Pools.weighted(3, 1);
    EndpointPicker picker = Pickers.create(Balancer.leastRequests(), pool, new SplittableRandom(7));

    Map<LiveEndpoint, Integer> counts = Pools.count(picker, pool, 100_000);

    assertThat(counts.get(pool.get(0)) / 100_000.0).isCloseTo(0.75, within(0.01));
  }

  @Test
  void picksTheOnlyCandidate() {
    List<LiveEndpoint> pool = Pools.of(3);
    load(pool.get(1), 50);
    EndpointPicker picker = Pickers.create(Balancer.leastRequests(), pool, new SplittableRandom(7));

    assertThat(picker.pick(List.of(pool.get(1)), Pools.REQUEST, Pools.CLIENT)).isSameAs(pool.get(1));
  }

  private static void load(LiveEndpoint endpoint, int requests) {
    for (int i = 0; i < requests; i++) {
      endpoint.requestStarted();
    }
  }
}
