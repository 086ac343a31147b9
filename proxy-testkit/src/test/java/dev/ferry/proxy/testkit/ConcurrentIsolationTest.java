package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 13 §4: the README's static extension, with its default lifecycle, under JUnit's
 * concurrent mode: each test sees its own exchanges and nothing else, and the extension's
 * shortcut methods answer for the test on the calling thread.
 */
@Execution(ExecutionMode.CONCURRENT)
class ConcurrentIsolationTest {
  private static final MockWebServer origin = new MockWebServer();

  @RegisterExtension
  static FerryProxyExtension proxy = FerryProxyExtension.forward();

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
  @ValueSource(strings = {"a", "b", "c", "d", "e", "f", "g", "h"})
  void seesOnlyItsOwnExchanges(String name, RecordingProxy mine) throws Exception {
    HttpClient client = mine.httpClientBuilder().build();
    for (int i = 0; i < 4; i++) {
      HttpResponse<String> response = client.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + origin.getPort() + "/" + name))
              .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.body()).isEqualTo("/" + name);
    }

    FerryAssertions.assertThat(mine.recording()).eventually()
        .hasExchangeCount(4)
        .allExchangesMatch(e -> e.path("/" + name));
    assertThat(proxy.recording()).isSameAs(mine.recording());
  }
}
