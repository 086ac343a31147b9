package dev.ferry.proxy.testkit;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import java.io.IOException;
import java.io.InputStream;

/** A body that streams its delegate's exact bytes and length while capturing them. */
final class TeeBody implements Body {
  private final Body delegate;
  private final BodyCapture capture;
  /** The delegate's stream, once a reader downstream opened it. */
  private volatile InputStream opened;

  TeeBody(Body delegate, BodyCapture capture) {
    this.delegate = delegate;
    this.capture = capture;
  }

  @Override
  public long contentLength() {
    return delegate.contentLength();
  }

  @Override
  public InputStream stream() throws IOException {
    InputStream in = delegate.stream();
    opened = in;
    return new TeeInputStream(in, capture);
  }

  /** True once a reader downstream opened the body. */
  boolean isOpened() {
    return opened != null;
  }

  /**
   * Reads into the capture what is left of the body, up to the capture's cap, when nothing
   * downstream read it to its end: the proxy answered without forwarding it (the origin is
   * down, a fault dropped the request), or the origin answered before taking it all. The engine
   * drains such a body past this tee, so the bytes are recorded now or never. It reads no more
   * than the capture keeps, and waits for the client no longer than the engine's own drain would
   * (the proxy's body timeouts bound each read). A body whose stream already failed (the client
   * stalled or went away) is not read again; a read that fails ends the copy, and the recorded
   * size still tells what is missing.
   */
  void keepUnread() {
    if (capture.isComplete() || capture.isBroken() || capture.room() == 0) {
      return;
    }
    try {
      InputStream in = opened != null ? opened : delegate.stream();
      byte[] buffer = new byte[8192];
      int room;
      while ((room = capture.room()) > 0) {
        int n = in.read(buffer, 0, Math.min(buffer.length, room));
        if (n < 0) {
          return;
        }
        capture.write(buffer, 0, n);
      }
    } catch (IOException | RuntimeException e) {
      // Closed by its reader, or broken off: what was copied stands.
    }
  }

  @Override
  public Headers trailers() {
    return delegate.trailers();
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }

  @Override
  public String toString() {
    return delegate.toString();
  }
}
