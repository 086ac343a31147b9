package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Keep-alive to upstreams, and the single retry when a pooled connection turns out stale. */
class UpstreamPoolTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @Test
  void disablesReuseWhenPoolIsEmptyByConfiguration() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .maxIdleUpstreamConnections(0));
    try (RawClient raw = new RawClient(proxy.address())) {
      for (int i = 0; i < 3; i++) {
        assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
      }
    }
    assertThat(origin.connectionCount()).isEqualTo(3);
    assertThat(proxy.stats().upstreamConnectionsReused()).isZero();
  }

  @Test
  void doesNotReuseConnectionTheUpstreamAskedToClose() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering(
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      for (int i = 0; i < 2; i++) {
        assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
      }
    }
    assertThat(origin.connectionCount()).isEqualTo(2);
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
    TinyOrigin origin = ferry.track(oneResponsePerConnection(closed));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("fresh");
      assertThat(closed.await(5, TimeUnit.SECONDS)).isTrue();
      RawClient.RawResponse second = raw.send("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(second.status()).isEqualTo(200);
      assertThat(second.bodyText()).isEqualTo("fresh");
    }
    assertThat(origin.connectionCount()).isEqualTo(2);
    // The stale connection answered nothing: it is no reuse (it was counted as one, probe g28).
    assertThat(proxy.stats().upstreamConnectionsReused()).isZero();
    assertThat(proxy.stats().upstreamConnectionsOpened()).isEqualTo(2);
  }

  /** Issue #8 item 1 replaced the old contract (a POST on a stale connection got 502). */
  @Test
  void retriesBufferedPostOnceOnStalePooledConnection() throws Exception {
    CountDownLatch closed = new CountDownLatch(1);
    TinyOrigin origin = ferry.track(oneResponsePerConnection(closed));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(closed.await(5, TimeUnit.SECONDS)).isTrue();
      RawClient.RawResponse post = raw.send(
          "POST /order HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody").readResponse();
      assertThat(post.status()).isEqualTo(200);
    }
    assertThat(origin.takeRequest().requestLine()).startsWith("GET /1");
    TinyOrigin.Received retried = origin.takeRequest();
    assertThat(retried.requestLine()).startsWith("POST /order");
    assertThat(new String(retried.body(), StandardCharsets.ISO_8859_1)).isEqualTo("body");
    assertThat(origin.connectionCount()).isEqualTo(2);
  }

  /**
   * More requests in flight than the idle cap: the connections come back and are reused by the
   * next burst (closing those past the cap on return opened new ones for every burst), and the
   * excess is closed once it has been idle a while. On the threads' pool and on the event loops,
   * which keep their own, up to the cap each (the loops closed those past it on return).
   */
  @ParameterizedTest(name = "eventLoop={0}")
  @ValueSource(booleans = {false, true})
  void keepsABurstsConnectionsPastTheIdleCapUntilTheyIdle(boolean eventLoop) throws Exception {
    AtomicReference<CountDownLatch> gate = new AtomicReference<>();
    AtomicInteger open = new AtomicInteger();
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      open.incrementAndGet();
      try {
        while (self[0].readRequest(in) != null) {
          self[0].awaitGate(gate.get());
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
        }
      } finally {
        open.decrementAndGet();
      }
    }));
    TinyOrigin origin = self[0];
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .maxIdleUpstreamConnections(2).eventLoop(eventLoop));
    EventLoop[] loops = ((RealProxyServer) proxy).eventLoops();
    assertThat(loops != null).isEqualTo(eventLoop);
    List<RawClient> clients = new ArrayList<>();
    try {
      for (int i = 0; i < 6; i++) {
        clients.add(new RawClient(proxy.address()));
      }
      for (int burst = 0; burst < 2; burst++) {
        CountDownLatch release = new CountDownLatch(1);
        gate.set(release);
        for (RawClient client : clients) {
          client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        }
        for (int i = 0; i < clients.size(); i++) {
          origin.takeRequest();
        }
        release.countDown();
        for (RawClient client : clients) {
          assertThat(client.readResponse().bodyText()).isEqualTo("ok");
        }
        assertThat(origin.connectionCount()).as("upstream connections after burst %d", burst + 1).isEqualTo(6);
      }
      assertThat(proxy.stats().upstreamConnectionsReused()).isEqualTo(6);
      // Six clients, one after another, go to the loops in turn: the cap applies on each loop.
      int kept = loops == null ? 2 : Math.min(clients.size(), 2 * loops.length);
      Await.until(() -> open.get() == kept, "the idle connections past the cap to be closed");
    } finally {
      RawClient.closeAll(clients);
    }
  }
}
