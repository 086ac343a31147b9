package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** Issue 13 §6: {@code @FerryTest(replay = ...)} answers from a HAR file, offline. */
@FerryTest(replay = "src/test/resources/hello.har")
class FerryTestReplayTest {

  @Test
  void answersFromTheHarFile(RecordingProxy proxy) throws Exception {
    HttpResponse<String> response = proxy.httpClientBuilder().build().send(
        HttpRequest.newBuilder(URI.create("http://hello.test/greeting")).build(),
        HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("hello from the HAR file");
    FerryAssertions.assertThat(proxy.recording()).eventually()
        .hasExchange(e -> e.path("/greeting").replayed());
  }
}
