package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Keep-alive to upstreams, and the single retry when a pooled connection turns out stale. */
class UpstreamPoolTest {
  private ProxyServer proxy;

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
  }

  @Test
  void disablesReuseWhenPoolIsEmptyByConfiguration() throws Exception {
    try (TinyOrigin origin = TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) {
      proxy = ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
          .maxIdleUpstreamConnections(0).build().start();
      try (RawClient raw = new RawClient(proxy.address())) {
        for (int i = 0; i < 3; i++) {
          assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
        }
      }
      assertThat(origin.connectionCount()).isEqualTo(3);
      assertThat(proxy.stats().upstreamConnectionsReused()).isZero();
    }
  }

  @Test
  void doesNotReuseConnectionTheUpstreamAskedToClose() throws Exception {
    try (TinyOrigin origin = TinyOrigin.answering(
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")) {
      proxy = ProxyServer.builder().upstream(Upstream.of(origin.url("/"))).build().start();
      try (RawClient raw = new RawClient(proxy.address())) {
        for (int i = 0; i < 2; i++) {
          assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
        }
      }
      assertThat(origin.connectionCount()).isEqualTo(2);
    }
  }

  /** The origin serves one response per connection, then closes it without saying so. */
  private static TinyOrigin oneResponsePerConnection(CountDownLatch firstClosed) throws Exception {
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = new TinyOrigin((Socket socket, java.io.InputStream in, java.io.OutputStream out) -> {
      if (self[0].readRequest(in) != null) {
        out.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh".getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      }
      socket.close();
      firstClosed.countDown();
    });
    return self[0];
  }

  @Test
  void retriesIdempotentRequestOnceOnStalePooledConnection() throws Exception {
    CountDownLatch closed = new CountDownLatch(1);
    try (TinyOrigin origin = oneResponsePerConnection(closed)) {
      proxy = ProxyServer.builder().upstream(Upstream.of(origin.url("/"))).build().start();
      try (RawClient raw = new RawClient(proxy.address())) {
        assertThat(raw.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("fresh");
        assertThat(closed.await(5, TimeUnit.SECONDS)).isTrue();
        RawClient.RawResponse second = raw.send("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
        assertThat(second.status()).isEqualTo(200);
        assertThat(second.bodyText()).isEqualTo("fresh");
      }
      assertThat(origin.connectionCount()).isEqualTo(2);
    }
  }

  @Test
  void neverRetriesRequestWithBody() throws Exception {
    CountDownLatch closed = new CountDownLatch(1);
    try (TinyOrigin origin = oneResponsePerConnection(closed)) {
      proxy = ProxyServer.builder().upstream(Upstream.of(origin.url("/"))).build().start();
      try (RawClient raw = new RawClient(proxy.address())) {
        raw.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
        assertThat(closed.await(5, TimeUnit.SECONDS)).isTrue();
        RawClient.RawResponse post = raw.send(
            "POST /order HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody").readResponse();
        assertThat(post.status()).isEqualTo(502);
      }
      assertThat(origin.connectionCount()).isEqualTo(1);
    }
  }
}
