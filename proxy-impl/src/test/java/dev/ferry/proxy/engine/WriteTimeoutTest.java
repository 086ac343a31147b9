package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #8 item 2: a peer that stops reading cannot pin a connection task. Every write (to a
 * client, to an upstream, in a tunnel) that makes no progress within the write timeout has its
 * socket closed by the watchdog, and the thread goes back to serving others.
 */
class WriteTimeoutTest {
  private static final Duration WRITE_TIMEOUT = Duration.ofMillis(500);
  private static final byte[] MEGABYTE = new byte[1 << 20];

  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  /** An origin that answers /big with an endless body (until its peer gives up), else "ok". */
  private TinyOrigin endlessBody() throws IOException {
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      TinyOrigin.Received request;
      while ((request = self[0].readRequest(in)) != null) {
        if (!request.requestLine().contains("/big")) {
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
          continue;
        }
        out.write("HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        while (true) {
          out.write(MEGABYTE);
        }
      }
    }));
    return self[0];
  }

  /** An origin that accepts connections and never reads from them. */
  private TinyOrigin neverReads() throws IOException {
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> self[0].awaitQuiet(30_000)));
    return self[0];
  }

  private static Socket stalledClient(ProxyServer proxy) throws IOException {
    Socket socket = new Socket();
    socket.setReceiveBufferSize(4096);
    socket.connect(proxy.address(), 5000);
    return socket;
  }

  @Test
  void closesClientThatStopsReadingAndServesTheNext() throws Exception {
    TinyOrigin origin = endlessBody();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .concurrency(Concurrency.boundedPool(1, 0)).writeTimeout(WRITE_TIMEOUT));
    try (Socket stalled = ferry.track(stalledClient(proxy))) {
      stalled.getOutputStream().write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      Await.until(() -> proxy.stats().writeTimeouts() >= 1, "a write timeout on the stalled client");
      Await.until(() -> proxy.stats().activeConnections() == 0, "the stalled connection to end");
    }
    // Named after the proxy that cut it, not the client, which closed nothing.
    Await.until(() -> proxy.stats().failures().containsKey("WRITE_TIMEOUT"), "the exchange counted as WRITE_TIMEOUT");
    assertThat(proxy.stats().failures()).doesNotContainKey("CLIENT_CLOSED");
    // The only pool thread is free again (it ends the connection before it returns to the pool).
    Await.until(() -> proxy.stats().activeWorkers() == 0, "the pool thread to be free");
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /small HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
    }
  }

  /**
   * The connection cut for a write timeout is reset, not closed: the response can never be
   * delivered, and the kernel should not keep the unsent part for a peer that reads nothing.
   */
  @Test
  void resetsTheConnectionOfAClientThatStopsReading() throws Exception {
    TinyOrigin origin = endlessBody();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .writeTimeout(WRITE_TIMEOUT));
    try (Socket stalled = ferry.track(stalledClient(proxy))) {
      stalled.getOutputStream().write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      Await.until(() -> proxy.stats().writeTimeouts() >= 1, "a write timeout on the stalled client");
      assertEndsInAReset(stalled);
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the stalled connection to end");
  }

  /**
   * The write timeout ends a peer that takes nothing for that long, not one that reads on slower
   * than a whole write lasts: a cache hit's body went out in one gathering write, whose deadline
   * covered all of it, and a client reading an 8 MiB hit steadily at about 2 MiB/s was reset after
   * the timeout (probe gw1). Writes now go out in pieces, each piece's progress restarting the clock.
   */
  @Test
  void keepsAClientThatReadsALargeCacheHitSlowerThanTheTimeoutButSteadily() throws Exception {
    byte[] body = new byte[8 << 20];
    java.util.Arrays.fill(body, (byte) 'x');
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      while (self[0].readRequest(in) != null) {
        out.write(("HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: " + body.length + "\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
      }
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(self[0].url("/")))
        .cache(dev.ferry.proxy.CacheSpec.inMemory().maxSizeBytes(32L << 20).maxEntryBytes(16 << 20)).writeTimeout(Duration.ofSeconds(2)));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().header("X-Cache")).isEqualTo("MISS");
    }
    try (Socket slow = ferry.track(stalledClient(proxy))) {
      slow.setSoTimeout(10_000);
      slow.getOutputStream().write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = slow.getInputStream();
      byte[] piece = new byte[16 * 1024];
      long received = 0;
      long headBytes = -1;
      long started = System.nanoTime();
      // About 2 MiB/s: 4 s for the body, twice the write timeout; a 256 KiB piece takes 125 ms.
      for (int n; (headBytes < 0 || received < headBytes + body.length) && (n = in.read(piece)) >= 0; ) {
        if (headBytes < 0) {
          // The head is small and comes first: it ends in the first read.
          headBytes = new String(piece, 0, n, StandardCharsets.ISO_8859_1).indexOf("\r\n\r\n") + 4;
          assertThat(new String(piece, 0, n, StandardCharsets.ISO_8859_1)).contains("X-Cache: HIT");
        }
        received += n;
        long due = started + received * 1_000_000_000L / (2 << 20);
        java.util.concurrent.locks.LockSupport.parkNanos(due - System.nanoTime());
      }
      assertThat(received).as("the whole hit, head and body").isEqualTo(headBytes + body.length);
    }
    assertThat(proxy.stats().writeTimeouts()).isZero();
    assertThat(proxy.stats().failures()).doesNotContainKey("WRITE_TIMEOUT");
  }

  /** A write to a client that stopped reading, cut because the stop's grace ran out, is the stop's failure. */
  @Test
  void namesAWriteCutByTheStopAfterTheStop() throws Exception {
    TinyOrigin origin = endlessBody();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (Socket stalled = ferry.track(stalledClient(proxy))) {
      stalled.getOutputStream().write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      Await.until(() -> proxy.stats().activeExchanges() == 1, "the response to be under way");
      proxy.stop(Duration.ofMillis(300));
    }
    assertThat(proxy.stats().failures()).containsEntry("PROXY_STOPPED", 1L).doesNotContainKey("CLIENT_CLOSED");
  }

  /**
   * The same over the TLS listener: the write blocked inside the TLS layer is ended too (the
   * close does not wait for it to send close_notify), and the one thread serves the next client.
   */
  @Test
  void closesTlsClientThatStopsReadingAndServesTheNext() throws Exception {
    TinyOrigin origin = endlessBody();
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .tls(dev.ferry.proxy.ServerTls.keyStore(certificates.keyStore(), TestCertificates.password()))
        .concurrency(Concurrency.boundedPool(1, 0)).writeTimeout(WRITE_TIMEOUT));
    try (Socket plain = ferry.track(stalledClient(proxy));
        javax.net.ssl.SSLSocket stalled = (javax.net.ssl.SSLSocket) certificates.trustingContext()
            .getSocketFactory().createSocket(plain, "localhost", proxy.port(), true)) {
      stalled.startHandshake();
      stalled.getOutputStream().write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      stalled.getOutputStream().flush();
      Await.until(() -> proxy.stats().writeTimeouts() >= 1, "a write timeout on the stalled TLS client");
      Await.until(() -> proxy.stats().activeConnections() == 0, "the stalled connection to end");
    }
    Await.until(() -> proxy.stats().activeWorkers() == 0, "the pool thread to be free");
    try (RawClient raw = new RawClient(proxy.address(), certificates.trustingContext())) {
      assertThat(raw.send("GET /small HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
    }
  }

  @Test
  void failsRequestWhoseUpstreamStopsReadingTheBody() throws Exception {
    TinyOrigin origin = neverReads();
    ProxyServer proxy = ferry.start(streamingBodies().upstream(Upstream.of(origin.url("/")))
        .writeTimeout(WRITE_TIMEOUT));
    try (RawClient raw = new RawClient(proxy.address())) {
      Thread writer = startUpload(raw);
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.status()).isEqualTo(504);
      assertThat(response.header("Connection")).isEqualTo("close");
      writer.join(10_000);
    }
    assertThat(proxy.stats().writeTimeouts()).isGreaterThanOrEqualTo(1);
  }

  /**
   * RFC 9112 §9.5: an upstream that answers before reading the body, then stops reading, has
   * its answer relayed once the blocked write gives way to it, well before the write timeout.
   */
  @Test
  void relaysAnAnswerTheUpstreamSentBeforeReadingTheBody() throws Exception {
    TinyOrigin[] self = new TinyOrigin[1];
    TinyOrigin origin = self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      while (!TinyOrigin.readLine(in).isEmpty()) {
        // The head only: the body is never read.
      }
      out.write(("HTTP/1.1 413 Content Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\n"
          + "too large").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      socket.shutdownOutput();
      self[0].awaitQuiet(30_000);
    }));
    ProxyServer proxy = ferry.start(streamingBodies().upstream(Upstream.of(origin.url("/")))
        .writeTimeout(Duration.ofSeconds(10)));
    try (RawClient raw = new RawClient(proxy.address())) {
      Thread writer = startUpload(raw);
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.status()).isEqualTo(413);
      assertThat(response.bodyText()).isEqualTo("too large");
      assertThat(response.header("Connection")).isEqualTo("close");
      writer.join(10_000);
    }
    assertThat(proxy.stats().writeTimeouts()).isZero();
  }

  /**
   * The lingering close of a server that answers an upload early (Apache's, nginx's): it reads on
   * a while after its answer, then closes with the body still coming, which resets the
   * connection. The proxy's next body write fails, and the answer it has not read yet is what
   * the client gets, not a 502 for a connection "closed without a complete response".
   */
  @Test
  void relaysAnAnswerTheUpstreamSentBeforeClosingOnTheBody() throws Exception {
    CountDownLatch originClosed = new CountDownLatch(1);
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> {
      while (!TinyOrigin.readLine(in).isEmpty()) {
        // The head only.
      }
      out.write(("HTTP/1.1 413 Content Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\n"
          + "too large").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      socket.shutdownOutput();
      in.readNBytes(1000);
      socket.setSoLinger(true, 0);
      socket.close();
      originClosed.countDown();
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      // Expect streams the body upstream as it comes, rather than receiving it whole first.
      raw.send("POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 200000\r\n\r\n");
      assertThat(raw.readResponse(true).status()).isEqualTo(100);
      raw.output().write(new byte[2000]);
      raw.output().flush();
      assertThat(originClosed.await(10, TimeUnit.SECONDS)).as("the origin to close").isTrue();
      Thread writer = new Thread(() -> {
        try {
          for (int i = 0; i < 99; i++) {
            raw.output().write(new byte[2000]);
            raw.output().flush();
          }
        } catch (IOException expected) {
          // The proxy may close the connection once it has answered.
        }
      }, "test-upload");
      writer.setDaemon(true);
      writer.start();

      RawClient.RawResponse response = raw.readResponse();

      assertThat(response.status()).isEqualTo(413);
      assertThat(response.bodyText()).isEqualTo("too large");
      assertThat(response.header("Connection")).isEqualTo("close");
      writer.join(10_000);
    }
  }

  /**
   * A proxy that awaits no body whole: an upload streams upstream as it arrives, and one left
   * unread is the client's to send still, so the answer closes the connection.
   */
  private static ProxyServer.Builder streamingBodies() {
    return ProxyServer.builder().requestBufferBytes(0).requestSpoolBytes(0);
  }

  /** Reads what reached {@code client} before the cut, which must end in a reset, not an end of stream. */
  /** Reads what {@code client} was sent until the connection ends, which must be a reset. */
  static void assertEndsInAReset(Socket client) throws IOException {
    client.setSoTimeout(10_000);
    InputStream in = client.getInputStream();
    byte[] buffer = new byte[65536];
    assertThatThrownBy(() -> {
      while (in.read(buffer) >= 0) {
        // What the proxy sent before it gave up on the client.
      }
    }).as("the connection to end in a reset").isInstanceOf(java.net.SocketException.class)
        .hasMessageContaining("reset");
  }

  /** Sends the head of a 256 MiB POST, then its body from a thread of its own. */
  private static Thread startUpload(RawClient raw) throws IOException {
    long length = 256L << 20;
    raw.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: " + length + "\r\n\r\n");
    Thread writer = new Thread(() -> {
      try {
        for (long sent = 0; sent < length; sent += MEGABYTE.length) {
          raw.output().write(MEGABYTE);
        }
      } catch (IOException expected) {
        // The proxy gives up on this request and closes the connection.
      }
    }, "test-upload");
    writer.setDaemon(true);
    writer.start();
    return writer;
  }

  /** In a tunnel too, the side that stopped taking bytes is reset when its write times out. */
  @Test
  void resetsTheClientOfATunnelThatStopsReading() throws Exception {
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> {
      while (true) {
        out.write(MEGABYTE);
      }
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().writeTimeout(WRITE_TIMEOUT)
        .allowAnyConnectPort());
    try (Socket client = ferry.track(stalledClient(proxy))) {
      client.getOutputStream().write(("CONNECT 127.0.0.1:" + origin.port()
          + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      Await.until(() -> proxy.stats().writeTimeouts() >= 1, "a write timeout in the tunnel");
      assertEndsInAReset(client);
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the tunnel's connection to end");
  }

  /**
   * Over the TLS listener (a tunnel on two threads) too: the client that stopped taking bytes
   * ends the tunnel at the write timeout, whatever its idle timeout (60 s here), now that a write
   * under way keeps the other direction from taking the tunnel for idle.
   */
  @Test
  void endsATunnelOverTheTlsListenerWhoseClientStopsReading() throws Exception {
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> {
      while (true) {
        out.write(MEGABYTE);
      }
    }));
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    ProxyServer proxy = ferry.start(ProxyServer.builder().writeTimeout(WRITE_TIMEOUT).allowAnyConnectPort()
        .tls(dev.ferry.proxy.ServerTls.keyStore(certificates.keyStore(), TestCertificates.password())));
    try (Socket plain = ferry.track(stalledClient(proxy))) {
      javax.net.ssl.SSLSocket tls = (javax.net.ssl.SSLSocket) certificates.trustingContext().getSocketFactory()
          .createSocket(plain, "localhost", proxy.port(), true);
      tls.startHandshake();
      tls.getOutputStream().write(("CONNECT 127.0.0.1:" + origin.port()
          + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      tls.getOutputStream().flush();
      Await.until(() -> proxy.stats().writeTimeouts() >= 1, "a write timeout in the tunnel");
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the tunnel's connection to end");
  }

  @Test
  void closesTunnelWhoseTargetStopsReading() throws Exception {
    TinyOrigin origin = neverReads();
    ProxyServer proxy = ferry.start(ProxyServer.builder().writeTimeout(WRITE_TIMEOUT)
        .allowAnyConnectPort());
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      assertThat(raw.readResponse(true).status()).isEqualTo(200);
      OutputStream out = raw.output();
      InputStream in = raw.input();
      try {
        for (int i = 0; i < 256; i++) {
          out.write(MEGABYTE);
        }
      } catch (IOException expected) {
        // The proxy closed the tunnel under the stalled write.
      }
      assertThat(in.read()).isEqualTo(-1);
    } catch (java.net.SocketException reset) {
      // A reset instead of an end of stream also shows the tunnel was closed.
    }
    Await.until(() -> proxy.stats().writeTimeouts() >= 1, "a write timeout in the tunnel");
    Await.until(() -> proxy.stats().activeConnections() == 0, "the tunnel's connection to end");
  }
}
