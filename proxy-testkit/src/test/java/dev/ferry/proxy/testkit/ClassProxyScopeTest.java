package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * What a class proxy injected into {@code @BeforeAll} covers (probe t8): a {@code @Nested}
 * class's tests run on it, where before they got a second class proxy that the outer client
 * never reached; and its own recording keeps the class's traffic to {@code @AfterAll}, where
 * before each test's exchanges were silently discarded as the test ended.
 */
class ClassProxyScopeTest {

  @Test
  void nestedClassRunsOnTheProxyWiredInTheOuterBeforeAll() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(WiredOuter.class))
        .execute().testEvents()
        .assertStatistics(s -> s.started(2).succeeded(2));
  }

  /**
   * A nested class's own {@code @FerryTest} configures its proxy under an enclosing class that
   * registered the extension in code too (probe t22: JUnit runs the nested class with the outer
   * instance, which gave it the outer forward proxy and ignored the annotation).
   */
  @Test
  void nestedFerryTestConfiguresItsOwnProxyUnderAnOuterExtensionRegisteredInCode() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(ProgrammaticOuter.class))
        .execute().testEvents()
        .assertStatistics(s -> s.started(2).succeeded(2));
  }

  @Test
  void classRecordingKeepsEveryTestsExchangesToAfterAll() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(ReadsClassRecording.class))
        .execute().allEvents()
        .assertStatistics(s -> s.failed(0));
    assertThat(ReadsClassRecording.pathsSeenInAfterAll)
        .containsExactlyInAnyOrder("/before-all", "/one", "/two");
  }

  /** A started origin that answers every request with its path. */
  static MockWebServer origin() throws Exception {
    MockWebServer origin = new MockWebServer();
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return new MockResponse().setBody(request.getPath());
      }
    });
    origin.start();
    return origin;
  }

  private static void get(HttpClient client, MockWebServer origin, String path) throws Exception {
    client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + origin.getPort() + path))
        .build(), HttpResponse.BodyHandlers.discarding());
  }

  static class WiredOuter {
    private static MockWebServer origin;
    private static HttpClient client;
    private static int wiredPort;

    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward();

    @BeforeAll
    static void wire(RecordingProxy classProxy) throws Exception {
      origin = origin();
      client = classProxy.httpClientBuilder().build();
      wiredPort = classProxy.port();
    }

    @AfterAll
    static void stop() throws Exception {
      origin.close();
    }

    @Test
    void outer(RecordingProxy mine) throws Exception {
      get(client, origin, "/outer");
      mine.recording().awaitExchange(e -> e.path("/outer"), Duration.ofSeconds(5));
    }

    @Nested
    class Inner {
      @Test
      void inner(RecordingProxy mine) throws Exception {
        assertThat(mine.port()).as("the proxy the outer @BeforeAll wired").isEqualTo(wiredPort);
        get(client, origin, "/inner");
        mine.recording().awaitExchange(e -> e.path("/inner"), Duration.ofSeconds(5));
      }
    }
  }

  static class ProgrammaticOuter {
    static final MockWebServer REVERSE_ORIGIN = new MockWebServer();

    static {
      REVERSE_ORIGIN.setDispatcher(new Dispatcher() {
        @Override
        public MockResponse dispatch(RecordedRequest request) {
          return new MockResponse().setBody("origin " + request.getPath());
        }
      });
    }

    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward();

    @Test
    void outer(RecordingProxy mine) {
      assertThat(mine.isForward()).isTrue();
    }

    @Nested
    @FerryTest(reverse = "REVERSE_ORIGIN")
    class Reverse {
      @Test
      void reverse(RecordingProxy mine) throws Exception {
        assertThat(mine.isForward()).as("the nested class's own reverse proxy").isFalse();
        HttpResponse<String> response = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(mine.baseUri().resolve("/rev")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.body()).isEqualTo("origin /rev");
      }
    }
  }

  static class ReadsClassRecording {
    static volatile java.util.List<String> pathsSeenInAfterAll = java.util.List.of();
    private static MockWebServer origin;
    private static HttpClient client;
    private static Recording classRecording;

    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward();

    @BeforeAll
    static void wire(RecordingProxy classProxy) throws Exception {
      origin = origin();
      client = classProxy.httpClientBuilder().build();
      classRecording = classProxy.recording();
      get(client, origin, "/before-all");
      classRecording.awaitExchange(e -> e.path("/before-all"), Duration.ofSeconds(5));
    }

    @AfterAll
    static void read() throws Exception {
      pathsSeenInAfterAll = classRecording.exchanges().stream().map(e -> e.request().path()).toList();
      origin.close();
    }

    @Test
    void one(RecordingProxy mine) throws Exception {
      get(client, origin, "/one");
      mine.recording().awaitExchange(e -> e.path("/one"), Duration.ofSeconds(5));
    }

    @Test
    void two(RecordingProxy mine) throws Exception {
      get(client, origin, "/two");
      mine.recording().awaitExchange(e -> e.path("/two"), Duration.ofSeconds(5));
    }
  }
}
