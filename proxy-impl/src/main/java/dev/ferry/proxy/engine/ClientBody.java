package dev.ferry.proxy.engine;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.ContentTooLargeException;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.engine.http1.ChunkedInputStream;
import dev.ferry.proxy.engine.http1.FixedLengthInputStream;
import dev.ferry.proxy.engine.http1.Framing;
import dev.ferry.proxy.engine.http1.HopByHop;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.io.BlockInputStream;
import dev.ferry.proxy.engine.io.ConnectionInput;
import dev.ferry.proxy.engine.upstream.UpstreamFields;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.util.function.BooleanSupplier;

/**
 * A request body streaming from the client connection. It answers {@code 100 Continue} on first
 * read when the client asked for it, enforces the body limit while streaming, and turns client
 * I/O errors into failures that are not blamed on the upstream.
 *
 * <p>Minimum data rate (Kestrel's {@code MinRequestBodyDataRate}): after a grace period, the body
 * must average at least {@code minRequestBodyRate} bytes per second, measured over the time the
 * proxy actually spent waiting for it, so a slow upstream that stops Ferry from reading never
 * counts against the client. Each read's deadline is the moment the average would drop below the
 * minimum; a body trickling slower is cut off with 408.
 */
final class ClientBody implements Body {
  /** Writes the interim 100 response; called at most once. */
  interface ContinueSender {
    void sendContinue() throws IOException;
  }

  /**
   * How a body awaited whole before its exchange began arrived (see ClientConnection): the time
   * spent waiting for it, which counts against the minimum rate as if the exchange had waited,
   * and when its bytes last arrived, from which a gap the idle timeout bounds goes on; whether
   * its deadline passed before it was all there ({@code overdue}: the exchange answers 408
   * without sending any of it upstream); whether the client left before it was all there
   * ({@code abandoned}: the exchange ends as {@code CLIENT_CLOSED}, nothing sent upstream);
   * whether writing it to its spool file failed ({@code unstored}: the exchange answers 503,
   * nothing sent upstream). A body the exchange reads from its start has {@link #NONE}.
   */
  record Awaited(long waitedNanos, long lastArrivalNanos, boolean overdue, boolean abandoned, boolean unstored) {
    static final Awaited NONE = new Awaited(0, 0, false, false, false);
  }

  private static final long GRACE_NANOS = 5_000_000_000L;

  private final ConnectionInput in;
  private final long length;
  /**
   * A chunked body's data length, known in advance when all of it arrived before the exchange
   * without trailer fields; else -1.
   */
  private final long knownLength;
  /** A chunked body all of which, trailers included, arrived before the exchange. */
  private final boolean chunkedHere;
  private final long maxBytes;
  /** A reverse proxy: the client's forwarding claims are dropped from the trailers (see {@link #trailers()}). */
  private final boolean reverse;
  private final long minBytesPerSecond;
  private final long idleNanos;
  private final InputStream framed;
  private final ContinueSender continueSender;
  private final BooleanSupplier stoppedByProxy;
  private boolean opened;
  private boolean continueSent;
  private long bytesRead;
  /** The whole body arrived before the exchange began: it was read from the client, used or not. */
  private final boolean receivedWhole;
  private long waitedNanos;
  /** When the client last sent bytes before the exchange (a body awaited whole); 0 once read on. */
  private long quietSinceNanos;
  private boolean complete;
  /** Set when a read failed (timed out, the client left): what is left can never be drained. */
  private boolean broken;

  /**
   * @param stoppedByProxy whether the proxy's stop closed the connection: a read that fails then
   *     is the stop's cut, not the client leaving (probe v33)
   */
  ClientBody(ConnectionInput in, long length, RequestArrival.ChunkedBody chunked, ProxyConfig config,
      ContinueSender continueSender, Awaited awaited, BooleanSupplier stoppedByProxy) {
    this.in = in;
    this.stoppedByProxy = stoppedByProxy;
    this.knownLength = chunked == null ? -1 : chunked.length();
    this.chunkedHere = chunked != null && chunked.whole();
    // Awaited whole, or all of it came with the head (one write, no wait): segmentation must not
    // decide whether a body a filter left unread is counted (probe v31: 0 or 5000 bytes).
    this.receivedWhole = awaited != Awaited.NONE ? !awaited.overdue() && !awaited.abandoned() && !awaited.unstored()
        : length >= 0 ? in.buffered() >= length : chunkedHere;
    this.waitedNanos = awaited.waitedNanos();
    this.quietSinceNanos = awaited.lastArrivalNanos();
    this.length = length;
    this.maxBytes = config.maxRequestBodyBytes();
    this.reverse = config.isReverse();
    this.minBytesPerSecond = config.minRequestBodyRate();
    this.idleNanos = config.idleTimeout().toNanos();
    this.continueSender = continueSender;
    this.framed = length == Framing.CHUNKED
        ? new ChunkedInputStream(in, false, config.maxHeaderBytes(), config.maxHeaderCount())
        : new FixedLengthInputStream(in, length);
  }

  @Override
  public long contentLength() {
    return length >= 0 ? length : knownLength;
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
    if (!(framed instanceof ChunkedInputStream chunked)) {
      return Headers.empty();
    }
    Headers trailers = HopByHop.stripTrailers(chunked.trailers());
    // Dropped on arrival from the trailers too, as from the head (RealExchange.parseRequest).
    return reverse ? UpstreamFields.withoutClientForwarding(trailers) : trailers;
  }

