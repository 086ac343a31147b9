package dev.ferry.proxy.micrometer;

import dev.ferry.proxy.CacheStats;
import dev.ferry.proxy.ProxyCache;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.ProxyStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.ToDoubleFunction;

/**
 * The gauges over a proxy's {@link ProxyStats}. A scrape reads a dozen gauges in a burst, and
 * {@code stats()} builds maps each time, so one snapshot is kept for {@link #MAX_AGE_NANOS} and
 * shared: a scrape may see values up to 100 ms old. Endpoints appear in pools when the proxy is
 * reconfigured: each new snapshot registers a health gauge for any endpoint not seen before, and
 * removes the gauge of one that left its pool (kept, it read NaN for ever, which turned a pool's
 * {@code sum} and {@code avg} into NaN; probe o14). {@code ferry.failures} counts each kind
 * {@code /_stats} counts, connection-level ones (a client's failed TLS handshake, a connection
 * turned away) included, every known kind from the start at 0
 * ({@link ProxyStats#failureKinds()}).
 */
final class StatsGauges {
  private static final long MAX_AGE_NANOS = 100_000_000L;

  private final MeterRegistry registry;
  private final Tags tags;
  private final ProxyServer proxy;
  /** The endpoint health gauges by {@code pool + '\n' + endpoint}. */
  private final Map<String, Meter> endpoints = new ConcurrentHashMap<>();
  private final Set<String> failures = ConcurrentHashMap.newKeySet();
  private final List<Meter> registered = new CopyOnWriteArrayList<>();
  private volatile boolean closed;
  private volatile Snapshot snapshot;

  private record Snapshot(long at, ProxyStats stats, Optional<CacheStats> cache) {}

  private StatsGauges(MeterRegistry registry, Tags tags, ProxyServer proxy) {
    this.registry = registry;
    this.tags = tags;
    this.proxy = proxy;
  }

  /** Registers the gauges; closing what it returns removes them from the registry again. */
  static StatsGauges register(MeterRegistry registry, Tags tags, ProxyServer proxy) {
    StatsGauges gauges = new StatsGauges(registry, tags, proxy);
    gauges.registerProxyGauges();
    if (proxy.cache().isPresent()) {
      gauges.registerCacheGauges();
    }
    // Endpoint gauges exist from the first scrape on; the values are read fresh by that scrape.
    ProxyStats stats = proxy.stats();
    gauges.registerNewEndpoints(stats.upstreamEndpoints());
    // Every kind from the start, at 0: a series that appears with its first failure counted
    // hides that failure from rate() and increase().
    gauges.registerNewFailures(ProxyStats.failureKinds());
    gauges.registerNewFailures(stats.failures().keySet());
    return gauges;
  }

  /** Removes every gauge registered so far, and registers no more. */
  void close() {
    closed = true;
    for (Meter meter : registered) {
      registry.remove(meter);
    }
    registered.clear();
  }

  private void registerProxyGauges() {
    gauge("ferry.connections.active", "Client connections open now", null, s -> s.stats.activeConnections());
    gauge("ferry.exchanges.active", "Exchanges in progress now", null, s -> s.stats.activeExchanges());
    gauge("ferry.upstream.connections.open", "Upstream connections open, busy or idle", null,
        s -> s.stats.upstreamConnectionsOpen());
    gauge("ferry.upstream.connections.idle", "Upstream connections idle in the pool", null,
        s -> s.stats.upstreamConnectionsIdle());
    gauge("ferry.workers", "Threads that can serve connections (virtual threads: live connection tasks)",
        null, s -> s.stats.workers());
    gauge("ferry.workers.active", "Connection tasks running now", null, s -> s.stats.activeWorkers());
    gauge("ferry.queue.depth", "Connections waiting for a pool thread", null, s -> s.stats.queueDepth());
    gauge("ferry.request.buffer", "Memory taken by request bodies received whole before their exchange",
        "bytes", s -> s.stats.requestBufferBytes());
    gauge("ferry.request.spool", "Disk space taken by request bodies received whole on disk before their exchange",
        "bytes", s -> s.stats.requestSpoolBytes());
    counter("ferry.connections.accepted", "Client connections accepted", Tags.empty(),
        s -> s.stats.connectionsAccepted());
    counter("ferry.connections.rejected", "Client connections turned away at capacity", Tags.empty(),
        s -> s.stats.connectionsRejected());
  }

