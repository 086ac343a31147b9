package dev.ferry.proxy.testkit;

import java.io.ByteArrayOutputStream;

/**
 * The bytes of one body as they stream through, kept up to a cap; the rest is only counted. The
 * stream's reader (one connection thread) writes; the recorder reads after the exchange ends.
 */
final class BodyCapture {
  private final int cap;
  private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
  private volatile long total;
  private volatile long endNanos;

  BodyCapture(int cap) {
    this.cap = cap;
  }

  void write(byte[] bytes, int offset, int length) {
    int room = cap - kept.size();
    if (room > 0) {
      kept.write(bytes, offset, Math.min(room, length));
    }
    total += length;
  }

  /** Marks the end of the body: EOF seen, or the stream closed. Keeps the first mark. */
  void end() {
    if (endNanos == 0) {
      endNanos = System.nanoTime();
    }
  }

  long total() {
    return total;
  }

  long endNanos() {
    return endNanos;
  }

  synchronized byte[] bytes() {
    return kept.toByteArray();
  }
}
