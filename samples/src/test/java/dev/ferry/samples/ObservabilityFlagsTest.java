package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.AccessLogFormat;
import dev.ferry.proxy.ProxyConfig;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The observability flags map onto the builder and name themselves when refused. */
class ObservabilityFlagsTest {
  @TempDir
  Path dir;

  private static ProxyConfig configOf(String... args) {
    return CliOptions.parse(args).builder().buildConfig();
  }

  @Test
  void mapsEachFlagOntoTheBuilder() throws Exception {
    Path page = Files.writeString(dir.resolve("502.html"), "<h1>{status} {reason}</h1>");
    Path notFound = Files.writeString(dir.resolve("404.html"), "<h1>gone</h1>");
    ProxyConfig config = configOf("--admin-port", "9901", "--access-log", "JSON",
        "--error-page", "502=" + page, "--error-page", "404=" + notFound,
        "--request-id-header", "X-Correlation-Id", "--no-stats-on-proxy-port",
        "-m", "5", "--cache-status-header", "X-Proxy-Cache");
    assertThat(config.admin()).hasValue(new InetSocketAddress("127.0.0.1", 9901));
    assertThat(config.accessLog()).isEqualTo(AccessLogFormat.JSON);
    assertThat(config.errorPages()).containsEntry(502, "<h1>{status} {reason}</h1>")
        .containsEntry(404, "<h1>gone</h1>");
    assertThat(config.requestIdHeader()).isEqualTo("X-Correlation-Id");
    assertThat(config.statsOnProxyPort()).isFalse();
    assertThat(config.cache()).hasValueSatisfying(cache -> {
      assertThat(cache.statusHeader()).isEqualTo("X-Proxy-Cache");
      assertThat(cache.maxSizeBytes()).isEqualTo(5L << 20);
    });
  }

  @Test
  void keepsTheDefaultsWithoutTheFlags() {
    ProxyConfig config = configOf();
    assertThat(config.admin()).isEmpty();
    assertThat(config.accessLog()).isEqualTo(AccessLogFormat.COMBINED);
    assertThat(config.statsOnProxyPort()).isTrue();
    assertThat(config.requestIdHeader()).isEqualTo("X-Request-Id");
  }

  @Test
  void appliesTheCacheHeaderWhicheverComesFirst() {
    assertThat(configOf("--cache-status-header", "X-Proxy-Cache", "-m", "1").cache().orElseThrow()
        .statusHeader()).isEqualTo("X-Proxy-Cache");
  }

  @Test
  void bindsTheAdminListenerWhereAsked() {
    assertThat(configOf("--admin-bind", "0.0.0.0", "--admin-port", "0").admin())
        .hasValue(new InetSocketAddress("0.0.0.0", 0));
  }

  @Test
  void refusesBadValuesNamingTheFlag() {
    assertRefused("--access-log must be combined, json or off (was xml)", "--access-log", "xml");
    assertRefused("--admin-port must be a port from 0 to 65535 (was 70000)", "--admin-port", "70000");
    assertRefused("--admin-port must be a port from 0 to 65535 (was x)", "--admin-port", "x");
    assertRefused("--admin-bind needs --admin-port", "--admin-bind", "127.0.0.1");
    assertRefused("--error-page must be STATUS=FILE", "--error-page", "502");
    assertRefused("--error-page status must be a number from 400 to 599 (was 302)",
        "--error-page", "302=" + dir.resolve("x.html"));
    assertRefused("--error-page status must be a number from 400 to 599 (was abc)",
        "--error-page", "abc=x.html");
    // In words: it showed java.nio.file.NoSuchFileException (probe v12).
    assertRefused("--error-page cannot read " + dir.resolve("missing.html") + ": no such file",
        "--error-page", "502=" + dir.resolve("missing.html"));
    assertRefused("--request-id-header", "--request-id-header", "Bad:Name");
    assertRefused("--cache-status-header needs a cache", "--cache-status-header", "X-Proxy-Cache");
    assertRefused("--cache-status-header", "-m", "1", "--cache-status-header", "X Cache");
    assertRefused("--cache-status-header: statusHeader cannot be Transfer-Encoding: the proxy manages",
        "-m", "1", "--cache-status-header", "Transfer-Encoding");
    assertRefused("--request-id-header cannot be content-length", "--request-id-header", "content-length");
    assertRefused("--admin-port needs a value", "--admin-port");
  }

  @Test
  void refusesARepeatedSingleValueFlag() throws Exception {
    assertRefused("--admin-port may be given only once", "--admin-port", "1", "--admin-port", "2");
    assertRefused("--access-log may be given only once", "--access-log", "json", "--access-log", "off");
    assertRefused("--request-id-header may be given only once",
        "--request-id-header", "A", "--request-id-header", "B");
    Path page = Files.writeString(dir.resolve("502.html"), "x");
    assertRefused("--error-page was given twice for status 502",
        "--error-page", "502=" + page, "--error-page", "502=" + page);
  }

  private static void assertRefused(String message, String... args) {
    assertThatThrownBy(() -> configOf(args)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }
}
