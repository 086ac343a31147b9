package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.ExchangeListener;
import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.RegisterExtension;

/** CONNECT tunnels and protocol upgrades: bytes relayed both ways until a side closes. */
class TunnelTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private ProxyServer proxy;

  /** A forward proxy that tunnels to any port: CONNECT goes only to 443 by default. */
  private static ProxyServer.Builder connectingToTestPorts() {
    return ProxyServer.builder().allowAnyConnectPort();
  }

  private static TinyOrigin echo() throws Exception {
    return new TinyOrigin((socket, in, out) -> in.transferTo(out));
  }

  @Test
  void tunnelsBytesBothWaysAfterConnect() throws Exception {
    TinyOrigin origin = ferry.track(echo());
    proxy = ferry.start(connectingToTestPorts());
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: 127.0.0.1:"
          + origin.port() + "\r\n\r\n");
      RawClient.RawResponse established = raw.readResponse(true);
      assertThat(established.status()).isEqualTo(200);
      assertThat(established.header("Content-Length")).isNull();
      raw.send("ping through the tunnel");
      assertThat(new String(raw.input().readNBytes(23), StandardCharsets.UTF_8))
          .isEqualTo("ping through the tunnel");
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "tunnel to close after the client");
  }

  /**
   * Stopping closes a tunnel at rest (its upstream spoke last, then nothing) like an idle
   * keep-alive connection, instead of holding the stop for its grace; one whose request awaits
   * its answer is not cut.
   */
  @Test
  void closesATunnelAtRestWhenStoppingAndLetsABusyOneFinish() throws Exception {
    CountDownLatch asked = new CountDownLatch(1);
    CountDownLatch answer = new CountDownLatch(1);
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> {
      byte[] word = new byte[4];
      while (in.readNBytes(word, 0, 4) == 4) {
        if (new String(word, StandardCharsets.US_ASCII).equals("slow")) {
          asked.countDown();
          try {
            answer.await();
          } catch (InterruptedException e) {
            throw new java.io.InterruptedIOException("the test ended");
          }
        }
        out.write(word);
        out.flush();
      }
    }));
    proxy = ferry.start(connectingToTestPorts());
    try (RawClient resting = tunnelTo(origin); RawClient busy = tunnelTo(origin)) {
      resting.send("ping");
      assertThat(resting.input().readNBytes(4)).isEqualTo("ping".getBytes(StandardCharsets.US_ASCII));
      busy.send("slow");
      assertThat(asked.await(10, TimeUnit.SECONDS)).isTrue();
      CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> proxy.stop(Duration.ofSeconds(30)));
      assertThat(resting.input().read()).as("the tunnel at rest closed").isEqualTo(-1);
      assertThat(stopping).as("the busy tunnel holds the stop").isNotDone();
      answer.countDown();
      assertThat(busy.input().readNBytes(4)).isEqualTo("slow".getBytes(StandardCharsets.US_ASCII));
      stopping.get(10, TimeUnit.SECONDS); // well inside the 30 s grace: nothing waited for it
      assertThat(proxy.stats().failures()).doesNotContainKey("PROXY_STOPPED");
    } finally {
      answer.countDown();
    }
  }

  /**
   * A tunnel on a TLS socket at rest closes at a stop as a relayed one does: through the TLS
   * listener it held the stop for its whole grace (probe v14).
   */
  @Test
  void closesATunnelAtRestOverTheTlsListenerWhenStopping() throws Exception {
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> {
      byte[] word = new byte[4];
      while (in.readNBytes(word, 0, 4) == 4) {
        out.write(word);
        out.flush();
      }
    }));
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    proxy = ferry.start(connectingToTestPorts()
        .tls(dev.ferry.proxy.ServerTls.keyStore(certificates.keyStore(), TestCertificates.password())));
    try (RawClient resting = new RawClient(proxy.address(), certificates.trustingContext())) {
      resting.send("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(resting.readResponse(true).status()).isEqualTo(200);
      resting.send("ping");
      assertThat(resting.input().readNBytes(4)).isEqualTo("ping".getBytes(StandardCharsets.US_ASCII));
      // A thread of its own: the common pool may have none to spare on a small machine.
      CompletableFuture<Void> stopping = new CompletableFuture<>();
      new Thread(() -> {
        proxy.stop(Duration.ofSeconds(30));
        stopping.complete(null);
      }, "stopper").start();
      resting.socket().setSoTimeout(10_000);
      assertThat(resting.input().read()).as("the tunnel at rest closed").isEqualTo(-1);
      stopping.get(10, TimeUnit.SECONDS); // well inside the 30 s grace
      assertThat(proxy.stats().failures()).doesNotContainKey("PROXY_STOPPED");
    }
  }

  private RawClient tunnelTo(TinyOrigin origin) throws Exception {
    RawClient raw = new RawClient(proxy.address());
    raw.send("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(raw.readResponse(true).status()).isEqualTo(200);
    return raw;
  }

  @Test
  void endsTunnelWhenTargetCloses() throws Exception {
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> out.write("bye".getBytes())));
    proxy = ferry.start(connectingToTestPorts());
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.readResponse(true).status()).isEqualTo(200);
      assertThat(raw.input().readAllBytes()).isEqualTo("bye".getBytes());
    }
  }

  @Test
  void answers502WhenConnectTargetIsUnreachable() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    proxy = ferry.start(connectingToTestPorts());
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("CONNECT 127.0.0.1:" + closedPort + " HTTP/1.1\r\nHost: x\r\n\r\n");
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.status()).isEqualTo(502);
      assertThat(response.bodyText()).contains("Could not connect to origin server: 127.0.0.1:" + closedPort);
    }
  }

  /**
   * RFC 9110 §9.3.6: a 2xx to a CONNECT carries no framing and no content. A filter's 2xx the
   * proxy cannot tunnel (no interception) goes out as its head alone, then the connection closes:
   * its body would be taken for the tunnel's first bytes.
   */
  @Test
  void sendsAFiltersTwoHundredToAConnectWithoutFramingOrBody() throws Exception {
    proxy = ferry.start(connectingToTestPorts().filter((exchange, chain) ->
        exchange.request().method().equals("CONNECT")
            ? Response.builder().status(200).body(Body.of("hello")).build()
            : chain.proceed(exchange.request())));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: x\r\n\r\n");
      String all = new String(raw.input().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
      assertThat(all).startsWith("HTTP/1.1 200 ").endsWith("\r\n\r\n")
          .doesNotContainIgnoringCase("Content-Length").doesNotContainIgnoringCase("Transfer-Encoding")
          .doesNotContain("hello");
    }
  }

  @Test
  void rejectsConnectWithoutPort() throws Exception {
    proxy = ferry.start(ProxyServer.builder());
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
      assertThat(raw.readResponse().status()).isEqualTo(400);
    }
  }

  /**
   * RFC 3986 §3.2.2: an IPv6 literal is bracketed, and brackets hold nothing else; a registered
   * name has no {@code <} or {@code |}; and port 0 names no service (it used to be tried, and
   * answered 502 as if the upstream had failed).
   */
  @ParameterizedTest
  @ValueSource(strings = {"::1:443", "0:0:0:0:0:0:0:1:443", "[127.0.0.1]:443", "[::1]x:443", "ex]ample.com:443",
      "a<b.example:443", "a|b.example:443", "127.0.0.1:0", "127.0.0.1:00"})
  void rejectsConnectToAnInvalidAuthority(String target) throws Exception {
    proxy = ferry.start(connectingToTestPorts());
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("CONNECT " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.readResponse().status()).isEqualTo(400);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"Content-Length: 5\r\n\r\nhello",
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: internal\r\n\r\n"})
  void rejectsConnectWithContent(String framingAndBytes) throws Exception {
    TinyOrigin origin = ferry.track(echo());
    proxy = ferry.start(connectingToTestPorts());
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: x\r\n" + framingAndBytes);
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.status()).isEqualTo(400);
      assertThat(response.header("Connection")).isEqualTo("close");
    }
    assertThat(origin.connectionCount()).isZero();
  }

  @Test
  void relaysWebSocketUpgradeInReverseMode() throws Exception {
    TinyOrigin origin = ferry.track(upgradingEcho());
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    assertUpgradeWorks("GET /ws HTTP/1.1\r\nHost: a\r\n", origin);
  }

  @Test
  void relaysWebSocketUpgradeInForwardMode() throws Exception {
    TinyOrigin origin = ferry.track(upgradingEcho());
    proxy = ferry.start(ProxyServer.builder());
    assertUpgradeWorks("GET " + origin.url("/ws") + " HTTP/1.1\r\nHost: a\r\n", origin);
  }

  /**
   * Over a TLS listener the upgraded connection is relayed on two threads, one reading the
   * client's TLS while the other writes to it: bytes go both ways, many records' worth.
   */
  @Test
  void relaysWebSocketUpgradeOverTheTlsListener() throws Exception {
    TinyOrigin origin = ferry.track(upgradingEcho());
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .tls(dev.ferry.proxy.ServerTls.keyStore(certificates.keyStore(), TestCertificates.password())));
    try (RawClient raw = new RawClient(proxy.address(), certificates.trustingContext())) {
      assertUpgradeWorks(raw, "GET /ws HTTP/1.1\r\nHost: a\r\n", origin);
      byte[] large = "0123456789abcdef".repeat(10_000).getBytes(StandardCharsets.US_ASCII);
      Thread writer = new Thread(() -> {
        try {
          raw.send(large);
        } catch (java.io.IOException e) {
          throw new IllegalStateException(e);
        }
      });
      writer.start();
      assertThat(raw.input().readNBytes(large.length)).isEqualTo(large);
      writer.join(10_000);
    }
  }

  /**
   * A client's half-close over TLS ends its direction only: the upstream's answer still streams
   * to it while bytes pass, past the idle timeout. It was cut, with a clean end, one idle timeout
   * after the half-close (probe upgrade F1).
   */
  @Test
  void relaysTheUpstreamsAnswerAfterTheClientHalfClosesOverTheTlsListener() throws Exception {
    TinyOrigin origin = ferry.track(answeringAfterTheClientsEnd(
        new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())));
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .idleTimeout(Duration.ofMillis(600))
        .tls(dev.ferry.proxy.ServerTls.keyStore(certificates.keyStore(), TestCertificates.password())));
    try (RawClient raw = new RawClient(proxy.address(), certificates.trustingContext())) {
      assertHalfClosedClientGetsTheWholeAnswer(raw);
    }
  }

  /**
   * A half-close toward an https upstream is a half-close (close_notify, the socket still read),
   * not a close: the answer the upstream sends after the client's end still reaches the client
   * (probe upgrade F2).
   */
  @Test
  void passesAClientsHalfCloseToAnHttpsUpstreamAsAHalfClose() throws Exception {
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    TinyOrigin origin = ferry.track(answeringAfterTheClientsEnd(
        certificates.serverContext().getServerSocketFactory()
            .createServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of("https://localhost:" + origin.port() + "/"))
        .upstreamTls(dev.ferry.proxy.UpstreamTls.trusting(certificates.trustStore()))
        .idleTimeout(Duration.ofMillis(600)));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertHalfClosedClientGetsTheWholeAnswer(raw);
    }
  }

  /**
   * A tunnel to an https upstream that was sent close_notify (the client's half-close) and
   * neither answers it nor closes ends at its idle timeout, not one idle timeout later: closing
   * TLS 1.3 waited for the peer's close_notify for as long as the read timeout (probe tunnels2).
   */
  @Test
  void endsATunnelToASilentHttpsUpstreamAtTheIdleTimeout() throws Exception {
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    CountDownLatch done = new CountDownLatch(1);
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin(certificates.serverContext().getServerSocketFactory()
        .createServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress()), (socket, in, out) -> {
          self[0].readRequest(in);
          out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
          in.transferTo(OutputStream.nullOutputStream());
          self[0].awaitGate(done); // silent, and open, after the client's end
        }));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of("https://localhost:" + self[0].port() + "/"))
        .upstreamTls(dev.ferry.proxy.UpstreamTls.trusting(certificates.trustStore()))
        .idleTimeout(Duration.ofSeconds(1)));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
      assertThat(raw.readResponse(true).status()).isEqualTo(101);
      raw.shutdownOutput();
      assertThat(raw.input().read()).as("the tunnel's end, at the idle timeout").isEqualTo(-1);
      Await.until(() -> proxy.stats().activeConnections() == 0, Duration.ofMillis(500),
          () -> "the tunnel's connection to end with it, not an idle timeout later");
    } finally {
      done.countDown();
    }
  }

  private void assertHalfClosedClientGetsTheWholeAnswer(RawClient raw) throws IOException {
    raw.send("GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    assertThat(raw.readResponse(true).status()).isEqualTo(101);
    raw.send("last words");
    raw.shutdownOutput();
    assertThat(new String(raw.input().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("0123456");
  }

  /**
   * An origin that switches to websocket, reads until the client's end, then answers a byte every
   * 200 ms for longer than the proxy's idle timeout of 600 ms, and closes.
   */
  private static TinyOrigin answeringAfterTheClientsEnd(java.net.ServerSocket serverSocket) {
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = new TinyOrigin(serverSocket, (Socket socket, InputStream in, OutputStream out) -> {
      self[0].readRequest(in);
      out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      in.transferTo(OutputStream.nullOutputStream());
      for (int i = 0; i < 7; i++) {
        out.write('0' + i);
        out.flush();
        try {
          Thread.sleep(200); // the trickle is the input under test, not a synchronisation
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    });
    return self[0];
  }

  /**
   * A client reading a large answer slowly keeps its tunnel open: bytes waiting for it are no
   * idleness. The relay stopped reading the upstream for it and cut the tunnel, with a clean end,
   * one idle timeout later (probe tunnelflake F1).
   */
  @Test
  void keepsATunnelOpenWhileASlowClientTakesALargeAnswer() throws Exception {
    CompletableFuture<String> heard = new CompletableFuture<>();
    TinyOrigin origin = ferry.track(new TinyOrigin(largeAnswerHearing(heard)));
    proxy = ferry.start(connectingToTestPorts().idleTimeout(Duration.ofMillis(400)));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertSlowReaderGetsAllAndIsHeard(raw, origin, heard);
    }
  }

  /**
   * The same over the TLS listener, where the tunnel runs on two threads: the client's direction,
   * quiet while the other was blocked writing to the slow reader, took itself for idle and
   * half-closed the upstream, and what the client sent later was lost (probe tunnelflake F2).
   */
  @Test
  void keepsATunnelOverTheTlsListenerOpenWhileASlowClientTakesALargeAnswer() throws Exception {
    CompletableFuture<String> heard = new CompletableFuture<>();
    TinyOrigin origin = ferry.track(new TinyOrigin(largeAnswerHearing(heard)));
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    proxy = ferry.start(connectingToTestPorts().idleTimeout(Duration.ofMillis(400))
        .tls(dev.ferry.proxy.ServerTls.keyStore(certificates.keyStore(), TestCertificates.password())));
    try (RawClient raw = new RawClient(proxy.address(), certificates.trustingContext())) {
      assertSlowReaderGetsAllAndIsHeard(raw, origin, heard);
    }
  }

  private static final int LARGE_ANSWER = 6 << 20;

  /** Sends {@link #LARGE_ANSWER} bytes at once while it reads a line for {@code heard}. */
  private static TinyOrigin.Handler largeAnswerHearing(CompletableFuture<String> heard) {
    return (socket, in, out) -> {
      Thread reader = new Thread(() -> {
        try {
          heard.complete(TinyOrigin.readLine(in));
        } catch (IOException e) {
          heard.completeExceptionally(e);
        }
      });
      reader.start();
      byte[] piece = new byte[64 * 1024];
      for (int sent = 0; sent < LARGE_ANSWER; sent += piece.length) {
        Arrays.fill(piece, (byte) ('a' + sent / piece.length % 26));
        out.write(piece);
      }
      out.flush();
      try {
        reader.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
  }

  /** Reads the answer slowly, saying "late" a quarter of the way in, while the proxy still writes. */
  private void assertSlowReaderGetsAllAndIsHeard(RawClient raw, TinyOrigin origin, CompletableFuture<String> heard)
      throws Exception {
    raw.send("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(raw.readResponse(true).status()).isEqualTo(200);
    byte[] buffer = new byte[16 * 1024];
    int received = 0;
    boolean intact = true;
    while (received < LARGE_ANSWER) {
      int n = raw.input().read(buffer);
      if (n < 0) {
        break;
      }
      for (int i = 0; i < n; i++) {
        intact &= buffer[i] == (byte) ('a' + (received + i) / (64 * 1024) % 26);
      }
      if (received < LARGE_ANSWER / 4 && received + n >= LARGE_ANSWER / 4) {
        raw.send("late\n");
      }
      received += n;
      Thread.sleep(8); // the slow reader is the input under test, not a synchronisation
    }
    assertThat(received).as("bytes of the answer before the end").isEqualTo(LARGE_ANSWER);
    assertThat(intact).isTrue();
    assertThat(heard.get(10, TimeUnit.SECONDS)).as("what the client said on the way").isEqualTo("late");
  }

  /**
   * Open tunnels on TLS sockets hold no thread of a bounded pool: two idle ones took both
   * threads of a pool of two, and every later client got nothing at all (probe i14).
   */
  @Test
  void servesNewClientsWhileTunnelsOverTheTlsListenerHoldEveryPoolThreadsWorth() throws Exception {
    TinyOrigin origin = ferry.track(upgradingEcho());
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .concurrency(dev.ferry.proxy.Concurrency.boundedPool(2, 16))
        .tls(dev.ferry.proxy.ServerTls.keyStore(certificates.keyStore(), TestCertificates.password())));
    List<RawClient> open = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        RawClient raw = new RawClient(proxy.address(), certificates.trustingContext());
        open.add(raw);
        raw.socket().setSoTimeout(5_000);
        assertUpgradeWorks(raw, "GET /ws HTTP/1.1\r\nHost: a\r\n", origin);
      }
    } finally {
      RawClient.closeAll(open);
    }
    ferry.assertNoLeaks(proxy);
  }

  /**
   * A tunnel on a TLS connection's threads is reported when it opens, as one on the relay is:
   * a recording showed an intercepted {@code wss://} upgrade only once the socket closed (probe t14).
   */
  @Test
  void reportsAnUpgradeOverTheTlsListenerWhileItsTunnelIsOpen() throws Exception {
    TinyOrigin origin = ferry.track(upgradingEcho());
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    CountDownLatch upgraded = new CountDownLatch(1);
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .tls(dev.ferry.proxy.ServerTls.keyStore(certificates.keyStore(), TestCertificates.password()))
        .listener(new ExchangeListener() {
          @Override
          public void exchangeCompleted(ExchangeSummary summary) {
            if (summary.status() == 101) {
              upgraded.countDown();
            }
          }
        }));
    try (RawClient raw = new RawClient(proxy.address(), certificates.trustingContext())) {
      assertUpgradeWorks(raw, "GET /ws HTTP/1.1\r\nHost: a\r\n", origin);
      assertThat(upgraded.await(5, TimeUnit.SECONDS)).as("101 reported while the tunnel is open").isTrue();
      raw.send("still-open");
      assertThat(new String(raw.input().readNBytes(10), StandardCharsets.UTF_8)).isEqualTo("still-open");
    }
  }

  /**
   * A WebSocket's upstream connection is one of its pool's connections and requests in use until
   * the tunnel closes: past {@code maxRequests} the next upgrade is refused 503, and once the
   * tunnel ends the pool takes one again. Before, the pool's slots were given back when the 101
   * had been sent, and six WebSockets went through a pool of two (probe gateway2).
   */
  @Test
  void countsAWebSocketAgainstItsPoolUntilTheTunnelCloses() throws Exception {
    TinyOrigin origin = ferry.track(upgradingEcho());
    proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of(origin.url("/")).name("ws-pool").maxRequests(1).maxConnections(1)));
    try (RawClient first = new RawClient(proxy.address())) {
      assertUpgradeWorks(first, "GET /ws HTTP/1.1\r\nHost: a\r\n", origin);
      try (RawClient second = new RawClient(proxy.address())) {
        RawClient.RawResponse refused = askForWebSocket(second).readResponse();
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.bodyText()).contains("ws-pool");
      }
    }
    // The pool's slot comes back when the upstream end of the tunnel has closed, just after.
    Await.until(() -> {
      try (RawClient raw = new RawClient(proxy.address())) {
        return askForWebSocket(raw).readResponse(true).status() == 101;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }, "an upgrade to go through once the first tunnel ended");
  }

  private static RawClient askForWebSocket(RawClient raw) throws IOException {
    return raw.send("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  }

  private void assertUpgradeWorks(String requestStart, TinyOrigin origin) throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      assertUpgradeWorks(raw, requestStart, origin);
    }
  }

  /** Upgrades {@code raw}'s connection to the echoing origin and sees bytes come back. */
  private void assertUpgradeWorks(RawClient raw, String requestStart, TinyOrigin origin) throws Exception {
    raw.send(requestStart + "Connection: Upgrade\r\nUpgrade: websocket\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    RawClient.RawResponse switching = raw.readResponse(true);
    assertThat(switching.status()).isEqualTo(101);
    assertThat(switching.header("Upgrade")).isEqualTo("websocket");
    assertThat(switching.header("Connection")).isEqualToIgnoringCase("upgrade");
    raw.send("frame-bytes");
    assertThat(new String(raw.input().readNBytes(11), StandardCharsets.UTF_8)).isEqualTo("frame-bytes");
    TinyOrigin.Received received = origin.takeRequest();
    assertThat(received.header("Upgrade")).isEqualTo("websocket");
    assertThat(received.header("Connection")).isEqualToIgnoringCase("upgrade");
    assertThat(received.header("Sec-WebSocket-Key")).isEqualTo("dGhlIHNhbXBsZSBub25jZQ==");
  }

  private static TinyOrigin upgradingEcho() throws Exception {
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = new TinyOrigin((Socket socket, InputStream in, OutputStream out) -> {
      self[0].readRequest(in);
      out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n").getBytes());
      out.flush();
      in.transferTo(out);
    });
    return self[0];
  }

  /**
   * Open tunnels hold no thread: on a pool of two, a dozen tunnels stay open at once and each
   * relays both ways (before, two tunnels held both threads and the third CONNECT waited).
   */
  @Test
  void keepsMoreTunnelsOpenThanThreads() throws Exception {
    TinyOrigin origin = ferry.track(echo());
    proxy = ferry.start(connectingToTestPorts()
        .concurrency(dev.ferry.proxy.Concurrency.boundedPool(2, 16)));
    java.util.List<RawClient> clients = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 12; i++) {
        RawClient raw = new RawClient(proxy.address());
        clients.add(raw);
        raw.send("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(raw.readResponse(true).status()).isEqualTo(200);
      }
      Await.until(() -> proxy.stats().activeWorkers() == 0, "open tunnels to give their threads back");
      for (int i = 0; i < clients.size(); i++) {
        String message = "through tunnel " + (100 + i);
        clients.get(i).send(message);
        assertThat(new String(clients.get(i).input().readNBytes(message.length()), StandardCharsets.UTF_8))
            .isEqualTo(message);
      }
      assertThat(proxy.stats().activeConnections()).isEqualTo(12);
    } finally {
      RawClient.closeAll(clients);
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the tunnels to close after their clients");
  }

  @Test
  void closesATunnelThroughWhichNothingPassedForTheIdleTimeout() throws Exception {
    TinyOrigin origin = ferry.track(echo());
    proxy = ferry.start(connectingToTestPorts().idleTimeout(java.time.Duration.ofMillis(600)));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.readResponse(true).status()).isEqualTo(200);
      raw.send("still here");
      assertThat(new String(raw.input().readNBytes(10), StandardCharsets.UTF_8)).isEqualTo("still here");
      long quietSince = System.nanoTime();
      assertThat(raw.input().read()).isEqualTo(-1);
      assertThat(System.nanoTime() - quietSince).isGreaterThanOrEqualTo(500_000_000L);
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the idle tunnel's connection to end");
  }

  /** An origin answering 101 with {@code upgradeField} (a whole line, or none) and {@code first}, then echoing. */
  private TinyOrigin switchingThenEchoing(String upgradeField, String first) throws Exception {
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((Socket socket, InputStream in, OutputStream out) -> {
      self[0].readRequest(in);
      out.write(("HTTP/1.1 101 Switching Protocols\r\n" + upgradeField + "Connection: Upgrade\r\n\r\n" + first)
          .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      in.transferTo(out);
    }));
    return self[0];
  }

  /** Bytes that arrived with the head, on either side, go through the tunnel first. */
  @Test
  void relaysBytesThatCameWithTheHeads() throws Exception {
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(
        switchingThenEchoing("Upgrade: websocket\r\n", "server-first").url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
      assertThat(raw.readResponse(true).status()).isEqualTo(101);
      assertThat(new String(raw.input().readNBytes(12), StandardCharsets.UTF_8)).isEqualTo("server-first");
    }
    TinyOrigin echo = ferry.track(echo());
    ProxyServer forward = ferry.start(connectingToTestPorts());
    try (RawClient raw = new RawClient(forward.address())) {
      raw.send("CONNECT 127.0.0.1:" + echo.port() + " HTTP/1.1\r\nHost: x\r\n\r\nclient-first");
      assertThat(raw.readResponse(true).status()).isEqualTo(200);
      assertThat(new String(raw.input().readNBytes(12), StandardCharsets.UTF_8)).isEqualTo("client-first");
    }
  }

  /** RFC 9110 §7.8: a 101 must name what it switches to, and only a protocol the client offered. */
  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {"Upgrade: foo/2", "Upgrade: websocket, bar", ""})
  void refusesA101ToAProtocolTheClientDidNotOffer(String upgrade) throws Exception {
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(
        switchingThenEchoing(upgrade.isEmpty() ? "" : upgrade + "\r\n", "foo-bytes").url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket, foo/1\r\n\r\n");
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.status()).isEqualTo(502);
      assertThat(response.bodyText()).contains("did not offer").doesNotContain("foo-bytes");
    }
    assertThat(proxy.stats().failures()).containsEntry("UPSTREAM_BAD_RESPONSE", 1L);
  }

  /** An offer of h2c anywhere (a list, a second line, any case) drops the whole Upgrade. */
  @ParameterizedTest
  @ValueSource(strings = {"Upgrade: h2c", "Upgrade: websocket, h2c", "Upgrade: websocket\r\nUpgrade: h2c",
      "Upgrade: foo, H2C/1"})
  void dropsH2cUpgradeOffers(String upgrade) throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("plain http/1.1"));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
          + upgrade + "\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n");
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("plain http/1.1");
    }
    RecordedRequest recorded = origin.takeRequest();
    assertThat(recorded.getHeader("Upgrade")).isNull();
    assertThat(recorded.getHeader("HTTP2-Settings")).isNull();
    assertThat(recorded.getHeader("Connection")).isNull();
  }
}
