package dev.ferry.proxy.engine.health;

import dev.ferry.proxy.HealthCheck;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a check's thresholds to one endpoint: {@code unhealthyThreshold} failed checks in a
 * row turn a healthy endpoint unhealthy, {@code healthyThreshold} passed ones turn it back. The
 * verdict and the streak live in {@link LiveEndpoint} so that they survive a reconfiguration that
 * keeps the endpoint (an old checker's last run may overlap a new one's first: the streak is
 * atomic).
 */
final class EndpointHealth {
  private static final Logger log = LoggerFactory.getLogger(EndpointHealth.class);

  private final String pool;
  private final LiveEndpoint endpoint;
  private final HealthCheck check;

  EndpointHealth(String pool, LiveEndpoint endpoint, HealthCheck check) {
    this.pool = pool;
    this.endpoint = endpoint;
    this.check = check;
  }

  LiveEndpoint endpoint() {
    return endpoint;
  }

  /**
   * Applies one check's result. {@code endpoint_down} and {@code endpoint_up} say when the
   * endpoint leaves and rejoins the rotation, both at warn so that a log of warnings alone tells
   * both: while outlier detection keeps the endpoint out, a change of its health is logged
   * without them ({@code endpoint_unhealthy}, {@code endpoint_healthy ... still_down=ejected}),
   * and the ejection's end logs {@code endpoint_up} (probe g28: "up" was logged for an endpoint
   * still ejected, and at info, unseen in a quiet log).
   */
  void record(ProbeResult result) {
    int inRow = endpoint.checkStreak(result.passed());
    if (result.passed()) {
      if (!endpoint.healthy() && inRow >= check.healthyThreshold()) {
        endpoint.healthy(true);
        if (endpoint.ejected(System.nanoTime())) {
          log.info("endpoint_healthy pool={} endpoint={} checks_passed={} still_down=ejected",
              LogValues.of(pool), endpoint.authority(), inRow);
        } else {
          log.warn("endpoint_up pool={} endpoint={} reason=health_check_passed checks_passed={}",
              LogValues.of(pool), endpoint.authority(), inRow);
        }
      }
    } else if (endpoint.healthy() && inRow >= check.unhealthyThreshold()) {
      endpoint.healthy(false);
      if (endpoint.ejected(System.nanoTime())) {
        log.info("endpoint_unhealthy pool={} endpoint={} reason={} checks_failed={} already_down=ejected",
            LogValues.of(pool), endpoint.authority(), result.detail(), inRow);
      } else {
        log.warn("endpoint_down pool={} endpoint={} reason={} checks_failed={}",
            LogValues.of(pool), endpoint.authority(), result.detail(), inRow);
      }
    } else {
      log.debug("health_check_failed pool={} endpoint={} reason={} checks_failed={}",
          LogValues.of(pool), endpoint.authority(), result.detail(), inRow);
    }
  }
}
