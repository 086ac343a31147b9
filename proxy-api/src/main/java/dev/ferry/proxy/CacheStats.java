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
  private final long directBytes;
  private final long fileBytes;
  private final long bodyFiles;

  private CacheStats(long hits, long misses, long revalidations, long staleServed, long entries,
      long bytes, long evictions, long directBytes, long fileBytes, long bodyFiles) {
    this.hits = hits;
    this.misses = misses;
    this.revalidations = revalidations;
    this.staleServed = staleServed;
    this.entries = entries;
    this.bytes = bytes;
    this.evictions = evictions;
    this.directBytes = directBytes;
    this.fileBytes = fileBytes;
    this.bodyFiles = bodyFiles;
  }

  /** Returns a snapshot with these counts, in the order of the accessors. */
  public static CacheStats of(long hits, long misses, long revalidations, long staleServed,
      long entries, long bytes, long evictions) {
    return new CacheStats(hits, misses, revalidations, staleServed, entries, bytes, evictions, 0, 0, 0);
  }

  /**
   * Returns this snapshot with where the stored bodies lie outside the Java heap, as
   * {@link #directBytes}, {@link #fileBytes} and {@link #bodyFiles} report it.
   *
   * <pre>{@code
   * CacheStats stats = CacheStats.of(hits, misses, 0, 0, entries, bytes, evictions)
   *     .withOffHeap(directBytes, 0, 0);
   * }</pre>
   */
  public CacheStats withOffHeap(long directBytes, long fileBytes, long bodyFiles) {
    return new CacheStats(hits, misses, revalidations, staleServed, entries, bytes, evictions,
        directBytes, fileBytes, bodyFiles);
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

  /**
   * Bytes the stored responses take now (bodies and headers), wherever their bodies are held: on
   * the heap, in direct memory or in files ({@link #directBytes}, {@link #fileBytes}).
   */
  public long bytes() {
    return bytes;
  }

  /** Entries evicted to stay within the size bound. */
  public long evictions() {
    return evictions;
  }

  /**
   * Bytes of stored bodies held in direct memory, off the heap and within the JVM's direct memory
   * limit ({@code -XX:MaxDirectMemorySize}). Direct memory is given back only once the garbage
   * collector finds a buffer unreachable, so an evicted body counts until then; this is what the
   * process holds, not only what live entries take ({@link #bytes}).
   */
  public long directBytes() {
    return directBytes;
  }

  /**
   * Bytes of stored bodies held in files in shared memory ({@code /dev/shm}, a tmpfs: memory
   * that counts against a container's memory limit, not disk), evicted ones included until the
   * collector finds them unreachable, as for {@link #directBytes}. Zero where large hits are not
   * sent from files (virtual threads, an application's {@link CacheStore}, no {@code /dev/shm}).
   */
  public long fileBytes() {
    return fileBytes;
  }

  /** The files {@link #fileBytes} counts: each keeps a file descriptor open. */
  public long bodyFiles() {
    return bodyFiles;
  }

  @Override
  public String toString() {
    return "hits=" + hits + " misses=" + misses + " revalidations=" + revalidations
        + " stale_served=" + staleServed + " entries=" + entries + " bytes=" + bytes
        + " evictions=" + evictions + " direct_bytes=" + directBytes + " file_bytes=" + fileBytes
        + " body_files=" + bodyFiles;
  }
}
