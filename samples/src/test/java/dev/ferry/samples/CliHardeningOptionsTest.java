package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.ProxyConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The timeout, limit and upstream-connection flags of issue #8, and how bad values are told. */
class CliHardeningOptionsTest {

  private static ProxyConfig configOf(String... args) {
    return CliOptions.parse(args).builder().build().config();
  }

  @Test
  void mapsTimeoutAndLimitFlagsOntoTheBuilder() {
    ProxyConfig config = configOf("--write-timeout", "15", "--header-timeout", "0.5",
        "--min-body-rate", "1000", "--retry-buffer-bytes", "4096", "--request-buffer-bytes", "65536", "--upstream-keepalive", "2",
        "--max-idle-upstream", "8", "--max-request-line-bytes", "4096", "--max-header-bytes",
        "16384", "--max-header-count", "50");
    assertThat(config.writeTimeout()).isEqualTo(Duration.ofSeconds(15));
    assertThat(config.requestHeaderTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(config.minRequestBodyRate()).isEqualTo(1000);
    assertThat(config.retryBufferBytes()).isEqualTo(4096);
    assertThat(config.requestBufferBytes()).isEqualTo(65536);
    assertThat(config.upstreamKeepAlive()).isEqualTo(Duration.ofSeconds(2));
    assertThat(config.maxIdleUpstreamConnections()).isEqualTo(8);
    assertThat(config.maxRequestLineBytes()).isEqualTo(4096);
    assertThat(config.maxHeaderBytes()).isEqualTo(16384);
    assertThat(config.maxHeaderCount()).isEqualTo(50);
  }

  @Test
  void mapsTheRequestSpoolFlagsOntoTheBuilder(@TempDir Path dir) {
    ProxyConfig config = configOf("--request-spool-bytes", "1048576", "--request-spool-dir", dir.toString());
    assertThat(config.requestSpoolBytes()).isEqualTo(1048576);
    assertThat(config.requestSpoolDirectory()).hasValue(dir);
    assertThat(configOf("--request-spool-bytes", "0").requestSpoolBytes()).isZero();
  }

  @Test
  void defaultsAreSafeForCommonBackends() {
    ProxyConfig config = configOf();
    assertThat(config.writeTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(config.upstreamKeepAlive()).isLessThanOrEqualTo(Duration.ofSeconds(4));
    assertThat(config.minRequestBodyRate()).isEqualTo(240);
    assertThat(config.requestBufferBytes()).isEqualTo(1024 * 1024);
    assertThat(config.requestSpoolBytes()).isEqualTo(256L * 1024 * 1024);
    assertThat(config.requestSpoolDirectory()).isEmpty();
    assertThat(config.allowedConnectPorts()).containsExactly(443);
  }

  @Test
  void namesTheFlagInEveryBadValue() {
    assertThatThrownBy(() -> CliOptions.parse("--write-timeout", "0"))
        .hasMessage("--write-timeout must be a positive number of seconds (was 0)");
    // The value as the user wrote it, not Java's Duration form (it said "was PT-1S").
    assertThatThrownBy(() -> CliOptions.parse("--idle-timeout", "-1"))
        .hasMessage("--idle-timeout must be a positive number of seconds (was -1)");
    assertThatThrownBy(() -> CliOptions.parse("--upstream-timeout", "99999999999"))
        .hasMessage("--upstream-timeout must be at most 31536000 seconds, 365 days (was 99999999999)");
    assertThatThrownBy(() -> CliOptions.parse("--write-timeout", "soon"))
        .hasMessage("--write-timeout must be a number of seconds (was soon)");
    assertThatThrownBy(() -> CliOptions.parse("--min-body-rate", "-1")).hasMessageStartingWith("--min-body-rate");
    assertThatThrownBy(() -> CliOptions.parse("--max-header-bytes", "10")).hasMessageStartingWith("--max-header-bytes");
    assertThatThrownBy(() -> CliOptions.parse("--request-buffer-bytes", "-1"))
        .hasMessageStartingWith("--request-buffer-bytes");
    assertThatThrownBy(() -> CliOptions.parse("--request-spool-bytes", "-1"))
        .hasMessageStartingWith("--request-spool-bytes");
    assertThatThrownBy(() -> CliOptions.parse("--request-spool-bytes", "lots"))
        .hasMessage("--request-spool-bytes must be a whole number (was lots)");
    assertThatThrownBy(() -> CliOptions.parse("--header-timeout")).hasMessage("--header-timeout needs a value");
  }

  @Test
  void refusesASingleValueFlagGivenTwice() {
    assertThatThrownBy(() -> CliOptions.parse("-p", "1", "--port", "2"))
        .hasMessage("--port may be given only once");
    assertThatThrownBy(() -> CliOptions.parse("--write-timeout", "1", "--write-timeout", "2"))
        .hasMessage("--write-timeout may be given only once");
    assertThatThrownBy(() -> CliOptions.parse("--request-spool-bytes", "1", "--request-spool-bytes", "2"))
        .hasMessage("--request-spool-bytes may be given only once");
  }

  @Test
  void refusesASpoolDirectoryThatIsNotOne(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("missing");
    assertThatThrownBy(() -> CliOptions.parse("--request-spool-dir", missing.toString()))
        .hasMessageStartingWith("--request-spool-dir")
        .hasMessageContaining(missing.toString());
    // A directory the proxy cannot write files in: a special file system here.
    assertThatThrownBy(() -> CliOptions.parse("--request-spool-dir", "/proc"))
        .hasMessageStartingWith("--request-spool-dir").hasMessageContaining("can write files in");
    Path file = Files.writeString(dir.resolve("file"), "not a directory");
    assertThatThrownBy(() -> CliOptions.parse("--request-spool-dir", file.toString()))
        .hasMessageStartingWith("--request-spool-dir");
  }

  @Test
  void loadsUpstreamTrustFromPemAndRejectsAFileWithout(@TempDir Path dir) throws Exception {
    Path notPem = Files.writeString(dir.resolve("ca.pem"), "not a certificate");
    assertThatThrownBy(() -> CliOptions.parse("--upstream-ca", notPem.toString()))
        .hasMessageStartingWith("--upstream-ca");
    assertThatThrownBy(() -> CliOptions.parse("--upstream-ca", dir.resolve("missing.pem").toString()))
        .hasMessageStartingWith("--upstream-ca cannot read");
    // A CA with a key browsers refuse is left out of the trust: a file of nothing else is an error.
    Path store = dir.resolve("weak.p12");
    Path weak = dir.resolve("weak.pem");
    keytool("-genkeypair", "-alias", "ca", "-keyalg", "RSA", "-keysize", "1024", "-dname", "CN=Weak CA",
        "-ext", "bc:c", "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", "changeit");
    keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", store.toString(), "-storepass", "changeit",
        "-file", weak.toString());
    assertThatThrownBy(() -> CliOptions.parse("--upstream-ca", weak.toString()))
        .hasMessageStartingWith("--upstream-ca file holds no CA certificate with a key of at least 2048 bits");
  }

  private static void keytool(String... arguments) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
    command.addAll(List.of(arguments));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0).as(output).isTrue();
  }
}
