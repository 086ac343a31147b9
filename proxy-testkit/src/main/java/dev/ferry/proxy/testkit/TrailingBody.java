package dev.ferry.proxy.testkit;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import java.io.ByteArrayInputStream;
import java.io.InputStream;

/**
 * A replayed body followed by its recorded trailers. Its length is left unknown, so the engine
 * frames it chunked, the only HTTP/1.1 framing that carries trailers.
 */
final class TrailingBody implements Body {
  private final byte[] bytes;
  private final Headers trailers;

  TrailingBody(byte[] bytes, Headers trailers) {
    this.bytes = bytes;
    this.trailers = trailers;
  }

  @Override
  public long contentLength() {
    return -1;
  }

  @Override
  public InputStream stream() {
    return new ByteArrayInputStream(bytes);
  }

  @Override
  public Headers trailers() {
    return trailers;
  }
}
