package dev.ferry.proxy.engine.tls;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;

/**
 * The plain socket beneath an upstream's TLS, which tells whether TLS read it to its end. JSSE
 * reports a connection closed without {@code close_notify} as a clean end of input (unless the
 * JVM-wide {@code com.sun.net.ssl.requireCloseNotify} is set, which an embedded library must not
 * impose on its host); but it reads a record at a time and reads nothing after a
 * {@code close_notify}, so only a connection cut short has the plain end of stream read. A body
 * delimited by the close is complete only after a {@code close_notify} (RFC 9112 §9.8).
 */
public final class BeneathTlsSocket extends java.net.Socket {
  private volatile boolean endRead;
  private volatile long deadlineNanos;
  private InputStream watched;

  /**
   * Bounds every read from now by {@code deadlineNanos} (0: no deadline) as well as by the
   * socket's timeout: the TLS handshake reads under SO_TIMEOUT, which bounds each read, so an
   * upstream trickling its handshake a byte at a time held the exchange for minutes past the
   * connect timeout (probe s25), and a health check past its timeout (v30). A health check sets
   * it again after the handshake: its whole answer is bounded too (v31).
   */
  public void deadline(long deadlineNanos) {
    this.deadlineNanos = deadlineNanos;
  }

  private void beforeRead() throws IOException {
    long deadline = deadlineNanos;
    if (deadline != 0) {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        throw new SocketTimeoutException("deadline passed");
      }
      setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
    }
  }

  @Override
  public synchronized InputStream getInputStream() throws IOException {
    if (watched == null) {
      watched = new FilterInputStream(super.getInputStream()) {
        @Override
        public int read() throws IOException {
          beforeRead();
          return ended(super.read());
        }

        @Override
        public int read(byte[] target, int offset, int length) throws IOException {
          beforeRead();
          return ended(super.read(target, offset, length));
        }
      };
    }
    return watched;
  }

  private int ended(int result) {
    if (result < 0) {
      endRead = true;
    }
    return result;
  }

  /** True once TLS read the plain end of stream: the peer closed without {@code close_notify}. */
  public boolean endReadWithoutCloseNotify() {
    return endRead;
  }
}
