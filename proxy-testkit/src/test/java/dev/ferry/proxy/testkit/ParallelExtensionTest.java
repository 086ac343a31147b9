package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Tests of one class running concurrently each get their own proxy and recording. */
@Execution(ExecutionMode.CONCURRENT)
class ParallelExtensionTest {
  private static final MockWebServer origin = new MockWebServer();

  @RegisterExtension
  static FerryProxyExtension proxy = FerryProxyExtension.forward().perTest();

  @BeforeAll
  static void startOrigin() throws Exception {
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return new MockResponse().setBody(request.getPath());
      }
    });
    origin.start();
  }

  @AfterAll
  static void stopOrigin() throws Exception {
    origin.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"a", "b", "c", "d", "e", "f"})
  void recordsOnlyItsOwnTraffic(String name, RecordingProxy mine) throws Exception {
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> response = mine.httpClientBuilder().build().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + origin.getPort() + "/" + name))
              .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.body()).isEqualTo("/" + name);
    }
    List<RecordedExchange> exchanges = mine.recording().awaitExchanges(3, Duration.ofSeconds(5));
    assertThat(exchanges).hasSize(3).allMatch(e -> e.request().path().equals("/" + name));
  }
}
