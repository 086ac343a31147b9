package dev.ferry.proxy.testkit;

import static dev.ferry.proxy.testkit.FerryAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;

/** The declarative style: a proxy per test, injected as a parameter. */
@FerryTest
class FerryTestAnnotationTest {
  private static final MockWebServer origin = new MockWebServer();

  @BeforeAll
  static void startOrigin() throws Exception {
    origin.start();
  }

  @AfterAll
  static void stopOrigin() throws Exception {
    origin.close();
  }

  @BeforeEach
  void seesTheSameProxyAsTheTest(RecordingProxy proxy) {
    assertThat(proxy.recording().size()).isZero();
  }

  @RepeatedTest(2)
  void injectsAFreshRecordingProxyPerTest(RecordingProxy proxy, Recording recording)
      throws Exception {
    assertThat(recording).isSameAs(proxy.recording());
    assertThat(proxy.address().getAddress().isLoopbackAddress()).isTrue();
    origin.enqueue(new MockResponse().setBody("hi"));

    HttpResponse<String> response = proxy.httpClientBuilder().build().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + origin.getPort() + "/hello"))
            .build(), HttpResponse.BodyHandlers.ofString());

    assertThat(response.body()).isEqualTo("hi");
    recording.awaitExchanges(1, Duration.ofSeconds(5));
    assertThat(recording).hasExchangeCount(1).exchange(e -> e.path("/hello")).hasStatus(200)
        .hasResponseBody("hi");
  }
}
