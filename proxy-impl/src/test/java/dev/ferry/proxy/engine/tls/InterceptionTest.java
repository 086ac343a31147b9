package dev.ferry.proxy.engine.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.CertificateAuthority;
import dev.ferry.proxy.InterceptTls;
import java.io.IOException;
import java.net.Socket;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** HTTPS interception's TLS: leaves issued on demand by SNI or CONNECT host, trusted via the CA. */
class InterceptionTest {
  private static final CertificateAuthority CA = Authorities.generate(Duration.ofDays(2));

  private final Interception interception = Interception.create(InterceptTls.of(CA));
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
  void issuesLeafForTheConnectHostThatVerifiesWithHostnameCheck() throws Exception {
    X509Certificate leaf = handshake("api.example.test", true, "api.example.test");

    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(2, "api.example.test"));
    assertThat(leaf.getIssuerX500Principal()).isEqualTo(CA.certificate().getSubjectX500Principal());
    leaf.verify(CA.certificate().getPublicKey());
  }

  @Test
  void issuesLeafForConnectHostWhenClientSendsNoSni() throws Exception {
    X509Certificate leaf = handshake("connect.example.test", false, "connect.example.test");

    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(2, "connect.example.test"));
  }

  @Test
  void issuesLeafWithIpSanForIpHost() throws Exception {
    // the JDK sends no SNI for an IP literal, so the CONNECT host names the leaf
    X509Certificate leaf = handshake("127.0.0.1", true, "127.0.0.1");

    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(7, "127.0.0.1"));
    assertThat(interception.leaves().leafFor("[::1]").leaf().getSubjectAlternativeNames())
        .containsExactly(List.of(7, "0:0:0:0:0:0:0:1"));
  }

  @Test
  void completesHandshakeFromPeekedClientHelloBytes() throws Exception {
    CompletableFuture<SSLSession> served = handshakes.serveOne(plain -> {
      byte[] peek = new byte[5];
      int n = plain.getInputStream().readNBytes(peek, 0, peek.length);
      assertThat(TlsRecords.looksLikeClientHello(peek, n)).isTrue();
      return interception.accept(plain, java.util.Arrays.copyOf(peek, n), "peek.example.test");
    });
    try (Handshakes.Client client = handshakes.connect(CA.sslContext(), "peek.example.test", true)) {
      assertThat(client.handshake()).isEqualTo(Handshakes.OK);
    }
    assertThat(served.get(10, TimeUnit.SECONDS).getProtocol()).isEqualTo("TLSv1.3");
  }

  @Test
  void failsHandshakeOfClientThatDoesNotTrustTheCaAndServesTheNext() throws Exception {
    CompletableFuture<SSLSession> refused = handshakes.serveOne(this::intercept);
    TestPki.Issued otherCa = TestPki.ca("Not The Proxy CA");
    try (Handshakes.Client client = handshakes.connect(Handshakes.clientContext(otherCa.certificate(), null),
        "api.example.test", true)) {
      assertThatThrownBy(client::handshake).isInstanceOf(IOException.class).hasMessageContaining("PKIX");
    }
    assertThatThrownBy(() -> refused.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);

    assertThat(handshake("api.example.test", true, "api.example.test")).isNotNull();
  }

  @Test
  void returnsSameLeafForSameHost() {
    LeafCertificates leaves = interception.leaves();
    CertifiedKey first = leaves.leafFor("Same.Example.Test.");

    assertThat(leaves.leafFor("same.example.test")).isSameAs(first);
    CertifiedKey other = leaves.leafFor("other.example.test");
    assertThat(other.leaf().getPublicKey()).isEqualTo(first.leaf().getPublicKey());
    assertThat(other.leaf().getSerialNumber()).isNotEqualTo(first.leaf().getSerialNumber());
    assertThat(other.leaf().getSerialNumber().signum()).isPositive();
  }

  @Test
  void endsLeafValidityWithTheAuthority() {
    X509Certificate leaf = interception.leaves().leafFor("short.example.test").leaf();

    assertThat(leaf.getNotAfter()).isBeforeOrEqualTo(CA.certificate().getNotAfter());
    assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    assertThat(leaf.getPublicKey().getAlgorithm()).isEqualTo("EC");
  }

  /**
   * RFC 5280 caps a commonName at 64 characters: a longer host is named by the SAN alone, under
   * an empty subject and a critical SAN (§4.1.2.6), as public CAs issue them (probe tls F4).
   */
  @Test
  void namesAHostLongerThanACommonNameMayBeInTheSanAlone() throws Exception {
    String longHost = "a".repeat(60) + "." + "b".repeat(60) + ".example.test";
    X509Certificate leaf = handshake(longHost, false, longHost);

    assertThat(leaf.getSubjectX500Principal().getName()).isEmpty();
    assertThat(leaf.getCriticalExtensionOIDs()).contains("2.5.29.17");
    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(2, longHost));
    X509Certificate shortLeaf = interception.leaves().leafFor("short.example.test").leaf();
    assertThat(shortLeaf.getSubjectX500Principal().getName()).isEqualTo("CN=short.example.test");
    assertThat(shortLeaf.getNonCriticalExtensionOIDs()).contains("2.5.29.17");
  }

  @Test
  void refusesToIssueForTextThatIsNoHost() {
    assertThatThrownBy(() -> interception.leaves().leafFor("evil host/\u0000"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a host name");
  }

  @Test
  void interceptsOnlyMatchingHosts() {
    InterceptTls spec = InterceptTls.of(CA).hosts("*.example.test", "10.0.0.1")
        .matching(host -> !host.startsWith("skip."));

    assertThat(spec.intercepts("API.example.test.")).isTrue();
    assertThat(spec.intercepts("example.test")).isFalse();
    assertThat(spec.intercepts("skip.example.test")).isFalse();
    assertThat(spec.intercepts("10.0.0.1")).isTrue();
    assertThat(InterceptTls.of(CA).intercepts("anything.example")).isTrue();
  }

  private EngineSocket intercept(Socket plain) throws IOException {
    return interception.accept(plain, new byte[0], "api.example.test");
  }

  /** The leaf a client verifying {@code host} with the CA's exported SSLContext was shown. */
  private X509Certificate handshake(String host, boolean sni, String connectHost) throws Exception {
    CompletableFuture<SSLSession> served = handshakes.serveOne(
        plain -> interception.accept(plain, new byte[0], connectHost));
    try (Handshakes.Client client = handshakes.connect(CA.sslContext(), host, sni)) {
      assertThat(client.handshake()).isEqualTo(Handshakes.OK);
      served.get(10, TimeUnit.SECONDS);
      return client.peerLeaf();
    }
  }
}
