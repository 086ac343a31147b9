package dev.ferry.proxy.engine.health;

import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.io.Guard;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passive health: Envoy's consecutive-failure outlier detection. After
 * {@link Upstream#ejectAfterFailures()} failures in a row (connect failures, resets, 5xx; the
 * caller decides), an endpoint is ejected for {@code baseEjection * min(ejections + 1, 10)}, so
 * an endpoint that keeps failing stays out longer each time. At most
 * {@link Upstream#maxEjectedPercent()} of the pool is ejected at once, but always at least one
 * endpoint may be, or small pools could never eject.
 *
 * <p>Concurrency: counting is lock-free on the request path; the decision to eject (which must
 * see how many are ejected already) and the notice of ejections that ended run under a
 * {@link Guard}, reached only when a threshold is crossed or an ejection has ended.
 */
public final class OutlierDetector {
  private static final Logger log = LoggerFactory.getLogger(OutlierDetector.class);
  private static final int MAX_EJECTION_MULTIPLIER = 10;
  /** Far enough to mean "out for good" while {@code now + this} cannot wrap past the clock. */
  private static final long LONGEST_EJECTION_NANOS = Long.MAX_VALUE / 4;

  private final String pool;
  private final int threshold;
  private final Duration baseEjection;
  private final int maxEjected;
  private final List<LiveEndpoint> all;
  private final LongSupplier nanoClock;
  private final Guard guard = new Guard();
  /** Endpoints ejected and not yet noticed back, for the lazy {@code endpoint_up}. */
  private final Set<LiveEndpoint> ejected = ConcurrentHashMap.newKeySet();

  /**
   * @param endpoints every endpoint of the pool (the share of ejected ones is counted over them)
   * @param nanoClock {@code System::nanoTime} in production
   */
  public OutlierDetector(Upstream spec, List<LiveEndpoint> endpoints, LongSupplier nanoClock) {
    this.pool = spec.name();
    this.threshold = spec.ejectAfterFailures();
    this.baseEjection = spec.baseEjection();
    this.all = List.copyOf(endpoints);
    this.maxEjected = Math.max(1, all.size() * spec.maxEjectedPercent() / 100);
    this.nanoClock = nanoClock;
    // A reload's pool takes on the endpoints it kept, ejected ones too: their return is this
    // detector's to log (probe soak F1: a --quiet log showed them down for good).
    long now = nanoClock.getAsLong();
    for (LiveEndpoint endpoint : all) {
      if (endpoint.ejected(now)) {
        ejected.add(endpoint);
      }
    }
  }

  /** A request to {@code endpoint} succeeded: its failure streak ends. */
  public void onSuccess(LiveEndpoint endpoint) {
    // Read before write: most successes follow successes, and a write would bounce the line.
    if (endpoint.consecutiveFailures().get() != 0) {
      endpoint.consecutiveFailures().set(0);
    }
    noticeReturns();
  }

  /**
   * A request to {@code endpoint} failed; ejects it when the streak reaches the threshold.
   *
   * @param reason what failed, for the log ({@code connect_failed}, {@code status_503}, ...)
   */
  public void onFailure(LiveEndpoint endpoint, String reason) {
    noticeReturns();
    if (threshold == 0) {
      return;
    }
    int failures = endpoint.consecutiveFailures().incrementAndGet();
    if (failures >= threshold) {
      guard.run(() -> eject(endpoint, failures, reason));
    }
  }

  /**
   * Logs {@code endpoint_up reason=ejection_ended} for ejections whose time has passed. Called on
   * every outcome; cheap when nothing is ejected. An ejection ends by itself when its time
   * passes ({@link LiveEndpoint#ejected(long)}); this only notices it.
   */
  public void noticeReturns() {
    if (ejected.isEmpty()) {
      return;
    }
    long now = nanoClock.getAsLong();
    for (LiveEndpoint endpoint : ejected) {
      if (!endpoint.ejected(now)) {
        guard.run(() -> noticeReturns(now));
        return;
      }
    }
  }

  private void noticeReturns(long now) {
    for (LiveEndpoint endpoint : ejected) {
      if (!endpoint.ejected(now) && ejected.remove(endpoint)) {
        if (endpoint.healthy()) {
          log.warn("endpoint_up pool={} endpoint={} reason=ejection_ended", LogValues.of(pool), endpoint.authority());
        } else {
          // Still down by its health check, which logs endpoint_up when it passes again.
          log.info("endpoint_ejection_ended pool={} endpoint={} still_down=health_check", LogValues.of(pool),
              endpoint.authority());
        }
      }
    }
  }

  private void eject(LiveEndpoint endpoint, int failures, String reason) {
    long now = nanoClock.getAsLong();
    if (endpoint.ejected(now)) {
      return; // requests that were in flight when it was ejected; the ejection stands
    }
    int alreadyEjected = 0;
    for (LiveEndpoint other : all) {
      if (other.ejected(now)) {
        alreadyEjected++;
      }
    }
    if (alreadyEjected >= maxEjected) {
      // The streak stays, so the next failure tries again once another endpoint is back.
      log.debug("ejection_skipped pool={} endpoint={} ejected={} max_ejected={}",
          LogValues.of(pool), endpoint.authority(), alreadyEjected, maxEjected);
      return;
    }
    long nanos = ejectionNanos(endpoint.ejections() + 1);
    endpoint.eject(now + nanos);
    endpoint.consecutiveFailures().set(0);
    ejected.add(endpoint);
    log.warn("endpoint_down pool={} endpoint={} reason=ejected consecutive_failures={} last_failure={} ejection_ms={}",
        LogValues.of(pool), endpoint.authority(), failures, reason, nanos / 1_000_000);
  }

  private long ejectionNanos(int ejection) {
    try {
      return Math.min(LONGEST_EJECTION_NANOS,
          baseEjection.multipliedBy(Math.min(ejection, MAX_EJECTION_MULTIPLIER)).toNanos());
    } catch (ArithmeticException e) {
      return LONGEST_EJECTION_NANOS;
    }
  }
}
