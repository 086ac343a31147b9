package dev.ferry.proxy;

import java.io.ByteArrayInputStream;
import java.io.InputStream;

/** A body held in memory; repeatable. */
final class BytesBody implements Body {
  static final BytesBody EMPTY = new BytesBody(new byte[0]);

  private final byte[] bytes;

  BytesBody(byte[] bytes) {
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

  @Override
  public boolean isRepeatable() {
    return true;
  }

  @Override
  public String toString() {
    return "Body(" + bytes.length + " bytes)";
  }
}
