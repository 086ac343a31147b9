package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * A recorded sequence replays from its start in every test, also when the tests of a class share
 * one proxy: the second test used to get the sequence's last answer only (done, done).
 */
class ClassProxyReplaySequenceTest {
  private static final Set<Integer> PORTS = ConcurrentHashMap.newKeySet();

  @Test
  void replaysASequenceFromItsStartInEachTestOnAClassProxy() {
    PORTS.clear();
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(Fixture.class))
        .configurationParameter("junit.jupiter.execution.parallel.enabled", "false")
        .execute().testEvents().assertStatistics(s -> s.started(2).succeeded(2));
    assertThat(PORTS).as("one proxy for the class").hasSize(1);
  }

  @TestMethodOrder(MethodOrderer.MethodName.class)
  static class Fixture {
    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward()
        .replay(Path.of("src/test/resources/sequence.har"));

    @Test
    void a(RecordingProxy mine) throws Exception {
      assertThat(poll(mine)).containsExactly("pending", "done");
    }

    @Test
    void b(RecordingProxy mine) throws Exception {
      assertThat(poll(mine)).containsExactly("pending", "done");
    }

    private static List<String> poll(RecordingProxy proxy) throws Exception {
      PORTS.add(proxy.port());
      HttpClient client = proxy.httpClientBuilder().build();
      List<String> answers = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        answers.add(client.send(HttpRequest.newBuilder(URI.create("http://jobs.test/status")).build(),
            HttpResponse.BodyHandlers.ofString()).body());
      }
      return answers;
    }
  }
}
