package dev.ferry.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicBoolean;

/** A one-shot body over a caller's stream. */
final class StreamBody implements Body {
  private final InputStream stream;
  private final long contentLength;
  private final AtomicBoolean opened = new AtomicBoolean();

  StreamBody(InputStream stream, long contentLength) {
    this.stream = stream;
    this.contentLength = contentLength;
  }

  @Override
  public long contentLength() {
    return contentLength;
  }

  @Override
  public InputStream stream() {
    if (!opened.compareAndSet(false, true)) {
      throw new IllegalStateException("body stream was already opened; a body is one-shot");
    }
    return stream;
  }

  @Override
  public void close() throws IOException {
    stream.close();
  }

  @Override
  public String toString() {
    return contentLength < 0 ? "Body(streaming)" : "Body(" + contentLength + " bytes, streaming)";
  }
}
