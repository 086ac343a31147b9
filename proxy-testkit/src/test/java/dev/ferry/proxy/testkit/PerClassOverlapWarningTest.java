package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * {@link ProxyLifecycle#PER_CLASS} promises a warning, once, when its tests run concurrently and
 * so see each other's traffic (nothing warned before).
 */
class PerClassOverlapWarningTest {

  @Test
  void warnsOnceWhenConcurrentTestsShareAPerClassProxy() {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream err = System.err;
    // slf4j-simple writes to whatever System.err is at each line.
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      EngineTestKit.engine("junit-jupiter").selectors(selectClass(OverlappingFixture.class))
          .configurationParameter("junit.jupiter.execution.parallel.enabled", "true")
          .execute().testEvents().assertStatistics(s -> s.started(2).succeeded(2));
    } finally {
      System.setErr(err);
    }
    String log = captured.toString(StandardCharsets.UTF_8);
    assertThat(log.split("run concurrently on one PER_CLASS proxy", -1)).as(log).hasSize(2);
  }

  @Execution(ExecutionMode.CONCURRENT)
  static class OverlappingFixture {
    private static final CountDownLatch BOTH_RUNNING = new CountDownLatch(2);

    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward().perClass();

    @Test
    void first() throws Exception {
      BOTH_RUNNING.countDown();
      BOTH_RUNNING.await(5, TimeUnit.SECONDS);
    }

    @Test
    void second() throws Exception {
      BOTH_RUNNING.countDown();
      BOTH_RUNNING.await(5, TimeUnit.SECONDS);
    }
  }
}
