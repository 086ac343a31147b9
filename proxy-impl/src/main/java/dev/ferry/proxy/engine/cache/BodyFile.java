package dev.ferry.proxy.engine.cache;

import java.io.IOException;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;

/**
 * Large stored bodies in one file in shared memory ({@code /dev/shm}, a RAM file system), so
 * that a hit to a plain socket is sent by the kernel from the file ({@code sendfile}, as nginx
 * sends its cache's files) instead of copied into the socket from a direct buffer: in paired
 * runs of 100 KiB hits on Java 17's pool, about a tenth less CPU per hit and a tenth more hits
 * per second. Only for platform threads: on a virtual thread a transfer from a file holds its
 * carrier, and the same hits were slower on Java 25. The file's pages are shared memory: they
 * count in the machine's (and a container's) memory, not in the heap or direct memory.
 *
 * <p>The file is removed from its directory as soon as it is open, so nothing is left behind
 * however the process ends; it is closed with the cache. It is divided into blocks of
 * {@value #BLOCK_BYTES} bytes, and a body takes a run of adjacent ones, written once and then
 * read through a read-only mapping of its own ({@link Region#bytes()}) or sent from the file.
 * Every view of that mapping keeps it reachable, and so does the {@link Region} a hit sends from;
 * the run is reused only once the garbage collector has found the mapping unreachable (a
 * phantom reference, polled on each store), so a body's bytes never change under a reader. A
 * body finds no room when the file's blocks are taken (or the file system is full): it is
 * then kept as before, in a direct buffer or on the heap.
 */
final class BodyFile implements AutoCloseable {
  static final int BLOCK_BYTES = 64 * 1024;
  /** Smaller bodies go out with their head in one write, which beats a head and a sendfile. */
  static final int MIN_BYTES = BLOCK_BYTES;
  /**
   * Each body is a mapping of its own, and a process has a bounded number of them (Linux's
   * vm.max_map_count, 65530 by default, shared with the JVM's thread stacks and heap): past
   * this many, bodies go to direct buffers rather than fail the JVM's own mappings.
   */
  static final int MAX_MAPPINGS = 8192;
  private static final Path SHARED_MEMORY = Path.of("/dev/shm");

  private final FileChannel file;
  private final LongConsumer freed;
  private final int blocks;
  private final int maxMappings;
  private final BitSet taken;
  private final ReferenceQueue<ByteBuffer> collected = new ReferenceQueue<>();
  /** Keeps the references reachable until their mappings are collected. */
  private final Set<Run> live = ConcurrentHashMap.newKeySet();

  private BodyFile(FileChannel file, long maxBytes, int maxMappings, LongConsumer freed) {
    this.maxMappings = maxMappings;
    this.file = file;
    this.freed = freed;
    this.blocks = (int) Math.min(Integer.MAX_VALUE, maxBytes / BLOCK_BYTES);
    this.taken = new BitSet(blocks);
  }

  /**
   * A file in {@code /dev/shm} of at most {@code maxBytes} and half the space free there now;
   * null where there is none (not Linux) or it cannot be written, or that holds no body.
   * {@code freed} is told the length of each body whose blocks are free again.
   */
  static BodyFile open(long maxBytes, LongConsumer freed) {
    return open(SHARED_MEMORY, maxBytes, MAX_MAPPINGS, freed);
  }

  static BodyFile open(Path directory, long maxBytes, int maxMappings, LongConsumer freed) {
    if (maxBytes < MIN_BYTES || !Files.isDirectory(directory)) {
      return null;
    }
    try {
      // Others use shared memory too (a container's is often 64 MiB): take half of what is free.
      long bound = Math.min(maxBytes, Files.getFileStore(directory).getUsableSpace() / 2);
      if (bound < MIN_BYTES) {
        return null;
      }
      Path path = Files.createTempFile(directory, "ferry-cache-", ".bodies");
      FileChannel file;
      try {
        file = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
      } finally {
        Files.delete(path);
      }
      return new BodyFile(file, bound, maxMappings, freed);
    } catch (IOException | UnsupportedOperationException e) {
      return null;
    }
  }

  /**
   * Writes {@code body}'s remaining bytes to a run of free blocks and maps them; null, with
   * {@code body} untouched, when no run is free, the mappings are at their bound, or the write
   * fails.
   */
  Region store(ByteBuffer body) {
    drain();
    if (live.size() >= maxMappings) {
      return null;
    }
    int length = body.remaining();
    int count = (length + BLOCK_BYTES - 1) / BLOCK_BYTES;
    int first = take(count);
    if (first < 0) {
      return null;
    }
    long offset = (long) first * BLOCK_BYTES;
    try {
      ByteBuffer source = body.duplicate();
      for (long at = offset; source.hasRemaining(); ) {
        at += file.write(source, at);
      }
      ByteBuffer mapping = file.map(FileChannel.MapMode.READ_ONLY, offset, length);
      live.add(new Run(mapping, collected, first, count, length));
      body.position(body.limit());
      return new Region(file, offset, length, mapping);
    } catch (IOException | RuntimeException e) {
      // A full file system (ENOSPC), or the cache closed under the store.
      give(first, count);
      return null;
    }
  }

  /** The blocks taken now, including those of bodies not yet collected. */
  synchronized int blocksTaken() {
    return taken.cardinality();
  }

  /** Frees the runs whose mappings have been collected. */
  void drain() {
    for (Reference<? extends ByteBuffer> gone; (gone = collected.poll()) != null; ) {
      Run run = (Run) gone;
      if (live.remove(run)) {
        give(run.first, run.count);
        freed.accept(run.length);
      }
    }
  }

  private synchronized int take(int count) {
    for (int from = taken.nextClearBit(0); from + count <= blocks; ) {
      int next = taken.nextSetBit(from);
      if (next < 0 || next - from >= count) {
        taken.set(from, from + count);
        return from;
      }
      from = taken.nextClearBit(next);
    }
    return -1;
  }

  private synchronized void give(int first, int count) {
    taken.clear(first, first + count);
  }

  @Override
  public void close() {
    try {
      file.close();
    } catch (IOException e) {
      // Nothing was written since the last store: nothing to lose.
    }
  }

  /**
   * One stored body: where it is in the file, and its mapping. Holding it keeps the body's
   * blocks from reuse, so a hit sending from the file holds it until the last byte is sent.
   */
  record Region(FileChannel file, long offset, int length, ByteBuffer mapping) {
    /** The body's bytes: a read-only view of its mapping. */
    ByteBuffer bytes() {
      return mapping.duplicate();
    }
  }

  /** A body's blocks, given back when its mapping is collected. */
  private static final class Run extends PhantomReference<ByteBuffer> {
    final int first;
    final int count;
    final int length;

    Run(ByteBuffer mapping, ReferenceQueue<ByteBuffer> queue, int first, int count, int length) {
      super(mapping, queue);
      this.first = first;
      this.count = count;
      this.length = length;
    }
  }
}