  boolean isComplete() {
    return complete;
  }

  /**
   * True if what is left of the body can be drained to keep the connection: it is complete, or
   * {@linkplain #held() all here}, and the client is not waiting for 100 Continue. The rest of a
   * body still to come is not waited for on the exchange's thread: a client that sends its head,
   * is answered (a 401) and goes quiet would hold that thread for the body's deadlines (probe
   * v35); its connection closes after the answer, lingering on the selector instead.
   */
  boolean drainable() {
    // A read that failed leaves the connection unusable, whatever is left: its answer must say
    // it closes (probe l24: an early answer relayed after the body stalled said nothing of it).
    // A body held whole closed the connection when over 64 KiB of it went unread (an early
    // answer, a 502: probe r27), or when it was an empty chunked one, which went upstream as
    // Content-Length: 0 without a read of its last chunk (probe h27), or one with trailers (v35).
    return complete || (!broken && !awaitingContinue() && held());
  }

  /**
   * True if the rest of the body is here: buffered in memory or spooled, or waiting in the
   * socket, so that draining it waits for no one, however large it is. A chunked body is when
   * all of it arrived before the exchange.
   */
  private boolean held() {
    return length >= 0 ? in.buffered() + in.socketAvailable() >= length - bytesRead : chunkedHere;
  }

  /** True if the client still waits for 100 Continue before sending the body. */
  boolean awaitingContinue() {
    return continueSender != null && !continueSent;
  }

  /**
   * Body bytes read from the client: by the exchange, or all of them when the body arrived whole
   * before it, which a filter may answer without reading (probe e25: a 3 MB body on disk, answered
   * 403, was reported as 0 bytes).
   */
  long bytesRead() {
    return receivedWhole ? Math.max(bytesRead, contentLength()) : bytesRead;
  }

  /** The declared bytes not yet read from the client; negative for a chunked body. */
  long unreadBytes() {
    return length >= 0 ? length - bytesRead : -1;
  }

  /**
   * Reads and discards what is left once it is {@linkplain #drainable() drainable}, so the
   * connection can serve its next request (Helidon's {@code consumeEntity}). Returns false if
   * the body broke.
   */
  boolean drain() {
    if (complete) {
      return true;
    }
    if (awaitingContinue() || !held()) {
      return false;
    }
    byte[] scratch = new byte[8192];
    try {
      while (readBody(scratch, 0, scratch.length) > 0) {
        // Discarded.
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
      try {
        continueSender.sendContinue();
      } catch (IOException e) {
        broken = true;
        throw ResponseSender.clientSide("client closed before its body", e);
      }
    }
    int n;
    long started = System.nanoTime();
    boolean fromSocket = !in.hasBuffered();
    if (fromSocket && quietSinceNanos != 0 && in.socketAvailable() > 0) {
      // The client sent more since its body was awaited (while the exchange sent the part
      // buffered, say): it has not been quiet.
      quietSinceNanos = 0;
    }
    try {
      boolean rateBound = applyDeadline(started);
      try {
        n = framed.read(target, offset, count);
      } catch (SocketTimeoutException e) {
        throw new HttpFailureException(ProxyFailure.REQUEST_TIMEOUT, rateBound
            ? "request body slower than " + minBytesPerSecond + " bytes/s" : "request body stalled", e);
      } finally {
        waitedNanos += System.nanoTime() - started;
      }
    } catch (HttpFailureException e) {
      broken = true;
      throw e;
    } catch (IOException e) {
      broken = true;
      if (stoppedByProxy.getAsBoolean()) {
        throw new HttpFailureException(ProxyFailure.PROXY_STOPPED, "the proxy stopped before the whole request body arrived", e);
      }
      throw ResponseSender.clientSide("client closed mid-body", e);
    }
    if (n < 0) {
      completed();
      return -1;
    }
    bytesRead += n;
    if (fromSocket) {
      quietSinceNanos = 0;
    }
    if (bytesRead > maxBytes) {
      // The public type, so that a filter reading the body can tell it apart (probe e26).
      throw new ContentTooLargeException("request body exceeds " + maxBytes + " bytes");
    }
    if (length >= 0 && bytesRead == length) {
      completed();
    }
    return n;
  }

  /**
   * The body is all read: a buffer the connection grew to await it whole goes now, while the
   * response may still stream for long, rather than when the next request begins.
   */
  private void completed() {
    complete = true;
    in.trimBuffer();
  }

  /**
   * Sets the deadline of the next read: the idle timeout, or sooner, the moment at which the
   * body's average rate over the time spent waiting would fall below the minimum. Returns true
   * if the rate sets it.
   */
  private boolean applyDeadline(long now) {
    long idleDeadline = (quietSinceNanos != 0 ? quietSinceNanos : now) + idleNanos;
    if (minBytesPerSecond == 0) {
      in.deadline(idleDeadline);
      return false;
    }
    long rateDeadline = now + Math.max(1_000_000L, earnedNanos(bytesRead, minBytesPerSecond) - waitedNanos);
    in.deadline(Math.min(idleDeadline, rateDeadline));
    return rateDeadline < idleDeadline;
  }

  /**
   * How long a body of which {@code bytes} arrived may have taken at the minimum rate: the grace
   * period, or longer once the bytes earn more.
   */
  static long earnedNanos(long bytes, long minBytesPerSecond) {
    return Math.max(GRACE_NANOS, (long) (bytes * 1e9 / minBytesPerSecond));
  }
}
