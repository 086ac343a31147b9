package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.ServerTls;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.route.LivePool;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A client that leaves while its request waits for the upstream's answer: the exchange is
 * abandoned within about a second (its thread and its upstream connection freed), as nginx does.
 * Before, both were held until the upstream timeout: a few hundred clients that asked a stalled
 * upstream and reset held a bounded pool's every thread for a minute (resources probe).
 */
class ClientGoneTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  /** A bounded pool of two threads, one of them the exchange's: half busy. */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void abandonsTheExchangeOfAClientThatLeavesBeforeTheAnswer(boolean reset) throws Exception {
    assertNothingHeldOnceTheClientLeaves(Concurrency.boundedPool(2, 16), reset);
  }

  /**
   * Without a selector to watch the client on ({@code threadPerConnection} parks nothing), the
   * exchange's thread looks between waits of a second once half the threads are busy.
   */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void abandonsTheExchangeOfAClientThatLeavesWithoutASelector(boolean reset) throws Exception {
    assertNothingHeldOnceTheClientLeaves(Concurrency.threadPerConnection(2), reset);
  }

  /**
   * With threads to spare (the default concurrency, nothing crowded), a client that leaves is
   * noticed all the same: its socket is watched on the parker's selector once the wait passes a
   * second. Before, only half-busy platform threads or a crowded pool had it looked for, so it
   * held its thread, its upstream connection and a CLOSE-WAIT socket until the upstream timeout,
   * a minute (soak probe F1).
   */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void abandonsTheExchangeOfAClientThatLeavesWithThreadsToSpare(boolean reset) throws Exception {
    assertNothingHeldOnceTheClientLeaves(Concurrency.auto(), reset);
  }

  /**
   * A client leaves (a FIN, or a reset) while an origin that never answers holds its request:
   * the exchange is abandoned, and neither a task nor an upstream connection is held after it.
   */
  private void assertNothingHeldOnceTheClientLeaves(Concurrency concurrency, boolean reset) throws Exception {
    try (ServerSocket origin = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
      origin.setSoTimeout(10_000); // a missed connection fails the test instead of hanging it
      ProxyServer proxy = ferry.start(ProxyServer.builder()
          .upstream(Upstream.of("http://127.0.0.1:" + origin.getLocalPort())).concurrency(concurrency));
      leaveWhileTheUpstreamWaits(proxy, origin, reset);
      Await.until(() -> proxy.stats().activeExchanges() == 0 && proxy.stats().upstreamConnectionsOpen() == 0
          && proxy.stats().activeWorkers() == 0, Duration.ofSeconds(10), () -> "nothing held: " + proxy.stats());
    }
  }

  /**
   * A TLS client that leaves sends a {@code close_notify} before its FIN: bytes to read, which
   * the watch decrypts to tell the alert from a pipelined request. Taken for a client still there,
   * its exchange would wait for the upstream timeout. A record before it that is no data leaves
   * the socket watched.
   */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void abandonsTheExchangeOfATlsClientThatLeaves(boolean updatesKeysFirst) throws Exception {
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    try (ServerSocket origin = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
      origin.setSoTimeout(10_000); // a missed connection fails the test instead of hanging it
      ProxyServer proxy = ferry.start(ProxyServer.builder()
          .tls(ServerTls.keyStore(certificates.keyStore(), TestCertificates.password()))
          .upstream(Upstream.of("http://127.0.0.1:" + origin.getLocalPort())));
      RawClient client = new RawClient(proxy.address(), certificates.trustingContext());
      client.send("GET /stalled HTTP/1.1\r\nHost: a\r\n\r\n");
      try (Socket upstream = origin.accept()) {
        assertThat(TinyOrigin.readLine(upstream.getInputStream())).isEqualTo("GET /stalled HTTP/1.1");
        slowUpstream();
        if (updatesKeysFirst) {
          // A record that is no data (a TLS 1.3 KeyUpdate, as a Java client's user_canceled
          // alert before its close_notify) tells neither way: the socket stays watched. It
          // ended the watch, and the close after it went unnoticed.
          ((javax.net.ssl.SSLSocket) client.socket()).startHandshake();
          slowUpstream(); // the client lingers a while after it, then leaves
        }
        client.close();
        awaitAbandoned(proxy);
      }
    }
  }

  /**
   * A client still there when a slow answer comes gets it, and its connection serves on: the
   * watch gave its socket back in blocking mode. A request it pipelined meanwhile (bytes that
   * woke the watch) is the connection's next, not lost and not taken for a departure.
   */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void answersAClientThatWaitedPastTheWatch(boolean pipelines) throws Exception {
    try (ServerSocket origin = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
      origin.setSoTimeout(10_000); // a missed connection fails the test instead of hanging it
      ProxyServer proxy = ferry.start(ProxyServer.builder()
          .upstream(Upstream.of("http://127.0.0.1:" + origin.getLocalPort())));
      try (RawClient client = new RawClient(proxy.address())) {
        client.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
        try (Socket upstream = origin.accept()) {
          InputStream fromProxy = upstream.getInputStream();
          assertThat(TinyOrigin.readLine(fromProxy)).isEqualTo("GET /slow HTTP/1.1");
          while (!TinyOrigin.readLine(fromProxy).isEmpty()) {
            // the rest of the head
          }
          slowUpstream();
          if (pipelines) {
            client.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
            slowUpstream();
          }
          upstream.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow"
              .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
          RawClient.RawResponse slow = client.readResponse();
          assertThat(slow.status()).isEqualTo(200);
          assertThat(new String(slow.body(), java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("slow");
          if (!pipelines) {
            client.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
          }
          assertThat(TinyOrigin.readLine(fromProxy)).as("the next request, on the same connections")
              .isEqualTo("GET /next HTTP/1.1");
          while (!TinyOrigin.readLine(fromProxy).isEmpty()) {
            // the rest of the head
          }
          upstream.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
              .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
          assertThat(client.readResponse().status()).isEqualTo(200);
        }
      }
      assertThat(proxy.stats().failures()).doesNotContainKey("CLIENT_CLOSED");
    }
  }

  /**
   * A departed client gives back its pool's scarce slot. A client that left a slow upstream held
   * the only slot of {@code maxRequests(1)} until the answer came, logged 200, and the next client
   * was refused 503 POOL_OVERLOADED (probe g28).
   */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void freesTheCrowdedPoolSlotOfAClientThatLeaves(boolean reset) throws Exception {
    try (ServerSocket origin = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
      origin.setSoTimeout(10_000); // a missed connection fails the test instead of hanging it
      ProxyServer proxy = ferry.start(ProxyServer.builder()
          .upstream(Upstream.of("http://127.0.0.1:" + origin.getLocalPort()).maxRequests(1)));
      leaveWhileTheUpstreamWaits(proxy, origin, reset);
      try (RawClient next = new RawClient(proxy.address())) {
        next.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
        try (Socket upstream = origin.accept()) {
          assertThat(TinyOrigin.readLine(upstream.getInputStream())).isEqualTo("GET /next HTTP/1.1");
          upstream.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
              .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
          assertThat(next.readResponse().status()).as("the slot was freed").isEqualTo(200);
        }
      }
      assertThat(proxy.stats().failures()).doesNotContainKey("POOL_OVERLOADED");
    }
  }

  /**
   * A request waiting for a pool connection whose client leaves meanwhile is never sent, a POST
   * with its body buffered whole included: it reached the origin seconds after its client left,
   * and held the only connection meanwhile (probe v36).
   */
  @Test
  void neverSendsARequestWhoseClientLeftWhileItWaitedForAConnection() throws Exception {
    try (ServerSocket origin = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
      origin.setSoTimeout(10_000); // a missed connection fails the test instead of hanging it
      // Platform threads: the test sees the POST's thread wait for the pool connection.
      ProxyServer proxy = ferry.start(ProxyServer.builder().concurrency(Concurrency.boundedPool(8, 8))
          .upstream(Upstream.of("http://127.0.0.1:" + origin.getLocalPort()).maxConnections(1).maxPendingRequests(5)));
      try (RawClient first = new RawClient(proxy.address())) {
        first.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n");
        try (Socket upstream = origin.accept()) {
          InputStream fromProxy = upstream.getInputStream();
          assertThat(TinyOrigin.readLine(fromProxy)).isEqualTo("GET /first HTTP/1.1");
          while (!TinyOrigin.readLine(fromProxy).isEmpty()) {
            // the rest of the head
          }
          RawClient leaving = new RawClient(proxy.address());
          leaving.send("POST /order HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody");
          Await.until(ClientGoneTest::aRequestWaitsForAPoolConnection, "the POST to wait for the connection");
          leaving.close();
          upstream.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
              .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
          assertThat(first.readResponse().status()).isEqualTo(200);
          Await.until(() -> proxy.stats().failures().getOrDefault("CLIENT_CLOSED", 0L) == 1,
              Duration.ofSeconds(10), () -> "the POST to be dropped: " + proxy.stats());
          first.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
          assertThat(TinyOrigin.readLine(fromProxy)).as("the next request on the connection, not the POST")
              .isEqualTo("GET /next HTTP/1.1");
        }
      }
    }
  }

  /**
   * A client that leaves while a slow filter (an injected latency, a remote authorisation) holds
   * its request has nothing sent upstream for it: it reached the origin after the client left
   * (probe t28).
   */
  @Test
  void neverSendsARequestWhoseClientLeftDuringASlowFilter() throws Exception {
    CountDownLatch clientLeft = new CountDownLatch(1);
    try (ServerSocket origin = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
      origin.setSoTimeout(10_000); // a missed connection fails the test instead of hanging it
      ProxyServer proxy = ferry.start(ProxyServer.builder()
          .upstream(Upstream.of("http://127.0.0.1:" + origin.getLocalPort()))
          .filter((exchange, chain) -> {
            if (exchange.request().target().equals("/slow")) {
              holdOverASecondUntil(clientLeft);
            }
            return chain.proceed(exchange.request());
          }));
      RawClient leaving = new RawClient(proxy.address());
      leaving.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
      Await.until(() -> proxy.stats().activeExchanges() == 1, "the slow filter to hold the request");
      leaving.close();
      clientLeft.countDown();
      Await.until(() -> proxy.stats().failures().getOrDefault("CLIENT_CLOSED", 0L) == 1,
          Duration.ofSeconds(10), () -> "the request to be dropped: " + proxy.stats());
      try (RawClient next = new RawClient(proxy.address())) {
        next.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
        try (Socket upstream = origin.accept()) {
          assertThat(TinyOrigin.readLine(upstream.getInputStream()))
              .as("the next request is the first the origin sees").isEqualTo("GET /next HTTP/1.1");
          upstream.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
              .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
          assertThat(next.readResponse().status()).isEqualTo(200);
        }
      }
    }
  }

  /** Waits for the one exchange of {@code proxy} to be abandoned, its upstream connection closed. */
  static void awaitAbandoned(ProxyServer proxy) {
    Await.until(() -> proxy.stats().failures().getOrDefault("CLIENT_CLOSED", 0L) == 1
        && proxy.stats().activeExchanges() == 0 && proxy.stats().upstreamConnectionsOpen() == 0,
        Duration.ofSeconds(10), () -> "the exchange to be abandoned: " + proxy.stats());
  }

  /** An upstream slow to answer: past the second after which the client is watched, and a sweep. */
  private static void slowUpstream() throws InterruptedException {
    TimeUnit.MILLISECONDS.sleep(DepartureWatch.AFTER_NANOS / 1_000_000 + 300);
  }

  /** A slow filter: over the second after which the client is looked for, and until {@code event}. */
  private static void holdOverASecondUntil(CountDownLatch event) throws InterruptedIOException {
    long started = System.nanoTime();
    try {
      event.await(10, TimeUnit.SECONDS);
      long rest = TimeUnit.MILLISECONDS.toNanos(1_100) - (System.nanoTime() - started);
      if (rest > 0) {
        TimeUnit.NANOSECONDS.sleep(rest);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("stopped");
    }
  }

  private static boolean aRequestWaitsForAPoolConnection() {
    return Thread.getAllStackTraces().values().stream().flatMap(Arrays::stream)
        .anyMatch(frame -> frame.getClassName().equals(LivePool.class.getName())
            && frame.getMethodName().equals("acquireConnection"));
  }

  /**
   * A client asks {@code origin}, which never answers, and leaves (a FIN, or a reset); returns
   * once the proxy has abandoned the exchange and closed its upstream connection.
   */
  private static void leaveWhileTheUpstreamWaits(ProxyServer proxy, ServerSocket origin, boolean reset)
      throws Exception {
    RawClient client = new RawClient(proxy.address());
    client.send("GET /stalled HTTP/1.1\r\nHost: a\r\n\r\n");
    try (Socket upstream = origin.accept()) {
      InputStream fromProxy = upstream.getInputStream();
      assertThat(TinyOrigin.readLine(fromProxy)).isEqualTo("GET /stalled HTTP/1.1");
      if (reset) {
        client.socket().setSoLinger(true, 0);
      }
      client.close();
      Await.until(() -> proxy.stats().failures().getOrDefault("CLIENT_CLOSED", 0L) == 1,
          Duration.ofSeconds(10), () -> "the exchange to be abandoned: " + proxy.stats());
      while (TinyOrigin.readLine(fromProxy) != null) {
        // the rest of the head, then the end: the proxy closed the upstream connection
      }
    }
  }
}
