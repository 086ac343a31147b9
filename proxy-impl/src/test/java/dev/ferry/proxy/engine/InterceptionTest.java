package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.CertificateAuthority;
import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ExchangeListener;
import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.Filters;
import dev.ferry.proxy.InterceptTls;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.UpstreamTls;
import java.io.IOException;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #12 section 3: a forward proxy intercepts HTTPS to matching hosts with leaf certificates
 * from its CA, runs the requests inside through the pipeline, and talks verified TLS to origins.
 */
class InterceptionTest {
  private static TestCertificates origin;
  private static CertificateAuthority ca;

  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @BeforeAll
  static void makeCertificates() throws Exception {
    origin = TestCertificates.issued("localhost", null, 2);
    ca = CertificateAuthority.generate();
  }

  private int httpsOrigin() throws Exception {
    return TlsOrigin.start(ferry, origin.serverContext());
  }

  private ProxyServer interceptingProxy(BlockingQueue<ExchangeSummary> seen) throws Exception {
    return ferry.start(ProxyServer.builder().allowAnyConnectPort()
        .interceptTls(InterceptTls.of(ca).hosts("localhost"))
        .upstreamTls(UpstreamTls.trusting(origin.trustStore()))
        .listener(new ExchangeListener() {
          @Override
          public void exchangeCompleted(ExchangeSummary summary) {
            seen.add(summary);
          }
        }));
  }

