package dev.ferry.proxy.engine;

import dev.ferry.proxy.ProxyStats;
import dev.ferry.proxy.engine.upstream.UpstreamPool;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** The proxy's counters: cheap to bump from many threads, snapshotted into {@link ProxyStats}. */
final class Metrics {
  final LongAdder connectionsAccepted = new LongAdder();
  final LongAdder connectionsRejected = new LongAdder();
  final AtomicLong activeConnections = new AtomicLong();
  final LongAdder exchanges = new LongAdder();
  final AtomicLong activeExchanges = new AtomicLong();
  final LongAdder writeTimeouts = new LongAdder();
  private final Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> failures = new ConcurrentHashMap<>();

  void status(int status) {
    statuses.computeIfAbsent(status, s -> new LongAdder()).increment();
  }

  void failure(String failure) {
    failures.computeIfAbsent(failure, f -> new LongAdder()).increment();
  }

  ProxyStats snapshot(UpstreamPool pool) {
    Map<Integer, Long> statusCounts = new HashMap<>();
    statuses.forEach((status, count) -> statusCounts.put(status, count.sum()));
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
        .responsesByStatus(statusCounts)
        .failures(failureCounts)
        .build();
  }
}
