package dev.ferry.proxy.engine.http1;

import dev.ferry.proxy.engine.io.BlockInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/** A body of known length read from a shared connection input, never past its end. */
public final class FixedLengthInputStream extends BlockInputStream {
  private final InputStream in;
  private long remaining;

  public FixedLengthInputStream(InputStream in, long length) {
    this.in = in;
    this.remaining = length;
  }

  @Override
  public int read(byte[] target, int offset, int length) throws IOException {
    if (remaining == 0) {
      return -1;
    }
    if (length == 0) {
      return 0;
    }
    int n = in.read(target, offset, (int) Math.min(length, remaining));
    if (n < 0) {
      throw new EOFException("connection closed with " + remaining + " body bytes missing");
    }
    remaining -= n;
    return n;
  }

  @Override
  public int available() throws IOException {
    return (int) Math.min(in.available(), remaining);
  }

  /** True once every byte of the body has been read. */
  public boolean isComplete() {
    return remaining == 0;
  }
}
