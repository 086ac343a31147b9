package dev.ferry.samples.examples;

import static dev.ferry.proxy.testkit.FerryAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.testkit.FerryProxyExtension;
import dev.ferry.proxy.testkit.RecordingProxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user copies into their own project: put Ferry between a client and the service it
 * calls, assert on what went over the wire, save it as HAR, and replay it with the service gone.
 * The static extension stays correct when tests run concurrently: each test method receives a
 * recording of its own exchanges only.
 */
class RecordAssertReplayExampleTest {

  @RegisterExtension
  static FerryProxyExtension proxy = FerryProxyExtension.forward();

  /** The code under test: a tiny client of an orders service. */
  static String placeOrder(HttpClient client, String baseUrl) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + "/orders"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"item\":\"book\",\"qty\":2}"))
        .build();
    return client.send(request, HttpResponse.BodyHandlers.ofString()).body();
  }

  @Test
  void recordsAssertsSavesAndReplays(RecordingProxy recording, @TempDir Path dir) throws Exception {
    Path har = dir.resolve("orders.har");
    String baseUrl;
    try (MockWebServer ordersService = new MockWebServer()) {
      ordersService.enqueue(new MockResponse().setResponseCode(201)
          .setHeader("Content-Type", "application/json").setBody("{\"id\":42,\"status\":\"placed\"}"));
      ordersService.start();
      baseUrl = "http://127.0.0.1:" + ordersService.getPort();

      String answer = placeOrder(recording.httpClientBuilder().build(), baseUrl);
      assertThat(answer).contains("\"id\":42");

      // eventually(): the exchange is recorded just after the client got its answer; wait for it.
      assertThat(recording.recording()).eventually()
          .hasExchangeCount(1)
          .hasExchange(exchange -> exchange.method("POST").path("/orders"))
          .hasNoExchangeTo("tracking.example");
      recording.recording().writeHar(har);
    }

    // The service is gone; the HAR answers instead, so this part of a suite runs offline.
    try (RecordingProxy offline = RecordingProxy.forward().replay(har).start()) {
      assertThat(placeOrder(offline.httpClientBuilder().build(), baseUrl)).contains("\"status\":\"placed\"");
    }
  }
}
