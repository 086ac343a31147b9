package dev.ferry.proxy.engine.route;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.io.ChannelBody;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A response body that gives back what its request held (a pool's request and connection slots,
 * the endpoint's in-flight count) once, when it is read to its end or closed; the engine closes
 * every body when the exchange ends, so the release cannot be missed. It also tells how the body
 * went, for outlier detection: read to its end (or empty), or broken off by the upstream (a reset,
 * a stall, malformed framing) — an endpoint that answers its heads and fails its bodies fails.
 * A body the client left unread tells nothing.
 */
final class ReleasingBody implements Body, ChannelBody {
  /** How a body went; told at most once. */
  interface Outcome {
    Outcome NONE = new Outcome() {
      @Override
      public void ended() {}

      @Override
      public void failed(String reason) {}
    };

    void ended();

    void failed(String reason);
  }

  private final Body body;
  private final Runnable release;
  private final Outcome outcome;
  private final AtomicBoolean released = new AtomicBoolean();
  private final AtomicBoolean told = new AtomicBoolean();
  /** Bytes read so far: a relay stops at the promised length without reading the end. */
  private long read;

  ReleasingBody(Body body, Runnable release, Outcome outcome) {
    this.body = body;
    this.release = release;
    this.outcome = outcome;
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
        int b;
        try {
          b = super.read();
        } catch (IOException e) {
          throw failed(e);
        }
        noted(b < 0 ? -1 : 1);
        return b;
      }

      @Override
      public int read(byte[] target, int offset, int length) throws IOException {
        try {
          return noted(super.read(target, offset, length));
        } catch (IOException e) {
          throw failed(e);
        }
      }

      @Override
      public void close() throws IOException {
        try {
          super.close();
        } finally {
          closed();
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
    int n;
    try {
      n = ((ChannelBody) body).read(target);
    } catch (IOException e) {
      throw failed(e);
    }
    return noted(n);
  }

  @Override
  public void close() throws IOException {
    try {
      body.close();
    } finally {
      closed();
    }
  }

  /** Notes what a read returned, the end of the body or that many more bytes; returns it. */
  private int noted(int n) {
    if (n < 0) {
      ended();
    } else {
      counted(n);
    }
    return n;
  }

  /** A body of known length has come whole once all of it is read, end of stream or not. */
  private void counted(long bytes) {
    read += bytes;
    if (read == body.contentLength() && told.compareAndSet(false, true)) {
      outcome.ended();
    }
  }

  private void ended() {
    if (told.compareAndSet(false, true)) {
      outcome.ended();
    }
    release();
  }

  private IOException failed(IOException e) {
    if (told.compareAndSet(false, true)) {
      if (!(e instanceof HttpFailureException failure) || Attempts.isEndpointFailure(failure.failure())) {
        outcome.failed("body_" + (e instanceof HttpFailureException failure ? failure.failure().name()
            : e instanceof SocketTimeoutException ? "timeout" : "io_error"));
      }
    }
    return e;
  }

  /** Closed before its end: only an empty body has had all there was. */
  private void closed() {
    if (body.contentLength() == 0) {
      ended();
    }
    release();
  }

  private void release() {
    if (released.compareAndSet(false, true)) {
      release.run();
    }
  }
}
