package dev.ferry.proxy.testkit;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Passes a body's bytes through unchanged while copying them into a {@link BodyCapture}.
 * {@code available()} is delegated so the engine's flush-when-idle streaming keeps working.
 */
final class TeeInputStream extends FilterInputStream {
  private final BodyCapture capture;

  TeeInputStream(InputStream in, BodyCapture capture) {
    super(in);
    this.capture = capture;
  }

  @Override
  public int read() throws IOException {
    int b;
    try {
      b = in.read();
    } catch (IOException e) {
      capture.broken();
      throw e;
    }
    if (b < 0) {
      capture.complete();
    } else {
      capture.write(new byte[] {(byte) b}, 0, 1);
    }
    return b;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    int n;
    try {
      n = in.read(buffer, offset, length);
    } catch (IOException e) {
      capture.broken();
      throw e;
    }
    if (n < 0) {
      capture.complete();
    } else {
      capture.write(buffer, offset, n);
    }
    return n;
  }

  /** Skipped bytes are read, so the capture does not miss them. */
  @Override
  public long skip(long n) throws IOException {
    byte[] scratch = new byte[(int) Math.min(8192, Math.max(0, n))];
    long skipped = 0;
    while (skipped < n) {
      int read = read(scratch, 0, (int) Math.min(scratch.length, n - skipped));
      if (read < 0) {
        break;
      }
      skipped += read;
    }
    return skipped;
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  @Override
  public void close() throws IOException {
    capture.end();
    super.close();
  }
}
