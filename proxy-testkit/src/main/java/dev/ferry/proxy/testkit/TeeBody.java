package dev.ferry.proxy.testkit;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import java.io.IOException;
import java.io.InputStream;

/** A body that streams its delegate's exact bytes and length while capturing them. */
final class TeeBody implements Body {
  private final Body delegate;
  private final BodyCapture capture;

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
    return new TeeInputStream(delegate.stream(), capture);
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
