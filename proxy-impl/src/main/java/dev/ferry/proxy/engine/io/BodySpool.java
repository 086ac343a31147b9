package dev.ferry.proxy.engine.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The bytes of one request body received before its exchange, beyond what memory holds, in a
 * file (nginx's {@code client_body_temp_path}): written while the client sends them, then read
 * once, in order, as the body goes upstream. The file is created readable only by this user and
 * deleted at once where the file system allows it (POSIX), else when closed, so that no name of
 * it outlives its use.
 *
 * <p>Disk space is taken from a {@link ByteBudget} a step at a time, before the bytes that fill
 * it are read from the client ({@link #makeRoom}), so that a declared length reserves nothing;
 * all of it is given back by {@link #close()}, which may be called more than once. It receives
 * bytes until {@link #endReceiving()}, never more than {@link #makeRoom} allows, and a
 * {@link Watcher} may see each as it goes. Used by one thread at a time: the connection's, or
 * the one that ends it while it is parked.
 */
public final class BodySpool implements AutoCloseable {
  /** Sees the bytes written as they go. */
  public interface Watcher {
    /** {@code bytes[from, to)} were written, after those before; it must not change them. */
    void arrived(byte[] bytes, int from, int to);
  }

  /** Disk space taken at a time: a client must send this much to make the file grow further. */
  private static final int STEP = 64 * 1024;

  private final FileChannel file;
  private final ByteBudget budget;
  private final AtomicBoolean closed = new AtomicBoolean();
  /** Disk space taken from the budget: the bytes written and the room left. */
  private long taken;
  private long written;
  private long readPosition;
  /** The most bytes it may take from now on (see {@link #makeRoom}). */
  private long wanted;
  private boolean receiving = true;
  private Watcher watcher;

  private BodySpool(FileChannel file, ByteBudget budget) {
    this.file = file;
    this.budget = budget;
  }

  /**
   * Creates the file in {@code directory}.
   *
   * @throws IOException if it cannot be created there
   */
  public static BodySpool create(Path directory, ByteBudget budget) throws IOException {
    // createTempFile gives owner-only permissions on POSIX.
    Path path = Files.createTempFile(directory, "ferry-body-", ".tmp");
    FileChannel file;
    try {
      file = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE,
          StandardOpenOption.DELETE_ON_CLOSE);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(path);
      throw e;
    }
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      // An open file cannot be deleted here (Windows): DELETE_ON_CLOSE deletes it when closed.
    }
    return new BodySpool(file, budget);
  }

  /** From now on {@code watcher} sees each byte written. */
  public void watch(Watcher watcher) {
    this.watcher = watcher;
  }

  /**
   * Makes room for at least one more byte, where the body may still take {@code wanted} (room
   * for at most that many, taken in one step): true if there is room, false if the budget has
   * none left for this body.
   */
  public synchronized boolean makeRoom(long wanted) {
    this.wanted = wanted;
    if (wanted <= 0) {
      return false;
    }
    if (taken > written) {
      return true;
    }
    long step = Math.min(STEP, Math.max(1, wanted));
    if (!budget.tryTake(step)) {
      return false;
    }
    taken += step;
    return true;
  }

  /** How many bytes {@link #append} may write now: the room {@link #makeRoom} made, as wanted. */
  public int room() {
    return (int) Math.min(Integer.MAX_VALUE, Math.min(taken - written, wanted));
  }

  /** Writes {@code length} bytes, at most {@link #room()}, after those written. */
  public void append(byte[] source, int offset, int length) throws IOException {
    if (length > room()) {
      throw new IllegalStateException("no room for " + length + " bytes in the spool");
    }
    ByteBuffer bytes = ByteBuffer.wrap(source, offset, length);
    while (bytes.hasRemaining()) {
      written += file.write(bytes, written);
    }
    wanted -= length;
    if (watcher != null) {
      watcher.arrived(source, offset, offset + length);
    }
  }

  /** True until {@link #endReceiving()}. */
  public boolean receiving() {
    return receiving;
  }

  /** The body's request goes to its exchange: nothing more is written, only read. */
  public void endReceiving() {
    receiving = false;
    watcher = null;
  }

  /** The bytes written and not yet read. */
  public long unread() {
    return written - readPosition;
  }

  /** Reads up to {@code length} of the bytes not yet read; -1 if none are left. */
  public int read(byte[] target, int offset, int length) throws IOException {
    return read(ByteBuffer.wrap(target, offset, length));
  }

  /** Reads into {@code target} the bytes not yet read that fit; -1 if none are left. */
  public int read(ByteBuffer target) throws IOException {
    if (unread() == 0) {
      return -1;
    }
    int limit = target.limit();
    if (target.remaining() > unread()) {
      target.limit(target.position() + (int) unread());
    }
    try {
      int n = file.read(target, readPosition);
      if (n < 0) {
        throw new IOException("request body file ended after " + readPosition + " of " + written + " bytes");
      }
      readPosition += n;
      return n;
    } finally {
      target.limit(limit);
    }
  }

  /** Closes and so deletes the file, and gives its disk space back. */
  @Override
  public synchronized void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      file.close();
    } catch (IOException ignored) {
      // Nothing of it is needed any more; the space is given back either way.
    }
    budget.give(taken);
  }
}
