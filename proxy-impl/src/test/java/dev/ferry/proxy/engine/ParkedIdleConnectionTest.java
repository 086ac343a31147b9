package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #14: on the bounded pool, an idle keep-alive connection waits on a selector without a
 * thread, so far more connections than threads stay open and are served when they speak again.
 * Under virtual threads too, so that an idle connection keeps no parked thread's stack. A few
 * (a quarter of the pool, 256 virtual threads) wait in a blocking read on their own thread
 * instead, bounded by the idle timeout through the I/O watchdog.
 */
class ParkedIdleConnectionTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @Test
  void keepsManyMoreIdleConnectionsThanThreadsAndServesEachAgain() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .concurrency(Concurrency.boundedPool(2, 0)));
    List<RawClient> clients = new ArrayList<>();
    try {
      for (int i = 0; i < 40; i++) {
        RawClient client = new RawClient(proxy.address());
        clients.add(client);
        assertThat(client.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
        Await.until(() -> proxy.stats().activeWorkers() == 0, "the connection to give its thread back");
      }
      assertThat(proxy.stats().activeConnections()).isEqualTo(40);
      for (RawClient client : clients) {
        assertThat(client.send("GET /again HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
        Await.until(() -> proxy.stats().activeWorkers() == 0, "the connection to park again");
      }
      assertThat(proxy.stats().connectionsRejected()).isZero();
    } finally {
      for (RawClient client : clients) {
        client.close();
      }
    }
  }

  @Test
  void virtualThreadsHoldAtMost256IdleConnectionsAndParkTheRest() throws Exception {
    assumeTrue(Runtime.version().feature() >= 21, "virtual threads need Java 21+");
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .concurrency(Concurrency.virtualThreads()));
    List<RawClient> clients = new ArrayList<>();
    try {
      for (int i = 0; i < 264; i++) {
        RawClient client = new RawClient(proxy.address());
        clients.add(client);
        assertThat(client.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      }
      Await.until(() -> proxy.stats().activeWorkers() == 256, "all but 256 idle connections to give up their threads");
      assertThat(proxy.stats().activeConnections()).isEqualTo(264);
      for (RawClient client : clients) {
        assertThat(client.send("GET /again HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
      }
      Await.until(() -> proxy.stats().activeWorkers() == 256, "the connections past the cap to park again");
    } finally {
      for (RawClient client : clients) {
        client.close();
      }
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "closed connections to end, held or parked");
  }

  @Test
  void idleConnectionsHoldAtMostAQuarterOfThePool() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .concurrency(Concurrency.boundedPool(8, 0)));
    List<RawClient> clients = new ArrayList<>();
    try {
      for (int i = 0; i < 12; i++) {
        RawClient client = new RawClient(proxy.address());
        clients.add(client);
        assertThat(client.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
        int held = Math.min(i + 1, 2);
        Await.until(() -> proxy.stats().activeWorkers() == held, "all but two idle connections to give their threads back");
      }
      for (RawClient client : clients) {
        assertThat(client.send("GET /again HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
        Await.until(() -> proxy.stats().activeWorkers() == 2, "the connections past the cap to park again");
      }
      assertThat(proxy.stats().connectionsRejected()).isZero();
    } finally {
      for (RawClient client : clients) {
        client.close();
      }
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "closed connections to end, held or parked");
  }

  @Test
  void closesHeldConnectionsAtTheIdleTimeout() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .concurrency(Concurrency.boundedPool(8, 0)).idleTimeout(Duration.ofMillis(600)));
    try (RawClient client = new RawClient(proxy.address())) {
      assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      long served = System.nanoTime();
      assertThat(client.input().read()).isEqualTo(-1);
      assertThat(Duration.ofNanos(System.nanoTime() - served)).isGreaterThan(Duration.ofMillis(500));
    }
    Await.until(() -> proxy.stats().activeConnections() == 0 && proxy.stats().activeWorkers() == 0,
        "the held connection to end and free its thread");
  }

  @Test
  void closesParkedConnectionsAtTheIdleTimeout() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .concurrency(Concurrency.boundedPool(2, 0)).idleTimeout(Duration.ofMillis(600)));
    try (RawClient client = new RawClient(proxy.address())) {
      assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      Await.until(() -> proxy.stats().activeWorkers() == 0, "the connection to park");
      assertThat(client.input().read()).isEqualTo(-1);
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the parked connection to end");
  }
}
