package dev.ferry.proxy.engine;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.cache.StoringBody;
import dev.ferry.proxy.engine.http1.ChunkedOutputStream;
import dev.ferry.proxy.engine.http1.HeadWriter;
import dev.ferry.proxy.engine.http1.HopByHop;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.http1.ResponseHead;
import dev.ferry.proxy.engine.io.ChannelBody;
import dev.ferry.proxy.engine.io.ConnectionOutput;
import dev.ferry.proxy.engine.io.CopyBuffers;
import dev.ferry.proxy.engine.io.DirectBuffers;
import dev.ferry.proxy.engine.io.FileRegionBody;
import dev.ferry.proxy.engine.io.InMemoryBody;
import dev.ferry.proxy.engine.io.WriteTimeoutException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Reference;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;

/**
 * Writes a response to the client, framing it for this client (RFC 9112 §6): no body for HEAD,
 * 1xx, 204 and 304; Content-Length when the length is known; chunked for HTTP/1.1 clients
 * otherwise; close-delimited for HTTP/1.0 clients. The body streams through a buffer borrowed from
 * {@link CopyBuffers} for it (a pooled direct one between plain sockets); a body
 * that fails midway aborts the connection rather than end cleanly, so the client cannot take a
 * truncated body for a whole one. The head goes out with the body's first bytes; but the head of
 * a body of unknown length (server-sent events, a long poll) goes out at once when none of its
 * bytes is ready ({@code InputStream.available()}), so the client sees it when it came. A body held in memory (a cache hit) goes out with its head in
 * one gathering write; one held in a file (a large hit on a plain socket) is sent from the file.
 */
final class ResponseSender {
  /** Below this a body is copied through the heap: the copies cost less than a direct relay's setup. */
  private static final int RELAY_MIN_BYTES = 16 * 1024;

  private final ConnectionOutput out;

  ResponseSender(ConnectionOutput out) {
    this.out = out;
  }

  /** Where the last head ended in {@link ConnectionOutput#bytesWritten}: what followed was body. */
  private long headEnd;
  /** See {@link #whenHeadLeaves}; null once the next send took it. */
  private Runnable headLeaving;
  /** The body bytes of the last response written so far when it is chunked (framing is not body); else -1. */
  private long chunkedBytes = -1;
  /** Whether the last response's body ends only where the connection does. */
  private boolean closeDelimited;

  /**
   * The body bytes of the last response given to the connection, for the report of one whose
   * body failed midway (its {@link Outcome} was never made).
   */
  long bodyBytesSoFar() {
    return chunkedBytes >= 0 ? chunkedBytes : Math.max(0, out.bytesWritten() - headEnd);
  }

  /**
   * Whether the last response given to the connection has a body that ends where the connection
   * does (an HTTP/1.0 client's, without a length): if it fails midway, only an abortive close
   * tells the client that it did not end.
   */
  boolean closeDelimited() {
    return closeDelimited;
  }

  /** What was sent. */
  record Outcome(int status, long bodyBytes, boolean closeDelimited) {}

  /**
   * Has the next {@link #send} run {@code action} as its head starts out to the client, and not
   * at all if the response is taken back before any of it left (a body that failed first, which
   * an error then replaces): a status counted up front and taken back made the statistics'
   * counters go down (probe metrics F1).
   */
  void whenHeadLeaves(Runnable action) {
    headLeaving = action;
  }

  /**
   * Writes head and body.
   *
   * @param close whether the connection closes after this response
   * @throws HttpFailureException RESPONSE_ABORTED if the body failed midway (the head was sent),
   *     CLIENT_CLOSED if the client went away, or a failure with a status to answer (502, 504)
   *     if the body failed before any of the response was sent
   */
  Outcome send(Response response, boolean headRequest, int clientMinor, boolean close,
      boolean tunnel) throws IOException {
    return send(response, null, null, headRequest, clientMinor, close, tunnel);
  }

