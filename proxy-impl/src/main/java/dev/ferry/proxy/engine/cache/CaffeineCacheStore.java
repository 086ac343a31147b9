package dev.ferry.proxy.engine.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.CacheStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

/**
 * The embedded default {@link CacheStore}: entries by URL, each URL holding its Vary variants,
 * in a Caffeine cache weighed in bytes. Caffeine's W-TinyLFU decides what to evict; maintenance
 * runs on the calling thread so the cache starts no threads of its own. Nothing else in the
 * cache package knows Caffeine.
 */
final class CaffeineCacheStore implements CacheStore {
  private static final int MAX_VARIANTS = 16;

  private final Cache<String, List<CacheEntry>> cache;
  private final LongAdder evictions = new LongAdder();
  private final long maxBytes;

  CaffeineCacheStore(long maxBytes) {
    this.maxBytes = maxBytes;
    this.cache = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher((String url, List<CacheEntry> variants) -> weight(url, variants))
        .executor(Runnable::run)
        .removalListener((String url, List<CacheEntry> variants, RemovalCause cause) -> {
          if (cause == RemovalCause.SIZE && variants != null) {
            evictions.add(variants.size());
          }
        })
        .build();
  }

  @Override
  public List<CacheEntry> variants(String url) {
    List<CacheEntry> variants = cache.getIfPresent(url);
    return variants == null ? List.of() : variants;
  }

  /**
   * Stores {@code entry} first, replacing the variant with the same key, keeping at most 16. An
   * entry heavier than the whole cache (its body near {@code maxEntryBytes} where that equals
   * {@code maxSizeBytes}: the head weighs too) is not stored, only the variant it replaces
   * dropped: Caffeine would take it and evict it at once, counted as an eviction (probe e26).
   * Likewise the URL's older variants are kept only while all of them together fit: a variant
   * that fits alone took its siblings over the bound, and all of them were evicted at once
   * (probe v32).
   */
  @Override
  public void put(String url, CacheEntry entry) {
    long weight = weight(url, List.of(entry));
    boolean fits = weight <= maxBytes;
    cache.asMap().compute(url, (key, existing) -> {
      List<CacheEntry> variants = new ArrayList<>();
      long total = fits ? weight : url.length() * 2L;
      if (fits) {
        variants.add(entry);
      }
      if (existing != null) {
        for (CacheEntry other : existing) {
          if (other.variantKey().equals(entry.variantKey()) || variants.size() >= MAX_VARIANTS) {
            continue;
          }
          if (total + other.weightBytes() <= maxBytes) {
            variants.add(other);
            total += other.weightBytes();
          } else {
            // Dropped to stay within the bound, as Caffeine would have: an eviction (probe v33).
            evictions.increment();
          }
        }
      }
      return variants.isEmpty() ? null : List.copyOf(variants);
    });
  }

  @Override
  public boolean remove(String url) {
    return cache.asMap().remove(url) != null;
  }

  @Override
  public void removeIf(Predicate<String> url) {
    cache.asMap().keySet().removeIf(url);
  }

  @Override
  public void clear() {
    cache.invalidateAll();
  }

  /** Counted after pending maintenance, so that a quiet cache reports itself within its bound. */
  @Override
  public long entryCount() {
    cache.cleanUp();
    return cache.asMap().values().stream().mapToLong(List::size).sum();
  }

  /**
   * The weight Caffeine holds the cache to, after pending maintenance: right after a burst of
   * concurrent writes, evictions may still be queued.
   */
  @Override
  public long byteCount() {
    cache.cleanUp();
    return cache.policy().eviction().flatMap(eviction -> eviction.weightedSize().stream().boxed().findFirst())
        .orElseGet(() -> cache.asMap().entrySet().stream().mapToLong(e -> weight(e.getKey(), e.getValue())).sum());
  }

  @Override
  public long evictionCount() {
    cache.cleanUp();
    return evictions.sum();
  }

  @Override
  public String toString() {
    return "CaffeineCacheStore(entries=" + entryCount() + ")";
  }

  private static int weight(String url, List<CacheEntry> variants) {
    long total = url.length() * 2L;
    for (CacheEntry variant : variants) {
      total += variant.weightBytes();
    }
    return (int) Math.min(Integer.MAX_VALUE, total);
  }
}
