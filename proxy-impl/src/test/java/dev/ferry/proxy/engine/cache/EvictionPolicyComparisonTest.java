package dev.ferry.proxy.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.Headers;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Replays a skewed (Zipf) trace against the cache's store (Caffeine W-TinyLFU, bounded in
 * bytes) and a plain LRU with the same byte budget, and prints both hit rates. W-TinyLFU keeps
 * the popular items that one-hit scans would push out of an LRU.
 */
class EvictionPolicyComparisonTest {
  private static final int KEYS = 20_000;
  private static final int REQUESTS = 200_000;
  private static final long BUDGET = 4L << 20;

  @Test
  void tinyLfuHitsAtLeastAsOftenAsLruOnZipfTrace() {
    int[] trace = zipfTrace(0.9, 42);
    CaffeineCacheStore store = new CaffeineCacheStore(BUDGET);
    int tinyLfuHits = 0;
    for (int key : trace) {
      String url = "http://origin/" + key;
      if (!store.variants(url).isEmpty()) {
        tinyLfuHits++;
      } else {
        store.put(url, entry(key));
      }
    }
    Lru lru = new Lru(BUDGET);
    int lruHits = 0;
    for (int key : trace) {
      if (lru.get(key)) {
        lruHits++;
      } else {
        lru.put(key, (int) entry(key).weightBytes());
      }
    }
    double tinyLfuRate = tinyLfuHits / (double) REQUESTS;
    double lruRate = lruHits / (double) REQUESTS;
    System.out.printf("zipf(0.9) %d keys, %d requests, %d MiB budget: W-TinyLFU hit rate %.3f, LRU hit rate %.3f%n",
        KEYS, REQUESTS, BUDGET >> 20, tinyLfuRate, lruRate);
    assertThat(tinyLfuRate).isGreaterThanOrEqualTo(lruRate - 0.01);
  }

  private static CacheEntry entry(int key) {
    int size = 1000 + (key * 7919) % 4000;
    return CacheEntry.of(200, "OK", Headers.empty(), new byte[size], Instant.EPOCH, Instant.EPOCH, "");
  }

  private static int[] zipfTrace(double skew, long seed) {
    double[] cumulative = new double[KEYS];
    double sum = 0;
    for (int i = 0; i < KEYS; i++) {
      sum += 1 / Math.pow(i + 1, skew);
      cumulative[i] = sum;
    }
    Random random = new Random(seed);
    int[] trace = new int[REQUESTS];
    for (int i = 0; i < REQUESTS; i++) {
      double target = random.nextDouble() * sum;
      int low = 0;
      int high = KEYS - 1;
      while (low < high) {
        int mid = (low + high) >>> 1;
        if (cumulative[mid] < target) {
          low = mid + 1;
        } else {
          high = mid;
        }
      }
      trace[i] = low;
    }
    return trace;
  }

  /** A plain LRU bounded by the same weights. */
  private static final class Lru {
    private final long budget;
    private long used;
    private final LinkedHashMap<Integer, Integer> weights = new LinkedHashMap<>(16, 0.75f, true);

    Lru(long budget) {
      this.budget = budget;
    }

    boolean get(int key) {
      return weights.get(key) != null;
    }

    void put(int key, int weight) {
      weights.put(key, weight);
      used += weight;
      var eldest = weights.entrySet().iterator();
      while (used > budget && eldest.hasNext()) {
        Map.Entry<Integer, Integer> victim = eldest.next();
        used -= victim.getValue();
        eldest.remove();
      }
    }
  }
}
