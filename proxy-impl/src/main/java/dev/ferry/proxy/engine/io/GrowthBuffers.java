package dev.ferry.proxy.engine.io;

/**
 * Pooled heap buffers for a connection's input grown to await a request body whole, in powers of
 * two from {@value #MIN} bytes to {@value #MAX}. Without them every upload of 100 KiB allocated
 * and zeroed the buffers it grew through (about 220 KB per request, and 10 % fewer uploads per
 * second than streaming them). At most about 1 MiB of each size is kept (one buffer of the two
 * largest), 8 MiB in all; larger buffers are not pooled.
 */
final class GrowthBuffers {
  static final int MIN = 32 * 1024;
  static final int MAX = 2 * 1024 * 1024;
  private static final HeapBufferPool[] POOLS = new HeapBufferPool[Integer.numberOfTrailingZeros(MAX / MIN) + 1];

  static {
    for (int i = 0; i < POOLS.length; i++) {
      int size = MIN << i;
      POOLS[i] = new HeapBufferPool(size, Math.max(1, 1024 * 1024 / size));
    }
  }

  private GrowthBuffers() {}

  /** The length of the buffer {@link #take} returns for {@code bytes}: the next power of two up to MAX, else exactly. */
  static int sizeFor(int bytes) {
    if (bytes > MAX) {
      return bytes;
    }
    return Math.max(MIN, Integer.highestOneBit(bytes - 1) << 1);
  }

  /** A buffer of {@link #sizeFor sizeFor(bytes)}, pooled or new. */
  static byte[] take(int bytes) {
    int size = sizeFor(bytes);
    return size > MAX ? new byte[size] : POOLS[Integer.numberOfTrailingZeros(size / MIN)].take();
  }

  /**
   * Takes back a buffer nothing will touch any more (one from {@link #take}, or any other array
   * of a size it pools); other sizes are left to the collector.
   */
  static void give(byte[] buffer) {
    int size = buffer.length;
    if (size <= MAX && Integer.bitCount(size) == 1 && size >= MIN) {
      POOLS[Integer.numberOfTrailingZeros(size / MIN)].give(buffer);
    }
  }
}
