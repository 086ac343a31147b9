package dev.ferry.proxy.testkit;

import java.io.IOException;
import java.io.InputStream;

/**
 * Yields up to {@code limit} bytes of its source, then throws instead of reaching the end, so
 * the engine aborts the client connection mid-body. Without a source it throws at once.
 */
final class FailingInputStream extends InputStream {
  private final long limit;
  private final InputStream source;
  private final String reason;
  private long passed;

  FailingInputStream(long limit, InputStream source, String reason) {
    this.limit = limit;
    this.source = source;
    this.reason = reason;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    if (passed >= limit || source == null) {
      throw new IOException("ferry fault: " + reason);
    }
    int n = source.read(buffer, offset, (int) Math.min(length, limit - passed));
    if (n < 0) {
      if (passed == 0) {
        return -1; // an empty body (chunked, of unknown length) has nothing to cut: it ends whole
      }
      throw new IOException("ferry fault: " + reason + " (body ended after " + passed + " bytes)");
    }
    passed += n;
    return n;
  }

  @Override
  public int available() throws IOException {
    // A drop (no source) reports its failure as ready, so the engine reads it before it flushes
    // the response head and the client gets nothing; otherwise nothing is reported ready, so
    // the engine flushes the head and what passed before the failure comes.
    return source == null ? 1 : 0;
  }

  @Override
  public void close() throws IOException {
    if (source == null) {
      // A drop answering a HEAD: its body is only closed, and that must fail the answer too.
      throw new IOException("ferry fault: " + reason);
    }
    source.close();
  }
}
