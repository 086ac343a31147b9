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

  /** Without it, a CLI user could cache nothing over 1 MiB except through a config file (probe bodyfile2). */
  @Test
  void setsTheLargestStoredResponseWhicheverComesFirst() {
    assertThat(configOf("--cache-max-entry-mb", "8", "-m", "64", "--cache-status-header", "X-Hit")
        .cache().orElseThrow())
        .satisfies(cache -> assertThat(cache.maxEntryBytes()).isEqualTo(8L << 20))
        .satisfies(cache -> assertThat(cache.maxSizeBytes()).isEqualTo(64L << 20))
        .satisfies(cache -> assertThat(cache.statusHeader()).isEqualTo("X-Hit"));
    assertThat(configOf("-m", "64").cache().orElseThrow().maxEntryBytes()).isEqualTo(1L << 20);
    assertRefused("--cache-max-entry-mb needs a cache (-m, --cache-mb N)", "--cache-max-entry-mb", "8");
    assertRefused("--cache-max-entry-mb 65 is more than the whole cache (64 MiB, -m)",
        "-m", "64", "--cache-max-entry-mb", "65");
    assertRefused("--cache-max-entry-mb must be 1 or more (was 0)", "-m", "64", "--cache-max-entry-mb", "0");
    assertRefused("--cache-max-entry-mb", "-m", "64", "--cache-max-entry-mb", "lots");
    assertRefused("--cache-max-entry-mb", "-m", "64", "--cache-max-entry-mb", "2", "--cache-max-entry-mb", "4");
  }

  @Test
  void namesWhoMayPurgeWithEveryPurgeFromFlag() {
    assertThat(configOf("-m", "1").cache().orElseThrow().purgeClients()).containsExactly("127.0.0.0/8", "::1");
    assertThat(configOf("--purge-from", "10.1.0.0/16", "-m", "1", "--purge-from", "::1",
        "--cache-status-header", "X-Hit").cache().orElseThrow())
        .satisfies(cache -> assertThat(cache.purgeClients()).containsExactly("10.1.0.0/16", "::1"))
        .satisfies(cache -> assertThat(cache.statusHeader()).isEqualTo("X-Hit"));
    assertThat(configOf("-m", "1", "--purge-from", "none").cache().orElseThrow().purgeClients()).isEmpty();
    assertRefused("--purge-from needs a cache (-m, --cache-mb N)", "--purge-from", "none");
    assertRefused("--purge-from takes an address block such as 10.0.0.0/8 or ::1, or none",
        "-m", "1", "--purge-from", "deploy.example.com");
    assertRefused("--purge-from none turns PURGE off and cannot be combined with address blocks",
        "-m", "1", "--purge-from", "10.0.0.0/8", "--purge-from", "none");
    assertRefused("--purge-from none turns PURGE off and cannot be combined with address blocks",
        "-m", "1", "--purge-from", "none", "--purge-from", "none");
  }

  /**
   * What the cache stores and reads, set only through {@code CacheSpec} or a config file before:
   * a CLI user could not store answers with cookies, nor name the targeted field.
   */
  @Test
  void setsWhatTheCacheStoresAndReadsWhicheverComesFirst() {
    assertThat(configOf("--cache-store-set-cookie", "--upstream", "http://127.0.0.1:9", "-m", "1",
        "--cache-targeted-field", "Acme-Cache-Control", "--cache-hide-targeted-field").cache().orElseThrow())
        .satisfies(cache -> assertThat(cache.storesSetCookie()).isTrue())
        .satisfies(cache -> assertThat(cache.targetedField()).isEqualTo("Acme-Cache-Control"))
        .satisfies(cache -> assertThat(cache.hidesTargetedField()).isTrue());
    assertThat(configOf("-m", "1").cache().orElseThrow())
        .satisfies(cache -> assertThat(cache.storesSetCookie()).isFalse())
        .satisfies(cache -> assertThat(cache.targetedField()).isEqualTo("CDN-Cache-Control"))
        .satisfies(cache -> assertThat(cache.hidesTargetedField()).isFalse());
    assertThat(configOf("-m", "1", "--cache-store-set-cookie").cache().orElseThrow().storesSetCookie()).isTrue();
    assertRefused("--cache-store-set-cookie needs a cache (-m, --cache-mb N)", "--cache-store-set-cookie");
    assertRefused("--cache-hide-targeted-field needs a cache (-m, --cache-mb N)",
        "--upstream", "http://127.0.0.1:9", "--cache-hide-targeted-field");
    assertRefused("--cache-targeted-field is for reverse proxies", "-m", "1", "--cache-targeted-field", "X-CC");
    assertRefused("--cache-hide-targeted-field is for reverse proxies", "-m", "1", "--cache-hide-targeted-field");
    assertRefused("--cache-targeted-field: ", "--upstream", "http://127.0.0.1:9", "-m", "1",
        "--cache-targeted-field", "Cache-Control");
    assertRefused("--cache-targeted-field: ", "--upstream", "http://127.0.0.1:9", "-m", "1",
        "--cache-targeted-field", "no spaces");
    assertRefused("--cache-store-set-cookie may be given only once", "-m", "1", "--cache-store-set-cookie",
        "--cache-store-set-cookie");
    assertRefused("--cache-targeted-field may be given only once", "--upstream", "http://127.0.0.1:9", "-m", "1",
        "--cache-targeted-field", "A-CC", "--cache-targeted-field", "B-CC");
  }

  @Test
  void bindsTheAdminListenerWhereAsked() {
    assertThat(configOf("--admin-bind", "0.0.0.0", "--admin-port", "0").admin())
        .hasValue(new InetSocketAddress("0.0.0.0", 0));
  }

  @Test
  void refusesBadValuesNamingTheFlag() throws Exception {
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
    // It said "Input length = 1" (probe cli F3).
    Path latin1 = Files.write(dir.resolve("latin1.html"), new byte[] {(byte) 0xff, (byte) 0xfe, '<', 'p', '>'});
    assertRefused("--error-page cannot read " + latin1 + ": not UTF-8 text", "--error-page", "502=" + latin1);
    assertRefused("--request-id-header", "--request-id-header", "Bad:Name");
    assertRefused("--cache-status-header needs a cache", "--cache-status-header", "X-Proxy-Cache");
    assertRefused("--cache-status-header", "-m", "1", "--cache-status-header", "X Cache");
    assertRefused("--cache-status-header: statusHeader cannot be Transfer-Encoding: the proxy manages",
        "-m", "1", "--cache-status-header", "Transfer-Encoding");
    assertRefused("--request-id-header cannot be content-length", "--request-id-header", "content-length");
    assertRefused("--admin-port needs a value", "--admin-port");
    assertRefused("--admin-port 18725 is the proxy's port (-p) too: give the admin listener another port",
        "-p", "18725", "--admin-port", "18725");
  }

  /**
   * A request ID header that is the cache's status header is refused naming the flags, not the
   * builder's methods (probe d25), whichever flag names it; one that only the default status
   * header would clash with is fine once --cache-status-header names another.
   */
  @Test
  void refusesARequestIdHeaderThatIsTheCacheStatusHeaderNamingTheFlags() {
    assertRefused("the request ID header X-Request-Id (--request-id-header's default) is the cache's status "
        + "header too (--cache-status-header)", "-m", "1", "--cache-status-header", "x-request-id");
    assertRefused("--request-id-header X-Trace is the cache's status header too (--cache-status-header)",
        "-m", "1", "--request-id-header", "X-Trace", "--cache-status-header", "x-trace");
    assertRefused("--request-id-header X-Cache is the cache's status header too (X-Cache, --cache-status-header's default)",
        "--request-id-header", "X-Cache", "-m", "1");
    ProxyConfig config = configOf("--request-id-header", "X-Cache", "-m", "1", "--cache-status-header", "X-Hit");
    assertThat(config.requestIdHeader()).isEqualTo("X-Cache");
    assertThat(config.cache().orElseThrow().statusHeader()).isEqualTo("X-Hit");
  }

  /** The --set-header of the request ID header sent one ID upstream and another to the log (probe d25). */
  @Test
  void refusesSettingTheRequestIdHeader() {
    assertRefused("--set-header X-Request-Id would send one ID upstream", "--set-header", "x-request-id: fixed");
    assertRefused("--set-header X-Trace would send one ID upstream",
        "--set-header", "X-Trace: fixed", "--request-id-header", "X-Trace");
    // Backends read underscores as dashes (probe v29).
    assertRefused("--set-header X-Request-Id would send one ID upstream", "--set-header", "X_Request_Id: fixed");
    assertRefused("--set-header X_Trace_Id would send one ID upstream",
        "--set-header", "X-Trace-Id: fixed", "--request-id-header", "X_Trace_Id");
    assertThat(configOf("--set-header", "X-Request-Id: fixed", "--request-id-header", "X-Trace").requestIdHeader())
        .isEqualTo("X-Trace");
  }

  /** A size past CacheSpec's 1 TiB is refused in the MiB the flag takes, not in bytes (probe d25). */
  @Test
  void refusesACacheSizePastItsLimitInMebibytes() {
    assertRefused("-m must be at most 1048576 (1 TiB; was 99999999)", "-m", "99999999");
    assertThat(configOf("--cache-mb", "1048576").cache().orElseThrow().maxSizeBytes()).isEqualTo(1L << 40);
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
