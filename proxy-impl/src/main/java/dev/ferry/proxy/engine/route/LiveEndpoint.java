package dev.ferry.proxy.engine.route;

import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.upstream.UpstreamKey;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One endpoint of a running pool with its live state: requests in flight (for least-requests
 * balancing and stats), health from active checks, and ejection by passive outlier detection.
 * Shared by every thread of the proxy; each field is independently atomic or volatile, since
 * exact agreement between them is not needed to pick an endpoint.
 *
 * <p>A reload that only reweighs an endpoint, or renames its pool ({@link #carriedTo}), gives
 * the new pool an object sharing this one's state: the endpoint stays down or ejected, and
 * requests in flight on the old pool end on the same count.
 */
public final class LiveEndpoint {
  private final String pool;
  private final Upstream.Endpoint endpoint;
  private final State state;
  /** {@link #authority()}, worked out once: every exchange reports it. */
  private final String authority;
  /** {@link #key()}, once worked out; racing threads work out equal keys. */
  private volatile UpstreamKey key;

  /** The live state, shared by the objects of one endpoint across reweighing reloads. */
  private static final class State {
    final AtomicInteger active = new AtomicInteger();
    final AtomicInteger consecutiveFailures = new AtomicInteger();
    volatile boolean healthy = true;
    /** Health checks in a row with one result: passed if positive, failed if negative. */
    final AtomicInteger checkStreak = new AtomicInteger();
    volatile long ejectedUntilNanos;
    volatile int ejections;
  }

  public LiveEndpoint(String pool, Upstream.Endpoint endpoint) {
    this(pool, endpoint, new State());
  }

  private LiveEndpoint(String pool, Upstream.Endpoint endpoint, State state) {
    this.pool = pool;
    this.endpoint = endpoint;
    this.state = state;
    String host = endpoint.host();
    this.authority = (host.indexOf(':') >= 0 ? "[" + host + "]:" : host + ":") + endpoint.port();
  }

  /**
   * This endpoint in {@code pool} as {@code endpoint} gives it (another weight, a renamed pool),
   * with this one's live state.
   */
  public LiveEndpoint carriedTo(String pool, Upstream.Endpoint endpoint) {
    return new LiveEndpoint(pool, endpoint, state);
  }

  /** The pool's name, for logs. */
  public String pool() {
    return pool;
  }

  public Upstream.Endpoint endpoint() {
    return endpoint;
  }

  /**
   * The key of the endpoint's connections in the upstream pool, worked out on first use and then
   * kept: normalising the host again for every request took about 1 % of a proxied request's
   * CPU samples. An endpoint whose host is no valid name or literal throws every time, and its
   * exchanges fail before connecting.
   */
  public UpstreamKey key() throws HttpFailureException {
    UpstreamKey known = key;
    if (known == null) {
      known = UpstreamKey.of(endpoint);
      key = known;
    }
    return known;
  }

  /** {@code host:port}, for logs, stats and summaries. */
  public String authority() {
    return authority;
  }

  public int weight() {
    return endpoint.weight();
  }

  /** Requests in flight to this endpoint now. */
  public int activeRequests() {
    return state.active.get();
  }

  /** Counts a request starting; pair with {@link #requestEnded()}. */
  public void requestStarted() {
    state.active.incrementAndGet();
  }

  public void requestEnded() {
    state.active.decrementAndGet();
  }

  /**
   * Counts a health check's result and returns how many checks in a row have now had it. The
   * streak is kept across reloads with the verdict: started over at each, a reload more often
   * than interval × threshold kept a failing endpoint in rotation (probe g14).
   */
  public int checkStreak(boolean passed) {
    int streak = state.checkStreak.updateAndGet(s -> passed ? Math.max(s, 0) + 1 : Math.min(s, 0) - 1);
    return Math.abs(streak);
  }

  /** The active health check's verdict; true until a check says otherwise. */
  public boolean healthy() {
    return state.healthy;
  }

  public void healthy(boolean healthy) {
    state.healthy = healthy;
  }

  /** True while passive outlier detection keeps this endpoint out. */
  public boolean ejected(long nowNanos) {
    long until = state.ejectedUntilNanos;
    return until != 0 && nowNanos - until < 0;
  }

  /** Ejects until {@code untilNanos} (a {@code System.nanoTime()} value); counts the ejection. */
  public void eject(long untilNanos) {
    state.ejections++;
    state.ejectedUntilNanos = untilNanos;
  }

  /** Ends an ejection early or marks it over; the ejection count stays. */
  public void uneject() {
    state.ejectedUntilNanos = 0;
  }

  /** How many times this endpoint was ejected so far (the next ejection lasts longer). */
  public int ejections() {
    return state.ejections;
  }

  /** Failures (connect failure, reset, 5xx) since the last success; reset by a success. */
  public AtomicInteger consecutiveFailures() {
    return state.consecutiveFailures;
  }

  /** True if the balancer may choose it outside panic mode. */
  public boolean available(long nowNanos) {
    return state.healthy && !ejected(nowNanos);
  }

  /** {@code healthy}, {@code unhealthy} or {@code ejected}, for stats. */
  public String state(long nowNanos) {
    return ejected(nowNanos) ? "ejected" : state.healthy ? "healthy" : "unhealthy";
  }

  @Override
  public String toString() {
    return pool + "/" + authority();
  }
}
