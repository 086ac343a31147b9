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
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The programmatic style on a static field: one proxy for the class, cleared between tests. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExtensionPerClassTest {
  private static final MockWebServer origin = new MockWebServer();
  private static int firstPort;

  @RegisterExtension
  static FerryProxyExtension proxy = FerryProxyExtension.forward()
      .configure(b -> b.idleTimeout(Duration.ofSeconds(5)));

  @BeforeAll
  static void startOrigin(RecordingProxy injected) throws Exception {
    origin.start();
    firstPort = injected.port();
  }

  @AfterAll
  static void stopOrigin() throws Exception {
    origin.close();
  }

  @Test
  @Order(1)
  void recordsThroughTheSharedProxy() throws Exception {
    origin.enqueue(new MockResponse().setBody("one"));
    proxy.httpClientBuilder().build().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + origin.getPort() + "/one")).build(),
        HttpResponse.BodyHandlers.ofString());

    proxy.recording().awaitExchanges(1, Duration.ofSeconds(5));
    assertThat(proxy.recording()).hasExchange(e -> e.path("/one"));
  }

  @Test
  @Order(2)
  void startsTheNextTestWithAnEmptyRecordingOnTheSameProxy() {
    assertThat(proxy.recording().size()).isZero();
    assertThat(proxy.current().port()).isEqualTo(firstPort);
    assertThat(proxy.current().server().config().idleTimeout()).isEqualTo(Duration.ofSeconds(5));
  }
}
