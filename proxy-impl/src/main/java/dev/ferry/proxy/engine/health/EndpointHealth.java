package dev.ferry.proxy.engine.health;

import dev.ferry.proxy.HealthCheck;
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

  void record(ProbeResult result) {
    int inRow = endpoint.checkStreak(result.passed());
    if (result.passed()) {
      if (!endpoint.healthy() && inRow >= check.healthyThreshold()) {
        endpoint.healthy(true);
        log.info("endpoint_up pool={} endpoint={} reason=health_check_passed checks_passed={}",
            pool, endpoint.authority(), inRow);
      }
    } else if (endpoint.healthy() && inRow >= check.unhealthyThreshold()) {
      endpoint.healthy(false);
      log.warn("endpoint_down pool={} endpoint={} reason={} checks_failed={}",
          pool, endpoint.authority(), result.detail(), inRow);
    } else {
      log.debug("health_check_failed pool={} endpoint={} reason={} checks_failed={}",
          pool, endpoint.authority(), result.detail(), inRow);
    }
  }
}
