package dev.ferry.proxy.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.ProxyStats;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.search.Search;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** FerryMetrics against a real proxy, with MockWebServer as the origin. */
class FerryMetricsTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final FerryMetrics metrics = FerryMetrics.of(registry);
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private MockWebServer origin;
  private ProxyServer proxy;

  @BeforeEach
  void startOrigin() throws IOException {
    origin = new MockWebServer();
    origin.start();
  }

  @AfterEach
  void stop() throws IOException {
    if (proxy != null) {
      proxy.close();
    }
    origin.shutdown();
  }

  @Test
  void countsAndTimesExchangesByRouteUpstreamAndStatusClass() throws Exception {
    proxy = reverseProxy(Upstream.of(origin.url("/").toString())).build().start();
    for (int i = 0; i < 3; i++) {
      origin.enqueue(new MockResponse().setBody("hello"));
    }
    origin.enqueue(new MockResponse().setResponseCode(404).setBody("gone"));
    for (int i = 0; i < 3; i++) {
      assertThat(get("/a").statusCode()).isEqualTo(200);
    }
    assertThat(get("/missing").statusCode()).isEqualTo(404);

    String upstream = origin.getHostName() + ":" + origin.getPort();
    awaitCount(requests().tag("status", "2xx"), 3);
    awaitCount(requests().tag("status", "4xx"), 1);
    Counter ok = requests().tags("route", "api", "upstream", upstream, "status", "2xx",
        "cache", "none", "failure", "none").counter();
    assertThat(ok).isNotNull();
    assertThat(ok.count()).isEqualTo(3);
    Timer timer = registry.find("ferry.request.duration").tags("route", "api", "status", "2xx").timer();
    assertThat(timer.count()).isEqualTo(3);
    assertThat(timer.totalTime(TimeUnit.NANOSECONDS)).isPositive();
    assertThat(registry.find("ferry.response.size").tag("route", "api").summaries().stream()
        .mapToDouble(DistributionSummary::totalAmount).sum()).isEqualTo(3 * 5 + 4);
  }

  @Test
  void countsFailuresWithTheirKind() throws Exception {
    proxy = reverseProxy(Upstream.of("http://127.0.0.1:" + closedPort())).build().start();
    assertThat(get("/").statusCode()).isEqualTo(502);
    awaitCount(requests().tags("status", "5xx", "failure", "UPSTREAM_UNREACHABLE"), 1);
  }

  /** Failures that end a connection before any exchange (a failed TLS handshake) count too, as /_stats counts them. */
  @Test
  void countsConnectionFailuresAsStatsDoes() throws Exception {
    proxy = reverseProxy(Upstream.of(origin.url("/").toString())).build().start();
    metrics.bindTo(proxy);
    try (java.net.Socket raw = new java.net.Socket("127.0.0.1", proxy.port())) {
      raw.getOutputStream().write("NOT HTTP\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      raw.getInputStream().readAllBytes();
    }
    await(() -> !proxy.stats().failures().isEmpty(), "the malformed request to be counted");
    String failure = proxy.stats().failures().keySet().iterator().next();
    await(() -> {
      gauge("ferry.connections.active");   // a scrape: it refreshes the snapshot, which registers new kinds
      io.micrometer.core.instrument.FunctionCounter counter =
          registry.find("ferry.failures").tag("failure", failure).functionCounter();
      return counter != null && counter.count() == proxy.stats().failures().get(failure);
    }, "ferry.failures to count " + failure);
  }

  /**
   * Every failure kind is a series from the first scrape, at 0: one born with its first failure
   * counted hides that failure from rate() and increase(). Before, a kind appeared only on the
   * scrape after its first failure, already at 1.
   */
  @Test
  void publishesEveryFailureKindFromTheStartAtZero() throws Exception {
    proxy = reverseProxy(Upstream.of("http://127.0.0.1:" + closedPort())).build().start();
    metrics.bindTo(proxy);
    for (String kind : ProxyStats.failureKinds()) {
      io.micrometer.core.instrument.FunctionCounter counter =
          registry.find("ferry.failures").tag("failure", kind).functionCounter();
      assertThat(counter).as(kind).isNotNull();
      assertThat(counter.count()).as(kind).isZero();
    }
    assertThat(get("/").statusCode()).isEqualTo(502);
    // Stats are read at most every 100 ms: the count follows within that.
    await(() -> registry.find("ferry.failures").tag("failure", "UPSTREAM_UNREACHABLE").functionCounter()
        .count() == 1, "the failure to be counted");
  }

  @Test
  void bindsGaugesOfTheRunningProxy() throws Exception {
    Upstream pool = Upstream.of(origin.url("/").toString()).name("origin");
    proxy = reverseProxy(pool).cache(CacheSpec.inMemory()).build().start();
    metrics.bindTo(proxy);
    origin.enqueue(new MockResponse().setHeader("Cache-Control", "max-age=60").setBody("cached"));
    assertThat(get("/logo").body()).isEqualTo("cached");
    assertThat(get("/logo").body()).isEqualTo("cached");

    awaitCount(requests().tag("cache", "HIT"), 1);
    await(() -> gauge("ferry.cache.entries") == 1, "one cache entry");
    assertThat(registry.find("ferry.cache.lookups").tag("result", "hit").functionCounter().count())
        .isEqualTo(1);
    assertThat(gauge("ferry.cache.hit.ratio")).isEqualTo(0.5);
    assertThat(gauge("ferry.cache.size")).isPositive();
    // A body of 20 KiB is kept in direct memory (16 KiB and up; 64 KiB and up go to files on
    // platform threads): the off-heap gauges say so.
    origin.enqueue(new MockResponse().setHeader("Cache-Control", "max-age=60").setBody("x".repeat(20 * 1024)));
    assertThat(get("/middling").body()).hasSize(20 * 1024);
    await(() -> registry.find("ferry.cache.offheap").tag("storage", "direct").gauge().value() == 20 * 1024,
        "the stored body counted in direct memory");
    assertThat(registry.find("ferry.cache.offheap").tag("storage", "file").gauge().value()).isZero();
    assertThat(gauge("ferry.cache.body.files")).isZero();
    assertThat(registry.find("ferry.connections.accepted").functionCounter().count()).isPositive();
    assertThat(gauge("ferry.connections.active")).isGreaterThanOrEqualTo(0);
    assertThat(gauge("ferry.upstream.connections.open")).isGreaterThanOrEqualTo(0);
    assertThat(gauge("ferry.request.spool")).isZero();
    assertThat(registry.find("ferry.upstream.endpoint.healthy").tag("pool", "origin").gauge().value())
        .isEqualTo(1);
  }

  /**
   * An endpoint a reload takes out of its pool takes its health gauge with it; left behind, it
   * read NaN for ever, and the pool's sum and avg with it (probe o14).
   */
  @Test
  void removesTheHealthGaugeOfAnEndpointAReloadTookOut() throws Exception {
    try (MockWebServer second = new MockWebServer()) {
      second.start();
      String kept = origin.url("/").host() + ":" + origin.getPort();
      String removed = second.url("/").host() + ":" + second.getPort();
      proxy = reverseProxy(Upstream.pool(origin.url("/").toString(), second.url("/").toString()).name("api"))
          .build().start();
      metrics.bindTo(proxy);
      io.micrometer.core.instrument.Gauge removedGauge =
          registry.find("ferry.upstream.endpoint.healthy").tag("endpoint", removed).gauge();
      assertThat(removedGauge.value()).isEqualTo(1);
      proxy.reconfigure(proxy.config().toBuilder()
          .routes(java.util.List.of(Route.to(Upstream.pool(origin.url("/").toString()).name("api")).name("api")))
          .buildConfig());
      await(() -> gauge("ferry.connections.active") >= 0
          && registry.find("ferry.upstream.endpoint.healthy").tag("endpoint", removed).gauge() == null,
          "the removed endpoint's gauge to go");
      assertThat(registry.find("ferry.upstream.endpoint.healthy").tag("endpoint", kept).gauge().value()).isEqualTo(1);
      // A scrape under way when the stats refreshed still reads the removed gauge: 0, not NaN (probe c28).
      assertThat(removedGauge.value()).isZero();
    }
  }

  /**
   * A proxy starts once: new options mean a new proxy, bound in its place. Closing the old
   * binding takes its gauges out, so the new proxy's are read (probe e11: they were ignored, and
   * the registry read the stopped proxy on).
   */
  @Test
  void rebindsTheGaugesToAProxyThatReplacesAnother() throws Exception {
    proxy = reverseProxy(Upstream.of(origin.url("/").toString())).build().start();
    FerryMetrics.Binding first = metrics.bindTo(proxy);
    origin.enqueue(new MockResponse().setBody("one"));
    assertThat(get("/one").body()).isEqualTo("one");
    await(() -> registry.find("ferry.connections.accepted").functionCounter().count() == 1, "one connection");
    proxy.close();
    first.close();
    assertThat(registry.find("ferry.connections.accepted").functionCounter()).isNull();

    proxy = reverseProxy(Upstream.of(origin.url("/").toString())).build().start();
    metrics.bindTo(proxy);
    for (int i = 0; i < 2; i++) {
      origin.enqueue(new MockResponse().setBody("two"));
      assertThat(HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + proxy.port() + "/two")).build(), HttpResponse.BodyHandlers.ofString())
          .body()).isEqualTo("two");
    }
    await(() -> registry.find("ferry.connections.accepted").functionCounter().count() == 2,
        "the new proxy's two connections");
  }

  @Test
  void neverThrowsIntoTheProxy() {
    SimpleMeterRegistry broken = new SimpleMeterRegistry();
    broken.config().meterFilter(new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        throw new IllegalStateException("broken registry");
      }
    });
    ExchangeSummary summary = ExchangeSummary.builder().clientAddress(new InetSocketAddress(0))
        .method("GET").url("http://x/").startTime(Instant.now()).status(200).build();
    assertThatCode(() -> FerryMetrics.of(broken).exchangeCompleted(summary)).doesNotThrowAnyException();
  }

  @Test
  void tagsAnExchangeWithoutResponseAsNone() {
    ExchangeSummary summary = ExchangeSummary.builder().clientAddress(new InetSocketAddress(0))
        .method("GET").url("http://x/").startTime(Instant.now()).failure("CLIENT_CLOSED").build();
    FerryMetrics.of(registry, Tags.of("proxy", "edge")).exchangeCompleted(summary);
    assertThat(requests().tags("proxy", "edge", "status", "none", "route", "none",
        "failure", "CLIENT_CLOSED").counter().count()).isEqualTo(1);
  }

  private ProxyServer.Builder reverseProxy(Upstream upstream) {
    return ProxyServer.builder().port(0).route(Route.to(upstream).name("api")).listener(metrics);
  }

  private HttpResponse<String> get(String path) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path))
        .timeout(Duration.ofSeconds(10)).build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private Search requests() {
    return registry.find("ferry.requests");
  }

  private double gauge(String name) {
    return registry.find(name).gauge().value();
  }

  /** Exchanges are recorded after the last byte went out: the client may be faster. */
  private static void awaitCount(Search search, double count) {
    await(() -> search.counters().stream().mapToDouble(Counter::count).sum() == count,
        "ferry.requests " + count);
  }

  private static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
  }

  private static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