  /**
   * Writes head and body, with field {@code setName} set to {@code setValue} (the exchange's
   * request ID) as the head is framed, rather than in a copy of the response made for it.
   */
  Outcome send(Response response, String setName, String setValue, boolean headRequest,
      int clientMinor, boolean close, boolean tunnel) throws IOException {
    headEnd = Long.MAX_VALUE; // no body byte until the head is out
    Runnable leaving = headLeaving;
    headLeaving = null;
    chunkedBytes = -1;
    closeDelimited = false;
    ClientHead head = ClientHead.frame(response, setName, setValue, headRequest, clientMinor, close, tunnel);
    closeDelimited = head.closeDelimited();
    int status = response.status();
    boolean bodiless = head.bodiless();
    Body body = response.body();
    long length = head.length();
    boolean chunked = head.chunked();
    long headStart = out.bytesWritten();
    try {
      HeadWriter.writeStatusHead(out, status, response.reason(), head.fields());
    } catch (IOException e) {
      throw clientClosed(e);
    }
    headEnd = out.bytesWritten();
    // From here the head leaves with the next write: a head written past the buffer's room has
    // partly left already, and can no longer be taken back either.
    out.beforeNextWrite(leaving);
    long written;
    try {
      written = bodiless ? 0 : writeBody(body, length, chunked);
    } catch (HttpFailureException e) {
      if (e.failure() == ProxyFailure.RESPONSE_ABORTED && fromUpstream(body) && out.retract(headStart)) {
        out.beforeNextWrite(null);
        throw unsent(e);
      }
      if (e.failure() == ProxyFailure.RESPONSE_ABORTED && e.getCause() == null && out.retract(headStart)) {
        out.beforeNextWrite(null);
        // A filter's body whose length is not the one it declared, none of it sent: the
        // filter's mistake, answered 500 as a request body's is, where the client got a close
        // and the logs a 200 (probe e25). A body that fails (a drop fault) still drops.
        throw new HttpFailureException(ProxyFailure.FILTER_FAILED, "a filter's response " + e.detail(), e);
      }
      throw e;
    }
    if (bodiless) {
      discardUnread(body);
    }
    try {
      out.flush();
    } catch (IOException e) {
      throw clientClosed(e);
    }
    return new Outcome(status, written, closeDelimited);
  }

  /**
   * Writes a relayed 1xx head ({@link ClientHead#interim}) and flushes it.
   */
  void sendInterim(ResponseHead interim) throws IOException {
    try {
      HeadWriter.writeStatusHead(out, interim.status(), interim.reason(), ClientHead.interim(interim));
      out.flush();
    } catch (IOException e) {
      throw clientClosed(e);
    }
  }

  private long writeBody(Body body, long length, boolean chunked) throws IOException {
    if (!chunked && body instanceof FileRegionBody && ((FileRegionBody) body).file() != null) {
      try {
        if (out.transferAndFlush(((FileRegionBody) body).file(), length)) {
          return length;
        }
      } catch (IOException e) {
        throw clientClosed(e);
      } finally {
        // The body holds its file open: it must stay reachable until the file's bytes are sent.
        Reference.reachabilityFence(body);
      }
    }
    if (!chunked && body instanceof InMemoryBody) {
      try {
        if (out.writeAndFlush(((InMemoryBody) body).bytes())) {
          return length;
        }
      } catch (IOException e) {
        throw clientClosed(e);
      }
    }
    if (!chunked && length >= RELAY_MIN_BYTES && body instanceof ChannelBody && out.writesChannel()) {
      ByteBuffer direct = DirectBuffers.take();
      if (direct != null) {
        try {
          if (((ChannelBody) body).claimForChannel()) {
            return relay((ChannelBody) body, length, direct);
          }
        } finally {
          DirectBuffers.give(direct);
        }
      }
    }
    byte[] copy = CopyBuffers.take();
    try {
      return copyBody(body, length, chunked, copy);
    } catch (RuntimeException e) {
      // A body's own bug (a filter's stream throwing unchecked) fails the response as its
      // IOException would; it went past the exchange, and the connection's thread ended with
      // the exchange counted a success (probe e13).
      throw aborted("response body failed: " + e, e);
    } finally {
      CopyBuffers.give(copy);
    }
  }

  private long copyBody(Body body, long length, boolean chunked, byte[] copy) throws IOException {
    ChunkedOutputStream chunks = chunked ? new ChunkedOutputStream(out) : null;
    long total = 0;
    if (chunked) {
      chunkedBytes = 0;
    }
    try (InputStream in = body.stream()) {
      if (length < 0) {
        flushHeadUnlessReady(in);
      }
      while (true) {
        int n = read(in, copy);
        if (n < 0) {
          break;
        }
        total += n;
        if (length >= 0 && total > length) {
          throw aborted("body longer than its Content-Length", null);
        }
        try {
          if (chunked) {
            chunks.write(copy, 0, n);
            chunkedBytes = total;
          } else {
            out.write(copy, 0, n);
          }
          if (in.available() == 0) {
            // Nothing more is ready: let the client see what arrived (streaming, SSE).
            out.flush();
          }
        } catch (IOException e) {
          throw clientClosed(e);
        }
      }
      if (length >= 0 && total != length) {
        throw aborted("body shorter than its Content-Length", null);
      }
      if (chunked) {
        try {
          chunks.finish(HopByHop.stripTrailers(body.trailers()));
        } catch (IOException e) {
          throw clientClosed(e);
        }
      }
    }
    return total;
  }

