package dev.ferry.proxy.testkit;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Passes bytes through at no more than a set rate, pacing in slices of about 50 ms. */
final class ThrottledInputStream extends FilterInputStream {
  private final long bytesPerSecond;
  private final int slice;
  private final FaultPauses pauses;
  private final Object owner;
  private long startNanos;
  private long passed;

  ThrottledInputStream(InputStream in, long bytesPerSecond, FaultPauses pauses, Object owner) {
    super(in);
    this.pauses = pauses;
    this.owner = owner;
    this.bytesPerSecond = bytesPerSecond;
    this.slice = (int) Math.max(1, Math.min(64 * 1024, bytesPerSecond / 20));
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    if (startNanos == 0) {
      startNanos = System.nanoTime();
    }
    // Wait until the bytes already passed are within the rate, then pass one more slice.
    long due = startNanos + passed * 1_000_000_000L / bytesPerSecond;
    if (!pauses.pause(due - System.nanoTime(), owner)) {
      throw new IOException("ferry fault: a close ended the throttled response");
    }
    int n = in.read(buffer, offset, Math.min(length, slice));
    if (n > 0) {
      passed += n;
    }
    return n;
  }

  @Override
  public int available() {
    return 0;
  }
}
