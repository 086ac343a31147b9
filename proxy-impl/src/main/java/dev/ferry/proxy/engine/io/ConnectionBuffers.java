package dev.ferry.proxy.engine.io;

/**
 * The buffers of connections' inputs and outputs, pooled process-wide: a connection takes one
 * for each side when bytes arrive or leave, and gives it back when it drops it (waiting for its
 * next request, or over). Clients that open a connection per request (ab without {@code -k},
 * scripts, many health checkers) made Ferry allocate and zero two fresh 16 KiB arrays for every
 * request: 32 of the 39 KB it allocated per request. Only arrays of {@link #SIZE} are pooled;
 * an input or output of another size allocates its own. At most 128 are kept (2 MiB).
 */
public final class ConnectionBuffers {
  /** The size of a connection's input and output buffer. */
  public static final int SIZE = 16 * 1024;
  private static final HeapBufferPool POOL = new HeapBufferPool(SIZE, 128);

  private ConnectionBuffers() {}

  /**
   * A buffer of {@code size} bytes: pooled if it is {@link #SIZE}, its contents whatever its last
   * user left there; else new.
   */
  static byte[] take(int size) {
    return size == SIZE ? POOL.take() : new byte[size];
  }

  /** How many buffers wait in the pool now: a connection that ends without giving its back shows. */
  public static int pooled() {
    return POOL.available();
  }

  /**
   * Gives back a buffer nothing will touch any more: one of {@link #SIZE} goes to the pool, any
   * other is left to the collector.
   */
  static void give(byte[] buffer) {
    if (buffer.length == SIZE) {
      POOL.give(buffer);
    }
  }
}
