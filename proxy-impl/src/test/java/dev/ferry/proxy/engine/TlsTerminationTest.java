package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.ServerTls;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.tls.ServerTlsContext;
import dev.ferry.proxy.engine.tls.StallingTlsClient;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #12 section 1: TLS on the listener. A reverse proxy served over https, client
 * certificates required when configured, and a failed handshake that disturbs nobody else.
 */
class TlsTerminationTest {
  private static TestCertificates server;
  private static TestCertificates client;

  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @BeforeAll
  static void makeCertificates() throws Exception {
    server = TestCertificates.issued("localhost", null, 2);
    client = TestCertificates.issued("client.test", null, 2);
  }

  /** A reverse proxy to {@code origin} serving TLS with the server certificate. */
  private static ProxyServer.Builder tlsProxy(MockWebServer origin) {
    return ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .tls(ServerTls.keyStore(server.keyStore(), TestCertificates.password()));
  }

  private HttpResponse<String> get(ProxyServer proxy, javax.net.ssl.SSLContext trust) throws Exception {
    HttpClient https = HttpClient.newBuilder().sslContext(trust).build();
    return https.send(HttpRequest.newBuilder(URI.create("https://localhost:" + proxy.port() + "/secure")).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesReverseProxyOverHttpsAndTellsTheUpstream() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("behind tls"));
    ProxyServer proxy = ferry.start(tlsProxy(origin));
    HttpResponse<String> response = get(proxy, server.trustingContext());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("behind tls");
    RecordedRequest seen = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(seen.getHeader("X-Forwarded-Proto")).isEqualTo("https");
  }

