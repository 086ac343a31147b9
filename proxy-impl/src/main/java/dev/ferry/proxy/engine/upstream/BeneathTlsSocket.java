package dev.ferry.proxy.engine.upstream;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * The plain socket beneath an upstream's TLS, which tells whether TLS read it to its end. JSSE
 * reports a connection closed without {@code close_notify} as a clean end of input (unless the
 * JVM-wide {@code com.sun.net.ssl.requireCloseNotify} is set, which an embedded library must not
 * impose on its host); but it reads a record at a time and reads nothing after a
 * {@code close_notify}, so only a connection cut short has the plain end of stream read. A body
 * delimited by the close is complete only after a {@code close_notify} (RFC 9112 §9.8).
 */
final class BeneathTlsSocket extends java.net.Socket {
  private volatile boolean endRead;
  private InputStream watched;

  @Override
  public synchronized InputStream getInputStream() throws IOException {
    if (watched == null) {
      watched = new FilterInputStream(super.getInputStream()) {
        @Override
        public int read() throws IOException {
          return ended(super.read());
        }

        @Override
        public int read(byte[] target, int offset, int length) throws IOException {
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
  boolean endReadWithoutCloseNotify() {
    return endRead;
  }
}
