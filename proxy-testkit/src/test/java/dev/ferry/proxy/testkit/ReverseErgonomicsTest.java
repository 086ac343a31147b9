package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * Issue 13 §6: a reverse proxy in front of a MockWebServer the class has not started yet, and
 * one whose upstream a supplier gives when the proxy starts.
 */
class ReverseErgonomicsTest {
  static final MockWebServer origin = new MockWebServer();

  @RegisterExtension
  static FerryProxyExtension proxy = FerryProxyExtension.inFrontOf(origin);

  @AfterAll
  static void stopOrigin() throws Exception {
    origin.close();
  }

  @Test
  void startsTheMockWebServerAndRecordsWhatGoesToIt(RecordingProxy mine) throws Exception {
    origin.enqueue(new MockResponse().setBody("from mock"));

    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(mine.baseUri().resolve("/hello")).build(),
        HttpResponse.BodyHandlers.ofString());

    assertThat(response.body()).isEqualTo("from mock");
    FerryAssertions.assertThat(mine.recording()).eventually()
        .exchange(e -> e.path("/hello")).hasResponseBody("from mock");
  }

  /**
   * A server the extension started serves every run in the JVM, and is closed when the JVM
   * exits: closed at the end of a run, it was gone for good for the next run in the same JVM (a
   * surefire fork with forkCount over 1 runs each class as a run of its own), whose requests got
   * 502 (probe t28).
   */
  @Test
  void keepsTheMockWebServerItStartedForTheNextRunInTheJvm() throws Exception {
    for (int run = 1; run <= 2; run++) {
      EngineTestKit.engine("junit-jupiter").selectors(selectClass(StartedByTheProxy.class)).execute()
          .testEvents().assertStatistics(s -> s.started(2).succeeded(2));
    }
    assertThat(StartedByTheProxy.port).isPositive();
    new Socket(InetAddress.getLoopbackAddress(), StartedByTheProxy.port).close();
  }

  static class StartedByTheProxy {
    static final MockWebServer origin = new MockWebServer();
    static volatile int port;

    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.inFrontOf(origin);

    @Test
    void first(RecordingProxy mine) {
      port = origin.getPort();
    }

    @Test
    void second(RecordingProxy mine) throws Exception {
      origin.enqueue(new MockResponse().setBody("still up"));
      assertThat(HttpClient.newHttpClient().send(HttpRequest.newBuilder(mine.baseUri().resolve("/")).build(),
          HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("still up");
    }
  }

  @Test
  void asksTheSupplierForTheUpstreamWhenItStarts() throws Exception {
    AtomicReference<URI> later = new AtomicReference<>();
    RecordingProxy.Builder builder = RecordingProxy.reverse(later::get);
    try (MockWebServer started = new MockWebServer()) {
      started.enqueue(new MockResponse().setBody("late binding"));
      started.start();
      later.set(started.url("/").uri());
      try (RecordingProxy late = builder.start()) {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(late.baseUri().resolve("/x")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(response.body()).isEqualTo("late binding");
      }
    }
  }
}
