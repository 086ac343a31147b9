package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.CertificateAuthority;
import dev.ferry.proxy.InterceptTls;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.ServerTls;
import dev.ferry.proxy.UpstreamTls;
import dev.ferry.proxy.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The TLS flags map onto ServerTls, UpstreamTls and InterceptTls, and name themselves when refused. */
class TlsFlagsTest {
  @TempDir
  static Path dir;
  private static String cert;
  private static String key;
  private static String other;
  private static String otherKey;
  private static String ca;

  @BeforeAll
  static void certificates() throws Exception {
    TestPki authority = TestPki.authority();
    ca = authority.writeCertificate(dir, "ca").toString();
    cert = authority.issue("localhost").writeCertificate(dir, "site").toString();
    key = dir.resolve("site.key").toString();
    other = authority.issue("api.test").writeCertificate(dir, "api").toString();
    otherKey = dir.resolve("api.key").toString();
  }

  /** The configuration the flags make, with the files they ask for written, as once the proxy runs. */
  private static ProxyConfig configOf(String... args) {
    CliOptions.Parsed parsed = CliOptions.parse(args);
    parsed.writeFiles().run();
    return parsed.builder().buildConfig();
  }

  @Test
  void servesTlsWithCertificatesChosenBySniAndRequiredClientCertificates() {
    ServerTls tls = configOf("--tls-cert", cert, "--tls-key", key, "--tls-cert", other,
        "--tls-key", otherKey, "--tls-client-ca", ca).tls().orElseThrow();
    assertThat(tls).isEqualTo(ServerTls.pem(Path.of(cert), Path.of(key))
        .certificate(Path.of(other), Path.of(otherKey))
        .clientAuth(ServerTls.ClientAuth.NEED, Path.of(ca)));
  }

  /** Optional client certificates (WANT) could be had from the API only; the CLI asked for them always. */
  @Test
  void asksForClientCertificatesWithoutRequiringThemWhenTold() {
    assertThat(configOf("--tls-cert", cert, "--tls-key", key, "--tls-client-ca", ca, "--tls-client-auth", "want")
        .tls().orElseThrow().clientAuth()).isEqualTo(ServerTls.ClientAuth.WANT);
    assertThatThrownBy(() -> CliOptions.parse("--tls-cert", cert, "--tls-key", key, "--tls-client-auth", "want"))
        .hasMessageStartingWith("--tls-client-auth needs --tls-client-ca");
    assertThatThrownBy(() -> CliOptions.parse("--tls-client-auth", "maybe"))
        .hasMessage("--tls-client-auth must be need or want (was maybe)");
  }

  @Test
  void configuresUpstreamTls() {
    assertThat(configOf("--upstream-ca", ca).upstreamTls())
        .hasValue(UpstreamTls.trusting(Path.of(ca)));
    assertThat(configOf("--upstream-ca", ca, "--upstream-client-cert", cert,
        "--upstream-client-key", key).upstreamTls())
        .hasValue(UpstreamTls.trusting(Path.of(ca)).clientCertificate(Path.of(cert), Path.of(key)));
    assertThat(configOf("--upstream-client-key", key, "--upstream-client-cert", cert).upstreamTls())
        .hasValue(UpstreamTls.systemTrust().clientCertificate(Path.of(cert), Path.of(key)));
    assertThat(configOf("--upstream-insecure").upstreamTls()).hasValue(UpstreamTls.insecureTrustAll());
    ProxyConfig plain = configOf();
    assertThat(plain.upstreamTls()).isEmpty();
    assertThat(plain.upstreamSslContext()).isEmpty();
    assertThat(plain.tls()).isEmpty();
    assertThat(plain.interceptTls()).isEmpty();
  }

  /**
   * A client certificate given by flag keeps the config file's upstreamCa: it replaced it with
   * the system's trust store, which then took any public certificate for a private upstream;
   * --upstream-insecure beside the file's CA is refused as beside --upstream-ca (CLI probe).
   */
  @Test
  void buildsTheUpstreamTlsFlagsOnTheConfigFilesCa() throws Exception {
    Path config = java.nio.file.Files.writeString(dir.resolve("upstream-ca.yaml"), "upstreamCa: " + ca + "\n");
    assertThat(configOf("--config", config.toString(), "--upstream-client-cert", cert,
        "--upstream-client-key", key).upstreamTls())
        .hasValue(UpstreamTls.trusting(Path.of(ca)).clientCertificate(Path.of(cert), Path.of(key)));
    assertThatThrownBy(() -> CliOptions.parse("--config", config.toString(), "--upstream-insecure"))
        .hasMessageStartingWith("--upstream-insecure and the config file's upstreamCa contradict each other");
  }

