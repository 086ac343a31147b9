package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;

/**
 * A request body read into memory so the request can be sent again on a fresh connection, or,
 * when it is larger than the buffer, the bytes already read followed by the rest of the stream
 * (which cannot be replayed). Trailers come from the original body once it has been read.
 */
public final class ReplayableBody implements Body {
  private final Body original;
  private final byte[] prefix;
  private final InputStream rest;
  private final long contentLength;

  private ReplayableBody(Body original, byte[] prefix, InputStream rest) {
    this.original = original;
    this.prefix = prefix;
    this.rest = rest;
    this.contentLength = original.contentLength();
  }

  /** Reads up to {@code maxBytes} of {@code body}; see the class comment. */
  public static ReplayableBody buffer(Body body, int maxBytes) throws IOException {
    InputStream in = body.stream();
    // One byte past the limit tells a body that fits from one that does not, without losing it.
    byte[] prefix = in.readNBytes(maxBytes + 1);
    if (prefix.length <= maxBytes) {
      in.close();
      return new ReplayableBody(body, prefix, null);
    }
    return new ReplayableBody(body, prefix, in);
  }

  /** True if the whole body is in memory, so it can be sent any number of times. */
  public boolean replayable() {
    return rest == null;
  }

  @Override
  public boolean isRepeatable() {
    return replayable();
  }

  @Override
  public long contentLength() {
    return contentLength;
  }

  @Override
  public InputStream stream() {
    InputStream head = new ByteArrayInputStream(prefix);
    return rest == null ? head : new SequenceInputStream(head, rest);
  }

  @Override
  public Headers trailers() {
    return original.trailers();
  }

  @Override
  public void close() throws IOException {
    if (rest != null) {
      rest.close();
    }
    original.close();
  }
}
