package dev.ferry.proxy.engine.io;

import java.io.IOException;
import java.io.InputStream;

/**
 * An input stream whose subclasses implement only the array read; the single-byte read goes
 * through it, so framing and limits are enforced in one place per stream.
 */
public abstract class BlockInputStream extends InputStream {
  @Override
  public final int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public abstract int read(byte[] target, int offset, int length) throws IOException;
}
