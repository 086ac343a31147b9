package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.platform.testkit.engine.EngineTestKit;

/** The proxies one intercepting extension starts share its one CA, however they start. */
class PerTestInterceptionAuthorityTest {

  /**
   * Concurrent tests of a {@code perTest()} extension start their proxies at once. The CA was
   * generated lazily without synchronisation, so they got 7 or 8 CAs for 8 tests: a client set
   * up to trust one test's proxy failed its handshake with another's, at random.
   */
  @Test
  void givesConcurrentPerTestProxiesOneInterceptionAuthority() {
    ConcurrentFixture.fingerprints.clear();

    EngineTestKit.engine("junit-jupiter")
        .configurationParameter("junit.jupiter.execution.parallel.enabled", "true")
        .configurationParameter("junit.jupiter.execution.parallel.config.strategy", "fixed")
        .configurationParameter("junit.jupiter.execution.parallel.config.fixed.parallelism", "8")
        .selectors(selectClass(ConcurrentFixture.class)).execute()
        .testEvents().assertStatistics(s -> s.started(8).succeeded(8));

    assertThat(ConcurrentFixture.fingerprints).hasSize(1);
  }

  @Execution(ExecutionMode.CONCURRENT)
  static class ConcurrentFixture {
    static final Set<String> fingerprints = ConcurrentHashMap.newKeySet();

    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward().interceptHttps().perTest();

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
    void notesItsProxysAuthority(int test, RecordingProxy mine) {
      fingerprints.add(mine.certificateAuthority().orElseThrow().sha256Fingerprint());
    }
  }
}