  @Test
  void interceptsWithAGeneratedCaWrittenAsCertificateOnly() throws Exception {
    Path out = dir.resolve("mitm-ca.pem");
    InterceptTls intercept = configOf("--mitm", "--ca-out", out.toString()).interceptTls().orElseThrow();
    assertThat(intercept.hosts()).isEmpty();
    assertThat(intercept.intercepts("anything.example")).isTrue();
    assertThat(Files.readString(out)).isEqualTo(intercept.authority().certificatePem())
        .doesNotContain("PRIVATE KEY");
    // A config reload parses the flags again: the same CA, so the running proxy accepts it.
    assertThat(configOf("--mitm", "--ca-out", out.toString()).interceptTls().orElseThrow()
        .authority()).isEqualTo(intercept.authority());
  }

  @Test
  void writesTheGeneratedKeyOnlyWhenAskedAndKeepsItPrivate() throws Exception {
    Path out = dir.resolve("keyed-ca.pem");
    Path keyOut = dir.resolve("keyed-ca.key");
    CertificateAuthority authority = configOf("--mitm", "--ca-out", out.toString(), "--ca-key-out",
        keyOut.toString()).interceptTls().orElseThrow().authority();
    assertThat(Files.readString(keyOut)).isEqualTo(authority.privateKeyPem());
    if (Files.getFileStore(keyOut).supportsFileAttributeView("posix")) {
      assertThat(Files.getPosixFilePermissions(keyOut))
          .isEqualTo(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
    }
    // Kept, the CA is used again with --ca-cert and --ca-key.
    assertThat(configOf("--ca-cert", out.toString(), "--ca-key", keyOut.toString(), "--mitm-host",
        "*.example.com").interceptTls().orElseThrow().authority()).isEqualTo(authority);
  }

  @Test
  void interceptsOnlyTheGivenHosts() {
    InterceptTls intercept = configOf("--mitm", "--ca-out", dir.resolve("hosts-ca.pem").toString(),
        "--mitm-host", "*.example.com", "--mitm-host", "api.test").interceptTls().orElseThrow();
    assertThat(intercept.hosts()).containsExactly("*.example.com", "api.test");
    assertThat(intercept.intercepts("www.example.com")).isTrue();
    assertThat(intercept.intercepts("elsewhere.org")).isFalse();
  }

  @Test
  void refusesMitmHostsThatAreNotHostGlobs() {
    String out = dir.resolve("bad-hosts-ca.pem").toString();
    for (String bad : new String[] {"[bad", "*.", "a..b", ".example.com", "ex ample.com", "a/b", "bücher.de"}) {
      assertThatThrownBy(() -> CliOptions.parse("--mitm", "--ca-out", out, "--mitm-host", bad))
          .as(bad).hasMessageStartingWith("--mitm-host: intercepted host must be a name or a glob");
    }
    assertThat(configOf("--mitm", "--ca-out", out, "--mitm-host", "[::1]", "--mitm-host", "example.com.")
        .interceptTls().orElseThrow().hosts()).containsExactly("::1", "example.com");
  }

  /** A key of another certificate was found only at start, exit 1 and without the flag's name. */
  @Test
  void refusesAKeyThatIsNotTheCertificatesNamingTheFlag() {
    assertThatThrownBy(() -> CliOptions.parse("--tls-cert", cert, "--tls-key", otherKey))
        .hasMessageStartingWith("--tls-key " + otherKey + " does not belong to the first certificate in " + cert);
    assertThatThrownBy(() -> CliOptions.parse("--upstream-client-cert", cert, "--upstream-client-key", otherKey))
        .hasMessageStartingWith("--upstream-client-key " + otherKey + " does not belong to the first certificate in " + cert);
  }

  @Test
  void refusesHalfPairsNamingBothFlags() {
    assertThatThrownBy(() -> CliOptions.parse("--tls-cert", cert))
        .hasMessageContainingAll("--tls-cert", "--tls-key");
    assertThatThrownBy(() -> CliOptions.parse("--tls-cert", cert, "--tls-key", key, "--tls-cert", other))
        .hasMessageContainingAll("--tls-cert", "--tls-key", "got 2 --tls-cert and 1 --tls-key");
    assertThatThrownBy(() -> CliOptions.parse("--upstream-client-cert", cert))
        .hasMessageContainingAll("--upstream-client-cert", "--upstream-client-key");
    assertThatThrownBy(() -> CliOptions.parse("--upstream-client-key", key))
        .hasMessageContainingAll("--upstream-client-cert", "--upstream-client-key");
    assertThatThrownBy(() -> CliOptions.parse("--ca-key", key))
        .hasMessageContainingAll("--ca-cert", "--ca-key");
  }

  @Test
  void refusesFlagsThatDoNotGoTogether() {
    assertThatThrownBy(() -> CliOptions.parse("--tls-client-ca", ca))
        .hasMessageStartingWith("--tls-client-ca needs --tls-cert");
    assertThatThrownBy(() -> CliOptions.parse("--upstream-insecure", "--upstream-ca", ca))
        .hasMessageContainingAll("--upstream-insecure", "--upstream-ca");
    assertThatThrownBy(() -> CliOptions.parse("--mitm"))
        .hasMessageStartingWith("--mitm needs --ca-out");
    assertThatThrownBy(() -> CliOptions.parse("--mitm-host", "*.example.com"))
        .hasMessageStartingWith("--mitm-host needs --mitm");
    assertThatThrownBy(() -> CliOptions.parse("--ca-out", dir.resolve("x.pem").toString()))
        .hasMessageStartingWith("--ca-out needs --mitm");
    assertThatThrownBy(() -> CliOptions.parse("--mitm", "--ca-out", dir.resolve("r.pem").toString(),
        "--upstream", "http://127.0.0.1:9"))
        .hasMessageStartingWith("--mitm intercepts HTTPS in a forward proxy");
    assertThatThrownBy(() -> CliOptions.parse("--mitm", "--ca-out", dir.resolve("h.pem").toString(),
        "--mitm-host", "bad host"))
        .hasMessageStartingWith("--mitm-host");
    // The loaded CA was used and --mitm said nothing (probe cli F6).
    assertThatThrownBy(() -> configOf("--mitm", "--ca-cert", cert, "--ca-key", key))
        .hasMessageStartingWith("--mitm generates a CA and --ca-cert with --ca-key load one");
  }

  /** The reason in words, as for files it cannot read (it showed java.nio.file.NoSuchFileException). */
  @Test
  void saysWhyItCannotWriteTheCaCertificate() {
    Path missing = dir.resolve("missing").resolve("ca.pem");
    assertThatThrownBy(() -> configOf("--mitm", "--ca-out", missing.toString()))
        .hasMessage("--ca-out cannot write " + missing + ": no such directory");
  }

  @Test
  void refusesARepeatedSingleValueFlag() {
    assertThatThrownBy(() -> CliOptions.parse("--upstream-ca", ca, "--upstream-ca", ca))
        .hasMessage("--upstream-ca may be given only once");
    assertThatThrownBy(() -> CliOptions.parse("--tls-client-ca", ca, "--tls-client-ca", ca))
        .hasMessage("--tls-client-ca may be given only once");
  }

  @Test
  void checksFilesAsTheFlagsAreRead() throws Exception {
    assertThatThrownBy(() -> CliOptions.parse("--tls-cert", key))
        .hasMessageStartingWith("--tls-cert");
    assertThatThrownBy(() -> CliOptions.parse("--tls-key", cert))
        .hasMessage("--tls-key file holds no PEM private key (was " + cert + ")");
    assertThatThrownBy(() -> CliOptions.parse("--ca-cert", dir.resolve("missing.pem").toString()))
        .hasMessageStartingWith("--ca-cert cannot read");
    // It said "not a PEM certificate" (probe cli F4).
    assertThatThrownBy(() -> CliOptions.parse("--tls-cert", dir.toString()))
        .hasMessage("--tls-cert cannot read " + dir + ": it is a directory");
    Path pkcs1 = Files.writeString(dir.resolve("rsa.key"),
        "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n");
    assertThatThrownBy(() -> CliOptions.parse("--upstream-client-key", pkcs1.toString()))
        .hasMessageStartingWith("--upstream-client-key must be a PKCS#8 key")
        .hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
  }

  /**
   * The reasons a key file is not written are said in words: an empty file was said to hold
   * "another key", and a symbolic link to nowhere gave "cannot write X: X" (probe i14).
   */
  @Test
  void saysWhyAKeyFileIsNotWritten() throws Exception {
    Path empty = Files.createFile(dir.resolve("empty.key"));
    Path caOut = dir.resolve("why-ca.pem");
    assertThatThrownBy(() -> CliOptions.parse("--mitm", "--ca-out", caOut.toString(), "--ca-key-out", empty.toString()))
        .hasMessage("--ca-key-out: " + empty + " exists and is empty; remove it, and the key is written "
            + "to a new file readable by its owner only");
    Path dangling = Files.createSymbolicLink(dir.resolve("dangling.key"), dir.resolve("nowhere/k.key"));
    assertThatThrownBy(() -> CliOptions.parse("--mitm", "--ca-out", caOut.toString(), "--ca-key-out",
        dangling.toString()).writeFiles().run())
        .hasMessageContaining("--ca-key-out cannot write " + dangling + ": something is in the way (a symbolic link to nowhere?)");
    // A certificate that cannot be written leaves no key behind (probe v14).
    Path directory = Files.createDirectory(dir.resolve("a-directory.pem"));
    Path key = dir.resolve("why-new.key");
    assertThatThrownBy(() -> CliOptions.parse("--mitm", "--ca-out", directory.toString(), "--ca-key-out",
        key.toString()).writeFiles().run())
        .hasMessageStartingWith("--ca-out cannot write " + directory + ": ");
    assertThat(key).doesNotExist();
  }

  /**
   * A refused command line leaves no CA behind, and a CA's existing key is never written over;
   * an accepted one writes the CA only once the proxy runs (a port in use leaves no files).
   */
  @Test
  void writesNoCaForARefusedCommandLineAndNeverOverwritesAKey() throws Exception {
    Path out = dir.resolve("refused-ca.pem");
    CliOptions.Parsed accepted = CliOptions.parse("--mitm", "--ca-out", out.toString());
    assertThat(out).as("not before the proxy runs").doesNotExist();
    accepted.writeFiles().run();
    assertThat(out).exists();
    Files.delete(out);
    assertThatThrownBy(() -> CliOptions.parse("--mitm", "--ca-out", out.toString(), "--upstream",
        "http://127.0.0.1:9000")).hasMessageContaining("--mitm intercepts HTTPS in a forward proxy");
    assertThat(out).doesNotExist();
    Path keyOut = dir.resolve("trusted-ca.key");
    Files.writeString(keyOut, "the key of a CA clients trust");
    assertThatThrownBy(() -> CliOptions.parse("--mitm", "--ca-out", out.toString(), "--ca-key-out", keyOut.toString()))
        .hasMessageStartingWith("--ca-key-out: " + keyOut + " exists and holds another key");
    assertThat(Files.readString(keyOut)).isEqualTo("the key of a CA clients trust");
    assertThat(out).doesNotExist();
    // --ca-out naming a key file, a slip, lost the key of a CA clients trust (probe c28).
    Path keyFile = dir.resolve("kept-ca.key");
    Files.writeString(keyFile, "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
    assertThatThrownBy(() -> CliOptions.parse("--mitm", "--ca-out", keyFile.toString()))
        .hasMessageStartingWith("--ca-out: " + keyFile + " holds a private key");
    assertThat(Files.readString(keyFile)).startsWith("-----BEGIN PRIVATE KEY-----");
    // Nor through a symbolic link, as --ca-key-out refuses one: it wrote over the link's target (probe s28).
    Path victim = Files.writeString(dir.resolve("victim.txt"), "precious");
    Path link = Files.createSymbolicLink(dir.resolve("linked-ca.pem"), victim);
    assertThatThrownBy(() -> CliOptions.parse("--mitm", "--ca-out", link.toString()))
        .hasMessageStartingWith("--ca-out: " + link + " is a symbolic link");
    assertThat(Files.readString(victim)).isEqualTo("precious");
    // A file that is no PEM certificate (a DER key) is refused for what it is, not as unreadable (probe v36).
    Path der = Files.write(dir.resolve("ca.der"), new byte[] {0x30, (byte) 0x82, 0x04, (byte) 0xbe, (byte) 0xff});
    assertThatThrownBy(() -> CliOptions.parse("--mitm", "--ca-out", der.toString()))
        .hasMessageStartingWith("--ca-out: " + der + " exists and holds no PEM certificate");
    Path both = dir.resolve("ca-and-key.pem");
    assertThatThrownBy(() -> CliOptions.parse("--mitm", "--ca-out", both.toString(), "--ca-key-out",
        dir.resolve(".").resolve("ca-and-key.pem").toString()))
        .hasMessageStartingWith("--ca-out and --ca-key-out name the same file");
    assertThat(both).doesNotExist();
  }

  @Test
  void describesTheFlagsInTheUsage() {
    assertThat(CliOptions.USAGE).contains("--tls-cert FILE", "--tls-key FILE", "--tls-client-ca FILE",
        "--upstream-ca FILE", "--upstream-client-cert FILE", "--upstream-insecure", "--mitm ",
        "--ca-out FILE", "--ca-key-out FILE", "--ca-cert FILE --ca-key FILE", "--mitm-host GLOB");
  }
}
