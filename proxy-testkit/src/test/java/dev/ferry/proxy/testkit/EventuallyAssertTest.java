package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 13 §5: assertions that wait for the exchange, one matcher vocabulary, and a documented
 * {@code Via}.
 */
class EventuallyAssertTest {
  private MockWebServer origin;
  private RecordingProxy proxy;

  @BeforeEach
  void start() throws Exception {
    origin = new MockWebServer();
    origin.start();
    proxy = RecordingProxy.reverse(origin.url("/").uri()).start();
  }

  @AfterEach
  void stop() throws Exception {
    proxy.close();
    origin.close();
  }

  @Test
  void waitsForAnExchangeStillInProgress() throws Exception {
    origin.enqueue(new MockResponse().setBody("late").setBodyDelay(300, TimeUnit.MILLISECONDS));
    CompletableFuture<HttpResponse<String>> call = HttpClient.newHttpClient().sendAsync(
        HttpRequest.newBuilder(proxy.baseUri().resolve("/slow")).build(),
        HttpResponse.BodyHandlers.ofString());

    FerryAssertions.assertThat(proxy.recording()).eventually()
        .hasExchange(e -> e.path("/slow").status(200))
        .hasExchangeCount(1)
        .hasNoExchange(e -> e.status(500));

    assertThat(call.get(5, TimeUnit.SECONDS).body()).isEqualTo("late");
  }

  /** It failed on "no exchanges were recorded", with no hint of the one under way (probe testkit2 F1). */
  @Test
  void saysWhenAnAssertionThatDidNotWaitFoundExchangesInProgress() throws Exception {
    origin.enqueue(new MockResponse().setBody("late").setHeadersDelay(500, TimeUnit.MILLISECONDS));
    CompletableFuture<HttpResponse<String>> call = HttpClient.newHttpClient().sendAsync(
        HttpRequest.newBuilder(proxy.baseUri().resolve("/slow")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS)).as("the request reached the origin").isNotNull();

    assertThatThrownBy(() -> FerryAssertions.assertThat(proxy.recording()).hasExchange(e -> e.path("/slow")))
        .isInstanceOf(AssertionError.class)
        .hasMessageEndingWith("no exchanges were recorded; 1 exchange was still in progress "
            + "(use eventually() to wait for it)");

    assertThat(call.get(5, TimeUnit.SECONDS).body()).isEqualTo("late");
    FerryAssertions.assertThat(proxy.recording()).eventually().hasExchangeCount(1);
    assertThatThrownBy(() -> FerryAssertions.assertThat(proxy.recording()).hasExchangeCount(2))
        .hasMessageContaining("/slow -> 200 OK").hasMessageNotContaining("in progress");
  }

  @Test
  void failsAtTheDeadlineNamingWhatItWaitedFor() {
    assertThatThrownBy(() -> FerryAssertions.assertThat(proxy.recording())
        .eventually(Duration.ofMillis(100)).hasExchange(e -> e.path("/never")))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("Expected an exchange with path=/never within 100 ms")
        .hasMessageContaining("no exchanges were recorded");
  }

  @Test
  void usesOneMatcherToWaitAssertAndInjectFaults() throws Exception {
    proxy.inject(e -> e.method("GET").path("/orders"), Fault.status(503));
    origin.enqueue(new MockResponse().setBody("orders"));
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(proxy.baseUri().resolve("/orders")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(503);

    RecordedExchange orders = proxy.recording()
        .awaitExchange(e -> e.path("/orders").status(503), Duration.ofSeconds(5));

    assertThat(orders.fault()).contains("status(503)");
    assertThat(proxy.recording().exchanges(e -> e.method("GET"))).containsExactly(orders);
    FerryAssertions.assertThat(proxy.recording()).hasExchange(e -> e.path("/orders"));
  }

  @Test
  void refusesFaultConditionsBeyondTheRequestHead() {
    assertThatThrownBy(() -> proxy.inject(e -> e.path("/a").status(500), Fault.status(503)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("faults select requests by their head only (was status=500); use method, "
            + "host, path, url or header conditions");
  }

  @Test
  void recordsTheViaFieldTheProxyAdds() throws Exception {
    origin.enqueue(new MockResponse().setBody("hi"));
    HttpClient.newHttpClient().send(HttpRequest.newBuilder(proxy.baseUri().resolve("/via")).build(),
        HttpResponse.BodyHandlers.ofString());

    FerryAssertions.assertThat(proxy.recording()).eventually().exchange(e -> e.path("/via"))
        .hasResponseHeaderMatching("Via", ".*1\\.1 ferry");
  }
}
