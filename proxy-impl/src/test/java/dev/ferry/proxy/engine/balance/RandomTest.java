package dev.ferry.proxy.engine.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.ferry.proxy.Balancer;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

class RandomTest {

  @Test
  void picksInProportionToWeight() {
    List<LiveEndpoint> pool = Pools.weighted(1, 2, 3, 4);
    EndpointPicker picker = Pickers.create(Balancer.random(), pool, new SplittableRandom(42));

    Map<LiveEndpoint, Integer> counts = Pools.count(picker, pool, 100_000);

    double[] expected = {0.1, 0.2, 0.3, 0.4};
    for (int i = 0; i < pool.size(); i++) {
      assertThat(counts.get(pool.get(i)) / 100_000.0).isCloseTo(expected[i], within(0.01));
    }
  }

  @Test
  void repeatsTheSameChoicesForTheSameSeed() {
    List<LiveEndpoint> pool = Pools.of(5);
    String first = Pools.sequence(Pickers.create(Balancer.random(), pool, new SplittableRandom(3)), pool, pool, 50);
    String second = Pools.sequence(Pickers.create(Balancer.random(), pool, new SplittableRandom(3)), pool, pool, 50);

    assertThat(first).isEqualTo(second).contains("a", "b", "c", "d", "e");
  }

  @Test
  void picksOnlyAmongTheCandidatesWithAThreadLocalSource() {
    List<LiveEndpoint> pool = Pools.of(4);
    EndpointPicker picker = Pickers.create(Balancer.random(), pool, ThreadLocalRandom.current());

    Map<LiveEndpoint, Integer> counts = Pools.count(picker, List.of(pool.get(1), pool.get(3)), 1_000);

    assertThat(counts).containsOnlyKeys(pool.get(1), pool.get(3));
    assertThat(counts.values()).allSatisfy(count -> assertThat(count).isGreaterThan(350));
  }

  @Test
  void drawsDifferentlyOnEachThreadWithAThreadLocalSourceMadeElsewhere() throws Exception {
    List<LiveEndpoint> pool = Pools.of(10);
    // Made on this thread, used on fresh threads, as a pool made at start-up is used by
    // connection threads.
    EndpointPicker picker = Pickers.create(Balancer.random(), pool, ThreadLocalRandom.current());
    Set<String> firstPicksPerThread = ConcurrentHashMap.newKeySet();

    for (int t = 0; t < 8; t++) {
      Thread thread = new Thread(() -> firstPicksPerThread.add(Pools.sequence(picker, pool, pool, 8)));
      thread.start();
      thread.join(10_000);
    }

    assertThat(firstPicksPerThread).as("threads must not share one sequence").hasSizeGreaterThan(1);
  }
}
