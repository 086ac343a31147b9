package dev.ferry.proxy.engine.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.HealthCheck;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.LogCapture;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import org.junit.jupiter.api.Test;

class EndpointHealthTest {
  private static final ProbeResult PASSED = new ProbeResult(true, "status_200");
  private static final ProbeResult FAILED = ProbeResult.failed("status_500");

  private final LiveEndpoint endpoint = new LiveEndpoint("api", Upstream.of("http://10.0.0.1:8080").endpoints().get(0));
  private final EndpointHealth health = new EndpointHealth("api", endpoint,
      HealthCheck.http("/health").unhealthyThreshold(3).healthyThreshold(2));

  @Test
  void turnsUnhealthyOnlyAfterTheThresholdOfFailuresInARow() {
    health.record(FAILED);
    health.record(FAILED);
    health.record(PASSED);
    health.record(FAILED);
    health.record(FAILED);
    assertThat(endpoint.healthy()).isTrue();

    health.record(FAILED);

    assertThat(endpoint.healthy()).isFalse();
  }

  @Test
  void turnsHealthyAgainOnlyAfterTheThresholdOfPassesInARow() {
    for (int i = 0; i < 3; i++) {
      health.record(FAILED);
    }
    health.record(PASSED);
    health.record(FAILED);
    health.record(PASSED);
    assertThat(endpoint.healthy()).isFalse();

    health.record(PASSED);

    assertThat(endpoint.healthy()).isTrue();
  }

  @Test
  void keepsTheVerdictOfAnEndpointCarriedOverFromAnotherChecker() {
    endpoint.healthy(false);

    health.record(PASSED);
    assertThat(endpoint.healthy()).isFalse();
    health.record(PASSED);

    assertThat(endpoint.healthy()).isTrue();
  }

  /**
   * {@code endpoint_down} and {@code endpoint_up} say when the endpoint leaves and rejoins the
   * rotation, both at warn: while it is ejected, its health changing is neither (it was, and
   * "up" was logged for an endpoint still out; "up" at info was missing from a quiet log, probe
   * g28).
   */
  @Test
  void logsDownAndUpAtWarnOnlyWhenTheEndpointLeavesOrRejoinsTheRotation() {
    endpoint.eject(System.nanoTime() + java.time.Duration.ofMinutes(1).toNanos());
    try (LogCapture logs = new LogCapture()) {
      for (int i = 0; i < 3; i++) {
        health.record(FAILED);
      }
      health.record(PASSED);
      health.record(PASSED);
      assertThat(endpoint.healthy()).isTrue();
      assertThat(logs.lines("endpoint_down pool=api")).as("already out, ejected").isEmpty();
      assertThat(logs.lines("endpoint_up pool=api")).as("still out, ejected").isEmpty();

      endpoint.uneject();
      for (int i = 0; i < 3; i++) {
        health.record(FAILED);
      }
      assertThat(logs.lines("endpoint_down pool=api")).singleElement().asString().contains("WARN");
      health.record(PASSED);
      health.record(PASSED);
      assertThat(logs.lines("endpoint_up pool=api")).singleElement().asString().contains("WARN");
    }
  }

  /**
   * A pool's name may hold spaces and quotes (a config file's {@code name: "web pool"}): its
   * events quote it, as the metrics and the access log do, so that a logfmt parser reads
   * {@code pool} whole (probe o2: {@code pool=web pool} read as {@code pool=web}).
   */
  @Test
  void quotesAPoolNameThatALogfmtParserWouldSplit() {
    EndpointHealth spaced = new EndpointHealth("web \"pool\"", endpoint, HealthCheck.http("/health").unhealthyThreshold(1));
    try (LogCapture logs = new LogCapture()) {
      spaced.record(FAILED);
      assertThat(logs.lines("endpoint_down")).singleElement().asString()
          .contains("endpoint_down pool=\"web \\\"pool\\\"\" endpoint=10.0.0.1:8080");
    }
  }
}
