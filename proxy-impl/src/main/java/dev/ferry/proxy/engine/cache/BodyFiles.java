package dev.ferry.proxy.engine.cache;

import com.sun.management.UnixOperatingSystemMXBean;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.io.ByteBudget;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Large stored bodies kept in files of shared memory ({@code /dev/shm}, a tmpfs), each in a file
 * of its own, so that a hit on a plain socket served by a thread is sent by the kernel from the
 * file's pages ({@code sendfile}) instead of copied from a buffer into the socket: on Java 17's
 * pool a 100 KiB hit took about a fifth less CPU than from direct memory (paired
 * {@code samples/bench/ab.sh}). An event loop writes the mapping with the head in one gathering
 * write instead, which measured faster there ({@code LoopTail}). The body is also mapped
 * read-only, and the mapping is the entry's {@code ByteBuffer}, for everything that reads it as
 * bytes (ranges, TLS, filters); the pages are the file's, held once.
 *
 * <p>A file is written once and never again: the kernel keeps sending a file's pages after
 * {@code sendfile} returns (they stay queued in the socket until the peer takes them), so a
 * page that could be rewritten could put another body's bytes into a slow reader's hit. The file
 * is unlinked at once (owner-only while it has a name) and lives while its descriptor is open:
 * that is closed once the mapping is unreachable (no entry, no hit being sent), found by a
 * phantom reference polled on each store, or when the proxy stops.
 *
 * <p>Bounded three ways, past which a body goes to memory as before: the cache's own bound on
 * bytes held outside the heap (counted until collected), half of the shared memory free when the
 * first file was made, and {@value #MAX_FILES} files or an eighth of the free file descriptors,
 * whichever is fewer, per process: each file costs a descriptor and a mapping (Linux allows a
 * process 65,530 mappings by default, shared with thread stacks and the heap), and connections
 * need descriptors more. A full tmpfs (as a container's 64 MiB default) or a process out of
 * descriptors lowers the bound to what is held then, measured again a minute later.
 */
final class BodyFiles {
  /**
   * Smaller bodies keep the direct store's single gathering write of head and body: a hit from
   * a file takes two system calls, the head's write and {@code sendfile}.
   */
  static final int MIN_BYTES = 64 * 1024;
  static final Path SHARED_MEMORY = Path.of("/dev/shm");
  private static final int MAX_FILES = 8192;
  private static final int WRITE_PIECE_BYTES = 64 * 1024;
  private static final Logger log = LoggerFactory.getLogger(BodyFiles.class);
  private static final ReferenceQueue<ByteBuffer> COLLECTED = new ReferenceQueue<>();
  /** Keeps the references reachable until their mappings are collected. */
  private static final Set<Held> LIVE = ConcurrentHashMap.newKeySet();
  private static final AtomicInteger FILES = new AtomicInteger();
  private static final AtomicLong PROCESS_BYTES = new AtomicLong();
  private static volatile long processLimit = -1;
  private static volatile int maxFiles = -1;
  /** How long bounds lowered by a failure stay so before they are measured again. */
  private static final long REMEASURE_NANOS = TimeUnit.MINUTES.toNanos(1);
  private static volatile boolean lowered;
  private static volatile long loweredAtNanos;

  private final Path directory;
  /** The cache's bytes outside the heap, shared with its direct buffers. */
  private final ByteBudget budget;
  /** This cache's files and their bytes, collected or not: {@link #files()}, {@link #bytes()}. */
  private final AtomicLong heldBytes = new AtomicLong();
  private final AtomicInteger heldFiles = new AtomicInteger();
  private volatile boolean closed;

  private BodyFiles(Path directory, ByteBudget budget) {
    this.directory = directory;
    this.budget = budget;
  }

  /** Files in {@code directory}, counted in {@code budget}; null where it is not a directory. */
  static BodyFiles in(Path directory, ByteBudget budget) {
    return Files.isDirectory(directory) && Files.isWritable(directory) ? new BodyFiles(directory, budget) : null;
  }

  /**
   * Returns where {@code body}'s remaining bytes were put, consuming them; null, consuming
   * nothing, if it is too small or a bound leaves no room (the caller keeps it in memory).
   */
  Region keep(ByteBuffer body) {
    drain();
    int length = body.remaining();
    if (closed || length < MIN_BYTES || !reserve(length)) {
      return null;
    }
    FileChannel file = null;
    try {
      file = create();
      write(body.duplicate(), file);
      ByteBuffer mapping = file.map(FileChannel.MapMode.READ_ONLY, 0, length);
      LIVE.add(new Held(mapping, file, this, length));
      body.position(body.limit());
      return new Region(file, mapping);
    } catch (IOException | RuntimeException e) {
      closeQuietly(file);
      unreserve(length);
      if (lowerBounds(e)) {
        // Once a minute at most: hits of new large bodies are written from memory meanwhile.
        log.warn("cache_body_files_full size={} held_bytes={} files={} error={}", length, PROCESS_BYTES.get(),
            FILES.get(), LogValues.quoted(e.toString()));
      } else {
        log.debug("cache_body_file_failed size={} error={}", length, LogValues.quoted(e.toString()));
      }
      return null;
    }
  }

  /** The bytes of this cache's files, including those whose mappings await collection. */
  long bytes() {
    drain();
    return heldBytes.get();
  }

  /** This cache's files, each an open descriptor until its mapping is collected. */
  int files() {
    drain();
    return heldFiles.get();
  }

  /** The proxy stops: the files' descriptors close (bodies keep their mappings until collected). */
  void close() {
    closed = true;
    for (Held held : LIVE) {
      if (held.owner == this) {
        closeQuietly(held.file);
      }
    }
  }

  /**
   * Writes {@code source} in pieces: the JDK copies a heap buffer's write through a temporary
   * direct buffer of the write's size, which it then keeps per thread, so a whole large body
   * written at once would leave every pool thread holding one as large as the largest body it
   * stored.
   */
  private static void write(ByteBuffer source, FileChannel file) throws IOException {
    int end = source.limit();
    while (source.position() < end) {
      source.limit(Math.min(end, source.position() + WRITE_PIECE_BYTES));
      while (source.hasRemaining()) {
        file.write(source);
      }
    }
  }

  /**
   * After a failure the system reports for lack of room, takes no more than is held now: a full
   * tmpfs ({@code ENOSPC}, as a container's 64 MiB default) or the process out of descriptors
   * ({@code EMFILE}); true if it did. Other failures (an interrupt) change nothing.
   */
  private static boolean lowerBounds(Exception e) {
    String message = String.valueOf(e.getMessage());
    if (message.contains("No space left")) {
      processLimit = Math.max(0, PROCESS_BYTES.get());
    } else if (message.contains("Too many open files")) {
      maxFiles = Math.max(0, FILES.get());
    } else {
      return false;
    }
    loweredAtNanos = System.nanoTime();
    lowered = true;
    return true;
  }

  private FileChannel create() throws IOException {
    Path path = Files.createTempFile(directory, "ferry-body-", "",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      return FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } finally {
      Files.delete(path);
    }
  }

  private boolean reserve(int length) {
    if (lowered && System.nanoTime() - loweredAtNanos > REMEASURE_NANOS) {
      // Room may have come back since (another process's files gone, descriptors closed).
      lowered = false;
      processLimit = -1;
      maxFiles = -1;
    }
    if (FILES.incrementAndGet() > maxFiles()) {
      FILES.decrementAndGet();
      return false;
    }
    if (PROCESS_BYTES.addAndGet(length) > processLimit()) {
      PROCESS_BYTES.addAndGet(-length);
      FILES.decrementAndGet();
      return false;
    }
    if (!budget.tryTake(length)) {
      PROCESS_BYTES.addAndGet(-length);
      FILES.decrementAndGet();
      return false;
    }
    heldBytes.addAndGet(length);
    heldFiles.incrementAndGet();
    return true;
  }

  private void unreserve(int length) {
    heldFiles.decrementAndGet();
    heldBytes.addAndGet(-length);
    budget.give(length);
    PROCESS_BYTES.addAndGet(-length);
    FILES.decrementAndGet();
  }

  private static void drain() {
    for (Reference<? extends ByteBuffer> collected; (collected = COLLECTED.poll()) != null; ) {
      Held held = (Held) collected;
      if (LIVE.remove(held)) {
        closeQuietly(held.file);
        held.owner.unreserve(held.length);
      }
    }
  }

  private long processLimit() {
    long known = processLimit;
    if (known < 0) {
      try {
        known = PROCESS_BYTES.get() + Files.getFileStore(directory).getUsableSpace() / 2;
      } catch (IOException e) {
        known = 0;
      }
      processLimit = known;
    }
    return known;
  }

  private static int maxFiles() {
    int known = maxFiles;
    if (known < 0) {
      known = MAX_FILES;
      OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
      if (os instanceof UnixOperatingSystemMXBean) {
        UnixOperatingSystemMXBean unix = (UnixOperatingSystemMXBean) os;
        long free = unix.getMaxFileDescriptorCount() - unix.getOpenFileDescriptorCount();
        known = (int) Math.max(0, Math.min(known, FILES.get() + free / 8));
      }
      maxFiles = known;
    }
    return known;
  }

  private static void closeQuietly(FileChannel file) {
    if (file == null) {
      return;
    }
    try {
      file.close();
    } catch (IOException e) {
      // Nothing was written through it since: closing cannot lose data.
    }
  }

  /**
   * A body in its file: {@link #file} to send it from while this region is reachable, and
   * {@link #bytes} (the mapping) to read it. The file's descriptor may be closed under it (the
   * proxy's stop, or an interrupt of a thread sending from it): then it is read from the mapping.
   */
  static final class Region {
    private final FileChannel file;
    private final ByteBuffer bytes;

    Region(FileChannel file, ByteBuffer bytes) {
      this.file = file;
      this.bytes = bytes;
    }

    FileChannel file() {
      return file;
    }

    /** The body's bytes, the whole file, mapped read-only; the view the entry is made with. */
    ByteBuffer bytes() {
      return bytes;
    }

    long length() {
      return bytes.capacity();
    }
  }

  /** One body's file, closed and counted out once the collector finds its mapping unreachable. */
  private static final class Held extends PhantomReference<ByteBuffer> {
    final FileChannel file;
    final BodyFiles owner;
    final int length;

    Held(ByteBuffer mapping, FileChannel file, BodyFiles owner, int length) {
      super(mapping, COLLECTED);
      this.file = file;
      this.owner = owner;
      this.length = length;
    }
  }
}
