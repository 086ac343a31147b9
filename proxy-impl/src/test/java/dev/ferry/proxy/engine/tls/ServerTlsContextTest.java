package dev.ferry.proxy.engine.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.ServerTls;
import dev.ferry.proxy.ServerTls.ClientAuth;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS termination on the listener: SNI, ALPN, client certificates, keystores. */
class ServerTlsContextTest {
  @TempDir Path dir;

  private final TestPki.Issued ca = TestPki.ca("Listener Test CA");
  private Handshakes handshakes;

  @BeforeEach
  void startServer() throws IOException {
    handshakes = new Handshakes();
  }

  @AfterEach
  void stopServer() throws Exception {
    handshakes.close();
  }

  @Test
  void picksCertificateBySniName() throws Exception {
    ServerTls tls = pem("a", TestPki.server(ca, TestPki.ec(), "a.example.test"))
        .certificate(chain("b", TestPki.server(ca, TestPki.ec(), "b.example.test")), key("b"));
    ServerTlsContext context = ServerTlsContext.create(tls);

    assertThat(leafShownFor(context, "b.example.test", true)).isEqualTo("b.example.test");
    assertThat(leafShownFor(context, "a.example.test", true)).isEqualTo("a.example.test");
  }

  @Test
  void picksCertificateBySniAcrossKeyTypes() throws Exception {
    ServerTls tls = pem("ec", TestPki.server(ca, TestPki.ec(), "ec.example.test"))
        .certificate(chain("rsa", TestPki.server(ca, TestPki.rsa(), "*.rsa.example.test")), key("rsa"));
    ServerTlsContext context = ServerTlsContext.create(tls);

    assertThat(leafShownFor(context, "www.rsa.example.test", true)).isEqualTo("*.rsa.example.test");
    assertThat(leafShownFor(context, "ec.example.test", true)).isEqualTo("ec.example.test");
  }

  @Test
  void showsFirstCertificateWithoutSni() throws Exception {
    ServerTls tls = pem("a", TestPki.server(ca, TestPki.ec(), "a.example.test"))
        .certificate(chain("b", TestPki.server(ca, TestPki.ec(), "b.example.test")), key("b"));

    assertThat(leafShownFor(ServerTlsContext.create(tls), "a.example.test", false)).isEqualTo("a.example.test");
  }

  /**
   * The first certificate is the default whatever its key type: the JDK asks for an EC one
   * first, and an EC certificate listed second was shown to clients without SNI.
   */
  @Test
  void showsFirstCertificateWithoutSniWhenTheOthersHaveAnotherKeyType() throws Exception {
    ServerTls tls = pem("rsa", TestPki.server(ca, TestPki.rsa(), "site.example.test"))
        .certificate(chain("ec", TestPki.server(ca, TestPki.ec(), "api.example.test")), key("ec"));
    ServerTlsContext context = ServerTlsContext.create(tls);

    assertThat(leafShownFor(context, "site.example.test", false)).isEqualTo("site.example.test");
    assertThat(leafShownFor(context, "api.example.test", true)).isEqualTo("api.example.test");
  }

