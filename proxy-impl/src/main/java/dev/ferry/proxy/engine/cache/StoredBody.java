package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.engine.io.FileRegionBody;
import dev.ferry.proxy.engine.io.InMemoryBody;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * A stored body served without a defensive copy: the stored bytes are never written to, so a
 * hit is written straight from them ({@code Body.of(byte[])} would clone), or sent from the
 * {@linkplain BodyFiles file} that holds them.
 */
final class StoredBody implements Body, InMemoryBody, FileRegionBody {
  private final ByteBuffer bytes;
  /** The file of exactly these bytes, held so that it stays open while they are sent; or null. */
  private final BodyFiles.Region region;

  /** @param bytes a view of the stored bytes from its position to its limit; not modified */
  StoredBody(ByteBuffer bytes) {
    this(bytes, null);
  }

  /**
   * @param bytes a view of the stored bytes from its position to its limit; not modified
   * @param region the file holding exactly those bytes, or null
   */
  StoredBody(ByteBuffer bytes, BodyFiles.Region region) {
    this.bytes = bytes;
    this.region = region != null && region.length() == bytes.remaining() ? region : null;
  }

  @Override
  public FileChannel file() {
    return region == null ? null : region.file();
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