  /** The client asked for an https URL: filters and the access log see that one, not http. */
  @Test
  void showsFiltersAndTheAccessLogTheHttpsUrlTheClientUsed() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("behind tls"));
    AtomicReference<String> seenByFilter = new AtomicReference<>();
    ProxyServer proxy = ferry.start(tlsProxy(origin).filter((exchange, chain) -> {
      seenByFilter.set(exchange.request().url());
      return chain.proceed(exchange.request());
    }));
    try (LogCapture logs = new LogCapture()) {
      assertThat(get(proxy, server.trustingContext()).body()).isEqualTo("behind tls");
      Await.until(() -> !logs.lines("dev.ferry.access").isEmpty(), "the access log line");
      assertThat(logs.lines("dev.ferry.access")).singleElement().asString()
          .contains("GET https://localhost:" + proxy.port() + "/secure HTTP/1.1");
    }
    assertThat(seenByFilter.get()).isEqualTo("https://localhost:" + proxy.port() + "/secure");
  }

  /**
   * Probe poison1, over TLS: an {@code http://} absolute-form target on a TLS listener is 421;
   * the upstream would hear {@code https} while the cache keyed the answer on the http URL.
   */
  @Test
  void answers421ToAnHttpAbsoluteFormTargetOverTls() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("behind tls"));
    ProxyServer proxy = ferry.start(tlsProxy(origin));
    String authority = "localhost:" + proxy.port();
    try (RawClient raw = new RawClient(proxy.address(), server.trustingContext())) {
      assertThat(raw.send("GET http://" + authority + "/secure HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")
          .readResponse().status()).isEqualTo(421);
    }
    try (RawClient raw = new RawClient(proxy.address(), server.trustingContext())) {
      assertThat(raw.send("GET https://" + authority + "/secure HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")
          .readResponse().bodyText()).isEqualTo("behind tls");
    }
    assertThat(origin.getRequestCount()).isEqualTo(1);
    assertThat(proxy.stats().failures()).containsEntry("MISDIRECTED_REQUEST", 1L);
  }

  /**
   * An expired certificate is still served, but the start says so (probe g24: not a word); an
   * expired CA in the chain served too, which clients refuse alike (probe v27).
   */
  @Test
  void warnsAtStartOfACertificateThatIsNotValidNow() throws Exception {
    TestCertificates expired = TestCertificates.issued("localhost", "-10d", 1);
    try (LogCapture logs = new LogCapture()) {
      ferry.start(ProxyServer.builder().tls(ServerTls.keyStore(expired.keyStore(), TestCertificates.password())));
      assertThat(logs.lines(ServerTlsContext.class.getName())).singleElement().asString()
          .contains("tls_certificate_not_valid").contains("subject=\"CN=localhost\"");
    }
    TestCertificates expiredCa = TestCertificates.issuedByExpiredCa("localhost");
    try (LogCapture logs = new LogCapture()) {
      ferry.start(ProxyServer.builder().tls(ServerTls.keyStore(expiredCa.keyStore(), TestCertificates.password())));
      assertThat(logs.lines(ServerTlsContext.class.getName())).singleElement().asString()
          .contains("tls_certificate_not_valid").contains("subject=\"CN=Ferry Test CA")
          .contains("leaf=\"CN=localhost\"");
    }
    try (LogCapture logs = new LogCapture()) {
      ferry.start(ProxyServer.builder().tls(ServerTls.keyStore(server.keyStore(), TestCertificates.password())));
      assertThat(logs.lines(ServerTlsContext.class.getName())).isEmpty();
    }
  }

  /**
   * Plain HTTP sent to the TLS port is told so in plain HTTP (a TLS alert said only "failed"), as
   * nginx does, and accounted for as a refused request: counted and in the access log, as a
   * malformed head on a plain port is (before, only as a failed handshake).
   */
  @Test
  void answersPlainHttpSentToTheTlsPortWith400() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("behind tls"));
    ProxyServer proxy = ferry.start(tlsProxy(origin));
    try (LogCapture logs = new LogCapture(); RawClient plain = new RawClient(proxy.address())) {
      RawClient.RawResponse answer = plain.send("GET /secure HTTP/1.1\r\nHost: localhost\r\n\r\n").readResponse();
      assertThat(answer.status()).isEqualTo(400);
      assertThat(answer.bodyText()).contains("HTTPS");
      assertThat(plain.isClosedByPeer()).isTrue();
      Await.until(() -> !logs.lines("dev.ferry.access").isEmpty(), "the access line");
      assertThat(logs.lines("dev.ferry.access").get(0)).contains("\"-\" 400 " + answer.body().length)
          .contains("failure=MALFORMED_REQUEST");
    }
    assertThat(proxy.stats().exchanges()).isEqualTo(1);
    assertThat(proxy.stats().responsesByStatus()).containsEntry(400, 1L);
    assertThat(proxy.stats().failures()).containsEntry("MALFORMED_REQUEST", 1L);
    assertThat(proxy.stats().failures().getOrDefault("TLS_HANDSHAKE_FAILED", 0L)).as("one account of it").isZero();
    assertThat(get(proxy, server.trustingContext()).body()).isEqualTo("behind tls");
    assertThat(origin.getRequestCount()).isEqualTo(1);
  }

  @Test
  void servesLargeCacheHitsInsideTheTlsSession() throws Exception {
    // A cache hit is written with one gathering write on a plain socket; a TLS socket layered
    // over the channel reports that channel, and writing there would bypass the encryption.
    MockWebServer origin = ferry.mockOrigin();
    String body = "0123456789abcdef".repeat(20_000);
    origin.enqueue(new MockResponse().setHeader("Cache-Control", "max-age=600").setBody(body));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .cache(dev.ferry.proxy.CacheSpec.inMemory())
        .tls(ServerTls.keyStore(server.keyStore(), TestCertificates.password())));
    assertThat(get(proxy, server.trustingContext()).body()).isEqualTo(body);
    HttpResponse<String> hit = get(proxy, server.trustingContext());
    assertThat(hit.body()).isEqualTo(body);
    assertThat(hit.headers().firstValue("Age")).isPresent();
    assertThat(origin.getRequestCount()).isEqualTo(1);
  }

  @Test
  void refusesClientsWithoutACertificateWhenRequiredAndServesTheOthers() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("mutual"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .tls(ServerTls.keyStore(server.keyStore(), TestCertificates.password())
            .clientAuth(ServerTls.ClientAuth.NEED, client.trustStore())));
    assertThatThrownBy(() -> get(proxy, server.trustingContext())).isInstanceOf(java.io.IOException.class);
    javax.net.ssl.KeyManagerFactory keys = javax.net.ssl.KeyManagerFactory.getInstance(
        javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
    keys.init(client.keyStore(), TestCertificates.password());
    javax.net.ssl.TrustManagerFactory trust = javax.net.ssl.TrustManagerFactory.getInstance(
        javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    trust.init(server.trustStore());
    javax.net.ssl.SSLContext withCertificate = javax.net.ssl.SSLContext.getInstance("TLS");
    withCertificate.init(keys.getKeyManagers(), trust.getTrustManagers(), null);
    HttpResponse<String> response = get(proxy, withCertificate);
    assertThat(response.body()).isEqualTo("mutual");
    Await.until(() -> proxy.stats().failures().containsKey("TLS_HANDSHAKE_FAILED"), "the refused handshake counted");
  }

  /**
   * RFC 9440: the upstream learns the certificate the listener verified from {@code Client-Cert}
   * (and the rest of the chain from {@code Client-Cert-Chain}), and a client cannot claim one: its
   * own {@code Client-Cert} and Envoy's {@code X-Forwarded-Client-Cert} are dropped, whether it
   * presented a certificate or not. Before, both went through as the client sent them.
   */
  @Test
  void tellsTheUpstreamTheVerifiedClientCertificateAndDropsClaimedOnes() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("with"));
    origin.enqueue(new MockResponse().setBody("without"));
    ProxyServer proxy = ferry.start(tlsProxy(origin).tls(ServerTls.keyStore(server.keyStore(), TestCertificates.password())
        .clientAuth(ServerTls.ClientAuth.WANT, client.trustStore())));
    javax.net.ssl.KeyManagerFactory keys = javax.net.ssl.KeyManagerFactory.getInstance(
        javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
    keys.init(client.keyStore(), TestCertificates.password());
    javax.net.ssl.SSLContext withCertificate = javax.net.ssl.SSLContext.getInstance("TLS");
    withCertificate.init(keys.getKeyManagers(), trustManagers(server.trustStore()), null);

    assertThat(claiming(proxy, withCertificate).body()).isEqualTo("with");
    RecordedRequest verified = origin.takeRequest();
    java.security.cert.Certificate[] chain = client.keyStore().getCertificateChain(
        client.keyStore().aliases().nextElement());
    java.util.Base64.Encoder base64 = java.util.Base64.getEncoder();
    assertThat(verified.getHeaders().values("Client-Cert"))
        .containsExactly(":" + base64.encodeToString(chain[0].getEncoded()) + ":");
    assertThat(verified.getHeaders().values("Client-Cert-Chain"))
        .containsExactly(":" + base64.encodeToString(chain[1].getEncoded()) + ":");
    assertThat(verified.getHeader("X-Forwarded-Client-Cert")).isNull();

    assertThat(claiming(proxy, server.trustingContext()).body()).isEqualTo("without");
    RecordedRequest unverified = origin.takeRequest();
    assertThat(unverified.getHeader("Client-Cert")).isNull();
    assertThat(unverified.getHeader("Client-Cert-Chain")).isNull();
    assertThat(unverified.getHeader("X-Forwarded-Client-Cert")).isNull();
  }

  private static javax.net.ssl.TrustManager[] trustManagers(java.security.KeyStore store) throws Exception {
    javax.net.ssl.TrustManagerFactory trust = javax.net.ssl.TrustManagerFactory.getInstance(
        javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    return trust.getTrustManagers();
  }

  /** A GET that claims a client certificate in the fields a TLS-terminating proxy would set. */
  private static HttpResponse<String> claiming(ProxyServer proxy, javax.net.ssl.SSLContext context) throws Exception {
    HttpClient https = HttpClient.newBuilder().sslContext(context).build();
    return https.send(HttpRequest.newBuilder(URI.create("https://localhost:" + proxy.port() + "/secure"))
        .header("Client-Cert", ":AAAA:").header("Client-Cert-Chain", ":AAAA:")
        .header("X-Forwarded-Client-Cert", "Hash=00;Subject=\"CN=admin\"").build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void closesAConnectionThatNeverCompletesTheHandshakeAfterTheHeaderTimeout() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("ok"));
    ProxyServer proxy = ferry.start(tlsProxy(origin).requestHeaderTimeout(java.time.Duration.ofMillis(300)));
    try (java.net.Socket silent = new java.net.Socket("127.0.0.1", proxy.port())) {
      silent.setSoTimeout(10_000);
      assertThat(silent.getInputStream().read()).isEqualTo(-1);
    }
    try (SSLSocket socket = (SSLSocket) server.trustingContext().getSocketFactory()
        .createSocket("localhost", proxy.port())) {
      socket.startHandshake();
      socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".getBytes());
      assertThat(new String(socket.getInputStream().readAllBytes())).startsWith("HTTP/1.1 200").endsWith("ok");
    }
  }

  /**
   * A client that sends its ClientHello and never finishes the handshake is closed at the
   * request-header timeout, counted from accept, even though it waits parked rather than on a
   * thread, and the failed handshake is counted; the next client is served.
   */
  @Test
  void closesAHandshakeStalledAfterTheHelloAtTheHeaderTimeoutAndCountsIt() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("ok"));
    ProxyServer proxy = ferry.start(tlsProxy(origin).requestHeaderTimeout(java.time.Duration.ofMillis(600)));
    try (StallingTlsClient stalled = new StallingTlsClient(new RawClient(proxy.address()).socket(),
        server.trustingContext(), "localhost")) {
      long sent = System.nanoTime();
      stalled.sendHello();
      assertThat(stalled.readRawUntilClosed()).isPositive(); // the server's flight, then the end
      assertThat(java.time.Duration.ofNanos(System.nanoTime() - sent)).isGreaterThan(java.time.Duration.ofMillis(500));
    }
    Await.until(() -> proxy.stats().failures().containsKey("TLS_HANDSHAKE_FAILED"), "the stalled handshake counted");
    Await.until(() -> proxy.stats().activeConnections() == 0, "the stalled connection to end");
    assertThat(get(proxy, server.trustingContext()).body()).isEqualTo("ok");
  }

  /**
   * A TLS 1.2 client that asks to renegotiate after its handshake has its connection closed (a
   * handshake per request costs the server, and no HTTP/1.1 client needs one); others are served.
   */
  @Test
  void closesAConnectionWhoseClientRenegotiates() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("first"));
    origin.enqueue(new MockResponse().setBody("ok"));
    ProxyServer proxy = ferry.start(tlsProxy(origin));
    try (SSLSocket socket = (SSLSocket) server.trustingContext().getSocketFactory()
        .createSocket("localhost", proxy.port())) {
      socket.setEnabledProtocols(new String[] {"TLSv1.2"});
      socket.setSoTimeout(10_000);
      RawClient client = new RawClient(socket);
      assertThat(client.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").readResponse().bodyText()).isEqualTo("first");
      assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.2");
      socket.startHandshake(); // after the first handshake: sends a renegotiation's ClientHello
      assertThatThrownBy(() -> client.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").readResponse())
          .isInstanceOf(java.io.IOException.class);
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the renegotiating connection to end");
    assertThat(get(proxy, server.trustingContext()).body()).isEqualTo("ok");
  }

  /** A client that sends its ClientHello and then ends the connection has a failed handshake counted. */
  @Test
  void countsAHandshakeTheClientAbandonsAfterItsHello() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("ok"));
    ProxyServer proxy = ferry.start(tlsProxy(origin));
    try (StallingTlsClient abandoned = new StallingTlsClient(new RawClient(proxy.address()).socket(),
        server.trustingContext(), "localhost")) {
      assertThat(abandoned.sendHello().shutdownOutput().readRawUntilClosed()).isPositive();
    }
    Await.until(() -> proxy.stats().failures().containsKey("TLS_HANDSHAKE_FAILED"), "the abandoned handshake counted");
    Await.until(() -> proxy.stats().activeConnections() == 0, "the abandoned connection to end");
    assertThat(get(proxy, server.trustingContext()).body()).isEqualTo("ok");
  }

  /**
   * A server name that is no host name is in the JDK's reason for the failed handshake, raw:
   * logged unescaped, a client's quote ended the {@code reason} field and its newline forged a
   * log line of its own (probe o12). It is escaped now, as every logged value is.
   */
  @Test
  void escapesAClientsInvalidServerNameInTheLog() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("ok"));
    ProxyServer proxy = ferry.start(tlsProxy(origin));
    String placeholder = "a".repeat(40) + ".example";
    String evil = "x\" forged=1\n[FORGED] GET /forged";
    byte[] hello = clientHello(placeholder);
    byte[] name = placeholder.getBytes(StandardCharsets.US_ASCII);
    byte[] replacement = (evil + "#".repeat(name.length - evil.length())).getBytes(StandardCharsets.US_ASCII);
    int at = indexOf(hello, name);
    assertThat(at).as("the server name in the hello").isPositive();
    System.arraycopy(replacement, 0, hello, at, replacement.length);
    try (LogCapture logs = new LogCapture(); RawClient raw = new RawClient(proxy.address())) {
      raw.socket().getOutputStream().write(hello);
      raw.socket().getOutputStream().flush();
      raw.isClosedByPeer();
      Await.until(() -> !logs.lines("tls_handshake_failed").isEmpty(), "the failed handshake logged");
      assertThat(logs.lines("tls_handshake_failed").get(0)).contains("x\\\" forged=1\\x0A[FORGED]");
      assertThat(logs.lines("[FORGED]")).as("lines the client's bytes began").allMatch(l -> l.contains("tls_handshake_failed"));
    }
    assertThat(get(proxy, server.trustingContext()).body()).isEqualTo("ok");
  }

  /** The ClientHello a TLS client sends first, naming {@code serverName}. */
  private static byte[] clientHello(String serverName) throws Exception {
    SSLEngine engine = server.trustingContext().createSSLEngine(serverName, 443);
    engine.setUseClientMode(true);
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setServerNames(List.of(new SNIHostName(serverName)));
    engine.setSSLParameters(parameters);
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(ByteBuffer.allocate(0), out);
    return Arrays.copyOf(out.array(), out.position());
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * A record that fails to decrypt after the handshake (forged or corrupted on the wire) ends
   * that connection, with an alert, and nothing else: the next client is served.
   */
  @Test
  void closesAConnectionThatSendsARecordThatFailsToDecrypt() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("ok"));
    ProxyServer proxy = ferry.start(tlsProxy(origin));
    byte[] forged = new byte[5 + 40]; // a 40-byte application-data record of random bytes
    new java.util.Random(7).nextBytes(forged);
    forged[0] = 0x17;
    forged[1] = 0x03;
    forged[2] = 0x03;
    forged[3] = 0;
    forged[4] = 40;
    try (StallingTlsClient client = new StallingTlsClient(new RawClient(proxy.address()).socket(),
        server.trustingContext(), "localhost")) {
      client.sendHello().finish().sendRaw(forged);
      client.readRawUntilClosed();
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the connection to end");
    assertThat(get(proxy, server.trustingContext()).body()).isEqualTo("ok");
    assertThat(origin.getRequestCount()).isEqualTo(1);
  }

  /**
   * A handshake refused after the hello (here no ALPN protocol in common) ends with the alert
   * that says why (RFC 8446 §6.2, RFC 7301 §3.2), not a bare close; the next client is served.
   */
  @Test
  void refusesAHandshakeWithAnAlertNamingTheReason() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("ok"));
    ProxyServer proxy = ferry.start(tlsProxy(origin));
    try (SSLSocket h2Only = (SSLSocket) server.trustingContext().getSocketFactory()
        .createSocket("localhost", proxy.port())) {
      h2Only.setSoTimeout(10_000);
      javax.net.ssl.SSLParameters parameters = h2Only.getSSLParameters();
      parameters.setApplicationProtocols(new String[] {"h2"});
      h2Only.setSSLParameters(parameters);
      assertThatThrownBy(h2Only::startHandshake).isInstanceOf(javax.net.ssl.SSLException.class)
          .hasMessageContaining("no_application_protocol");
    }
    assertThat(get(proxy, server.trustingContext()).body()).isEqualTo("ok");
  }

  /**
   * A client offering only ALPN {@code http/1.0} ({@code curl --http1.0 https://...}) is served
   * in HTTP/1.0; one offering h2 and http/1.1 gets http/1.1. Before, the first was refused with
   * no_application_protocol, though the proxy serves HTTP/1.0.
   */
  @Test
  void negotiatesHttp10WithAClientOfferingOnlyThat() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("ok"));
    origin.enqueue(new MockResponse().setBody("ok"));
    ProxyServer proxy = ferry.start(tlsProxy(origin));
    for (String[] offered : List.of(new String[] {"http/1.0"}, new String[] {"h2", "http/1.1"})) {
      try (SSLSocket socket = (SSLSocket) server.trustingContext().getSocketFactory()
          .createSocket("localhost", proxy.port())) {
        socket.setSoTimeout(10_000);
        javax.net.ssl.SSLParameters parameters = socket.getSSLParameters();
        parameters.setApplicationProtocols(offered);
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        String version = offered.length == 1 ? "1.0" : "1.1";
        assertThat(socket.getApplicationProtocol()).isEqualTo("http/" + version);
        RawClient client = new RawClient(socket);
        assertThat(client.send("GET / HTTP/" + version + "\r\nHost: localhost\r\n\r\n").readResponse().bodyText())
            .isEqualTo("ok");
      }
    }
  }

  /**
   * A TLS client refused because the proxy is full gets a TLS alert it can report
   * ({@code internal_error}), not a plaintext 503 it would read as a corrupt record.
   */
  @Test
  void refusesATlsClientPastMaxConnectionsWithAnAlert() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("first"));
    origin.enqueue(new MockResponse().setBody("ok"));
    ProxyServer proxy = ferry.start(tlsProxy(origin).maxConnections(1));
    try (SSLSocket held = (SSLSocket) server.trustingContext().getSocketFactory()
        .createSocket("localhost", proxy.port())) {
      held.setSoTimeout(10_000);
      RawClient client = new RawClient(held);
      assertThat(client.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").readResponse().bodyText()).isEqualTo("first");
      try (SSLSocket refused = (SSLSocket) server.trustingContext().getSocketFactory()
          .createSocket("localhost", proxy.port())) {
        refused.setSoTimeout(10_000);
        assertThatThrownBy(refused::startHandshake).isInstanceOf(javax.net.ssl.SSLException.class)
            .hasMessageContaining("internal_error");
      }
    }
    assertThat(proxy.stats().connectionsRejected()).isEqualTo(1);
    Await.until(() -> proxy.stats().activeConnections() == 0, "the held connection to end");
    assertThat(get(proxy, server.trustingContext()).body()).isEqualTo("ok");
  }
}
