package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/**
 * {@code @FerryTest(interceptHttps = true)}: the injected proxy records https:// exchanges, with
 * the extension's one CA.
 */
@FerryTest(interceptHttps = true, configure = "trustOrigin")
class FerryTestInterceptHttpsTest {
  private static final HttpsOrigin origin = HttpsOrigin.start();

  static void trustOrigin(RecordingProxy.Builder proxy) {
    proxy.configure(b -> b.upstreamTls(origin.upstreamTls()));
  }

  /** The CA of every proxy the class's extension started, one per test. */
  private static final Set<String> authorities = ConcurrentHashMap.newKeySet();

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

  /**
   * Every test's proxy uses the extension's one CA, as with {@code @RegisterExtension}: each
   * proxy generated its own, so a client set up to trust the first failed in the next test
   * (probe t24).
   */
  @RepeatedTest(3)
  void sharesOneCaWithEveryProxyOfTheExtension(RecordingProxy proxy) throws Exception {
    authorities.add(proxy.caCertificatePem());
    assertThat(authorities).hasSize(1);
    HttpResponse<String> response = proxy.httpClientBuilder().build().send(
        HttpRequest.newBuilder(origin.url("/again")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.body()).isEqualTo("GET /again: ");
  }
}
