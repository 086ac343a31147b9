package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * With the default lifecycle, a client wired in {@code @BeforeAll} from the injected proxy is
 * recorded in the tests' recordings when they run concurrently, as when they run one at a time.
 * Before, each concurrent test got a proxy of its own, the client's traffic went to the class
 * proxy that no test saw, and the failure said only "no exchanges were recorded" (probe t6,
 * defect 3).
 */
class BeforeAllWiredClientTest {

  @Test
  void recordsTheTrafficOfAClientWiredInBeforeAllWhenTestsRunConcurrently() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(WiredInBeforeAll.class))
        .configurationParameter("junit.jupiter.execution.parallel.enabled", "true")
        .execute().testEvents()
        .assertStatistics(s -> s.started(2).succeeded(2));
  }

  /**
   * The extension's own shortcuts answer outside a test with the class's proxy, as a
   * {@code @BeforeAll} parameter does: {@code ferry.baseUri()} in a {@code @BeforeAll} method (or a
   * Spring {@code @DynamicPropertySource} supplier) threw "no Ferry proxy is in use" (probe t28).
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"false", "true"})
  void answersTheExtensionsShortcutsInBeforeAllWithTheClassProxy(String parallel) {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(WiredThroughTheExtension.class))
        .configurationParameter("junit.jupiter.execution.parallel.enabled", parallel)
        .execute().testEvents()
        .assertStatistics(s -> s.started(2).succeeded(2));
  }

  @Execution(ExecutionMode.CONCURRENT)
  static class WiredThroughTheExtension {
    private static MockWebServer origin;
    private static HttpClient client;
    private static URI proxyUri;

    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward();

    @BeforeAll
    static void wire() throws Exception {
      origin = ClassProxyScopeTest.origin();
      client = proxy.httpClientBuilder().build();
      proxyUri = proxy.baseUri();
    }

    @AfterAll
    static void stop() throws Exception {
      origin.close();
    }

    private static void sendsAndSees(RecordingProxy mine, String path) throws Exception {
      client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + origin.getPort() + path))
          .build(), HttpResponse.BodyHandlers.discarding());
      assertThat(mine.baseUri()).as("the proxy wired in @BeforeAll").isEqualTo(proxyUri);
      mine.recording().awaitExchange(e -> e.path(path), Duration.ofSeconds(5));
    }

    @org.junit.jupiter.api.RepeatedTest(2)
    void sends(RecordingProxy mine, org.junit.jupiter.api.RepetitionInfo repetition) throws Exception {
      sendsAndSees(mine, "/" + repetition.getCurrentRepetition());
    }
  }

  @Execution(ExecutionMode.CONCURRENT)
  static class WiredInBeforeAll {
    // Made in @BeforeAll: a run of this class directly, besides the engine test's, starts afresh.
    private static CountDownLatch bothRunning;
    private static MockWebServer origin;
    private static HttpClient client;
    private static int wiredPort;

    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward();

    @BeforeAll
    static void wire(RecordingProxy classProxy) throws Exception {
      bothRunning = new CountDownLatch(2);
      origin = ClassProxyScopeTest.origin();
      client = classProxy.httpClientBuilder().build();
      wiredPort = classProxy.port();
    }

    @AfterAll
    static void stop() throws Exception {
      origin.close();
    }

    private static void sendsAndSees(RecordingProxy mine, String path) throws Exception {
      // Both tests are in progress together: they really run concurrently.
      bothRunning.countDown();
      assertThat(bothRunning.await(5, TimeUnit.SECONDS)).isTrue();
      client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + origin.getPort() + path))
          .build(), HttpResponse.BodyHandlers.discarding());

      assertThat(mine.port()).as("the proxy the @BeforeAll client is wired to").isEqualTo(wiredPort);
      mine.recording().awaitExchange(e -> e.path(path), Duration.ofSeconds(5));
    }

    @Test
    void first(RecordingProxy mine) throws Exception {
      sendsAndSees(mine, "/first");
    }

    @Test
    void second(RecordingProxy mine) throws Exception {
      sendsAndSees(mine, "/second");
    }
  }
}
