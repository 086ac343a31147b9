package dev.ferry.proxy.engine;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.http1.ChunkedInputStream;
import dev.ferry.proxy.engine.http1.FixedLengthInputStream;
import dev.ferry.proxy.engine.http1.Framing;
import dev.ferry.proxy.engine.http1.HopByHop;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.io.BlockInputStream;
import dev.ferry.proxy.engine.io.ConnectionInput;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;

/**
 * A request body streaming from the client connection. It answers {@code 100 Continue} on first
 * read when the client asked for it, enforces the body limit while streaming, and turns client
 * I/O errors into failures that are not blamed on the upstream.
 */
final class ClientBody implements Body {
  /** Writes the interim 100 response; called at most once. */
  interface ContinueSender {
    void sendContinue() throws IOException;
  }

  private final long length;
  private final long maxBytes;
  private final InputStream framed;
  private final ContinueSender continueSender;
  private boolean opened;
  private boolean continueSent;
  private long bytesRead;
  private boolean complete;

  ClientBody(ConnectionInput in, long length, long maxBytes, int maxHeaderBytes, int maxHeaderCount,
      ContinueSender continueSender) {
    this.length = length;
    this.maxBytes = maxBytes;
    this.continueSender = continueSender;
    this.framed = length == Framing.CHUNKED
        ? new ChunkedInputStream(in, false, maxHeaderBytes, maxHeaderCount)
        : new FixedLengthInputStream(in, length);
  }

  @Override
  public long contentLength() {
    return length >= 0 ? length : -1;
  }

  @Override
  public InputStream stream() {
    if (opened) {
      throw new IllegalStateException("request body stream was already opened; a body is one-shot");
    }
    opened = true;
    return new BlockInputStream() {
      @Override
      public int read(byte[] target, int offset, int count) throws IOException {
        return readBody(target, offset, count);
      }

      @Override
      public int available() throws IOException {
        return complete ? 0 : framed.available();
      }
    };
  }

  @Override
  public Headers trailers() {
    return framed instanceof ChunkedInputStream
        ? HopByHop.stripTrailers(((ChunkedInputStream) framed).trailers())
        : Headers.empty();
  }

  boolean isComplete() {
    return complete;
  }

  /** True if the client still waits for 100 Continue before sending the body. */
  boolean awaitingContinue() {
    return continueSender != null && !continueSent;
  }

  long bytesRead() {
    return bytesRead;
  }

  /**
   * Reads and discards what is left, up to {@code maxBytes}, so the connection can serve its next
   * request (Helidon's {@code consumeEntity}). Returns false if the body was larger or broken.
   */
  boolean drain(long maxBytes) {
    if (complete) {
      return true;
    }
    if (awaitingContinue()) {
      return false;
    }
    byte[] scratch = new byte[8192];
    long budget = maxBytes;
    try {
      int n;
      while (budget > 0 && (n = readBody(scratch, 0, (int) Math.min(scratch.length, budget))) > 0) {
        budget -= n;
      }
      return complete;
    } catch (IOException e) {
      return false;
    }
  }

  private int readBody(byte[] target, int offset, int count) throws IOException {
    if (complete) {
      return -1;
    }
    if (continueSender != null && !continueSent) {
      continueSent = true;
      continueSender.sendContinue();
    }
    int n;
    try {
      n = framed.read(target, offset, count);
    } catch (HttpFailureException e) {
      throw e;
    } catch (SocketTimeoutException e) {
      throw new HttpFailureException(ProxyFailure.REQUEST_TIMEOUT, "request body stalled", e);
    } catch (IOException e) {
      throw new HttpFailureException(ProxyFailure.CLIENT_CLOSED, "client closed mid-body", e);
    }
    if (n < 0) {
      complete = true;
      return -1;
    }
    bytesRead += n;
    if (bytesRead > maxBytes) {
      throw new HttpFailureException(ProxyFailure.BODY_TOO_LARGE,
          "request body exceeds " + maxBytes + " bytes");
    }
    if (length >= 0 && bytesRead == length) {
      complete = true;
    }
    return n;
  }
}
