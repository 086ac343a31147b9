package dev.ferry.proxy.engine.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.sun.management.HotSpotDiagnosticMXBean;
import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.engine.io.ByteBudget;
import java.lang.management.ManagementFactory;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Where the cache keeps the bodies it stores. Bodies of {@value #MIN_OFF_HEAP_BYTES} bytes or
 * more go into direct buffers, off the Java heap, and a hit is written to the socket straight
 * from them. From a heap array the JDK copies every write into a temporary native buffer first,
 * and on Java 17 its per-thread cache of those buffers hands the large one to the small head of a
 * gathering write, so each 100 KiB hit also allocated and zeroed a fresh one: 100 KiB hits took
 * a third less CPU off the heap on Java 17, a tenth less on Java 25.
 *
 * <p>Direct memory is given back only when the garbage collector finds its buffer unreachable:
 * after eviction and after the last hit that writes from it. So the bytes held off the heap, in
 * live entries or awaiting collection, are bounded twice: per cache by its size bound, and per
 * process by half the JVM's direct memory limit ({@code -XX:MaxDirectMemorySize}, by default the
 * maximum heap), leaving the other half to everyone else. Past either bound a body is kept on the
 * heap, as smaller ones always are. A buffer counts until the collector has found it unreachable
 * (a phantom reference, polled on each store), so the accounting needs no thread and never
 * delays the JDK's own freeing of the memory.
 *
 * <p>Where hits go out on platform threads, bodies of {@value BodyFiles#MIN_BYTES} bytes or more
 * go to {@link BodyFiles} first, and a hit of one is sent from its file; those bytes count in the
 * same bound of the cache.
 */
final class StoredBodies {
  /** Smaller bodies stay on the heap: their copy is cheap and a direct buffer has its own cost. */
  static final int MIN_OFF_HEAP_BYTES = 16 * 1024;

  private static final ReferenceQueue<ByteBuffer> COLLECTED = new ReferenceQueue<>();
  /** Keeps the references reachable until their buffers are collected. */
  private static final Set<Reservation> LIVE = ConcurrentHashMap.newKeySet();
  private static final AtomicLong PROCESS_BYTES = new AtomicLong();
  private static volatile long processLimit = -1;

  /** The bytes this cache holds off the heap, collected or not. */
  private final ByteBudget bytes;
  /** Where large bodies go first; null if not to files. */
  private final BodyFiles files;
  /** The file of each entry whose body is in one (weak keys compare by identity). */
  private final Cache<CacheEntry, BodyFiles.Region> regions;

  /** @param limit the most bytes this cache holds off the heap, collected or not */
  StoredBodies(long limit) {
    this(limit, null);
  }

  /**
   * @param limit the most bytes this cache holds off the heap, collected or not
   * @param fileDirectory where to keep large bodies in files ({@link BodyFiles#SHARED_MEMORY}),
   *     or null to keep them in memory
   */
  StoredBodies(long limit, Path fileDirectory) {
    this.bytes = new ByteBudget(limit);
    this.files = fileDirectory == null ? null : BodyFiles.in(fileDirectory, bytes);
    this.regions = files == null ? null : Caffeine.newBuilder().weakKeys().build();
  }

  /**
   * Keeps {@code body}'s remaining bytes, in a file if it is large and there is room, else as
   * {@link #keep} does, and returns the entry {@code entry} makes of them. Consumes {@code body}.
   */
  CacheEntry store(ByteBuffer body, Function<ByteBuffer, CacheEntry> entry) {
    forgetCollectedEntries();
    BodyFiles.Region region = files == null ? null : files.keep(body);
    if (region == null) {
      return entry.apply(keep(body));
    }
    CacheEntry made = entry.apply(region.bytes());
    regions.put(made, region);
    return made;
  }

  /** The file {@code entry}'s whole body is in, or null. */
  BodyFiles.Region region(CacheEntry entry) {
    return regions == null || entry.bodyLength() < BodyFiles.MIN_BYTES ? null : regions.getIfPresent(entry);
  }

  /** Returns {@code updated}, made from {@code stored} with the same body, in its file too. */
  CacheEntry sameBody(CacheEntry stored, CacheEntry updated) {
    BodyFiles.Region region = region(stored);
    if (region != null) {
      regions.put(updated, region);
    }
    return updated;
  }

  /** The proxy stops: the body files' descriptors close. */
  void close() {
    if (files != null) {
      files.close();
    }
  }

  /**
   * Returns {@code body}'s remaining bytes as the cache keeps them: copied off the heap when
   * large and both bounds allow, else on the heap ({@code body} itself when it is exactly its
   * array, otherwise a trimmed copy). Consumes {@code body}.
   */
  ByteBuffer keep(ByteBuffer body) {
    int length = body.remaining();
    if (length >= MIN_OFF_HEAP_BYTES && reserve(length)) {
      ByteBuffer direct;
      try {
        direct = ByteBuffer.allocateDirect(length);
      } catch (OutOfMemoryError e) {
        // Someone else holds the rest of the direct memory: keep no more off the heap than now,
        // rather than have every large store wait for the JDK's collection attempts and fail.
        processLimit = Math.max(0, PROCESS_BYTES.get() - length);
        unreserve(length);
        return onHeap(body);
      }
      direct.put(body).flip();
      LIVE.add(new Reservation(direct, this, length));
      return direct;
    }
    return onHeap(body);
  }

  /** The bytes this cache holds off the heap now, including those not yet collected. */
  long offHeapBytes() {
    drain();
    return bytes.taken();
  }

  /** The bytes of this cache's bodies in files ({@link BodyFiles}), including those not yet collected. */
  long fileBytes() {
    forgetCollectedEntries();
    return files == null ? 0 : files.bytes();
  }

  /** This cache's body files, including those whose mappings await collection. */
  int files() {
    forgetCollectedEntries();
    return files == null ? 0 : files.files();
  }

  /**
   * Drops the regions of collected entries, so that their mappings can be collected too: the
   * weak-keyed map lets go of a region only in its own maintenance.
   */
  private void forgetCollectedEntries() {
    if (regions != null) {
      regions.cleanUp();
    }
  }

  /**
   * The bytes of this cache's bodies in direct memory, including those not yet collected: what
   * it holds off the heap and not in files (the two share one bound).
   */
  long directBytes() {
    return Math.max(0, offHeapBytes() - fileBytes());
  }

  private static ByteBuffer onHeap(ByteBuffer body) {
    if (body.hasArray() && body.arrayOffset() == 0 && body.position() == 0
        && body.remaining() == body.array().length) {
      return body;
    }
    byte[] copy = new byte[body.remaining()];
    body.get(copy);
    return ByteBuffer.wrap(copy);
  }

  private boolean reserve(long length) {
    drain();
    if (!bytes.tryTake(length)) {
      return false;
    }
    if (PROCESS_BYTES.addAndGet(length) > processLimit()) {
      PROCESS_BYTES.addAndGet(-length);
      bytes.give(length);
      return false;
    }
    return true;
  }

  private void unreserve(long length) {
    bytes.give(length);
    PROCESS_BYTES.addAndGet(-length);
  }

  private static void drain() {
    for (Reference<? extends ByteBuffer> collected; (collected = COLLECTED.poll()) != null; ) {
      Reservation reservation = (Reservation) collected;
      if (LIVE.remove(reservation)) {
        reservation.owner.unreserve(reservation.length);
      }
    }
  }

  private static long processLimit() {
    long known = processLimit;
    if (known < 0) {
      known = maxDirectMemory() / 2;
      processLimit = known;
    }
    return known;
  }

  private static long maxDirectMemory() {
    try {
      String configured = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
          .getVMOption("MaxDirectMemorySize").getValue();
      long value = Long.parseLong(configured);
      if (value > 0) {
        return value;
      }
    } catch (RuntimeException | LinkageError e) {
      // Not HotSpot, or no jdk.management module: the JDK's default limit is the maximum heap.
    }
    return Runtime.getRuntime().maxMemory();
  }

  /** One off-heap body's bytes, counted until the collector finds its buffer unreachable. */
  private static final class Reservation extends PhantomReference<ByteBuffer> {
    final StoredBodies owner;
    final long length;

    Reservation(ByteBuffer buffer, StoredBodies owner, long length) {
      super(buffer, COLLECTED);
      this.owner = owner;
      this.length = length;
    }
  }
}
