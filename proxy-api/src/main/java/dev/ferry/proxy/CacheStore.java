package dev.ferry.proxy;

import java.util.List;
import java.util.function.Predicate;

/**
 * Where the cache keeps its responses: the storage SPI behind {@link CacheSpec}. The default is
 * an in-memory store bounded by {@link CacheSpec#maxSizeBytes(long)}; implement this to put the
 * cache on another tier (a distributed store shared by several proxies), then pass it to
 * {@link CacheSpec#store(CacheStore)}. All of RFC 9111 (what to store, freshness, validation,
 * {@code Vary} matching, ranges) stays in the proxy; a store only keeps entries by key.
 *
 * <pre>{@code
 * CacheStore shared = new MyRedisStore(pool);
 * ProxyServer.builder().cache(CacheSpec.inMemory().store(shared));
 * }</pre>
 *
 * <p>Keys are absolute request URLs ({@code https://example.com/a?b}). Under one key a store
 * holds that URL's {@code Vary} variants, one {@link CacheEntry} per
 * {@linkplain CacheEntry#variantKey() variant key}.
 *
 * <p>Implementations must be safe for concurrent use: every method is called from many
 * connection threads at once, and {@link #put} must replace atomically per key. They should
 * not block for long: a lookup sits in front of every cacheable request. A store may drop
 * entries at any time (eviction); the proxy then fetches again.
 */
public interface CacheStore {

  /** The entries stored for {@code key}, newest first; an empty list when there are none. */
  List<CacheEntry> variants(String key);

  /**
   * Stores {@code entry} under {@code key}, replacing the entry with the same variant key. A
   * store may refuse an entry (too large) or bound the variants kept per key.
   */
  void put(String key, CacheEntry entry);

  /** Removes every entry of {@code key}; returns whether there was one. */
  boolean remove(String key);

  /** Removes the entries of every key that matches. */
  void removeIf(Predicate<String> key);

  /** Removes every entry. */
  void clear();

  /** The number of entries stored now, counting each variant. */
  long entryCount();

  /** The bytes the stored entries take now, as {@link CacheEntry#weightBytes()} counts them. */
  long byteCount();

  /** The entries evicted so far to stay within the store's bound. */
  long evictionCount();
}
