package dev.ferry.proxy.micrometer;

import dev.ferry.proxy.ExchangeListener;
import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.ProxyServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Records a Ferry proxy's exchanges and state into a Micrometer {@link MeterRegistry}: an
 * {@link ExchangeListener} for the per-exchange meters, plus {@link #bindTo(ProxyServer)} for the
 * gauges read from {@link ProxyServer#stats()}.
 *
 * <pre>{@code
 * MeterRegistry registry = ...;                       // the application's own registry
 * FerryMetrics metrics = FerryMetrics.of(registry);
 * ProxyServer proxy = ProxyServer.builder()
 *     .upstream(Upstream.of("http://127.0.0.1:9000"))
 *     .listener(metrics)                              // per-exchange counters, timer, sizes
 *     .build()
 *     .start();
 * metrics.bindTo(proxy);                              // gauges: connections, pools, cache
 * }</pre>
 *
 * <p>Meters, with the names a Prometheus registry shows:
 * <ul>
 *   <li>{@code ferry.requests} ({@code ferry_requests_total}): a counter of completed exchanges,
 *       tagged {@code route}, {@code upstream} ({@code host:port}), {@code status} (the class:
 *       {@code 2xx} ... {@code 5xx}, {@code none} when no response head was sent), {@code cache}
 *       (the verdict: {@code HIT}, {@code MISS}, {@code REVALIDATED}, {@code STALE},
 *       {@code BYPASS}) and {@code failure} (such as {@code UPSTREAM_TIMEOUT}). A tag that does not
 *       apply has the value {@code none}.
 *   <li>{@code ferry.request.duration} ({@code ferry_request_duration_seconds}): a timer from
 *       request head to last response byte, tagged {@code route}, {@code upstream} and
 *       {@code status}, with a percentile histogram (for {@code histogram_quantile}) between 1 ms
 *       and 60 s.
 *   <li>{@code ferry.request.size} and {@code ferry.response.size}
 *       ({@code ferry_request_size_bytes}, {@code ferry_response_size_bytes}): distribution
 *       summaries of body bytes read from the client and written to it, tagged {@code route}
 *       and {@code upstream}.
 *   <li>Gauges, after {@link #bindTo(ProxyServer)}: {@code ferry.connections.active},
 *       {@code ferry.exchanges.active}, {@code ferry.upstream.connections.open},
 *       {@code ferry.upstream.connections.idle}, {@code ferry.workers},
 *       {@code ferry.workers.active}, {@code ferry.queue.depth}, counters
 *       {@code ferry.connections.accepted} and {@code ferry.connections.rejected}, and
 *       {@code ferry.failures} tagged {@code failure} with each kind {@code ProxyStats.failures()}
 *       counts (connection-level ones included), each of {@code ProxyStats.failureKinds()} from
 *       the first scrape on, at 0 until it happens; with a cache,
 *       {@code ferry.cache.size} (bytes), {@code ferry.cache.entries}, {@code ferry.cache.hit.ratio}
 *       and the counter {@code ferry.cache.lookups} tagged {@code result=hit|miss}; in a reverse
 *       proxy, {@code ferry.upstream.endpoint.healthy} per {@code pool} and {@code endpoint}:
 *       1 healthy, 0 unhealthy or ejected.
 * </ul>
 *
 * <p>The {@code upstream} tag keeps the number of time series bounded: after
 * {@value #MAX_UPSTREAM_TAGS} distinct upstreams (a forward proxy meets a new one per destination
 * host) the rest are tagged {@code other}.
 *
 * <p>Recording never blocks beyond Micrometer's own lock-free updates and never throws into the
 * proxy. The meters of each tag combination are looked up once and kept, so a meter removed
 * from the registry afterwards is not registered again by this instance. Thread-safe. One instance serves one proxy; to put several proxies in one registry, give
 * each its own instance with a distinguishing tag, {@link #of(MeterRegistry, Iterable)}.
 */
public final class FerryMetrics implements ExchangeListener {
  /** Distinct {@code upstream} tag values kept before the rest are tagged {@code other}. */
  public static final int MAX_UPSTREAM_TAGS = 100;

  private static final String NONE = "none";
  private static final String[] STATUS_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};

  private final MeterRegistry registry;
  private final Tags tags;
  private final Meter.MeterProvider<Counter> requests;
  private final Meter.MeterProvider<Timer> duration;
  private final Meter.MeterProvider<DistributionSummary> requestSize;
  private final Meter.MeterProvider<DistributionSummary> responseSize;
  private final Set<String> upstreams = ConcurrentHashMap.newKeySet();
  /**
   * The meters of each tag combination seen, so that recording an exchange is one map lookup
   * rather than four registry lookups that each build and sort a tag list.
   */
  private final ConcurrentHashMap<Series, Meters> series = new ConcurrentHashMap<>();

  private record Series(String route, String upstream, String status, String cache, String failure) {}

  private record Meters(Counter requests, Timer duration, DistributionSummary requestSize,
      DistributionSummary responseSize) {}

  private FerryMetrics(MeterRegistry registry, Tags tags) {
    this.registry = registry;
    this.tags = tags;
    this.requests = Counter.builder("ferry.requests")
        .description("Exchanges completed by the proxy")
        .tags(tags)
        .withRegistry(registry);
    this.duration = Timer.builder("ferry.request.duration")
        .description("Time from request head to last response byte")
        .tags(tags)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(60))
        .withRegistry(registry);
    this.requestSize = DistributionSummary.builder("ferry.request.size")
        .description("Request body bytes read from the client")
        .baseUnit("bytes")
        .tags(tags)
        .withRegistry(registry);
    this.responseSize = DistributionSummary.builder("ferry.response.size")
        .description("Response body bytes written to the client")
        .baseUnit("bytes")
        .tags(tags)
        .withRegistry(registry);
  }

  /** Returns a binding that records into {@code registry}. */
  public static FerryMetrics of(MeterRegistry registry) {
    return of(registry, Tags.empty());
  }

  /**
   * Returns a binding that records into {@code registry}, adding {@code tags} to every meter (to
   * tell several proxies in one registry apart, for example {@code Tags.of("proxy", "edge")}).
   */
  public static FerryMetrics of(MeterRegistry registry, Iterable<Tag> tags) {
    return new FerryMetrics(Objects.requireNonNull(registry, "registry"),
        Tags.of(Objects.requireNonNull(tags, "tags")));
  }

  /**
   * Registers the gauges that read {@code proxy}'s {@link ProxyServer#stats()} (and its cache's
   * statistics) when the registry is read. Call it once per proxy, after {@code start()}. The
   * registry then holds a reference to the proxy; each read of the stats serves all the gauges of
   * one scrape. A proxy starts once, so new options mean a new proxy: close the binding of the
   * old one, which takes its gauges out of the registry (and the registry's hold on it), then
   * bind the new one; gauges of one name and tags are registered once, so the new proxy's would
   * otherwise be ignored and the old one's read on.
   *
   * <pre>{@code
   * FerryMetrics.Binding binding = metrics.bindTo(proxy);
   * ...
   * proxy.stop(Duration.ofSeconds(5));
   * binding.close();
   * metrics.bindTo(replacement);
   * }</pre>
   */
  public Binding bindTo(ProxyServer proxy) {
    return StatsGauges.register(registry, tags, Objects.requireNonNull(proxy, "proxy"))::close;
  }

  /** The gauges {@link #bindTo} registered for one proxy; closing removes them from the registry. */
  @FunctionalInterface
  public interface Binding extends AutoCloseable {
    /** Removes the proxy's gauges from the registry; closing again does nothing. */
    @Override
    void close();
  }

  /** Records one exchange; never throws. */
  @Override
  public void exchangeCompleted(ExchangeSummary summary) {
    try {
      Series key = new Series(summary.route().orElse(NONE),
          upstreamTag(summary.upstream().orElse(NONE)), statusClass(summary.status()),
          summary.cache().orElse(NONE), summary.failure().orElse(NONE));
      Meters meters = series.computeIfAbsent(key, this::meters);
      meters.duration().record(summary.duration());
      meters.requestSize().record(summary.requestBodyBytes());
      meters.responseSize().record(summary.responseBodyBytes());
      // Counted last: a reader that sees the exchange counted also sees its duration and sizes.
      meters.requests().increment();
    } catch (RuntimeException e) {
      // A metrics fault must never reach the exchange; the engine would only log it, per exchange.
    }
  }

  private Meters meters(Series key) {
    return new Meters(
        requests.withTags("route", key.route(), "upstream", key.upstream(), "status", key.status(),
            "cache", key.cache(), "failure", key.failure()),
        duration.withTags("route", key.route(), "upstream", key.upstream(), "status", key.status()),
        requestSize.withTags("route", key.route(), "upstream", key.upstream()),
        responseSize.withTags("route", key.route(), "upstream", key.upstream()));
  }

  private String upstreamTag(String upstream) {
    if (upstreams.contains(upstream)) {
      return upstream;
    }
    // The check and the add race a little: the cap may be passed by a few, which is harmless.
    if (upstreams.size() >= MAX_UPSTREAM_TAGS) {
      return "other";
    }
    upstreams.add(upstream);
    return upstream;
  }

  private static String statusClass(int status) {
    return status >= 100 && status <= 599 ? STATUS_CLASSES[status / 100 - 1] : NONE;
  }
}
