package dev.ferry.proxy.engine.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Balancer;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SmoothWeightedTest {

  @Test
  void interleavesWeightsFiveOneOneAsNginxDoes() {
    List<LiveEndpoint> pool = Pools.weighted(5, 1, 1);
    EndpointPicker picker = Pickers.create(Balancer.weighted(), pool, new SplittableRandom(1));

    // ngx_http_upstream_round_robin.c's documented example, twice over.
    assertThat(Pools.sequence(picker, pool, pool, 14)).isEqualTo("aabacaa" + "aabacaa");
  }

  @Test
  void givesEachCandidateItsWeightedShareExactlyPerCycle() {
    List<LiveEndpoint> pool = Pools.weighted(3, 2, 1, 4);
    EndpointPicker picker = Pickers.create(Balancer.weighted(), pool, new SplittableRandom(1));

    Map<LiveEndpoint, Integer> counts = Pools.count(picker, pool, 10 * 100);

    assertThat(counts.values()).containsExactly(300, 200, 100, 400);
  }

  @Test
  void sharesByWeightAmongTheCandidatesLeft() {
    List<LiveEndpoint> pool = Pools.weighted(5, 1, 1);
    EndpointPicker picker = Pickers.create(Balancer.weighted(), pool, new SplittableRandom(1));

    Map<LiveEndpoint, Integer> counts = Pools.count(picker, List.of(pool.get(0), pool.get(2)), 600);

    assertThat(counts.values()).containsExactly(500, 100);
  }

  @Test
  void keepsExactSharesUnderConcurrentPicks() throws Exception {
    List<LiveEndpoint> pool = Pools.weighted(5, 1, 1);
    EndpointPicker picker = Pickers.create(Balancer.weighted(), pool, new SplittableRandom(1));
    ConcurrentHashMap<LiveEndpoint, AtomicInteger> counts = new ConcurrentHashMap<>();
    ExecutorService threads = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(threads.submit(() -> {
          for (int i = 0; i < 7_000; i++) {
            counts.computeIfAbsent(picker.pick(pool, Pools.REQUEST, Pools.CLIENT), e -> new AtomicInteger())
                .incrementAndGet();
          }
        }));
      }
      for (Future<?> future : done) {
        future.get();
      }
    } finally {
      threads.shutdownNow();
    }

    assertThat(counts.get(pool.get(0))).hasValue(20_000);
    assertThat(counts.get(pool.get(1))).hasValue(4_000);
    assertThat(counts.get(pool.get(2))).hasValue(4_000);
  }
}
