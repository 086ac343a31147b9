package dev.ferry.proxy.engine.io;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A small pool of heap arrays of one size, borrowed for one use and given back, so that a
 * buffer needed for every large body is not allocated and zeroed for each. At most its number of
 * slots is kept; past that a buffer given back is left to the collector.
 *
 * <p>Lock-free: each slot holds a buffer or nothing, and a caller starts its search at a slot
 * picked by its thread, so that threads rarely touch the same slot.
 */
final class HeapBufferPool {
  private final int size;
  private final AtomicReferenceArray<byte[]> free;
  private final int mask;

  /** @param slots a power of two: how many buffers are kept at most */
  HeapBufferPool(int size, int slots) {
    if (Integer.bitCount(slots) != 1) {
      throw new IllegalArgumentException("slots must be a power of two (was " + slots + ")");
    }
    this.size = size;
    this.free = new AtomicReferenceArray<>(slots);
    this.mask = slots - 1;
  }

  /** A buffer of the pool's size, pooled or new; its contents are whatever was put in it last. */
  byte[] take() {
    int start = start();
    for (int i = 0; i <= mask; i++) {
      int slot = (start + i) & mask;
      byte[] buffer = free.get(slot);
      if (buffer != null && free.compareAndSet(slot, buffer, null)) {
        return buffer;
      }
    }
    return new byte[size];
  }

  /** Returns a buffer from {@link #take()}; the caller must not touch it afterwards. */
  void give(byte[] buffer) {
    int start = start();
    for (int i = 0; i <= mask; i++) {
      int slot = (start + i) & mask;
      if (free.get(slot) == null && free.compareAndSet(slot, null, buffer)) {
        return;
      }
    }
  }

  /** How many buffers the pool holds now. */
  int available() {
    int count = 0;
    for (int slot = 0; slot <= mask; slot++) {
      if (free.get(slot) != null) {
        count++;
      }
    }
    return count;
  }

  private static int start() {
    return (int) Thread.currentThread().getId() * 7;
  }
}