  @Test
  void decryptsRunsThroughThePipelineAndReachesTheOriginOverVerifiedTls() throws Exception {
    int port = httpsOrigin();
    BlockingQueue<ExchangeSummary> seen = new LinkedBlockingQueue<>();
    ProxyServer proxy = interceptingProxy(seen);
    HttpClient client = HttpClient.newBuilder().proxy(ProxySelector.of(proxy.address()))
        .sslContext(ca.sslContext()).build();
    HttpResponse<String> response = client.send(HttpRequest.newBuilder(
        URI.create("https://localhost:" + port + "/orders?id=1")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.body()).isEqualTo("secure /orders?id=1");
    // The CONNECT completes when the decrypted session begins; each request inside is an exchange of its own.
    ExchangeSummary connect = seen.poll(5, TimeUnit.SECONDS);
    assertThat(connect.method()).isEqualTo("CONNECT");
    assertThat(connect.status()).isEqualTo(200);
    ExchangeSummary inner = seen.poll(5, TimeUnit.SECONDS);
    assertThat(inner.method()).isEqualTo("GET");
    assertThat(inner.url()).isEqualTo("https://localhost:" + port + "/orders?id=1");
    assertThat(inner.status()).isEqualTo(200);
  }

  /**
   * The session's requests go on connections of their own, whatever became of the one opened for
   * the CONNECT (here dropped by the origin as silent). A version that kept that one for the
   * session and used it unchecked answered the origin's 408 to a GET and failed a POST (probe
   * v12).
   */
  @Test
  void opensAnotherConnectionWhenTheOriginDroppedTheOneOpenedForTheConnect() throws Exception {
    AtomicInteger dropped = new AtomicInteger();
    int port = TlsOrigin.start(ferry, origin.serverContext(), new AtomicInteger(), 300, dropped);
    ProxyServer proxy = interceptingProxy(new LinkedBlockingQueue<>());
    try (RawClient raw = new RawClient(proxy.address())) {
      SSLSocket tls = intercepted(raw, port, "localhost");
      tls.startHandshake();
      Await.until(() -> dropped.get() == 1, "the connection opened for the CONNECT to end");
      try (RawClient inside = new RawClient(tls)) {
        assertThat(inside.send("GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n").readResponse().bodyText())
            .isEqualTo("secure /a");
        assertThat(inside.send("POST /b HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\nhi")
            .readResponse().bodyText()).isEqualTo("secure /b");
      }
    }
  }

  /**
   * The client's handshake with the proxy needs nothing from the origin: the origin sees no
   * byte of TLS before the session's first request. A version that secured the CONNECT's own
   * connection first made it wait for the origin, up to the connect timeout (probe v12).
   */
  @Test
  void completesTheClientsHandshakeBeforeSpeakingTlsToTheOrigin() throws Exception {
    AtomicInteger received = new AtomicInteger();
    TinyOrigin silent = countingSilentOrigin(received);
    ProxyServer proxy = interceptingProxy(new LinkedBlockingQueue<>());
    try (RawClient raw = new RawClient(proxy.address())) {
      SSLSocket tls = intercepted(raw, silent.port(), "localhost");
      tls.startHandshake();
      assertThat(received).as("bytes the origin got before any request").hasValue(0);
    }
  }

  /**
   * A ClientHello whose first segment holds one byte is a ClientHello all the same: the session
   * is intercepted. Classified on that byte, it was relayed to the origin as a plain tunnel, the
   * client's TLS reaching past inspection (probe i14).
   */
  @Test
  void interceptsAClientHelloSplitAfterItsFirstByte() throws Exception {
    AtomicInteger received = new AtomicInteger();
    TinyOrigin silent = countingSilentOrigin(received);
    ProxyServer proxy = interceptingProxy(new LinkedBlockingQueue<>());
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("CONNECT localhost:" + silent.port() + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
      assertThat(raw.readResponse(true).status()).isEqualTo(200);
      SSLEngine client = ca.sslContext().createSSLEngine("localhost", silent.port());
      client.setUseClientMode(true);
      ByteBuffer hello = ByteBuffer.allocate(client.getSession().getPacketBufferSize());
      client.wrap(ByteBuffer.allocate(0), hello);
      byte[] bytes = Arrays.copyOf(hello.array(), hello.position());
      raw.send(Arrays.copyOf(bytes, 1));
      Thread.sleep(300); // the input's shape, not a wait: the first byte arrives in a segment of its own
      raw.send(Arrays.copyOfRange(bytes, 1, bytes.length));
      raw.socket().setSoTimeout(5_000);
      assertThat(raw.input().read()).as("a TLS handshake record from the proxy").isEqualTo(0x16);
    }
    assertThat(received).as("bytes the origin got").hasValue(0);
  }

  /**
   * Intercepted tunnels whose clients sent a byte and stalled wait for the rest on the idle
   * parker, not on a thread each: four of them on a pool of two leave both threads free. Before,
   * each held a thread until the request-header timeout, and 250 stalled a pool of 200 (probe
   * resources2 F1).
   */
  @Test
  void parksInterceptedTunnelsStalledAfterTheirFirstByte() throws Exception {
    TinyOrigin silent = countingSilentOrigin(new AtomicInteger());
    ProxyServer proxy = ferry.start(interceptingBuilder()
        .concurrency(Concurrency.boundedPool(2, 8)).requestHeaderTimeout(Duration.ofSeconds(30)));
    List<RawClient> stalled = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        stalled.add(connectAndStall(proxy, silent.port()));
      }
      Await.until(() -> proxy.stats().activeWorkers() == 0 && proxy.stats().activeConnections() == 4,
          "the four stalled tunnels to wait without a thread");
    } finally {
      for (RawClient raw : stalled) {
        raw.close();
      }
    }
  }

  /**
   * The connection the proxy opened for an intercepted CONNECT is closed when the tunnel's first
   * bytes do not all come by the request-header timeout. Before, it stayed open, an upstream
   * socket left per stalled client (probe resources2 F2).
   */
  @Test
  void closesTheUpstreamOfAnInterceptedTunnelWhoseFirstBytesNeverCame() throws Exception {
    TinyOrigin silent = countingSilentOrigin(new AtomicInteger());
    ProxyServer proxy = ferry.start(interceptingBuilder().requestHeaderTimeout(Duration.ofMillis(500)));
    try (RawClient raw = connectAndStall(proxy, silent.port())) {
      raw.socket().setSoTimeout(10_000);
      assertThat(raw.input().read()).as("closed at the request-header timeout").isEqualTo(-1);
    }
    Await.until(() -> proxy.stats().upstreamConnectionsOpen() == 0, "the tunnel's upstream to close");
  }

  private ProxyServer.Builder interceptingBuilder() throws Exception {
    return ProxyServer.builder().allowAnyConnectPort()
        .interceptTls(InterceptTls.of(ca).hosts("localhost"))
        .upstreamTls(UpstreamTls.trusting(origin.trustStore()));
  }

  /** CONNECTs to {@code port} through {@code proxy}, then sends a handshake record's first byte alone. */
  private static RawClient connectAndStall(ProxyServer proxy, int port) throws IOException {
    RawClient raw = new RawClient(proxy.address());
    raw.send("CONNECT localhost:" + port + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assertThat(raw.readResponse(true).status()).isEqualTo(200);
    raw.send(new byte[] {0x16});
    return raw;
  }

  /**
   * An origin that runs its handshakes one at a time, in its accept loop (Python's http.server
   * wrapped in TLS), serves session after session: the connection opened for a CONNECT is closed
   * once the client speaks TLS, and holds no place in the origin's queue. Kept for the session
   * and secured only when a request took it, such connections stalled that loop until the
   * upstream's connect timeout (probe h12).
   */
  @Test
  void servesSessionsThroughAnOriginThatHandshakesOneConnectionAtATime() throws Exception {
    int port = TlsOrigin.startSerial(ferry, origin.serverContext());
    ProxyServer proxy = ferry.start(ProxyServer.builder().allowAnyConnectPort()
        .interceptTls(InterceptTls.of(ca).hosts("localhost"))
        .upstreamTls(UpstreamTls.trusting(origin.trustStore()))
        .connectTimeout(java.time.Duration.ofSeconds(2)));
    List<RawClient> clients = new java.util.ArrayList<>();
    try {
      List<RawClient> sessions = new java.util.ArrayList<>();
      for (int i = 0; i < 3; i++) {
        RawClient raw = new RawClient(proxy.address());
        clients.add(raw);
        SSLSocket tls = intercepted(raw, port, "localhost");
        tls.startHandshake();
        sessions.add(new RawClient(tls));
      }
      for (int i = sessions.size() - 1; i >= 0; i--) {
        assertThat(sessions.get(i).send("GET /s" + i + " HTTP/1.1\r\nHost: localhost\r\n\r\n").readResponse()
            .bodyText()).isEqualTo("secure /s" + i);
      }
    } finally {
      RawClient.closeAll(clients);
    }
  }

  @Test
  void failsTheHandshakeOfAClientThatDoesNotTrustTheCaAndServesTheNext() throws Exception {
    int port = httpsOrigin();
    ProxyServer proxy = interceptingProxy(new LinkedBlockingQueue<>());
    HttpClient untrusting = HttpClient.newBuilder().proxy(ProxySelector.of(proxy.address())).build();
    try (LogCapture logs = new LogCapture()) {
      assertThatThrownBy(() -> untrusting.send(HttpRequest.newBuilder(
          URI.create("https://localhost:" + port + "/")).build(), HttpResponse.BodyHandlers.ofString()))
          .isInstanceOf(IOException.class);
      // The most common interception mistake, said as such (probe testkit F5: a bare alert).
      Await.until(() -> !logs.lines("tls_handshake_failed").isEmpty(), "the failed handshake logged");
      assertThat(logs.lines("tls_handshake_failed").get(0)).contains("does not trust the interception CA");
    }
    HttpClient trusting = HttpClient.newBuilder().proxy(ProxySelector.of(proxy.address()))
        .sslContext(ca.sslContext()).build();
    assertThat(trusting.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/next")).build(),
        HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("secure /next");
  }

  @Test
  void answers502WhenTheOriginCertificateIsNotTrusted() throws Exception {
    int port = httpsOrigin();
    ProxyServer proxy = ferry.start(ProxyServer.builder().allowAnyConnectPort()
        .interceptTls(InterceptTls.of(ca)));
    HttpClient client = HttpClient.newBuilder().proxy(ProxySelector.of(proxy.address()))
        .sslContext(ca.sslContext()).build();
    HttpResponse<String> response = client.send(HttpRequest.newBuilder(
        URI.create("https://localhost:" + port + "/")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(response.body()).contains("certificate not trusted");
  }

  /** An origin that answers nothing and counts the bytes it gets into {@code received}. */
  private TinyOrigin countingSilentOrigin(AtomicInteger received) throws IOException {
    return ferry.track(new TinyOrigin((socket, in, out) -> {
      while (in.read() >= 0) {
        received.incrementAndGet();
      }
    }));
  }

  /**
   * CONNECTs {@code raw} to the origin on {@code port} and returns the TLS socket over its tunnel,
   * not yet handshaken, for {@code host} as the client names it.
   */
  private static SSLSocket intercepted(RawClient raw, int port, String host) throws Exception {
    raw.send("CONNECT localhost:" + port + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assertThat(raw.readResponse(true).status()).isEqualTo(200);
    return (SSLSocket) ca.sslContext().getSocketFactory().createSocket(raw.socket(), host, port, false);
  }

  /**
   * An intercepting proxy is a forward proxy: the paths of the requests inside the session go to
   * the origin untouched, as plain http paths do. Before, they were normalised as a reverse
   * proxy's are (a // merged, %7E decoded) and some refused (%2F: 400).
   */
  @Test
  void passesThePathsOfInterceptedRequestsOnUntouched() throws Exception {
    int port = httpsOrigin();
    ProxyServer proxy = interceptingProxy(new LinkedBlockingQueue<>());
    try (RawClient raw = new RawClient(proxy.address())) {
      SSLSocket tls = intercepted(raw, port, "localhost");
      String path = "/a//b/./c/%7E/%2F?q=%2e";
      try (RawClient inside = new RawClient(tls)) {
        RawClient.RawResponse response = inside.send("GET " + path + " HTTP/1.1\r\nHost: localhost:" + port
            + "\r\n\r\n").readResponse();
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.bodyText()).isEqualTo("secure " + path);
      }
    }
  }

  /**
   * The session is pinned to the CONNECT's host: a client naming another host in its SNI gets a
   * leaf for the CONNECT's host, not one for a name outside the interception's scope.
   */
  @Test
  void issuesTheLeafForTheConnectHostWhateverTheSni() throws Exception {
    int port = httpsOrigin();
    ProxyServer proxy = interceptingProxy(new LinkedBlockingQueue<>());
    try (RawClient raw = new RawClient(proxy.address())) {
      SSLSocket tls = intercepted(raw, port, "other.example.test");
      SSLParameters parameters = tls.getSSLParameters();
      parameters.setServerNames(List.of(new SNIHostName("other.example.test")));
      tls.setSSLParameters(parameters);
      tls.startHandshake();
      X509Certificate leaf = (X509Certificate) tls.getSession().getPeerCertificates()[0];
      assertThat(leaf.getSubjectAlternativeNames()).extracting(name -> (Object) name.get(1)).containsExactly("localhost");
    }
  }

  /**
   * Browsers authenticate the CONNECT only: the requests in its intercepted session are served on
   * its credentials, and those never reach the origin. Before, each of them was answered 407.
   */
  @Test
  void servesTheSessionOfAnAuthenticatedConnectOnItsCredentials() throws Exception {
    int port = httpsOrigin();
    ProxyServer proxy = ferry.start(ProxyServer.builder().allowAnyConnectPort()
        .interceptTls(InterceptTls.of(ca).hosts("localhost"))
        .upstreamTls(UpstreamTls.trusting(origin.trustStore()))
        .filter(Filters.proxyAuthentication().credentials(java.util.Map.of("alice", "s3cret")).build()));
    String credentials = Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("CONNECT localhost:" + port + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
      assertThat(raw.readResponse().status()).as("the CONNECT itself still needs them").isEqualTo(407);
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("CONNECT localhost:" + port + " HTTP/1.1\r\nHost: localhost\r\nProxy-Authorization: Basic "
          + credentials + "\r\n\r\n");
      assertThat(raw.readResponse(true).status()).isEqualTo(200);
      SSLSocket tls = (SSLSocket) ca.sslContext().getSocketFactory()
          .createSocket(raw.socket(), "localhost", port, false);
      tls.getOutputStream().write("GET /inside HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.ISO_8859_1));
      String response = new String(tls.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(response).startsWith("HTTP/1.1 200").endsWith("secure /inside");
    }
  }

  @Test
  void relaysBytesThatAreNotTlsAsAPlainTunnel() throws Exception {
    TinyOrigin plain = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().allowAnyConnectPort()
        .interceptTls(InterceptTls.of(ca)));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("CONNECT 127.0.0.1:" + plain.port() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      assertThat(raw.readResponse(true).status()).isEqualTo(200);
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("plain");
    }
  }
}
