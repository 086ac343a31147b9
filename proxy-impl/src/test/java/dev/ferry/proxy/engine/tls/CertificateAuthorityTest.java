package dev.ferry.proxy.engine.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.CertificateAuthority;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Generated and loaded interception CAs, and what they export for clients. */
class CertificateAuthorityTest {
  @TempDir Path dir;

  @Test
  void generatesShortLivedCaWithUniqueNameThroughTheApi() {
    CertificateAuthority first = CertificateAuthority.generate(Duration.ofDays(2));
    CertificateAuthority second = CertificateAuthority.generate();
    X509Certificate certificate = first.certificate();

    assertThat(certificate.getSubjectX500Principal().getName()).contains("CN=Ferry Interception CA ");
    assertThat(certificate.getSubjectX500Principal()).isNotEqualTo(second.certificate().getSubjectX500Principal());
    assertThat(certificate.getBasicConstraints()).isEqualTo(0);
    assertThat(certificate.getKeyUsage()[5]).as("keyCertSign").isTrue();
    assertThat(certificate.getKeyUsage()[6]).as("cRLSign").isTrue();
    assertThat(Duration.between(certificate.getNotBefore().toInstant(), certificate.getNotAfter().toInstant()))
        .isLessThanOrEqualTo(Duration.ofDays(2).plusHours(1).plusSeconds(1));
    assertThat(Duration.between(second.certificate().getNotBefore().toInstant(),
        second.certificate().getNotAfter().toInstant())).isLessThanOrEqualTo(Duration.ofDays(31));
  }

  @Test
  void roundTripsGeneratedCaThroughPem() throws Exception {
    CertificateAuthority generated = CertificateAuthority.generate(Duration.ofDays(1));
    Path certificate = Files.writeString(dir.resolve("ca.pem"), generated.certificatePem());
    Path key = Files.writeString(dir.resolve("ca.key"), generated.privateKeyPem());

    CertificateAuthority loaded = CertificateAuthority.fromPem(certificate, key);

    assertThat(loaded).isEqualTo(generated);
    assertThat(loaded.sha256Fingerprint()).isEqualTo(generated.sha256Fingerprint());
  }

  @Test
  void exportsTrustStoreAndFingerprint() throws Exception {
    CertificateAuthority ca = Authorities.generate(Duration.ofDays(1));

    assertThat(ca.trustStore().getCertificate("ferry-ca")).isEqualTo(ca.certificate());
    assertThat(ca.trustManager().getAcceptedIssuers()).containsExactly(ca.certificate());
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(ca.certificate().getEncoded());
    assertThat(ca.sha256Fingerprint()).isEqualTo(HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest));
    assertThat(ca.toString()).contains("sha256=").doesNotContain(ca.privateKeyPem().substring(30, 60));
  }

  @Test
  void refusesToLoadCertificateThatIsNotACa() throws Exception {
    TestPki.Issued leaf = TestPki.server(TestPki.ca("Some CA"), TestPki.ec(), "leaf.example.test");
    Path certificate = TestPki.writePem(dir, "leaf.pem", List.of(leaf.certificate()));
    Path key = TestPki.writeKey(dir, "leaf.key", leaf.keys().getPrivate());

    assertThatThrownBy(() -> CertificateAuthority.fromPem(certificate, key))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(certificate.toString()).hasMessageContaining("not a CA");
  }

  /**
   * A CA whose key usage lacks keyCertSign, or whose key is weak, signs what every client
   * refuses: it is refused at load, naming the file, not at every intercepted session (probe s24).
   * So is one whose extended key usage leaves out serverAuth, or whose key Ferry cannot issue
   * with (v24). A CA restricted to serverAuth is fine.
   */
  @Test
  void refusesToLoadACaClientsWouldNotTrustToIssue() throws Exception {
    Object[][] cases = {
        {TestPki.ca("Signs nothing", TestPki.ec(), KeyUsage.digitalSignature), "lacks keyCertSign"},
        {TestPki.ca("Weak", TestPki.rsa(1024), KeyUsage.keyCertSign), "1024-bit RSA key"},
        {TestPki.ca("Clients only", TestPki.ec(), KeyUsage.keyCertSign, KeyPurposeId.id_kp_clientAuth),
            "extended key usage lacks serverAuth"},
        {TestPki.ca("Edwards", TestPki.ed25519(), KeyUsage.keyCertSign), "EdDSA key"},
        {TestPki.ca("Any purpose", TestPki.ec(), KeyUsage.keyCertSign, KeyPurposeId.anyExtendedKeyUsage),
            "extended key usage lacks serverAuth"}};
    for (Object[] c : cases) {
      TestPki.Issued ca = (TestPki.Issued) c[0];
      Path certificate = TestPki.writePem(dir, "ca-" + c[1].hashCode() + ".pem", List.of(ca.certificate()));
      Path key = TestPki.writeKey(dir, "ca-" + c[1].hashCode() + ".key", ca.keys().getPrivate());
      assertThatThrownBy(() -> CertificateAuthority.fromPem(certificate, key)).as((String) c[1])
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(certificate.toString()).hasMessageContaining((String) c[1]);
    }
  }

  @Test
  void loadsACaRestrictedToServerCertificates() throws Exception {
    TestPki.Issued ca = TestPki.ca("Servers only", TestPki.ec(), KeyUsage.keyCertSign, KeyPurposeId.id_kp_serverAuth);
    Path certificate = TestPki.writePem(dir, "servers.pem", List.of(ca.certificate()));
    Path key = TestPki.writeKey(dir, "servers.key", ca.keys().getPrivate());
    assertThat(CertificateAuthority.fromPem(certificate, key).certificate()).isEqualTo(ca.certificate());
  }

  @Test
  void issuesLeavesFromALoadedRsaCa() throws Exception {
    TestPki.Issued rsaCa = TestPki.ca("RSA CA");
    CertificateAuthority ca = CertificateAuthority.of(rsaCa.certificate(), rsaCa.keys().getPrivate());

    X509Certificate leaf = new LeafCertificates(ca, 10).leafFor("rsa.example.test").leaf();

    leaf.verify(rsaCa.certificate().getPublicKey());
    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(2, "rsa.example.test"));
  }
}
