package dev.ferry.proxy.engine.io;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A small process-wide pool of heap buffers for copying a body through the heap (a TLS client, a
 * small or chunked or unsized body, a request body sent upstream): borrowed for one body and
 * given back, rather than held by each connection. A connection that parks between requests
 * drops what it holds so that an idle one costs little, and before this pool it allocated and
 * zeroed a fresh 64 KiB array for every large response after a wait (about 50 KB of the 76 KB
 * allocated per 100 KiB https response), and an 8 KiB one for each new connection's first
 * response. At most {@code SLOTS} buffers (4 MiB) are kept; past that a buffer given back is
 * left to the collector.
 *
 * <p>Lock-free: each slot holds a buffer or nothing, and a caller starts its search at a slot
 * picked by its thread, so that threads rarely touch the same slot.
 */
public final class CopyBuffers {
  /** The size of each buffer: a 100 KiB body crosses in two reads and writes. */
  public static final int SIZE = 64 * 1024;
  private static final int SLOTS = 64;
  private static final AtomicReferenceArray<byte[]> FREE = new AtomicReferenceArray<>(SLOTS);

  private CopyBuffers() {}

  /** A buffer of {@link #SIZE} bytes, pooled or new; its contents are whatever was copied last. */
  public static byte[] take() {
    int start = start();
    for (int i = 0; i < SLOTS; i++) {
      int slot = (start + i) & (SLOTS - 1);
      byte[] buffer = FREE.get(slot);
      if (buffer != null && FREE.compareAndSet(slot, buffer, null)) {
        return buffer;
      }
    }
    return new byte[SIZE];
  }

  /** Returns a buffer from {@link #take()}; the caller must not touch it afterwards. */
  public static void give(byte[] buffer) {
    int start = start();
    for (int i = 0; i < SLOTS; i++) {
      int slot = (start + i) & (SLOTS - 1);
      if (FREE.get(slot) == null && FREE.compareAndSet(slot, null, buffer)) {
        return;
      }
    }
  }

  private static int start() {
    return (int) Thread.currentThread().getId() * 7;
  }
}