  /**
   * Moves a fixed-length body from a plain upstream socket to a plain client socket through a
   * direct buffer: each piece is read and written at once (the head goes out with the first),
   * with no copy through the heap.
   */
  private long relay(ChannelBody body, long length, ByteBuffer direct) throws IOException {
    long total = 0;
    while (total < length) {
      direct.clear();
      int n;
      try {
        n = body.read(direct);
      } catch (HttpFailureException e) {
        throw aborted(e.detail(), e);
      } catch (IOException e) {
        throw aborted("upstream failed mid-body: " + e.getMessage(), e);
      }
      if (n < 0) {
        break;
      }
      total += n;
      direct.flip();
      try {
        out.writeAndFlush(direct);
      } catch (IOException e) {
        ((Body) body).close();
        throw clientClosed(e);
      }
    }
    if (total != length) {
      throw aborted("body shorter than its Content-Length", null);
    }
    return total;
  }

  /**
   * A body of unknown length (server-sent events, a long poll) may start long after its head:
   * unless some of it is ready, the head goes out now, not with its first bytes. A body of
   * known length goes out with its head in one write, as its client waits for all of it anyway.
   */
  private void flushHeadUnlessReady(InputStream in) throws HttpFailureException {
    int ready;
    try {
      ready = in.available();
    } catch (IOException e) {
      throw aborted("upstream failed before its body: " + e.getMessage(), e);
    }
    if (ready == 0) {
      try {
        out.flush();
      } catch (IOException e) {
        throw clientClosed(e);
      }
    }
  }

  private static int read(InputStream in, byte[] buffer) throws HttpFailureException {
    try {
      return in.read(buffer);
    } catch (HttpFailureException e) {
      throw aborted(e.detail(), e);
    } catch (IOException e) {
      throw aborted("upstream failed mid-body: " + e.getMessage(), e);
    }
  }

  /**
   * Whether a failure of this body is the upstream's, which a 502 or 504 describes truthfully. A
   * body a filter made that fails is the filter's choice to fail the response (the testkit's
   * drop fault is one): the connection closes, as it does when any body fails midway.
   */
  private static boolean fromUpstream(Body body) {
    return body instanceof ChannelBody || body instanceof StoringBody;
  }

  /**
   * Closes the body of an answer that has none to send (HEAD, 204, 304). A body whose close
   * fails aborts the answer as a body failing midway does, before its head leaves the buffer:
   * the testkit's drop on a HEAD relies on it.
   */
  private static void discardUnread(Body body) throws HttpFailureException {
    try {
      body.stream().close();
    } catch (IllegalStateException alreadyRead) {
      // Nothing was going to be read from it anyway.
    } catch (IOException | RuntimeException e) {
      throw aborted("response body failed: " + e.getMessage(), e);
    }
  }

  /**
   * The body failed before any of the response left the buffer: the client can still be told, by
   * the status of the upstream failure under it (504 for a timeout) or a 502.
   */
  private static HttpFailureException unsent(HttpFailureException aborted) {
    Throwable cause = aborted.getCause();
    ProxyFailure failure = cause instanceof SocketTimeoutException ? ProxyFailure.UPSTREAM_TIMEOUT
        : cause instanceof HttpFailureException && ((HttpFailureException) cause).failure().status() > 0
        ? ((HttpFailureException) cause).failure() : ProxyFailure.UPSTREAM_BAD_RESPONSE;
    return new HttpFailureException(failure, aborted.detail() + ", before any of the response was sent", aborted);
  }

  private static HttpFailureException aborted(String detail, Throwable cause) {
    return new HttpFailureException(stoppedBy(cause) ? ProxyFailure.PROXY_STOPPED : ProxyFailure.RESPONSE_ABORTED,
        detail, cause);
  }

  /**
   * True if a stop whose grace ran out ended the body: its force-close interrupts the exchange,
   * which closes the upstream's channel in the middle of a read. It was logged as the upstream
   * failing mid-body (probe l25).
   */
  private static boolean stoppedBy(Throwable cause) {
    for (Throwable c = cause; c != null; c = c.getCause()) {
      if (c instanceof ClosedByInterruptException) {
        return true;
      }
    }
    return Thread.currentThread().isInterrupted();
  }

  private static HttpFailureException clientClosed(IOException e) {
    return e instanceof HttpFailureException ? (HttpFailureException) e : clientSide("client closed: " + e.getMessage(), e);
  }

  /**
   * What ended an exchange whose I/O with its client failed, named after who ended it: the
   * proxy's write timeout, a stop whose grace ran out (its force-close interrupts the exchange),
   * or else the client.
   */
  static HttpFailureException clientSide(String detail, IOException e) {
    ProxyFailure failure = e instanceof WriteTimeoutException ? ProxyFailure.WRITE_TIMEOUT
        : e instanceof ClosedByInterruptException || Thread.currentThread().isInterrupted()
        ? ProxyFailure.PROXY_STOPPED : ProxyFailure.CLIENT_CLOSED;
    return new HttpFailureException(failure, failure == ProxyFailure.WRITE_TIMEOUT ? e.getMessage() : detail, e);
  }
}
