package dev.ferry.proxy.engine.admin;

import dev.ferry.proxy.CacheStats;
import dev.ferry.proxy.ProxyStats;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Renders {@code /_stats}: the keys of the specification ({@code uptime_seconds},
 * {@code total_requests}, {@code active_connections}, {@code cache}, {@code thread_pool},
 * {@code latency_p50_ms}, {@code latency_p95_ms}, {@code latency_p99_ms}) and more: status counts,
 * failures by kind, upstream pools with each endpoint's state, write timeouts.
 */
public final class StatsJson {
  private StatsJson() {}

  public static String render(ProxyStats stats, Optional<CacheStats> cache) {
    Json json = new Json().begin()
        .field("uptime_seconds", stats.uptime().toSeconds())
        .field("total_requests", stats.exchanges())
        .field("active_requests", stats.activeExchanges())
        .field("active_connections", stats.activeConnections())
        .field("connections_accepted", stats.connectionsAccepted())
        .field("connections_rejected", stats.connectionsRejected());
    json.object("cache")
        .field("enabled", cache.isPresent())
        .field("size_bytes", cache.map(CacheStats::bytes).orElse(0L))
        .field("entry_count", cache.map(CacheStats::entries).orElse(0L))
        .field("hits", cache.map(CacheStats::hits).orElse(0L))
        .field("misses", cache.map(CacheStats::misses).orElse(0L))
        .field("hit_rate", cache.map(CacheStats::hitRate).orElse(0.0))
        .field("revalidations", cache.map(CacheStats::revalidations).orElse(0L))
        .field("stale_served", cache.map(CacheStats::staleServed).orElse(0L))
        .field("evictions", cache.map(CacheStats::evictions).orElse(0L))
        .field("direct_bytes", cache.map(CacheStats::directBytes).orElse(0L))
        .field("file_bytes", cache.map(CacheStats::fileBytes).orElse(0L))
        .field("body_files", cache.map(CacheStats::bodyFiles).orElse(0L))
        .end();
    json.object("thread_pool")
        .field("workers", stats.workers())
        .field("active", stats.activeWorkers())
        .field("queue_depth", stats.queueDepth())
        .field("max_queue_depth", stats.maxQueueDepth())
        .end();
    json.field("latency_p50_ms", stats.latencyP50Millis())
        .field("latency_p95_ms", stats.latencyP95Millis())
        .field("latency_p99_ms", stats.latencyP99Millis());
    json.object("responses");
    new TreeMap<>(stats.responsesByStatus()).forEach((status, count) -> json.field(String.valueOf(status), count));
    json.end();
    json.object("failures");
    new TreeMap<>(stats.failures()).forEach(json::field);
    json.end();
    json.object("upstream_connections")
        .field("opened", stats.upstreamConnectionsOpened())
        .field("reused", stats.upstreamConnectionsReused())
        .field("open", stats.upstreamConnectionsOpen())
        .field("idle", stats.upstreamConnectionsIdle())
        .end();
    json.field("write_timeouts", stats.writeTimeouts());
    json.field("request_buffer_bytes", stats.requestBufferBytes());
    json.field("request_spool_bytes", stats.requestSpoolBytes());
    json.object("pools");
    for (Map.Entry<String, Map<String, String>> pool : new TreeMap<>(stats.upstreamEndpoints()).entrySet()) {
      json.object(pool.getKey());
      pool.getValue().forEach(json::field);
      json.end();
    }
    json.end();
    return json.end().toString();
  }
}
