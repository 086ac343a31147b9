package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A WebSocket's upgrade (a 101) cannot be replayed, as what went over the connection after it is
 * not recorded: record-if-missing saved it, and every later run answered the upgrade with an
 * internal 500 (probe t27).
 */
class WebSocketRecordingTest {
  private final MockWebServer origin = new MockWebServer();

  @BeforeEach
  void start() throws Exception {
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return new MockResponse().withWebSocketUpgrade(new HttpsOrigin.Echo());
      }
    });
    origin.start();
  }

  @AfterEach
  void stop() throws Exception {
    origin.close();
  }

  @Test
  void recordIfMissingForwardsAWebSocketUpgradeInEveryRun(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("ws.har");
    for (int run = 1; run <= 2; run++) {
      try (RecordingProxy proxy = RecordingProxy.forward().recordIfMissing(har).start()) {
        assertThat(echo(proxy)).as("run %s", run).isEqualTo("echo ping");
        assertThat(proxy.recording().awaitExchange(e -> e.path("/ws"), Duration.ofSeconds(5))
            .response().status()).isEqualTo(101);
        proxy.close();
        assertThat(proxy.server().stats().activeConnections()).isZero();
        assertThat(proxy.unrecorded()).as("left out on purpose, not a failure to record").isEmpty();
      }
    }
    assertThat(origin.getRequestCount()).as("forwarded live in both runs").isEqualTo(2);
    assertThat(!Files.exists(har) || Recording.fromHar(har).exchanges().isEmpty())
        .as("no 101 saved").isTrue();
  }

  @Test
  void replayAnswersARecordedUpgradeWithA502SayingWhy(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("ws.har");
    try (RecordingProxy live = RecordingProxy.forward().start()) {
      assertThat(echo(live)).isEqualTo("echo ping");
      live.recording().awaitExchange(e -> e.path("/ws"), Duration.ofSeconds(5));
      live.recording().writeHar(har);
    }
    try (RecordingProxy proxy = RecordingProxy.forward().replay(har).start()) {
      assertThat(echo(proxy)).startsWith("FAILED 502");
      RecordedExchange replayed = proxy.recording().awaitExchange(e -> e.path("/ws"), Duration.ofSeconds(5));
      assertThat(replayed.response().body().text()).contains("switched protocols (101");
      assertThat(replayed.failure()).isEmpty();
      proxy.close();
      assertThat(proxy.server().stats().activeConnections()).isZero();
    }
    assertThat(origin.getRequestCount()).as("the live run only").isEqualTo(1);
  }

  /** Opens a WebSocket to the origin through {@code proxy}, sends "ping", returns the answer. */
  private String echo(RecordingProxy proxy) throws Exception {
    OkHttpClient client = new OkHttpClient.Builder().proxy(proxy.proxy()).build();
    BlockingQueue<String> answers = new ArrayBlockingQueue<>(4);
    WebSocket socket = client.newWebSocket(new Request.Builder().url(origin.url("/ws")).build(),
        new WebSocketListener() {
          @Override
          public void onOpen(WebSocket webSocket, Response response) {
            webSocket.send("ping");
          }

          @Override
          public void onMessage(WebSocket webSocket, String text) {
            answers.add(text);
          }

          @Override
          public void onFailure(WebSocket webSocket, Throwable t, Response response) {
            answers.add("FAILED " + (response == null ? t.toString() : response.code()));
          }
        });
    try {
      String answer = answers.poll(10, TimeUnit.SECONDS);
      assertThat(answer).as("an answer within 10 s").isNotNull();
      return answer;
    } finally {
      socket.close(1000, "done");
      client.dispatcher().executorService().shutdown();
      client.connectionPool().evictAll();
    }
  }
}
