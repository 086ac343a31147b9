package dev.ferry.proxy.engine.health;

import dev.ferry.proxy.HealthCheck;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a check's thresholds to one endpoint: {@code unhealthyThreshold} failed checks in a
 * row turn a healthy endpoint unhealthy, {@code healthyThreshold} passed ones turn it back. The
 * verdict lives in {@link LiveEndpoint#healthy()} so that it survives a reconfiguration that
 * keeps the endpoint; only the streak counts here start over.
 *
 * <p>Concurrency: called only from the endpoint's own periodic task, whose runs never overlap
 * and are ordered by the scheduler's queue, so the counters need no atomics.
 */
final class EndpointHealth {
  private static final Logger log = LoggerFactory.getLogger(EndpointHealth.class);

  private final String pool;
  private final LiveEndpoint endpoint;
  private final HealthCheck check;
  private int failedInRow;
  private int passedInRow;

  EndpointHealth(String pool, LiveEndpoint endpoint, HealthCheck check) {
    this.pool = pool;
    this.endpoint = endpoint;
    this.check = check;
  }

  LiveEndpoint endpoint() {
    return endpoint;
  }

  void record(ProbeResult result) {
    if (result.passed()) {
      failedInRow = 0;
      passedInRow++;
      if (!endpoint.healthy() && passedInRow >= check.healthyThreshold()) {
        endpoint.healthy(true);
        log.info("endpoint_up pool={} endpoint={} reason=health_check_passed checks_passed={}",
            pool, endpoint.authority(), passedInRow);
      }
    } else {
      passedInRow = 0;
      failedInRow++;
      if (endpoint.healthy() && failedInRow >= check.unhealthyThreshold()) {
        endpoint.healthy(false);
        log.warn("endpoint_down pool={} endpoint={} reason={} checks_failed={}",
            pool, endpoint.authority(), result.detail(), failedInRow);
      } else {
        log.debug("health_check_failed pool={} endpoint={} reason={} checks_failed={}",
            pool, endpoint.authority(), result.detail(), failedInRow);
      }
    }
  }
}
