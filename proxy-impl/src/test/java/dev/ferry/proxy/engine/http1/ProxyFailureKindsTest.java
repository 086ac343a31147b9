package dev.ferry.proxy.engine.http1;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyStats;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The API's list of failure kinds names every kind the engine counts, so metrics publish each. */
class ProxyFailureKindsTest {
  @Test
  void listsEveryFailureTheEngineCounts() {
    assertThat(ProxyStats.failureKinds())
        .containsAll(Arrays.stream(ProxyFailure.values()).map(Enum::name).toList())
        .contains("TLS_HANDSHAKE_FAILED")
        .doesNotHaveDuplicates()
        .hasSize(ProxyFailure.values().length + 1);
  }
}
