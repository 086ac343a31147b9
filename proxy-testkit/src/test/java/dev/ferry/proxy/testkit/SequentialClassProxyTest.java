package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * With parallel execution off, the usual way to switch it off (the concurrent default mode left
 * configured), tests run one at a time: the default lifecycle keeps one proxy for the class, as
 * the README promises. JUnit still reports the configured mode, which made it one per test.
 */
class SequentialClassProxyTest {
  private static final Set<Integer> PORTS = ConcurrentHashMap.newKeySet();

  @Test
  void keepsOneProxyPerClassWhenParallelExecutionIsOff() {
    PORTS.clear();
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(Fixture.class))
        .configurationParameter("junit.jupiter.execution.parallel.enabled", "false")
        .configurationParameter("junit.jupiter.execution.parallel.mode.default", "concurrent")
        .execute().testEvents().assertStatistics(s -> s.started(3).succeeded(3));
    assertThat(PORTS).hasSize(1);
  }

  static class Fixture {
    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward();

    @Test
    void first(RecordingProxy mine) {
      PORTS.add(mine.port());
    }

    @Test
    void second(RecordingProxy mine) {
      PORTS.add(mine.port());
    }

    @Test
    void third(RecordingProxy mine) {
      PORTS.add(mine.port());
    }
  }
}
