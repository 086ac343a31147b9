package dev.ferry.proxy.engine.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading PEM certificates and keys, and errors that name the file. */
class PemTest {
  @TempDir Path dir;

  private final TestPki.Issued ca = TestPki.ca("Pem Test CA");

  @Test
  void readsChainsAndPkcs8KeysForRsaAndEc() throws Exception {
    for (TestPki.Issued issued : List.of(TestPki.server(ca, TestPki.ec(), "ec.example.test"),
        TestPki.server(ca, TestPki.rsa(), "rsa.example.test"))) {
      Path chain = TestPki.writePem(dir, "chain.pem", issued.chain());
      Path key = TestPki.writeKey(dir, "key.pem", issued.keys().getPrivate());

      CertifiedKey loaded = CertifiedKey.load(chain, key);

      assertThat(loaded.chain()).containsExactlyElementsOf(issued.chain());
      assertThat(loaded.privateKey()).isEqualTo(issued.keys().getPrivate());
    }
  }

  @Test
  void readsCaBundleIgnoringTextAroundBlocks() throws Exception {
    TestPki.Issued other = TestPki.ca("Other CA");
    Path bundle = Files.writeString(dir.resolve("bundle.pem"), "# Pem Test CA\n"
        + Files.readString(TestPki.writePem(dir, "a.pem", List.of(ca.certificate())))
        + "\nsubject=Other CA\n" + Files.readString(TestPki.writePem(dir, "b.pem", List.of(other.certificate()))));

    assertThat(Pem.certificates(bundle)).containsExactly(ca.certificate(), other.certificate());
    assertThat(Stores.trustManager(bundle).getAcceptedIssuers()).hasSize(2);
  }

  @Test
  void namesTheFileWhenItHoldsNoCertificate() throws Exception {
    Path key = TestPki.writeKey(dir, "swapped.pem", ca.keys().getPrivate());

    assertThatThrownBy(() -> Pem.certificates(key))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(key.toString()).hasMessageContaining("BEGIN CERTIFICATE");
  }

  @Test
  void namesTheFileWhenItHoldsNoKey() throws Exception {
    Path certificate = TestPki.writePem(dir, "cert.pem", List.of(ca.certificate()));

    assertThatThrownBy(() -> Pem.privateKey(certificate))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(certificate.toString()).hasMessageContaining("BEGIN PRIVATE KEY");
  }

  @Test
  void refusesPkcs1KeyWithTheConversionCommand() throws Exception {
    Path key = Files.writeString(dir.resolve("rsa.key"),
        "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----\n");

    assertThatThrownBy(() -> Pem.privateKey(key))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(key.toString()).hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
  }

  @Test
  void namesBothFilesWhenKeyDoesNotBelongToCertificate() throws Exception {
    TestPki.Issued issued = TestPki.server(ca, TestPki.ec(), "a.example.test");
    Path chain = TestPki.writePem(dir, "a.crt", issued.chain());
    Path wrongKey = TestPki.writeKey(dir, "b.key", TestPki.ec().getPrivate());

    assertThatThrownBy(() -> CertifiedKey.load(chain, wrongKey))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(chain.toString()).hasMessageContaining(wrongKey.toString());
  }

  @Test
  void namesMissingFile() {
    Path missing = dir.resolve("missing.pem");

    assertThatThrownBy(() -> Pem.certificates(missing))
        .isInstanceOf(UncheckedIOException.class).hasMessageContaining(missing.toString());
    assertThatThrownBy(() -> Stores.load(missing, new char[0]))
        .isInstanceOf(UncheckedIOException.class).hasMessageContaining(missing.toString());
  }

  @Test
  void namesTheFileWithBrokenCertificate() throws Exception {
    Path broken = Files.writeString(dir.resolve("broken.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");

    assertThatThrownBy(() -> Pem.certificates(broken))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(broken.toString()).hasMessageContaining("broken certificate");
  }
}
