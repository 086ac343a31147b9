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

  /**
   * In flight counts per unit of weight: an endpoint of weight 3 with 2 requests is less loaded
   * than one of weight 1 with 1. Raw counts made the pair even once requests overlapped, and
   * weights 3 and 1 split concurrent load 50/50 (probe g12).
   */
  @Test
  void weighsTheRequestsInFlightByWeight() {
    List<LiveEndpoint> pool = Pools.weighted(3, 1);
    load(pool.get(0), 2);
    load(pool.get(1), 1);
    EndpointPicker picker = Pickers.create(Balancer.leastRequests(), pool, new SplittableRandom(7));
    assertThat(Pools.count(picker, pool, 1_000).get(pool.get(0))).isEqualTo(1_000);
    load(pool.get(0), 2);
    assertThat(Pools.count(picker, pool, 1_000).get(pool.get(1))).as("4 of weight 3 against 1 of weight 1")
        .isEqualTo(1_000);
  }

  /** Under steady concurrency, the load settles in proportion to weight. */
  @Test
  void sharesConcurrentLoadInProportionToWeight() {
    List<LiveEndpoint> pool = Pools.weighted(3, 1);
    EndpointPicker picker = Pickers.create(Balancer.leastRequests(), pool, new SplittableRandom(7));
    java.util.ArrayDeque<LiveEndpoint> inFlight = new java.util.ArrayDeque<>();
    Map<LiveEndpoint, Integer> counts = new java.util.HashMap<>();
    for (int i = 0; i < 100_000; i++) {
      if (inFlight.size() == 8) {
        inFlight.poll().requestEnded();
      }
      LiveEndpoint picked = picker.pick(pool, Pools.REQUEST, Pools.CLIENT);
      picked.requestStarted();
      inFlight.add(picked);
      counts.merge(picked, 1, Integer::sum);
    }
    assertThat(counts.get(pool.get(0)) / 100_000.0).isCloseTo(0.75, within(0.03));
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
