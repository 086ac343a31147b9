package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/** The CLI's log lines and banner. */
class CliLogLayoutTest {

  @Test
  void writesTimestampLevelThreadThenMessage() {
    OffsetDateTime time = OffsetDateTime.of(2026, 11, 29, 16, 12, 55, 123_000_000, ZoneOffset.UTC);
    assertThat(CliLogger.line(time, Level.WARN, "ferry-conn-8080-1", "server_connect_failed host=a"))
        .isEqualTo("[2026-11-29T16:12:55.123Z] [WARN] [ferry-conn-8080-1] server_connect_failed host=a");
  }

  /**
   * Access lines are written bare, as the README shows them and nginx writes them: a prefix
   * before each JSON object kept jq from reading the log (probe o14).
   */
  @Test
  void writesAccessLinesBareAndOtherEventsWithTheirPrefix() {
    PrintStream stderr = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      new CliLogger("dev.ferry.access", Level.INFO).info("{\"status\":200}");
      new CliLogger("dev.ferry.proxy", Level.INFO).info("proxy_started");
    } finally {
      System.setErr(stderr);
    }
    String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\\R");
    assertThat(lines[0]).isEqualTo("{\"status\":200}");
    assertThat(lines[1]).matches("\\[[^]]+\\] \\[INFO\\] \\[[^]]+\\] proxy_started");
  }

  /**
   * Access lines are batched (a write per exchange took twice the CPU), yet reach stderr by
   * themselves within the flush interval, and before any later event.
   */
  @Test
  void writesBatchedAccessLinesWithinTheFlushIntervalAndBeforeLaterEvents() {
    PrintStream stderr = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      CliLogger access = new CliLogger("dev.ferry.access", Level.INFO);
      access.info("{\"status\":201}");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (!bytes.toString(StandardCharsets.UTF_8).contains("{\"status\":201}")) {
        assertThat(System.nanoTime()).as("the batched access line to be written").isLessThan(deadline);
        Thread.onSpinWait();
      }
      access.info("{\"status\":202}");
      access.info("{\"status\":203}");
      new CliLogger("dev.ferry.proxy", Level.INFO).warn("proxy_stopping");
    } finally {
      System.setErr(stderr);
    }
    List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
    assertThat(lines).hasSize(4);
    assertThat(lines.subList(0, 3)).containsExactly("{\"status\":201}", "{\"status\":202}", "{\"status\":203}");
    assertThat(lines.get(3)).endsWith("proxy_stopping");
  }

  @Test
  void honoursTheConfiguredLevel() {
    CliLogger logger = new CliLogger("x", Level.WARN);
    assertThat(logger.isWarnEnabled()).isTrue();
    assertThat(logger.isInfoEnabled()).isFalse();
    assertThat(new CliLogger("x", Level.DEBUG).isDebugEnabled()).isTrue();
  }

  /** An IPv6 listener was printed as 0:0:0:0:0:0:0:1:8080, which no client can use. */
  @Test
  void printsTheConfigurationThenOneListeningLineLast() {
    try (ProxyServer proxy = CliOptions.parse("-p", "0", "--admin-port", "0", "-m", "2",
        "--upstream", "http://127.0.0.1:9").builder().build().start()) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      Banner.print(proxy, "info", new PrintStream(bytes, true, StandardCharsets.UTF_8));
      String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\\R");
      assertThat(lines[lines.length - 1]).isEqualTo("Listening on 127.0.0.1:" + proxy.port());
      assertThat(lines).filteredOn(line -> line.contains("Listening")).hasSize(1);
      String banner = String.join("\n", lines);
      assertThat(banner).contains("port", "concurrency", "workers", "cache        2.0 MiB",
          "verbose      false", "filters      none", "routes       * -> http://127.0.0.1:9",
          "admin        http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort());
    }
  }
}