  @Test
  void negotiatesHttp11OverTls13() throws Exception {
    ServerTlsContext context = ServerTlsContext.create(pem("a", TestPki.server(ca, TestPki.ec(), "a.example.test")));
    CompletableFuture<SSLSession> served = handshakes.serveOne(plain -> context.accept(plain, new byte[0]));
    try (Handshakes.Client client = handshakes.connect(Handshakes.clientContext(ca.certificate(), null), "a.example.test", true)) {
      assertThat(client.handshake()).isEqualTo(Handshakes.OK);
      assertThat(client.socket.getApplicationProtocol()).isEqualTo("http/1.1");
      assertThat(client.socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
    }
    assertThat(served.get(10, TimeUnit.SECONDS).getProtocol()).isEqualTo("TLSv1.3");
    assertThat(context.parameters().getProtocols()).containsExactly("TLSv1.3", "TLSv1.2");
  }

  @Test
  void refusesClientWithoutCertificateWhenNeeded() throws Exception {
    ServerTlsContext context = ServerTlsContext.create(mutual(ClientAuth.NEED));
    CompletableFuture<SSLSession> served = handshakes.serveOne(plain -> context.accept(plain, new byte[0]));
    try (Handshakes.Client client = handshakes.connect(Handshakes.clientContext(ca.certificate(), null), "a.example.test", true)) {
      assertThat(readOrFail(client)).isNotEqualTo(Handshakes.OK);
    }
    assertThatThrownBy(() -> served.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class).hasMessageContaining("certificate");
  }

  @Test
  void acceptsClientCertificateSignedByTrustedCa() throws Exception {
    TestPki.Issued clients = TestPki.ca("Client CA");
    TestPki.Issued alice = TestPki.client(clients, "alice.example.test");
    ServerTlsContext context = ServerTlsContext.create(mutual(ClientAuth.NEED, clients));
    CompletableFuture<SSLSession> served = handshakes.serveOne(plain -> context.accept(plain, new byte[0]));
    try (Handshakes.Client client = handshakes.connect(Handshakes.clientContext(ca.certificate(), alice), "a.example.test", true)) {
      assertThat(client.handshake()).isEqualTo(Handshakes.OK);
    }
    assertThat(served.get(10, TimeUnit.SECONDS).getPeerCertificates()[0]).isEqualTo(alice.certificate());
  }

  @Test
  void refusesClientCertificateFromAnotherCa() throws Exception {
    TestPki.Issued mallory = TestPki.client(TestPki.ca("Other CA"), "mallory.example.test");
    ServerTlsContext context = ServerTlsContext.create(mutual(ClientAuth.NEED));
    CompletableFuture<SSLSession> served = handshakes.serveOne(plain -> context.accept(plain, new byte[0]));
    try (Handshakes.Client client = handshakes.connect(Handshakes.clientContext(ca.certificate(), mallory), "a.example.test", true)) {
      assertThat(readOrFail(client)).isNotEqualTo(Handshakes.OK);
    }
    assertThatThrownBy(() -> served.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
  }

  @Test
  void acceptsClientWithoutCertificateWhenOnlyWanted() throws Exception {
    ServerTlsContext context = ServerTlsContext.create(mutual(ClientAuth.WANT));
    CompletableFuture<SSLSession> served = handshakes.serveOne(plain -> context.accept(plain, new byte[0]));
    try (Handshakes.Client client = handshakes.connect(Handshakes.clientContext(ca.certificate(), null), "a.example.test", true)) {
      assertThat(client.handshake()).isEqualTo(Handshakes.OK);
    }
    assertThat(served.get(10, TimeUnit.SECONDS).getProtocol()).isEqualTo("TLSv1.3");
  }

  @Test
  void servesEveryKeyEntryOfAPkcs12KeyStoreBySni() throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    for (String host : List.of("one.example.test", "two.example.test")) {
      TestPki.Issued issued = TestPki.server(ca, TestPki.ec(), host);
      store.setKeyEntry(host, issued.keys().getPrivate(), "secret".toCharArray(),
          issued.chain().toArray(new X509Certificate[0]));
    }
    Path file = dir.resolve("server.p12");
    try (OutputStream out = Files.newOutputStream(file)) {
      store.store(out, "secret".toCharArray());
    }
    ServerTlsContext context = ServerTlsContext.create(ServerTls.keyStore(file, "secret".toCharArray()));

    assertThat(leafShownFor(context, "two.example.test", true)).isEqualTo("two.example.test");
    assertThat(leafShownFor(context, "one.example.test", false)).isEqualTo("one.example.test");
  }

  @Test
  void namesKeyStoreOpenedWithWrongPassword() throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    Path file = dir.resolve("wrong.p12");
    try (OutputStream out = Files.newOutputStream(file)) {
      store.store(out, "right".toCharArray());
    }
    assertThatThrownBy(() -> ServerTlsContext.create(ServerTls.keyStore(file, "wrong".toCharArray())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(file.toString()).hasMessageContaining("password");
  }

  /** The first DNS SAN of the leaf the server showed a client that asked for {@code host}. */
  /**
   * TLS 1.2 is served with forward-secret AEAD suites only (RFC 9325 §4.1, §4.2): a client
   * offering RSA key transport or CBC alone is refused, one offering ECDHE with GCM is served.
   * Before, the JDK's defaults let both through (probe tls F2).
   */
  @Test
  void servesTls12OnlyWithForwardSecretAeadSuites() throws Exception {
    ServerTlsContext rsa = ServerTlsContext.create(pem("rsa", TestPki.server(ca, TestPki.rsa(), "a.example.test")));
    ServerTlsContext ec = ServerTlsContext.create(pem("ec", TestPki.server(ca, TestPki.ec(), "a.example.test")));

    assertThat(tls12HandshakeWith(rsa, "TLS_RSA_WITH_AES_128_GCM_SHA256")).isFalse();
    assertThat(tls12HandshakeWith(rsa, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA")).isFalse();
    assertThat(tls12HandshakeWith(ec, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384")).isFalse();
    assertThat(tls12HandshakeWith(rsa, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")).isTrue();
    assertThat(tls12HandshakeWith(ec, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256")).isTrue();
  }

  /** Whether a TLS 1.2 client offering {@code suite} alone completes a handshake with {@code context}. */
  private boolean tls12HandshakeWith(ServerTlsContext context, String suite) throws Exception {
    handshakes.serveOne(plain -> context.accept(plain, new byte[0]));
    try (Handshakes.Client connection = handshakes.connect(Handshakes.clientContext(ca.certificate(), null),
        "a.example.test", true)) {
      connection.socket.setEnabledProtocols(new String[] {"TLSv1.2"});
      connection.socket.setEnabledCipherSuites(new String[] {suite});
      return readOrFail(connection) == Handshakes.OK;
    }
  }

  private String leafShownFor(ServerTlsContext context, String host, boolean sni) throws Exception {
    CompletableFuture<SSLSession> served = handshakes.serveOne(plain -> context.accept(plain, new byte[0]));
    SSLContext client = Handshakes.clientContext(ca.certificate(), null);
    try (Handshakes.Client connection = handshakes.connect(client, host, sni)) {
      assertThat(connection.handshake()).isEqualTo(Handshakes.OK);
      served.get(10, TimeUnit.SECONDS);
      return String.valueOf(connection.peerLeaf().getSubjectAlternativeNames().iterator().next().get(1));
    }
  }

  private static int readOrFail(Handshakes.Client client) {
    try {
      return client.handshake();
    } catch (IOException expected) {
      return -2;
    }
  }

  private ServerTls mutual(ClientAuth mode) throws IOException {
    return mutual(mode, ca);
  }

  private ServerTls mutual(ClientAuth mode, TestPki.Issued clientCa) throws IOException {
    Path trusted = TestPki.writePem(dir, "clients-ca.pem", List.of(clientCa.certificate()));
    return pem("a", TestPki.server(ca, TestPki.ec(), "a.example.test")).clientAuth(mode, trusted);
  }

  private ServerTls pem(String name, TestPki.Issued issued) throws IOException {
    return ServerTls.pem(chain(name, issued), key(name));
  }

  private Path chain(String name, TestPki.Issued issued) throws IOException {
    TestPki.writeKey(dir, name + ".key", issued.keys().getPrivate());
    return TestPki.writePem(dir, name + ".crt", issued.chain());
  }

  private Path key(String name) {
    return dir.resolve(name + ".key");
  }
}
