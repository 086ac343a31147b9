package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's Prometheus /metrics on the admin listener, read back as Prometheus text. */
class PrometheusEndpointTest {
  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? (\\S+)$");

  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private MockWebServer origin;
  private ProxyServer proxy;

  @BeforeEach
  void start() throws Exception {
    origin = new MockWebServer();
    origin.start();
    PrometheusEndpoint metrics = new PrometheusEndpoint();
    proxy = metrics.install(CliOptions.parse("-p", "0", "--admin-port", "0", "--upstream",
        origin.url("/").toString()).builder()).build().start();
    metrics.bindTo(proxy);
  }

  @AfterEach
  void stop() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    origin.shutdown();
  }

  @Test
  void servesPrometheusTextThatMovesWithTraffic() throws Exception {
    origin.enqueue(new MockResponse().setBody("one"));
    origin.enqueue(new MockResponse().setResponseCode(503).setBody("busy"));
    assertThat(send("http://127.0.0.1:" + proxy.port() + "/a").statusCode()).isEqualTo(200);
    assertThat(send("http://127.0.0.1:" + proxy.port() + "/b").statusCode()).isEqualTo(503);

    // Exchanges are recorded after their last byte, and gauges read a snapshot up to 100 ms old.
    // The client keeps its connection alive: both requests may come on one.
    Await.until(() -> sum(scrape(), "ferry_requests_total") == 2
        && sum(scrape(), "ferry_connections_accepted_total") >= 1, Duration.ofSeconds(10),
        "two exchanges in ferry_requests_total and ferry_connections_accepted_total");
    Map<String, Double> samples = scrape();
    assertThat(samples).hasEntrySatisfying(key("ferry_requests_total", "status=\"2xx\""), v -> assertThat(v).isEqualTo(1));
    assertThat(samples).hasEntrySatisfying(key("ferry_requests_total", "status=\"5xx\""), v -> assertThat(v).isEqualTo(1));
    assertThat(sum(samples, "ferry_request_duration_seconds_count")).isEqualTo(2);
    assertThat(samples.keySet()).anyMatch(k -> k.startsWith("ferry_request_duration_seconds_bucket{"));
    assertThat(sum(samples, "ferry_response_size_bytes_sum")).isEqualTo(7);
    assertThat(sum(samples, "ferry_connections_accepted_total")).isGreaterThanOrEqualTo(1);
    assertThat(sum(samples, "ferry_upstream_endpoint_healthy")).isEqualTo(1);
    assertThat(samples).containsKey("ferry_connections_active");
  }

  @Test
  void reportsHeapBytesAllocatedSoFar() throws Exception {
    double before = sum(scrape(), "jvm_threads_allocated_bytes_total");
    origin.enqueue(new MockResponse().setBody("x".repeat(100_000)));
    assertThat(send("http://127.0.0.1:" + proxy.port() + "/big").body()).hasSize(100_000);
    // The client alone allocates the 100 kB body as a String; the counter covers every thread.
    assertThat(sum(scrape(), "jvm_threads_allocated_bytes_total")).isGreaterThan(before + 100_000);
  }

  /**
   * CPU time in seconds under the Prometheus clients' standard name, which dashboards expect;
   * Micrometer's nanosecond counter (process_cpu_time_ns_total) is left out.
   */
  @Test
  void countsProcessCpuInSeconds() throws Exception {
    Map<String, Double> samples = scrape();
    assertThat(samples).containsKey("process_cpu_seconds_total")
        .noneSatisfy((name, value) -> assertThat(name).startsWith("process_cpu_time"));
    double seconds = sum(samples, "process_cpu_seconds_total");
    assertThat(seconds).isPositive().isLessThan(ProcessHandle.current().info().totalCpuDuration()
        .orElseThrow().toNanos() / 1e9 + 60);
  }

  @Test
  void answersWithThePrometheusContentTypeAndLeavesOtherPathsAlone() throws Exception {
    String admin = "http://" + FerryCli.hostPort(proxy.adminAddress().orElseThrow());
    HttpResponse<String> metrics = send(admin + "/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(metrics.body()).contains("# TYPE ferry_connections_active gauge");
    assertThat(send(admin + "/_stats").body()).startsWith("{").contains("\"total_requests\"");
  }

  @Test
  void keepsRecordingAcrossAConfigReload(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("ferry.yaml");
    Files.writeString(file, pool(origin.url("/").toString()));
    String[] args = {"-p", "0", "--admin-port", "0", "--config", file.toString()};
    PrometheusEndpoint metrics = new PrometheusEndpoint();
    try (ProxyServer reloaded = FerryCli.withMetrics(CliOptions.parse(args).builder(), metrics).build().start()) {
      // The reload path of FerryCli: the same listener goes on the new builder, as it must.
      ConfigReloader reloader = new ConfigReloader(reloaded, file, Files.readAllBytes(file),
          () -> FerryCli.withMetrics(CliOptions.parse(args).builder(), metrics));
      Files.writeString(file, pool(origin.url("/v2/").toString()));
      assertThat(reloader.reload(true)).isTrue();
      origin.enqueue(new MockResponse().setBody("v2"));
      assertThat(send("http://127.0.0.1:" + reloaded.port() + "/x").body()).isEqualTo("v2");
      Await.until(() -> metrics.scrape().contains("ferry_requests_total{"), Duration.ofSeconds(10),
          "the exchange after the reload in /metrics");
    }
  }

  private static String pool(String url) {
    return "pools:\n  - name: a\n    endpoints: [" + url + "]\nupstream: a\n";
  }

  private HttpResponse<String> send(String url) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Every sample of the exposition, keyed by name and labels as written. */
  private Map<String, Double> scrape() {
    try {
      String body = send("http://" + FerryCli.hostPort(proxy.adminAddress().orElseThrow()) + "/metrics").body();
      Map<String, Double> samples = new HashMap<>();
      for (String line : body.split("\n")) {
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        Matcher m = SAMPLE.matcher(line);
        assertThat(m.matches()).as("a Prometheus sample line: %s", line).isTrue();
        samples.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(m.group(3)));
      }
      return samples;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static double sum(Map<String, Double> samples, String name) {
    return samples.entrySet().stream().filter(e -> e.getKey().equals(name) || e.getKey().startsWith(name + "{"))
        .mapToDouble(Map.Entry::getValue).sum();
  }

  /** The one key of {@code name} whose labels contain {@code label}. */
  private String key(String name, String label) {
    return scrape().keySet().stream().filter(k -> k.startsWith(name + "{") && k.contains(label))
        .findFirst().orElse(name + "{" + label + "}");
  }
}
