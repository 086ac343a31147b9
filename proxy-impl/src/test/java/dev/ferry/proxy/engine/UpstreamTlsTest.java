package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.UpstreamTls;
import dev.ferry.proxy.engine.tls.OriginCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue #8 item 3: https upstreams. Trust comes from configuration; an untrusted, expired or
 * wrong-host certificate, or an upstream that never speaks TLS, is a 502 naming the cause, within
 * the connect timeout.
 */
class UpstreamTlsTest {
  private static TestCertificates localhost;
  private static TestCertificates expired;
  private static TestCertificates otherHost;

  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @BeforeAll
  static void makeCertificates() throws Exception {
    localhost = TestCertificates.issued("localhost", null, 2);
    expired = TestCertificates.issued("localhost", "-10d", 1);
    otherHost = TestCertificates.issued("other.test", null, 2);
  }

  private int tlsOrigin(SSLContext context) throws IOException {
    return TlsOrigin.start(ferry, context);
  }

  private RawClient.RawResponse get(ProxyServer proxy) throws IOException {
    try (RawClient raw = new RawClient(proxy.address())) {
      return raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
    }
  }

  /**
   * An https upstream that never answers is a 504 after the upstream timeout, not twice it:
   * closing a TLS 1.3 socket waited up to its read timeout again for the peer's close_notify.
   */
  @Test
  void answers504AfterOneUpstreamTimeoutForASilentHttpsUpstream() throws Exception {
    int port = tlsOrigin(localhost.serverContext());
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("https://localhost:" + port + "/"))
        .upstreamSslContext(localhost.trustingContext()).upstreamTimeout(Duration.ofSeconds(2)));
    long start = System.nanoTime();
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /hang HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(504);
    }
    assertThat(Duration.ofNanos(System.nanoTime() - start)).as("time to the 504").isLessThan(Duration.ofMillis(3500));
  }

  /**
   * An https upstream that answers before reading the body (a size limit, an authorisation) and
   * closes has its answer relayed, as a plain upstream's is (RFC 9112 §9.5): the write to it
   * fails on the reset its close brings, and the answer it sent before is still there to read.
   * It was a 502, "closed the connection without a complete response" (clients probe F1).
   */
  @Test
  void relaysTheAnswerOfAnHttpsUpstreamThatRefusesTheBodyUnread() throws Exception {
    int port = tlsOrigin(localhost.serverContext());
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("https://localhost:" + port + "/"))
        .upstreamSslContext(localhost.trustingContext()));
    byte[] body = new byte[4 << 20]; // more than the socket buffers on the way hold
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: " + body.length + "\r\n\r\n");
      raw.send(body);
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.status()).isEqualTo(413);
      assertThat(response.bodyText()).isEqualTo("too much");
    }
  }

  /**
   * A client that leaves while an https upstream is silent has its exchange abandoned within
   * about a second, on a proxy with threads to spare: reads from a TLS upstream are timed
   * anyway, so its wait goes a second at a time and looks for the client between. Before, only
   * half-busy threads or a crowded pool had it looked for, and the exchange held its thread and
   * upstream connection until the upstream timeout (soak probe F1).
   */
  @Test
  void abandonsTheWaitForASilentHttpsUpstreamWhenTheClientLeaves() throws Exception {
    int port = tlsOrigin(localhost.serverContext());
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("https://localhost:" + port + "/"))
        .upstreamSslContext(localhost.trustingContext()));
    RawClient raw = new RawClient(proxy.address());
    raw.send("GET /hang HTTP/1.1\r\nHost: a\r\n\r\n");
    Await.until(() -> proxy.stats().upstreamConnectionsOpen() == 1, "the request to reach the upstream");
    raw.close();
    ClientGoneTest.awaitAbandoned(proxy);
  }

  /**
   * A close-delimited body from an https upstream is whole only once a {@code close_notify} came
   * (RFC 9112 §9.8): cut short by a bare TCP close, it reached the client as whole (its last
   * chunk written) and was cached (probe i14). Ended by the alert, it is whole and cached.
   */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void takesACloseDelimitedBodyForWholeOnlyAfterACloseNotify(boolean closeNotify) throws Exception {
    SSLContext context = localhost.serverContext();
    AtomicInteger asked = new AtomicInteger();
    try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      Thread origin = new Thread(() -> {
        while (true) {
          try (Socket plain = server.accept()) {
            SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, null, true);
            tls.setUseClientMode(false);
            InputStream in = tls.getInputStream();
            int matched = 0;
            while (matched < 4) {
              int b = in.read();
              matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
            }
            asked.incrementAndGet();
            tls.getOutputStream().write(("HTTP/1.1 200 OK\r\nConnection: close\r\nCache-Control: max-age=60\r\n\r\n"
                + "x".repeat(50)).getBytes(StandardCharsets.US_ASCII));
            tls.getOutputStream().flush();
            if (closeNotify) {
              tls.close();
            } // else the plain socket closes beneath it: no close_notify
          } catch (IOException e) {
            return; // the server socket closed
          }
        }
      }, "close-delimited-origin");
      origin.setDaemon(true);
      origin.start();
      ProxyServer proxy = ferry.start(ProxyServer.builder()
          .upstream(Upstream.of("https://localhost:" + server.getLocalPort() + "/"))
          .upstreamSslContext(localhost.trustingContext()).cache(dev.ferry.proxy.CacheSpec.inMemory()));
      for (int i = 0; i < 2; i++) {
        try (RawClient raw = new RawClient(proxy.address())) {
          raw.send("GET /c HTTP/1.1\r\nHost: a\r\n\r\n");
          if (closeNotify) {
            assertThat(raw.readResponse().bodyText()).isEqualTo("x".repeat(50));
          } else {
            assertThatThrownBy(raw::readResponse).as("a body cut short").isInstanceOf(IOException.class);
          }
        }
      }
      assertThat(asked).as("requests the origin got").hasValue(closeNotify ? 1 : 2);
    }
  }

  /**
   * Upstream handshakes offer ALPN {@code http/1.1}, the protocol the proxy speaks: a server of
   * HTTP/2 alone refuses it, and the 502 says why. Without ALPN such a server took the handshake
   * for HTTP/2 and answered the request with an error page, relayed as a broken 403 (clients probe
   * F2); one that speaks both is told to speak HTTP/1.1.
   */
  @Test
  void offersHttp11InAlpnAndNamesAnUpstreamOfHttp2Alone() throws Exception {
    int h2Only = TlsOrigin.startSpeaking(ferry, localhost.serverContext(), "h2");
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("https://localhost:" + h2Only + "/"))
        .upstreamSslContext(localhost.trustingContext()));
    RawClient.RawResponse refused = get(proxy);
    assertThat(refused.status()).isEqualTo(502);
    assertThat(refused.bodyText()).contains("HTTP/2");
    int both = TlsOrigin.startSpeaking(ferry, localhost.serverContext(), "h2", "http/1.1");
    ProxyServer second = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("https://localhost:" + both + "/"))
        .upstreamSslContext(localhost.trustingContext()));
    assertThat(get(second).bodyText()).isEqualTo("secure /");
  }

  @Test
  void trustsSelfSignedUpstreamThroughConfiguration() throws Exception {
    int port = tlsOrigin(localhost.serverContext());
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("https://localhost:" + port + "/"))
        .upstreamSslContext(localhost.trustingContext()));
    RawClient.RawResponse response = get(proxy);
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.bodyText()).isEqualTo("secure /");
    // The connection is kept alive and reused for the next request.
    assertThat(get(proxy).bodyText()).isEqualTo("secure /");
    assertThat(proxy.stats().upstreamConnectionsOpened()).isEqualTo(1);
  }

  /**
   * An upstream that requires a client certificate the proxy has none of is a 502 that says so.
   * Before, over TLS 1.3 (where the client's handshake completes before the server checks its
   * certificate, and the refusal comes as an alert at the first read) it was a reset upstream,
   * "closed the connection without a complete response", retried as one. (Over TLS 1.2 the
   * refusal races the client's last flight, which often fails first, on a broken pipe.)
   */
  @Test
  void answers502NamingTheClientCertificateATls13UpstreamRequires() throws Exception {
    int port = TlsOrigin.startNeedingClientCertificates(ferry, localhost.serverContext(), "TLSv1.3");
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("https://localhost:" + port + "/"))
        .upstreamSslContext(localhost.trustingContext()));
    RawClient.RawResponse response = get(proxy);
    assertThat(response.status()).isEqualTo(502);
    // The JDK's server says bad_certificate up to Java 17, certificate_required later.
    assertThat(response.bodyText()).as(response.bodyText())
        .containsPattern("TLS handshake with localhost failed: the upstream (refused the|requires a) client certificate");
    assertThat(proxy.stats().failures()).containsOnlyKeys("UPSTREAM_UNREACHABLE");
  }

  @Test
  void answers502ForUntrustedCertificate() throws Exception {
    int port = tlsOrigin(localhost.serverContext());
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("https://localhost:" + port + "/")));
    RawClient.RawResponse response = get(proxy);
    assertThat(response.status()).isEqualTo(502);
    assertThat(response.bodyText()).contains("certificate not trusted");
  }

  @Test
  void answers502ForCertificateOfAnotherHost() throws Exception {
    int port = tlsOrigin(otherHost.serverContext());
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("https://localhost:" + port + "/"))
        .upstreamSslContext(otherHost.trustingContext()));
    RawClient.RawResponse response = get(proxy);
    assertThat(response.status()).isEqualTo(502);
    assertThat(response.bodyText()).as(response.bodyText()).contains("does not match the host name");
  }

  /**
   * A chain the JDK verifies but browsers refuse is refused too: an intercepting proxy shows the
   * client a clean certificate of its own, which must not stand for one the client would reject.
   */
  @Test
  void answers502ForCertificatesBrowsersRefuse() throws Exception {
    assertRefused(TestCertificates.weak("localhost", false, List.of("-keyalg", "EC"), null),
        "certificate has no subject alternative name");
    assertRefused(TestCertificates.weak("localhost", true, List.of("-keyalg", "EC"), "SHA1withECDSA"),
        "certificate signed with SHA1withECDSA");
    assertRefused(TestCertificates.weak("localhost", true, List.of("-keyalg", "RSA", "-keysize", "1024"), null),
        "certificate with a 1024-bit RSA key");
    // A SAN with an IP address alone: the JDK matched "localhost" against the CN (probe s25).
    assertRefused(TestCertificates.issuedForAddressOnly("localhost", "127.0.0.1"),
        "certificate does not match the host name");
    // It read "handshake refused" (probe tls F3).
    assertRefused(TestCertificates.issuedForClientsOnly("localhost"),
        "certificate not issued for TLS servers (key usage)");
  }

  /** An https upstream URL naming a plain HTTP port: the 502 says so (probe tls F3: "handshake refused"). */
  @Test
  @Timeout(10)
  void answers502NamingAnUpstreamThatSpeaksPlainHttp() throws Exception {
    // A plain HTTP server's answer to a ClientHello: 400 and close.
    TinyOrigin plain = ferry.track(new TinyOrigin((socket, in, out) -> {
      in.read(new byte[512]);
      out.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("https://localhost:" + plain.port() + "/")));
    RawClient.RawResponse response = get(proxy);
    assertThat(response.status()).isEqualTo(502);
    assertThat(response.bodyText()).as(response.bodyText()).contains("the upstream does not speak TLS");
  }

  /**
   * An upstream's chain never holds the anchor it ends at, so a configured CA with a weak key is
   * left out of the trust: a bundle still trusts its other CAs, and one of nothing else is refused.
   */
  @Test
  void leavesAWeakConfiguredCaOutOfTheTrust() throws Exception {
    TestCertificates weakCa = TestCertificates.issuedByWeakCa("localhost", List.of("-keyalg", "RSA", "-keysize", "1024"));
    KeyStore bundle = KeyStore.getInstance("PKCS12");
    bundle.load(null, null);
    bundle.setCertificateEntry("weak", weakCa.keyStore().getCertificate("ca"));
    bundle.setCertificateEntry("strong", localhost.keyStore().getCertificate("ca"));
    try (LogCapture logs = new LogCapture()) {
      ProxyServer proxy = ferry.start(ProxyServer.builder()
          .route(Route.to(Upstream.of("https://localhost:" + tlsOrigin(weakCa.serverContext()) + "/")).pathPrefix("/weak/"))
          .upstream(Upstream.of("https://localhost:" + tlsOrigin(localhost.serverContext()) + "/"))
          .upstreamTls(UpstreamTls.trusting(bundle)));
      assertThat(logs.lines(OriginCertificates.class.getName())).singleElement().asString()
          .contains("upstream_ca_ignored").contains("1024-bit RSA key");
      try (RawClient raw = new RawClient(proxy.address())) {
        assertThat(raw.send("GET /weak/ HTTP/1.1\r\nHost: localhost\r\n\r\n").readResponse().status()).isEqualTo(502);
        assertThat(raw.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").readResponse().status()).isEqualTo(200);
      }
    }
    assertThatThrownBy(() -> ferry.start(ProxyServer.builder().upstream(Upstream.of("https://localhost:1/"))
        .upstreamTls(UpstreamTls.trusting(weakCa.keyStore()))))
        .hasMessageContaining("no CA certificate with a key of at least 2048 bits");
  }

  private void assertRefused(TestCertificates weak, String reason) throws Exception {
    int port = tlsOrigin(weak.serverContext());
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("https://localhost:" + port + "/"))
        .upstreamSslContext(weak.trustingContext()));
    RawClient.RawResponse response = get(proxy);
    assertThat(response.status()).isEqualTo(502);
    assertThat(response.bodyText()).as(response.bodyText()).contains(reason);
    proxy.stop(Duration.ofSeconds(5));
  }

  @Test
  void answers502ForExpiredCertificate() throws Exception {
    int port = tlsOrigin(expired.serverContext());
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("https://localhost:" + port + "/"))
        .upstreamSslContext(expired.trustingContext()));
    RawClient.RawResponse response = get(proxy);
    assertThat(response.status()).isEqualTo(502);
    assertThat(response.bodyText()).contains("certificate expired");
  }

  /**
   * The JDK checks no dates of a trust anchor: a configured self-signed certificate that
   * expired (its own anchor), or an expired CA, verified, and interception would have shown its
   * client a clean certificate (probe s24). Such an anchor is left out of the trust, logged; with
   * nothing else to trust the proxy does not start.
   */
  @Test
  void refusesToTrustAnExpiredCertificateOrCa() throws Exception {
    TestCertificates selfSigned = TestCertificates.selfSigned("localhost", "-10d", 1);
    KeyStore pinned = KeyStore.getInstance("PKCS12");
    pinned.load(null, null);
    pinned.setCertificateEntry("pinned", selfSigned.keyStore().getCertificate("server"));
    TestCertificates expiredCa = TestCertificates.issuedByWeakCa("localhost",
        List.of("-keyalg", "EC", "-groupname", "secp256r1", "-startdate", "-10d"));
    for (KeyStore trust : List.of(pinned, expiredCa.keyStore())) {
      try (LogCapture logs = new LogCapture()) {
        assertThatThrownBy(() -> ferry.start(ProxyServer.builder()
            .upstream(Upstream.of("https://localhost:" + tlsOrigin(expiredCa.serverContext()) + "/"))
            .upstreamTls(UpstreamTls.trusting(trust))))
            .hasMessageContaining("valid now, to trust upstreams with");
        assertThat(logs.lines(OriginCertificates.class.getName())).singleElement().asString()
            .contains("upstream_ca_ignored").contains("certificate expired");
      }
    }
    KeyStore bundle = KeyStore.getInstance("PKCS12");
    bundle.load(null, null);
    bundle.setCertificateEntry("expired", expiredCa.keyStore().getCertificate("ca"));
    bundle.setCertificateEntry("sound", localhost.keyStore().getCertificate("ca"));
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.of("https://localhost:" + tlsOrigin(expiredCa.serverContext()) + "/")).pathPrefix("/old/"))
        .upstream(Upstream.of("https://localhost:" + tlsOrigin(localhost.serverContext()) + "/"))
        .upstreamTls(UpstreamTls.trusting(bundle)));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /old/ HTTP/1.1\r\nHost: localhost\r\n\r\n").readResponse().status()).isEqualTo(502);
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").readResponse().status()).isEqualTo(200);
    }
  }

  /**
   * An extra certificate the origin sends that is on no path to the trust, expired (as the
   * AddTrust cross-signed root Sectigo sites kept sending after 2020), is no reason to refuse:
   * the JDK, curl and browsers accept the chain (probe s25: 502 "certificate expired").
   */
  @Test
  void acceptsAChainWithAnExpiredCertificateOnNoPathToTheTrust() throws Exception {
    PrivateKey key = (PrivateKey) localhost.keyStore()
        .getKey("server", TestCertificates.password());
    X509Certificate[] chain = {
        (X509Certificate) localhost.keyStore().getCertificate("server"),
        (X509Certificate) TestCertificates.selfSigned("old.test", "-10d", 1).keyStore()
            .getCertificate("server")};
    // A key store refuses a chain whose links do not follow; a key manager serves what it is given.
    X509ExtendedKeyManager keys = new X509ExtendedKeyManager() {
      @Override
      public String chooseEngineServerAlias(String type, Principal[] issuers, SSLEngine e) {
        return "server";
      }

      @Override
      public String chooseServerAlias(String type, Principal[] issuers, Socket socket) {
        return "server";
      }

      @Override
      public X509Certificate[] getCertificateChain(String alias) {
        return chain;
      }

      @Override
      public PrivateKey getPrivateKey(String alias) {
        return key;
      }

      @Override
      public String[] getServerAliases(String type, Principal[] issuers) {
        return new String[] {"server"};
      }

      @Override
      public String[] getClientAliases(String type, Principal[] issuers) {
        return null;
      }

      @Override
      public String chooseClientAlias(String[] type, Principal[] issuers, Socket socket) {
        return null;
      }
    };
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(new KeyManager[] {keys}, null, null);
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("https://localhost:" + tlsOrigin(context) + "/"))
        .upstreamSslContext(localhost.trustingContext()));
    assertThat(get(proxy).status()).isEqualTo(200);
  }

  /**
   * The connect timeout bounds the whole handshake, not each of its reads: an upstream that
   * trickles a TLS record a byte at a time held the exchange for minutes (probe s25).
   */
  @Test
  @Timeout(20)
  void answers502InTimeWhenUpstreamTricklesItsHandshake() throws Exception {
    ServerSocket trickling = ferry.track(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
    Thread acceptor = new Thread(() -> {
      try (Socket peer = ferry.track(trickling.accept())) {
        // A handshake record of 16 KiB, announced, then one byte of it every 100 ms.
        peer.getOutputStream().write(new byte[] {0x16, 0x03, 0x03, 0x40, 0x00});
        for (int i = 0; i < 16384 && !peer.isClosed(); i++) {
          peer.getOutputStream().write(2);
          peer.getOutputStream().flush();
          Thread.sleep(100); // the trickle is the input under test, not a synchronisation
        }
      } catch (IOException | InterruptedException done) {
        // The proxy gave up, or the test is over.
      }
    }, "trickling-origin");
    acceptor.setDaemon(true);
    acceptor.start();
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("https://localhost:" + trickling.getLocalPort() + "/"))
        .connectTimeout(Duration.ofMillis(500)).upstreamTimeout(Duration.ofSeconds(30)));
    RawClient.RawResponse response = get(proxy);
    assertThat(response.status()).isEqualTo(502);
    assertThat(response.bodyText()).contains("timed out");
  }

  @Test
  @Timeout(10)
  void answers502InTimeWhenUpstreamNeverSpeaksTls() throws Exception {
    ServerSocket silent = ferry.track(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
    Thread acceptor = new Thread(() -> {
      try {
        while (true) {
          ferry.track(silent.accept());
        }
      } catch (IOException closed) {
        // The test is over.
      }
    }, "silent-origin");
    acceptor.setDaemon(true);
    acceptor.start();
    Duration connectTimeout = Duration.ofMillis(500);
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("https://localhost:" + silent.getLocalPort() + "/"))
        .connectTimeout(connectTimeout).upstreamTimeout(Duration.ofSeconds(30)));
    long started = System.nanoTime();
    RawClient.RawResponse response = get(proxy);
    assertThat(response.status()).isEqualTo(502);
    assertThat(response.bodyText()).contains("timed out");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
  }
}
