package dev.ferry.proxy.engine;

import dev.ferry.proxy.ProxyStats;
import dev.ferry.proxy.engine.upstream.UpstreamPool;
import dev.ferry.proxy.engine.metrics.LatencyWindow;
import dev.ferry.proxy.engine.route.Router;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/** The proxy's counters: cheap to bump from many threads, snapshotted into {@link ProxyStats}. */
final class Metrics {
  final LongAdder connectionsAccepted = new LongAdder();
  final LongAdder connectionsRejected = new LongAdder();
  final AtomicLong activeConnections = new AtomicLong();
  final LongAdder exchanges = new LongAdder();
  final AtomicLong activeExchanges = new AtomicLong();
  final LongAdder writeTimeouts = new LongAdder();
  final LatencyWindow latency = new LatencyWindow(6);
  private final long startedNanos = System.nanoTime();
  /**
   * Counts by status code (three digits, RFC 9110 §15), indexed by it, made on first use: a map
   * keyed by {@code Integer} boxed every status of 128 or more and hashed it on every response.
   */
  private final AtomicReferenceArray<LongAdder> statuses = new AtomicReferenceArray<>(1000);
  private final Map<String, LongAdder> failures = new ConcurrentHashMap<>();

  void status(int status) {
    LongAdder count = statuses.get(status);
    if (count == null) {
      statuses.compareAndSet(status, null, new LongAdder());
      count = statuses.get(status);
    }
    count.increment();
  }

  void failure(String failure) {
    failures.computeIfAbsent(failure, f -> new LongAdder()).increment();
  }

  private static Map<String, Map<String, String>> endpointStates(Router router) {
    Map<String, Map<String, String>> states = new LinkedHashMap<>();
    if (router != null) {
      router.current().pools().forEach((name, pool) -> states.put(name, pool.states()));
    }
    return states;
  }

  ProxyStats snapshot(UpstreamPool pool, Router router, ConnectionExecutor executor, long requestBufferBytes,
      long requestSpoolBytes) {
    Map<Integer, Long> statusCounts = new HashMap<>();
    for (int status = 0; status < statuses.length(); status++) {
      LongAdder count = statuses.get(status);
      long sum = count == null ? 0 : count.sum();
      if (sum > 0) { // made, and not yet incremented
        statusCounts.put(status, sum);
      }
    }
    Map<String, Long> failureCounts = new HashMap<>();
    failures.forEach((failure, count) -> failureCounts.put(failure, count.sum()));
    return ProxyStats.builder()
        .connectionsAccepted(connectionsAccepted.sum())
        .connectionsRejected(connectionsRejected.sum())
        .activeConnections(activeConnections.get())
        .exchanges(exchanges.sum())
        .activeExchanges(activeExchanges.get())
        .upstreamConnectionsOpened(pool.opened())
        .upstreamConnectionsReused(pool.reused())
        .upstreamConnectionsOpen(pool.openCount())
        .upstreamConnectionsIdle(pool.idleCount())
        .writeTimeouts(writeTimeouts.sum())
        .requestBufferBytes(requestBufferBytes)
        .requestSpoolBytes(requestSpoolBytes)
        .responsesByStatus(statusCounts)
        .failures(failureCounts)
        .upstreamEndpoints(endpointStates(router))
        .uptime(Duration.ofNanos(System.nanoTime() - startedNanos))
        .latencyP50Millis(latency.percentileMillis(50))
        .latencyP95Millis(latency.percentileMillis(95))
        .latencyP99Millis(latency.percentileMillis(99))
        .workers(executor == null ? 0 : executor.workers())
        .activeWorkers(executor == null ? 0 : executor.activeWorkers())
        .queueDepth(executor == null ? 0 : executor.queueDepth())
        .maxQueueDepth(executor == null ? 0 : executor.maxQueueDepth())
        .build();
  }
}
