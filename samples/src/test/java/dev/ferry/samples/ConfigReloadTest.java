package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.proxy.ProxyServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10: a proxy started from a config file follows the file as it changes, and keeps its
 * configuration when the new file is bad or changes what cannot change on a running proxy.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConfigReloadTest {
  private static final Duration DEADLINE = Duration.ofSeconds(15);

  @TempDir Path dir;
  private final MockWebServer originA = origin("A");
  private final MockWebServer originB = origin("B");
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private Path file;
  private ProxyServer proxy;
  private ConfigReloader reloader;
  private ConfigWatcher watcher;

  private static MockWebServer origin(String name) {
    MockWebServer origin = new MockWebServer();
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return new MockResponse().setBody(name + " " + request.getPath());
      }
    });
    return origin;
  }

  @BeforeEach
  void start() throws IOException {
    originA.start();
    originB.start();
    file = dir.resolve("ferry.yaml");
    Files.writeString(file, config(originA, "/a/"));
    String[] args = {"--config", file.toString()};
    CliOptions.Parsed parsed = CliOptions.parse(args);
    proxy = parsed.builder().build().start();
    reloader = new ConfigReloader(proxy, file, parsed.configBytes(), () -> CliOptions.parse(args).builder());
    watcher = ConfigWatcher.start(file, Duration.ofMillis(50), () -> reloader.reload(false));
  }

  @AfterEach
  void stop() throws IOException {
    if (watcher != null) {
      watcher.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    originA.shutdown();
    originB.shutdown();
  }

  /** A reverse proxy with one route, PREFIX to {@code routed}, and originA as the catch-all. */
  private String config(MockWebServer routed, String prefix) {
    return """
        listener:
          port: 0
        pools:
          - name: a
            endpoints: [%s]
          - name: routed
            endpoints: [%s]
        routes:
          - pathPrefix: %s
            pool: routed
        upstream: a
        """.formatted(originA.url("/"), routed.url("/"), prefix);
  }

  private String get(String path) {
    try {
      HttpResponse<String> response = client.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + proxy.port() + path)).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      return response.statusCode() + " " + response.body();
    } catch (IOException e) {
      return "failed: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Test
  void followsTheFileAndKeepsTheRunningConfigurationWhenTheFileIsBad() throws IOException {
    assertThat(get("/b/x")).isEqualTo("200 A /b/x");

    Files.writeString(file, config(originB, "/b/"));
    Await.until(() -> get("/b/x").equals("200 B /b/x"), DEADLINE, "the /b/ route to origin B");
    assertThat(get("/other")).isEqualTo("200 A /other");
    assertThat(reloader.applied()).isEqualTo(1);

    Files.writeString(file, config(originB, "/b/").replace("endpoints: [http", "endpoints: [ftp"));
    Await.until(() -> reloader.failed() == 1, DEADLINE, "the bad file to be refused");
    assertThat(get("/b/x")).isEqualTo("200 B /b/x");

    Files.writeString(file, config(originA, "/b/").replace("port: 0", "port: 1"));
    Await.until(() -> reloader.failed() == 2, DEADLINE, "the port change to be refused");
    assertThat(get("/b/x")).isEqualTo("200 B /b/x");
    assertThat(reloader.applied()).isEqualTo(1);
  }

  /**
   * A refused reload is one event whose file and error a logfmt parser reads back whole: a key
   * in the file holding an escaped line break, echoed in the error, wrote a raw line break and
   * forged a second event, and a path with a space split the file value (probe o1).
   */
  @Test
  void logsARefusedReloadAsOneEventWithItsFileAndErrorQuoted() throws IOException {
    Path spaced = Files.createDirectory(dir.resolve("conf dir")).resolve("ferry.yaml");
    Files.writeString(spaced, config(originA, "/a/"));
    String[] args = {"--config", spaced.toString()};
    ConfigReloader spacedReloader = new ConfigReloader(proxy, spaced, Files.readAllBytes(spaced),
        () -> CliOptions.parse(args).builder());
    Files.writeString(spaced, config(originA, "/a/")
        + "\"x\\n[2026-12-03T09:00:00.000Z] [INFO] [main] config_reloaded file=forged\": 1\n");
    PrintStream stderr = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      assertThat(spacedReloader.reload(true)).isFalse();
    } finally {
      System.setErr(stderr);
    }
    // Other threads' events may be captured too: these are the reload's.
    List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines()
        .filter(line -> line.contains("config_reload")).toList();
    assertThat(lines).singleElement().asString()
        .contains("config_reload_failed file=\"" + spaced + "\" line=")
        .contains("error=\"").contains("?[2026-12-03T09:00:00.000Z] [INFO] [main] config_reloaded file=forged");
  }

  /** A config that is a link to a file in another directory reloads when that file is edited. */
  @Test
  void reloadsALinkedFileEditedInItsOwnDirectory() throws Exception {
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
    Path real = Files.writeString(elsewhere.resolve("real.yaml"), config(originA, "/a/"));
    Path linked = Files.createDirectories(dir.resolve("etc")).resolve("ferry.yaml");
    Files.createSymbolicLink(linked, real);
    String[] args = {"--config", linked.toString()};
    ConfigReloader linkedReloader = new ConfigReloader(proxy, linked, Files.readAllBytes(linked),
        () -> CliOptions.parse(args).builder());
    try (ConfigWatcher linkedWatcher = ConfigWatcher.start(linked, Duration.ofMillis(50), () -> linkedReloader.reload(false))) {
      Files.writeString(real, config(originB, "/b/"));
      Await.until(() -> get("/b/x").equals("200 B /b/x"), DEADLINE, "the edit behind the link to be applied");
    }
  }

  /** A log written beside the config, as the CLI's own often is, does not hold a reload back. */
  @Test
  void reloadsWhileAnotherFileInTheDirectoryKeepsChanging() throws Exception {
    Path log = dir.resolve("ferry.log");
    AtomicBoolean writing = new AtomicBoolean(true);
    Thread writer = new Thread(() -> {
      try {
        while (writing.get()) {
          Files.writeString(log, "a line\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // a steady log, not a flood
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }, "test-log-writer");
    writer.start();
    try {
      Files.writeString(file, config(originB, "/b/"));
      Await.until(() -> get("/b/x").equals("200 B /b/x"), DEADLINE, "the /b/ route to origin B");
    } finally {
      writing.set(false);
      writer.join(5000);
    }
  }

  /**
   * An edit made while the proxy started (after the parse it started from, before the watcher)
   * is applied once watching begins, and not taken for the file as it was: before, the reloader
   * read its baseline when the watcher started, so that edit, and every later write of the same
   * content, looked unchanged and was never applied (gateway probe).
   */
  @Test
  void appliesAnEditMadeWhileTheProxyStarted() throws Exception {
    String[] args = {"--config", file.toString()};
    CliOptions.Parsed parsed = CliOptions.parse(args);
    try (ProxyServer starting = parsed.builder().port(0).build().start()) {
      Files.writeString(file, config(originB, "/b/"));
      ConfigWatcher early = ConfigReloader.watch(starting, file, parsed.configBytes(),
          () -> CliOptions.parse(args).builder());
      try {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + starting.port() + "/b/x")).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(response.body()).isEqualTo("B /b/x");
      } finally {
        if (early != null) {
          early.close();
        }
      }
    }
  }

  /**
   * A file a flag names (an --error-page) edited since startup does not block the config file's
   * reloads: the running proxy keeps the page it read. Before, every reload failed with
   * "errorPage cannot change on a running proxy" until a restart (CLI probe).
   */
  @Test
  void reloadsTheFileWhenAnErrorPageNamedByAFlagChanged() throws Exception {
    Path page = Files.writeString(dir.resolve("502.html"), "<p>first</p>");
    String[] args = {"--config", file.toString(), "--error-page", "502=" + page};
    try (ProxyServer paged = CliOptions.parse(args).builder().port(0).build().start()) {
      ConfigReloader pagedReloader = new ConfigReloader(paged, file, Files.readAllBytes(file),
          () -> FerryCli.reloaded(args, new PrometheusEndpoint(), paged.config()));
      Files.writeString(page, "<p>second</p>");
      Files.writeString(file, config(originB, "/b/"));
      assertThat(pagedReloader.reload(false)).isTrue();
      assertThat(paged.config().routes()).extracting(route -> route.path()).contains("/b/");
      assertThat(paged.config().errorPages()).containsEntry(502, "<p>first</p>");
    }
  }

  @Test
  void skipsAFileWhoseContentDidNotChangeUnlessForced() {
    assertThat(reloader.reload(false)).isFalse();
    assertThat(reloader.reload(true)).isTrue();
    assertThat(reloader.applied()).isEqualTo(1);
    assertThat(get("/a/x")).isEqualTo("200 A /a/x");
  }

  @Test
  void reloadsOnHangupWhereTheJvmSupportsIt() throws Exception {
    AtomicInteger hangups = new AtomicInteger();
    assumeTrue(Signals.on("HUP", hangups::incrementAndGet), "no sun.misc.Signal for HUP here");
    Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(ProcessHandle.current().pid()))
        .inheritIO().start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    Await.until(() -> hangups.get() == 1, DEADLINE, "the SIGHUP handler to run");
  }
}
