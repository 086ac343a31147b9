package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Issue 13 §6: {@code @FerryTest} options for reverse mode, limits and faults. */
@FerryTest(reverse = "origin", configure = "faults", maxBodyBytes = 4,
    maxRecordingBytes = 1024 * 1024, lifecycle = ProxyLifecycle.PER_CLASS)
class FerryTestOptionsTest {
  static final MockWebServer origin = new MockWebServer();

  static void faults(RecordingProxy.Builder proxy) {
    proxy.fault(e -> e.path("/slow"), Fault.latency(Duration.ofMillis(50)));
  }

  @AfterAll
  static void stopOrigin() throws Exception {
    origin.close();
  }

  @Test
  void runsAReverseProxyWithTheAnnotationsOptions(RecordingProxy proxy) throws Exception {
    origin.enqueue(new MockResponse().setBody("0123456789"));

    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(proxy.baseUri().resolve("/slow")).build(),
        HttpResponse.BodyHandlers.ofString());

    assertThat(proxy.isForward()).isFalse();
    assertThat(response.body()).isEqualTo("0123456789");
    RecordedExchange slow = proxy.recording().awaitExchange(e -> e.path("/slow"),
        Duration.ofSeconds(5));
    assertThat(slow.fault()).contains("latency(50 ms)");
    assertThat(slow.response().body().truncated()).isTrue();
    assertThat(slow.response().body().bytes()).hasSize(4);
  }

  /**
   * A {@code @Nested} class runs with its enclosing class's {@code @FerryTest}, members included
   * (it used to get a default forward proxy, sending replayed tests to the network).
   */
  @Nested
  class InANestedClass {
    @Test
    void usesTheEnclosingClassesAnnotationAndMembers(RecordingProxy proxy) throws Exception {
      origin.enqueue(new MockResponse().setBody("nested"));
      HttpResponse<String> response = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(proxy.baseUri().resolve("/slow")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(proxy.isForward()).isFalse();
      assertThat(response.body()).isEqualTo("nested");
      assertThat(proxy.recording().awaitExchange(e -> e.path("/slow"), Duration.ofSeconds(5)).fault())
          .contains("latency(50 ms)");
    }
  }
}
