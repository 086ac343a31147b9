package dev.ferry.proxy.engine.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.HealthCheck;
import dev.ferry.proxy.Upstream;
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
}
