package dev.ferry.proxy.engine.route;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.io.ChannelBody;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A response body that gives back what its request held (a pool's request and connection slots,
 * the endpoint's in-flight count) once, when it is read to its end or closed; the engine closes
 * every body when the exchange ends, so the release cannot be missed.
 */
final class ReleasingBody implements Body, ChannelBody {
  private final Body body;
  private final Runnable release;
  private final AtomicBoolean released = new AtomicBoolean();

  ReleasingBody(Body body, Runnable release) {
    this.body = body;
    this.release = release;
  }

  @Override
  public long contentLength() {
    return body.contentLength();
  }

  @Override
  public Headers trailers() {
    return body.trailers();
  }

  @Override
  public InputStream stream() throws IOException {
    return new FilterInputStream(body.stream()) {
      @Override
      public int read() throws IOException {
        int b = super.read();
        if (b < 0) {
          release();
        }
        return b;
      }

      @Override
      public int read(byte[] target, int offset, int length) throws IOException {
        int n = super.read(target, offset, length);
        if (n < 0) {
          release();
        }
        return n;
      }

      @Override
      public void close() throws IOException {
        try {
          super.close();
        } finally {
          release();
        }
      }
    };
  }

  @Override
  public boolean claimForChannel() {
    return body instanceof ChannelBody && ((ChannelBody) body).claimForChannel();
  }

  @Override
  public int read(ByteBuffer target) throws IOException {
    int n = ((ChannelBody) body).read(target);
    if (n < 0) {
      release();
    }
    return n;
  }

  @Override
  public void close() throws IOException {
    try {
      body.close();
    } finally {
      release();
    }
  }

  private void release() {
    if (released.compareAndSet(false, true)) {
      release.run();
    }
  }
}
