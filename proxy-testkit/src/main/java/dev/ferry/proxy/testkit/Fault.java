package dev.ferry.proxy.testkit;

import java.time.Duration;
import java.util.Objects;

/**
 * A fault to inject into the exchanges a rule selects: see
 * {@link RecordingProxy#inject(java.util.function.UnaryOperator, Fault)} and
 * {@link FerryProxyExtension#fault(java.util.function.UnaryOperator, Fault)}.
 *
 * <pre>{@code
 * proxy.inject(e -> e.pathStartsWith("/slow"), Fault.latency(Duration.ofMillis(300)));
 * proxy.inject(e -> e.method("POST"), Fault.status(503));
 * proxy.inject(e -> e, Fault.resetMidResponse(1024));   // every request
 * }</pre>
 *
 * <p>Faults are built on the public filter API. How the two connection faults look on the wire:
 * {@link #resetMidResponse} sends the response head and the first bytes of the body, then the
 * proxy closes the connection without finishing the body (the client sees a body shorter than
 * its Content-Length, or a chunked body without its last chunk); {@link #dropBeforeResponse}
 * closes the connection without sending a single byte of response, and does not forward the
 * request. Both close the connection (a FIN, not a TCP RST: the public API cannot set
 * SO_LINGER).
 *
 * <p>The CONNECT that opens an intercepted HTTPS session is the proxy's plumbing, not an exchange
 * of the client's: no fault applies to it, and the requests inside the session get the faults
 * their rules select. A CONNECT that is not intercepted is the exchange itself: a
 * {@code Fault.status(503)} refuses the tunnel, {@code dropBeforeResponse} closes the connection
 * before any answer.
 */
public final class Fault {
  enum Kind { LATENCY, BANDWIDTH, STATUS, RESET, DROP }

  private final Kind kind;
  private final long amount;

  private Fault(Kind kind, long amount) {
    this.kind = kind;
    this.amount = amount;
  }

  /**
   * Delays the request by this long before it is forwarded. Closing the proxy, or the end of the
   * test that injected the fault with {@code inject}, ends the delay: the request is then not
   * forwarded, and answered {@code 503} by the proxy (not left unanswered, which a client such
   * as {@code java.net.http} would take as a reason to send it again).
   *
   * @throws IllegalArgumentException if the delay is negative
   */
  public static Fault latency(Duration delay) {
    Objects.requireNonNull(delay, "delay");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative (was " + delay + ")");
    }
    return new Fault(Kind.LATENCY, delay.toNanos());
  }

  /**
   * Limits the response body to this many bytes per second. Closing the proxy cuts a body
   * still being throttled.
   *
   * @throws IllegalArgumentException if the rate is below 1
   */
  public static Fault bandwidth(long bytesPerSecond) {
    if (bytesPerSecond < 1) {
      throw new IllegalArgumentException("bytesPerSecond must be at least 1 (was "
          + bytesPerSecond + ")");
    }
    return new Fault(Kind.BANDWIDTH, bytesPerSecond);
  }

  /**
   * Replaces the response's status (the body and headers stay).
   *
   * @throws IllegalArgumentException if the status is not between 200 and 599
   */
  public static Fault status(int status) {
    if (status < 200 || status > 599) {
      throw new IllegalArgumentException("status must be between 200 and 599 (was " + status + ")");
    }
    return new Fault(Kind.STATUS, status);
  }

  /**
   * Closes the connection after this many response body bytes, so the client sees a cut body.
   * A body with fewer bytes is cut before its end: one of known length loses at least its last
   * byte, a chunked one its last chunk. An empty body has nothing to cut: its response arrives
   * whole. {@code java.net.http} and OkHttp fail the read of a body cut short of its
   * {@code Content-Length}; {@code HttpURLConnection} does not: its stream ends early without an
   * error, so a test with it checks the length it read.
   *
   * @throws IllegalArgumentException if {@code afterBytes} is negative
   */
  public static Fault resetMidResponse(long afterBytes) {
    if (afterBytes < 0) {
      throw new IllegalArgumentException("afterBytes must not be negative (was " + afterBytes + ")");
    }
    return new Fault(Kind.RESET, afterBytes);
  }

  /**
   * Closes the connection before any response byte is sent; the request is not forwarded. A HEAD
   * and a CONNECT that is not intercepted are dropped the same way. A client may send an
   * idempotent request that met a closed connection once more on a new one, as
   * {@code java.net.http} does for a GET (RFC 9110 §9.2.2): the recording then holds both
   * attempts, each dropped while the fault stays.
   */
  public static Fault dropBeforeResponse() {
    return new Fault(Kind.DROP, 0);
  }

  /** Whether it changes what the client gets (status, a cut body), not only when it gets it. */
  boolean changesResponse() {
    return kind == Kind.STATUS || kind == Kind.RESET || kind == Kind.DROP;
  }

  Kind kind() {
    return kind;
  }

  long amount() {
    return amount;
  }

  /** Returns a description such as {@code latency(300 ms)} or {@code status(503)}. */
  @Override
  public String toString() {
    switch (kind) {
      case LATENCY:
        return "latency(" + Duration.ofNanos(amount).toMillis() + " ms)";
      case BANDWIDTH:
        return "bandwidth(" + amount + " B/s)";
      case STATUS:
        return "status(" + amount + ")";
      case RESET:
        return "resetMidResponse(" + amount + ")";
      default:
        return "dropBeforeResponse";
    }
  }
}
