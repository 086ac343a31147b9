package dev.ferry.proxy.engine.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Balancer;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RoundRobinTest {

  @Test
  void picksEndpointsInTurn() {
    List<LiveEndpoint> pool = Pools.of(3);
    EndpointPicker picker = Pickers.create(Balancer.roundRobin(), pool, new SplittableRandom(1));

    assertThat(Pools.sequence(picker, pool, pool, 7)).isEqualTo("abcabca");
  }

  @Test
  void continuesInTurnOverTheCandidatesLeft() {
    List<LiveEndpoint> pool = Pools.of(3);
    EndpointPicker picker = Pickers.create(Balancer.roundRobin(), pool, new SplittableRandom(1));

    String picks = Pools.sequence(picker, pool, List.of(pool.get(0), pool.get(2)), 6);

    assertThat(picks).isIn("acacac", "cacaca");
  }

  @Test
  void interleavesSmoothlyWhenWeightsDiffer() {
    List<LiveEndpoint> pool = Pools.weighted(5, 1, 1);
    EndpointPicker picker = Pickers.create(Balancer.roundRobin(), pool, new SplittableRandom(1));

    assertThat(Pools.sequence(picker, pool, pool, 7)).isEqualTo("aabacaa");
  }

  @Test
  void givesEveryEndpointTheSameShareUnderConcurrentPicks() throws Exception {
    List<LiveEndpoint> pool = Pools.of(3);
    EndpointPicker picker = Pickers.create(Balancer.roundRobin(), pool, new SplittableRandom(1));
    ConcurrentHashMap<LiveEndpoint, AtomicInteger> counts = new ConcurrentHashMap<>();
    ExecutorService threads = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(threads.submit(() -> {
          for (int i = 0; i < 3_000; i++) {
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

    assertThat(counts.values()).extracting(AtomicInteger::get).containsExactly(4_000, 4_000, 4_000);
  }
}
