package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** {@code @FerryTest(interceptHttps = true)}: the injected proxy records https:// exchanges. */
@FerryTest(interceptHttps = true, configure = "trustOrigin")
class FerryTestInterceptHttpsTest {
  private static final HttpsOrigin origin = HttpsOrigin.start();

  static void trustOrigin(RecordingProxy.Builder proxy) {
    proxy.configure(b -> b.upstreamTls(origin.upstreamTls()));
  }

  @AfterAll
  static void stopOrigin() {
    origin.close();
  }

  @Test
  void injectsAnInterceptingProxy(RecordingProxy proxy, Recording recording) throws Exception {
    HttpResponse<String> response = proxy.httpClientBuilder().build().send(
        HttpRequest.newBuilder(origin.url("/annotated")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.body()).isEqualTo("GET /annotated: ");
    assertThat(recording.awaitExchange(e -> e.path("/annotated"), Duration.ofSeconds(10))
        .request().url()).isEqualTo("https://localhost:" + origin.port() + "/annotated");
    assertThat(proxy.certificateAuthority()).isPresent();
  }
}
