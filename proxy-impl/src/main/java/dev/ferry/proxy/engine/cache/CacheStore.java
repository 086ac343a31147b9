package dev.ferry.proxy.engine.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

/**
 * Stored responses by URL, each URL holding its Vary variants, in a Caffeine cache weighed in
 * bytes. Caffeine's W-TinyLFU decides what to evict; maintenance runs on the calling thread so
 * the cache starts no threads of its own.
 */
final class CacheStore {
  private static final int MAX_VARIANTS = 16;

  private final Cache<String, List<StoredResponse>> cache;
  private final LongAdder evictions = new LongAdder();

  CacheStore(long maxBytes) {
    this.cache = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher((String url, List<StoredResponse> variants) -> weight(url, variants))
        .executor(Runnable::run)
        .removalListener((String url, List<StoredResponse> variants, RemovalCause cause) -> {
          if (cause == RemovalCause.SIZE && variants != null) {
            evictions.add(variants.size());
          }
        })
        .build();
  }

  List<StoredResponse> variants(String url) {
    List<StoredResponse> variants = cache.getIfPresent(url);
    return variants == null ? List.of() : variants;
  }

  /** Stores {@code stored}, replacing the variant with the same Vary values. */
  void put(String url, StoredResponse stored) {
    cache.asMap().compute(url, (key, existing) -> {
      List<StoredResponse> variants = new ArrayList<>();
      variants.add(stored);
      if (existing != null) {
        for (StoredResponse other : existing) {
          if (!other.varyValues().equals(stored.varyValues()) || !other.varyNames().equals(stored.varyNames())) {
            if (variants.size() < MAX_VARIANTS) {
              variants.add(other);
            }
          }
        }
      }
      return List.copyOf(variants);
    });
  }

  void remove(String url) {
    cache.invalidate(url);
  }

  void removeIf(Predicate<String> url) {
    cache.asMap().keySet().removeIf(url);
  }

  void clear() {
    cache.invalidateAll();
  }

  long entries() {
    return cache.asMap().values().stream().mapToLong(List::size).sum();
  }

  long bytes() {
    return cache.asMap().entrySet().stream().mapToLong(e -> weight(e.getKey(), e.getValue())).sum();
  }

  long evictions() {
    cache.cleanUp();
    return evictions.sum();
  }

  private static int weight(String url, List<StoredResponse> variants) {
    long total = url.length() * 2L;
    for (StoredResponse variant : variants) {
      total += variant.weight();
    }
    return (int) Math.min(Integer.MAX_VALUE, total);
  }
}
