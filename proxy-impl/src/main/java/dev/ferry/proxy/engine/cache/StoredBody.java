package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.engine.io.InMemoryBody;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * A stored body served without a defensive copy: the stored bytes are never written to, so a
 * hit is written straight from them ({@code Body.of(byte[])} would clone).
 */
final class StoredBody implements Body, InMemoryBody {
  private final ByteBuffer bytes;

  /** @param bytes a view of the stored bytes from its position to its limit; not modified */
  StoredBody(ByteBuffer bytes) {
    this.bytes = bytes;
  }

  @Override
  public long contentLength() {
    return bytes.remaining();
  }

  @Override
  public ByteBuffer bytes() {
    return bytes.duplicate();
  }

  @Override
  public InputStream stream() {
    ByteBuffer view = bytes.duplicate();
    return new InputStream() {
      @Override
      public int read() {
        return view.hasRemaining() ? view.get() & 0xff : -1;
      }

      @Override
      public int read(byte[] target, int offset, int length) {
        if (length == 0) {
          return 0;
        }
        if (!view.hasRemaining()) {
          return -1;
        }
        int n = Math.min(length, view.remaining());
        view.get(target, offset, n);
        return n;
      }

      @Override
      public int available() {
        return view.remaining();
      }
    };
  }
}
