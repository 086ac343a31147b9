package dev.ferry.proxy;

/** A snapshot of the cache's counters, from {@link ProxyCache#stats()}. */
public final class CacheStats {
  private final long hits;
  private final long misses;
  private final long revalidations;
  private final long staleServed;
  private final long entries;
  private final long bytes;
  private final long evictions;

  private CacheStats(long hits, long misses, long revalidations, long staleServed, long entries,
      long bytes, long evictions) {
    this.hits = hits;
    this.misses = misses;
    this.revalidations = revalidations;
    this.staleServed = staleServed;
    this.entries = entries;
    this.bytes = bytes;
    this.evictions = evictions;
  }

  /** Returns a snapshot with these counts, in the order of the accessors. */
  public static CacheStats of(long hits, long misses, long revalidations, long staleServed,
      long entries, long bytes, long evictions) {
    return new CacheStats(hits, misses, revalidations, staleServed, entries, bytes, evictions);
  }

  /** Requests answered from a stored response without contacting the upstream. */
  public long hits() {
    return hits;
  }

  /** Cacheable requests that had to go to the upstream. */
  public long misses() {
    return misses;
  }

  /** Stored responses confirmed by the upstream with 304 and then served. */
  public long revalidations() {
    return revalidations;
  }

  /** Stale responses served (with {@code only-if-cached} or a client's {@code max-stale}). */
  public long staleServed() {
    return staleServed;
  }

  /** {@code hits / (hits + misses)}, or 0 before any lookup. */
  public double hitRate() {
    long lookups = hits + misses;
    return lookups == 0 ? 0 : (double) hits / lookups;
  }

  /** Responses stored now, counting each Vary variant. */
  public long entries() {
    return entries;
  }

  /** Bytes the stored responses take now (bodies and headers). */
  public long bytes() {
    return bytes;
  }

  /** Entries evicted to stay within the size bound. */
  public long evictions() {
    return evictions;
  }

  @Override
  public String toString() {
    return "hits=" + hits + " misses=" + misses + " revalidations=" + revalidations
        + " stale_served=" + staleServed + " entries=" + entries + " bytes=" + bytes
        + " evictions=" + evictions;
  }
}
