package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.SocketPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class TimeoutTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private ProxyServer proxy;

  @Test
  void answers504WhenUpstreamDoesNotRespond() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setSocketPolicy(SocketPolicy.NO_RESPONSE));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .upstreamTimeout(Duration.ofMillis(300)));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(response.status()).isEqualTo(504);
      assertThat(response.bodyText()).startsWith("Origin server timed out: no response from");
      origin.enqueue(new MockResponse().setBody("recovered"));
      raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("recovered");
    }
    assertThat(proxy.stats().failures()).containsEntry("UPSTREAM_TIMEOUT", 1L);
  }

  /**
   * A timeout under a millisecond is a timeout, not none: it became a socket timeout of 0, which
   * waits forever (probe e25), for the proxy's and a route's alike.
   */
  @Test
  void answers504ForATimeoutUnderAMillisecond() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setSocketPolicy(SocketPolicy.NO_RESPONSE));
    origin.enqueue(new MockResponse().setSocketPolicy(SocketPolicy.NO_RESPONSE));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .upstreamTimeout(Duration.ofNanos(500_000))
        .route(dev.ferry.proxy.Route.to(Upstream.of(origin.url("/").toString())).pathPrefix("/r/")
            .timeout(Duration.ofNanos(1))));
    for (String path : new String[] {"/", "/r/x"}) {
      try (RawClient raw = new RawClient(proxy.address())) {
        assertThat(raw.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).as(path)
            .isEqualTo(504);
      }
    }
  }

  @Test
  void answers502WhenUpstreamDropsTheConnection() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    // Twice: a reverse proxy's route retries a reset once by default.
    origin.enqueue(new MockResponse().setSocketPolicy(SocketPolicy.DISCONNECT_AT_START));
    origin.enqueue(new MockResponse().setSocketPolicy(SocketPolicy.DISCONNECT_AT_START));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(502);
    }
  }

  @Test
  void cutsOffSlowlorisWhileServingOthers() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("served"));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .requestHeaderTimeout(Duration.ofMillis(800)));
    CountDownLatch cut = new CountDownLatch(1);
    Thread slowloris = new Thread(() -> dribble(cut));
    slowloris.setDaemon(true);
    slowloris.start();
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("served");
    }
    assertThat(cut.await(10, TimeUnit.SECONDS)).as("slowloris cut off").isTrue();
    assertThat(proxy.stats().failures()).containsEntry("REQUEST_TIMEOUT", 1L);
  }

  @Test
  void answersAHeadThatStallsMidwayWith408OnAKeptAliveConnection() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .requestHeaderTimeout(Duration.ofMillis(500)));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
      // The second head stops after its request line: the read waiting for the rest is bounded
      // by the watchdog, which must leave the connection able to carry the 408.
      RawClient.RawResponse answer = raw.send("GET /second HTTP/1.1\r\nHost: a\r\n").readResponse();
      assertThat(answer.status()).isEqualTo(408);
      assertThat(raw.input().read()).isEqualTo(-1);
    }
    assertThat(proxy.stats().failures()).containsEntry("REQUEST_TIMEOUT", 1L);
    Await.until(() -> proxy.stats().activeConnections() == 0, "the timed-out connection to end");
  }

  /** Sends one header byte every 100 ms, for at most 10 s, until the proxy answers or closes. */
  private void dribble(CountDownLatch cut) {
    byte[] request = ("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: " + "z".repeat(200) + "\r\n\r\n").getBytes();
    try (Socket socket = new Socket("127.0.0.1", proxy.port())) {
      OutputStream out = socket.getOutputStream();
      socket.setSoTimeout(100);
      int first = -2;
      for (int i = 0; i < request.length && i < 100 && first == -2; i++) {
        out.write(request[i]);
        out.flush();
        try {
          first = socket.getInputStream().read();
        } catch (java.net.SocketTimeoutException stillWaiting) {
          // the 100 ms read timeout paces the dribble
        }
      }
      socket.setSoTimeout(10_000);
      String answer = (char) first + new String(socket.getInputStream().readAllBytes());
      if (answer.startsWith("HTTP/1.1 408")) {
        cut.countDown();
      }
    } catch (IOException e) {
      cut.countDown();
    }
  }
}