  private void registerCacheGauges() {
    gauge("ferry.cache.size", "Bytes the stored responses take", "bytes", s -> cache(s, CacheStats::bytes));
    gauge("ferry.cache.entries", "Responses stored, each Vary variant counted", null,
        s -> cache(s, CacheStats::entries));
    gauge("ferry.cache.hit.ratio", "hits / (hits + misses)", null, s -> cache(s, CacheStats::hitRate));
    counter("ferry.cache.lookups", "Cacheable requests by result", Tags.of("result", "hit"),
        s -> cache(s, CacheStats::hits));
    counter("ferry.cache.lookups", "Cacheable requests by result", Tags.of("result", "miss"),
        s -> cache(s, CacheStats::misses));
    counter("ferry.cache.evictions", "Entries evicted to stay within the size bound", Tags.empty(),
        s -> cache(s, CacheStats::evictions));
    gauge("ferry.cache.offheap", "Bytes of stored bodies off the heap, evicted ones until collected", "bytes",
        Tags.of("storage", "direct"), s -> cache(s, CacheStats::directBytes));
    gauge("ferry.cache.offheap", "Bytes of stored bodies off the heap, evicted ones until collected", "bytes",
        Tags.of("storage", "file"), s -> cache(s, CacheStats::fileBytes));
    gauge("ferry.cache.body.files", "Shared-memory files holding stored bodies, each an open descriptor", null,
        s -> cache(s, CacheStats::bodyFiles));
  }

  private void gauge(String name, String description, String unit, ToDoubleFunction<Snapshot> value) {
    gauge(name, description, unit, Tags.empty(), value);
  }

  private void gauge(String name, String description, String unit, Tags extra, ToDoubleFunction<Snapshot> value) {
    registered.add(Gauge.builder(name, this, gauges -> read(gauges.snapshot(), value))
        .description(description).baseUnit(unit).tags(tags).tags(extra).strongReference(true).register(registry));
  }

  private void counter(String name, String description, Tags extra, ToDoubleFunction<Snapshot> value) {
    registered.add(FunctionCounter.builder(name, this, gauges -> read(gauges.snapshot(), value))
        .description(description).tags(tags).tags(extra).register(registry));
  }

  private static double read(Snapshot snapshot, ToDoubleFunction<Snapshot> value) {
    return snapshot == null ? Double.NaN : value.applyAsDouble(snapshot);
  }

  private static double cache(Snapshot s, ToDoubleFunction<CacheStats> value) {
    return s.cache.map(value::applyAsDouble).orElse(Double.NaN);
  }

  /** The current snapshot, refreshed when older than the scrape window; null if unreadable. */
  private Snapshot snapshot() {
    Snapshot current = snapshot;
    long now = System.nanoTime();
    if (current != null && now - current.at < MAX_AGE_NANOS) {
      return current;
    }
    try {
      Snapshot fresh = new Snapshot(now, proxy.stats(), proxy.cache().map(ProxyCache::stats));
      snapshot = fresh;
      registerNewEndpoints(fresh.stats.upstreamEndpoints());
      registerNewFailures(fresh.stats.failures().keySet());
      return fresh;
    } catch (RuntimeException e) {
      // A proxy that is not started (or a broken engine) must not break the scrape.
      return current;
    }
  }

  private void registerNewEndpoints(Map<String, Map<String, String>> pools) {
    Set<String> present = new HashSet<>();
    pools.forEach((pool, states) -> states.keySet().forEach(endpoint -> {
      String key = pool + '\n' + endpoint;
      present.add(key);
      if (!closed) {
        endpoints.computeIfAbsent(key, absent -> {
          Meter gauge = Gauge.builder("ferry.upstream.endpoint.healthy", this,
                  gauges -> gauges.health(pool, endpoint))
              .description("1 while the endpoint is healthy, 0 when unhealthy, ejected or removed")
              .tags(tags).tags("pool", pool, "endpoint", endpoint).strongReference(true)
              .register(registry);
          registered.add(gauge);
          return gauge;
        });
      }
    }));
    endpoints.entrySet().removeIf(entry -> {
      if (present.contains(entry.getKey())) {
        return false;
      }
      registry.remove(entry.getValue());
      registered.remove(entry.getValue());
      return true;
    });
  }

  private void registerNewFailures(Collection<String> kinds) {
    for (String failure : kinds) {
      if (!closed && failures.add(failure)) {
        counter("ferry.failures", "Failed exchanges and connections by kind, as /_stats counts them",
            Tags.of("failure", failure), s -> s.stats.failures().getOrDefault(failure, 0L));
      }
    }
  }

  /**
   * 1 while the endpoint is healthy, else 0: unhealthy, ejected, or taken out by a reload. The
   * scrape that refreshes the stats may already hold a removed endpoint's gauge, which read NaN
   * there, breaking alerts on {@code == 0} and the pool's min and avg (probe c28).
   */
  private double health(String pool, String endpoint) {
    Snapshot current = snapshot();
    if (current == null) {
      return Double.NaN;
    }
    String state = current.stats.upstreamEndpoints().getOrDefault(pool, Map.of()).get(endpoint);
    return "healthy".equals(state) ? 1 : 0;
  }
}
