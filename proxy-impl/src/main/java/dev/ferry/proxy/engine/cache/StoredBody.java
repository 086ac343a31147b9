package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Body;
import java.io.ByteArrayInputStream;
import java.io.InputStream;

/**
 * A stored body served without a defensive copy: the stored array is never written to, so a hit
 * copies the bytes once, into the connection's buffer ({@code Body.of(byte[])} would clone).
 */
final class StoredBody implements Body {
  private final byte[] bytes;

  StoredBody(byte[] bytes) {
    this.bytes = bytes;
  }

  @Override
  public long contentLength() {
    return bytes.length;
  }

  @Override
  public InputStream stream() {
    return new ByteArrayInputStream(bytes);
  }
}
