package dev.ferry.proxy.testkit;

/**
 * Where an exchange's time went, in milliseconds, in the phases HAR 1.2 uses. A phase that does
 * not apply or could not be observed is {@code -1}, as the HAR spec asks.
 *
 * <p>The testkit sees an exchange through the public API only, so the phases are derived from
 * what it can observe: {@code blocked} is latency a {@link Fault} added; {@code connect} runs from the request leaving the filter chain to the
 * upstream connection being ready (it includes DNS; {@code -1} for a reused connection);
 * {@code send} until the request body was read to its end; {@code wait} until the response head
 * came back; {@code receive} until the response body was fully written to the client.
 */
public final class ExchangeTimings {
  private final double blocked;
  private final double connect;
  private final double send;
  private final double wait;
  private final double receive;

  private ExchangeTimings(double blocked, double connect, double send, double wait,
      double receive) {
    this.blocked = blocked;
    this.connect = connect;
    this.send = send;
    this.wait = wait;
    this.receive = receive;
  }

  /** Returns timings in milliseconds; {@code -1} for an unknown phase. */
  public static ExchangeTimings of(double blocked, double connect, double send, double wait,
      double receive) {
    return new ExchangeTimings(blocked, connect, send, wait, receive);
  }

  /**
   * Milliseconds from the start of the exchange until the request went upstream: the filters
   * before it and an injected latency; -1 if it never went upstream.
   */
  public double blocked() {
    return blocked;
  }

  /** Milliseconds to open the upstream connection, or -1 if none was opened (reused, replayed). */
  public double connect() {
    return connect;
  }

  /** Milliseconds to send the request to the upstream, or -1 if unknown. */
  public double send() {
    return send;
  }

  /** Milliseconds waiting for the response head, or -1 if unknown. */
  public double waitTime() {
    return wait;
  }

  /** Milliseconds to relay the response body to the client, or -1 if unknown. */
  public double receive() {
    return receive;
  }

  /** The sum of the known phases, in milliseconds, as HAR's {@code entry.time}. */
  public double total() {
    return Math.max(0, blocked) + Math.max(0, connect) + Math.max(0, send) + Math.max(0, wait) + Math.max(0, receive);
  }

  @Override
  public String toString() {
    return String.format(java.util.Locale.ROOT, "blocked=%.2f connect=%.2f send=%.2f wait=%.2f receive=%.2f",
        blocked, connect, send, wait, receive);
  }
}
