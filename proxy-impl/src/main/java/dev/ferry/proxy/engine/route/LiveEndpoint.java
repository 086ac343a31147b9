package dev.ferry.proxy.engine.route;

import dev.ferry.proxy.Upstream;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One endpoint of a running pool with its live state: requests in flight (for least-requests
 * balancing and stats), health from active checks, and ejection by passive outlier detection.
 * Shared by every thread of the proxy; each field is independently atomic or volatile, since
 * exact agreement between them is not needed to pick an endpoint.
 */
public final class LiveEndpoint {
  private final String pool;
  private final Upstream.Endpoint endpoint;
  private final AtomicInteger active = new AtomicInteger();
  private final AtomicInteger consecutiveFailures = new AtomicInteger();
  private volatile boolean healthy = true;
  private volatile long ejectedUntilNanos;
  private volatile int ejections;

  public LiveEndpoint(String pool, Upstream.Endpoint endpoint) {
    this.pool = pool;
    this.endpoint = endpoint;
  }

  /** The pool's name, for logs. */
  public String pool() {
    return pool;
  }

  public Upstream.Endpoint endpoint() {
    return endpoint;
  }

  /** {@code host:port}, for logs, stats and summaries. */
  public String authority() {
    return endpoint.host().indexOf(':') >= 0
        ? "[" + endpoint.host() + "]:" + endpoint.port() : endpoint.host() + ":" + endpoint.port();
  }

  public int weight() {
    return endpoint.weight();
  }

  /** Requests in flight to this endpoint now. */
  public int activeRequests() {
    return active.get();
  }

  /** Counts a request starting; pair with {@link #requestEnded()}. */
  public void requestStarted() {
    active.incrementAndGet();
  }

  public void requestEnded() {
    active.decrementAndGet();
  }

  /** The active health check's verdict; true until a check says otherwise. */
  public boolean healthy() {
    return healthy;
  }

  public void healthy(boolean healthy) {
    this.healthy = healthy;
  }

  /** True while passive outlier detection keeps this endpoint out. */
  public boolean ejected(long nowNanos) {
    long until = ejectedUntilNanos;
    return until != 0 && nowNanos - until < 0;
  }

  /** Ejects until {@code untilNanos} (a {@code System.nanoTime()} value); counts the ejection. */
  public void eject(long untilNanos) {
    ejections++;
    ejectedUntilNanos = untilNanos;
  }

  /** Ends an ejection early or marks it over; the ejection count stays. */
  public void uneject() {
    ejectedUntilNanos = 0;
  }

  /** How many times this endpoint was ejected so far (the next ejection lasts longer). */
  public int ejections() {
    return ejections;
  }

  /** Failures (connect failure, reset, 5xx) since the last success; reset by a success. */
  public AtomicInteger consecutiveFailures() {
    return consecutiveFailures;
  }

  /** True if the balancer may choose it outside panic mode. */
  public boolean available(long nowNanos) {
    return healthy && !ejected(nowNanos);
  }

  /** {@code healthy}, {@code unhealthy} or {@code ejected}, for stats. */
  public String state(long nowNanos) {
    return ejected(nowNanos) ? "ejected" : healthy ? "healthy" : "unhealthy";
  }

  @Override
  public String toString() {
    return pool + "/" + authority();
  }
}
