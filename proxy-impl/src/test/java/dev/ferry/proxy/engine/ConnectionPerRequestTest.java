package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Clients that open a connection per request, many at once: each connection's input and output
 * buffers come from a pool shared by all connections and go back to it when the connection ends,
 * so every answer must still be its own request's, byte for byte, whatever the buffers held
 * before: request heads and bodies that fill or outgrow a buffer, answers larger than one, and
 * connections cut before their answer was sent, leaving bytes unsent in a buffer.
 */
class ConnectionPerRequestTest {
  private static final int CLIENTS = 8;
  private static final int REQUESTS_EACH = 60;
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private ProxyServer proxy;

  @BeforeEach
  void start() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        String path = request.getPath();
        int size = Integer.parseInt(path.substring(path.indexOf("size=") + 5));
        byte[] sent = request.getBody().readByteArray();
        return new MockResponse().setBody(answer(path, size) + "|" + sent.length + "|" + mark(sent));
      }
    });
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .concurrency(Concurrency.boundedPool(16, 64)));
  }

  @Test
  void answersEachConnectionWithItsOwnBytesWhileBuffersAreReused() throws Exception {
    Queue<String> wrong = new ConcurrentLinkedQueue<>();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> clients = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      int client = c;
      Thread thread = new Thread(() -> {
        try {
          go.await();
          for (int i = 0; i < REQUESTS_EACH; i++) {
            request(client, i, wrong);
          }
        } catch (Exception e) {
          wrong.add("client " + client + " failed: " + e);
        }
      }, "connection-per-request-client-" + c);
      thread.start();
      clients.add(thread);
    }
    go.countDown();
    for (Thread thread : clients) {
      thread.join(120_000);
      assertThat(thread.isAlive()).as("client still running").isFalse();
    }
    assertThat(wrong).isEmpty();
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET /after?size=10 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo(answer("/after?size=10", 10) + "|0|");
    }
  }

  /**
   * One connection, one request: every fourth is cut after its head is sent, the rest read their
   * answer to the end. Sizes cross the 16 KiB buffers: heads padded past one, bodies of up to
   * 20 KiB, answers of up to 40 KiB.
   */
  private void request(int client, int i, Queue<String> wrong) throws IOException {
    int answerSize = (client * 7919 + i * 104_729) % 40_000;
    String path = "/c" + client + "/r" + i + "?size=" + answerSize;
    String body = i % 3 == 0 ? "" : String.valueOf((char) ('a' + client)).repeat((i * 331) % 20_000);
    String padding = i % 5 == 0 ? "X-Pad: " + "p".repeat(17_000) + "\r\n" : "";
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("POST " + path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n" + padding
          + "Content-Length: " + body.length() + "\r\n\r\n" + body);
      if (i % 4 == 3) {
        return;
      }
      String expected = answer(path, answerSize) + "|" + body.length() + "|"
          + mark(body.getBytes(StandardCharsets.US_ASCII));
      String got = raw.readResponse().bodyText();
      if (!got.equals(expected)) {
        wrong.add(path + ": " + got.length() + " bytes, not the " + expected.length() + " expected");
      }
    }
  }

  /** An answer of {@code size} bytes that no other request's answer contains. */
  private static String answer(String path, int size) {
    StringBuilder answer = new StringBuilder(size + path.length());
    while (answer.length() < size) {
      answer.append(path).append(';');
    }
    answer.setLength(size);
    return answer.toString();
  }

  /** The first and last byte of a request body, to show the origin got this request's. */
  private static String mark(byte[] sent) {
    return sent.length == 0 ? "" : (char) sent[0] + "" + (char) sent[sent.length - 1];
  }
}
