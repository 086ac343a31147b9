package dev.ferry.proxy.engine.io;

/**
 * A small process-wide pool of heap buffers for copying a body through the heap (a TLS client, a
 * small or chunked or unsized body, a request body sent upstream): borrowed for one body and
 * given back, rather than held by each connection. A connection that parks between requests
 * drops what it holds so that an idle one costs little, and before this pool it allocated and
 * zeroed a fresh 64 KiB array for every large response after a wait (about 50 KB of the 76 KB
 * allocated per 100 KiB https response), and an 8 KiB one for each new connection's first
 * response. At most 64 buffers (4 MiB) are kept.
 */
public final class CopyBuffers {
  /** The size of each buffer: a 100 KiB body crosses in two reads and writes. */
  public static final int SIZE = 64 * 1024;
  private static final HeapBufferPool POOL = new HeapBufferPool(SIZE, 64);

  private CopyBuffers() {}

  /** A buffer of {@link #SIZE} bytes, pooled or new; its contents are whatever was copied last. */
  public static byte[] take() {
    return POOL.take();
  }

  /** Returns a buffer from {@link #take()}; the caller must not touch it afterwards. */
  public static void give(byte[] buffer) {
    POOL.give(buffer);
  }
}
