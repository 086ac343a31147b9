package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.http1.ChunkedInputStream;
import dev.ferry.proxy.engine.http1.FixedLengthInputStream;
import dev.ferry.proxy.engine.http1.Framing;
import dev.ferry.proxy.engine.http1.HopByHop;
import dev.ferry.proxy.engine.io.BlockInputStream;
import dev.ferry.proxy.engine.io.ChannelBody;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A response body streaming from an upstream connection. Read to its end, it hands the
 * connection back to the pool (if the upstream keeps it alive); closed early or failed, it
 * closes the connection, since the rest of the body would desynchronise the next response.
 */
public final class UpstreamBody implements Body, ChannelBody {
  private static final Logger log = LoggerFactory.getLogger(UpstreamBody.class);

  private final UpstreamConnection connection;
  private final UpstreamPool pool;
  private final long length;
  private final boolean reusable;
  private final int status;
  private final InputStream framed;
  private final AtomicBoolean opened = new AtomicBoolean();
  // Volatile: the engine closes a body at the exchange's end while a filter's thread may read it.
  private volatile boolean finished;
  /** Closed before its end: a later read fails instead of passing for the body's end. */
  private volatile boolean discarded;
  private long bytes;

  UpstreamBody(UpstreamConnection connection, UpstreamPool pool, long length, boolean reusable,
      int status, int maxTrailerBytes, int maxTrailerCount) {
    this.connection = connection;
    this.pool = pool;
    this.length = length;
    this.reusable = reusable && length != Framing.UNTIL_CLOSE;
    this.status = status;
    if (length == Framing.CHUNKED) {
      framed = new ChunkedInputStream(connection.input(), true, maxTrailerBytes, maxTrailerCount);
    } else if (length == Framing.UNTIL_CLOSE) {
      framed = connection.input();
    } else {
      framed = new FixedLengthInputStream(connection.input(), length);
    }
    if (length == 0) {
      complete();
    }
  }

  @Override
  public long contentLength() {
    return length >= 0 ? length : -1;
  }

  @Override
  public InputStream stream() {
    if (!opened.compareAndSet(false, true)) {
      throw new IllegalStateException("body stream was already opened; a body is one-shot");
    }
    return new Stream();
  }

  @Override
  public Headers trailers() {
    return framed instanceof ChunkedInputStream
        ? HopByHop.stripTrailers(((ChunkedInputStream) framed).trailers())
        : Headers.empty();
  }

  @Override
  public boolean claimForChannel() {
    return length > 0 && connection.input().readsChannel() && opened.compareAndSet(false, true);
  }

  @Override
  public int read(ByteBuffer target) throws IOException {
    if (finished) {
      return endOfBody();
    }
    long remaining = length - bytes;
    if (target.remaining() > remaining) {
      target.limit(target.position() + (int) remaining);
    }
    int n;
    try {
      n = connection.input().read(target);
      if (n < 0) {
        throw new EOFException("connection closed with " + remaining + " body bytes missing");
      }
    } catch (IOException e) {
      discard();
      throw e;
    }
    bytes += n;
    if (bytes == length) {
      complete();
    }
    return n;
  }

  /** True once the body was read to its end. */
  public boolean isComplete() {
    return finished;
  }

  /** Closes the upstream connection unless the body was read to its end. */
  @Override
  public void close() {
    discard();
  }

  /** Closes the upstream connection unless the body was read to its end. */
  public void discard() {
    if (!finished) {
      finished = true;
      discarded = true;
      connection.close();
    }
  }

  /**
   * -1 after the body's end; after a close before it, an IOException, so that a reader the
   * engine closed the body on (a filter's thread still reading once its exchange ended, probe e13)
   * does not take what it got for the whole body.
   */
  private int endOfBody() throws IOException {
    if (discarded) {
      throw new IOException("the response body was closed before its end (" + bytes + " bytes read)");
    }
    return -1;
  }

  private void complete() {
    if (finished) {
      return;
    }
    finished = true;
    if (log.isDebugEnabled()) {
      log.debug("server_response status={} bytes={} upstream={}", status, bytes, connection.authority());
    }
    if (reusable) {
      pool.release(connection);
    } else {
      connection.close();
    }
  }

  private final class Stream extends BlockInputStream {
    @Override
    public int read(byte[] target, int offset, int count) throws IOException {
      if (finished) {
        return endOfBody();
      }
      int n;
      try {
        n = framed.read(target, offset, count);
      } catch (IOException e) {
        discard();
        throw e;
      }
      if (n < 0) {
        if (length == Framing.UNTIL_CLOSE && connection.closedWithoutCloseNotify()) {
          // RFC 9112 §9.8: complete only with a closure alert; this one may be truncated (probe i14).
          discard();
          throw new EOFException("TLS connection closed without close_notify: the body may be cut short");
        }
        complete();
        return -1;
      }
      bytes += n;
      if (length >= 0 && bytes == length) {
        complete();
      }
      return n;
    }

    @Override
    public int available() throws IOException {
      return finished ? 0 : framed.available();
    }

    @Override
    public void close() {
      discard();
    }
  }
}
