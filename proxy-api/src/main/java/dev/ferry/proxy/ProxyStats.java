package dev.ferry.proxy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A snapshot of a proxy's counters, from {@link ProxyServer#stats()}. Counts are totals since
 * start, except the two {@code active*} gauges.
 */
public final class ProxyStats {
  private final long connectionsAccepted;
  private final long connectionsRejected;
  private final long activeConnections;
  private final long exchanges;
  private final long activeExchanges;
  private final long upstreamConnectionsOpened;
  private final long upstreamConnectionsReused;
  private final long upstreamConnectionsOpen;
  private final long upstreamConnectionsIdle;
  private final long writeTimeouts;
  private final long requestBufferBytes;
  private final long requestSpoolBytes;
  private final Map<Integer, Long> responsesByStatus;
  private final Map<String, Long> failures;
  private final Map<String, Map<String, String>> upstreamEndpoints;
  private final Duration uptime;
  private final double latencyP50Millis;
  private final double latencyP95Millis;
  private final double latencyP99Millis;
  private final int workers;
  private final int activeWorkers;
  private final int queueDepth;
  private final int maxQueueDepth;

  private ProxyStats(Builder builder) {
    this.connectionsAccepted = builder.connectionsAccepted;
    this.connectionsRejected = builder.connectionsRejected;
    this.activeConnections = builder.activeConnections;
    this.exchanges = builder.exchanges;
    this.activeExchanges = builder.activeExchanges;
    this.upstreamConnectionsOpened = builder.upstreamConnectionsOpened;
    this.upstreamConnectionsReused = builder.upstreamConnectionsReused;
    this.upstreamConnectionsOpen = builder.upstreamConnectionsOpen;
    this.upstreamConnectionsIdle = builder.upstreamConnectionsIdle;
    this.writeTimeouts = builder.writeTimeouts;
    this.requestBufferBytes = builder.requestBufferBytes;
    this.requestSpoolBytes = builder.requestSpoolBytes;
    this.responsesByStatus = Map.copyOf(builder.responsesByStatus);
    this.failures = Map.copyOf(builder.failures);
    this.upstreamEndpoints = Map.copyOf(builder.upstreamEndpoints);
    this.uptime = builder.uptime;
    this.latencyP50Millis = builder.latencyP50Millis;
    this.latencyP95Millis = builder.latencyP95Millis;
    this.latencyP99Millis = builder.latencyP99Millis;
    this.workers = builder.workers;
    this.activeWorkers = builder.activeWorkers;
    this.queueDepth = builder.queueDepth;
    this.maxQueueDepth = builder.maxQueueDepth;
  }

  /** Returns a new builder, for the engine and for tests. */
  public static Builder builder() {
    return new Builder();
  }

  /** Client connections accepted. */
  public long connectionsAccepted() {
    return connectionsAccepted;
  }

  /** Client connections turned away with 503 because the proxy was at capacity. */
  public long connectionsRejected() {
    return connectionsRejected;
  }

  /** Client connections open now. */
  public long activeConnections() {
    return activeConnections;
  }

  /** Exchanges started (request heads read). */
  public long exchanges() {
    return exchanges;
  }

  /** Exchanges in progress now. */
  public long activeExchanges() {
    return activeExchanges;
  }

  /** Connections opened to upstreams. */
  public long upstreamConnectionsOpened() {
    return upstreamConnectionsOpened;
  }

  /**
   * Upstream requests answered on a pooled, reused connection (whose response head came on it;
   * one sent again on a new connection after the pooled one turned out closed is not counted).
   */
  public long upstreamConnectionsReused() {
    return upstreamConnectionsReused;
  }

  /** Connections to upstreams open now, busy or idle in the pool (a gauge). */
  public long upstreamConnectionsOpen() {
    return upstreamConnectionsOpen;
  }

  /** Connections to upstreams idle in the pool now, ready for reuse (a gauge). */
  public long upstreamConnectionsIdle() {
    return upstreamConnectionsIdle;
  }

  /**
   * Writes, to clients, to upstreams or in tunnels, that made no progress within the write
   * timeout and whose connection was therefore closed.
   */
  public long writeTimeouts() {
    return writeTimeouts;
  }

  /**
   * Memory taken now by request bodies received whole before their exchange (see
   * {@link ProxyServer.Builder#requestBufferBytes(int)}), in bytes beyond each connection's own
   * buffer. It never passes an eighth of the maximum heap: near that, bodies are received on
   * disk (see {@link #requestSpoolBytes()}) or stream instead.
   */
  public long requestBufferBytes() {
    return requestBufferBytes;
  }

  /**
   * Disk space taken now by request bodies received whole on disk before their exchange (see
   * {@link ProxyServer.Builder#requestSpoolBytes(long)}), in bytes.
   */
  public long requestSpoolBytes() {
    return requestSpoolBytes;
  }

  /**
   * A reverse proxy's pools: for each pool name, each endpoint ({@code host:port} and base path)
   * with its state, {@code healthy}, {@code unhealthy} (active health check) or {@code ejected}
   * (outlier detection). Empty for a forward proxy.
   */
  public Map<String, Map<String, String>> upstreamEndpoints() {
    return upstreamEndpoints;
  }

  /** How long the proxy has been running. */
  public Duration uptime() {
    return uptime;
  }

  /** The median exchange latency over the last 60 s, in milliseconds (head read to response sent); 0 without traffic. */
  public double latencyP50Millis() {
    return latencyP50Millis;
  }

  /** The 95th percentile exchange latency over the last 60 s, in milliseconds. */
  public double latencyP95Millis() {
    return latencyP95Millis;
  }

  /** The 99th percentile exchange latency over the last 60 s, in milliseconds. */
  public double latencyP99Millis() {
    return latencyP99Millis;
  }

  /** Threads that can serve connections: the pool size, the thread-per-connection cap, or, under virtual threads, the connection tasks alive now (there is no fixed pool). */
  public int workers() {
    return workers;
  }

  /**
   * Connection tasks running now. A keep-alive connection idle for a moment (50 ms on the bounded
   * pool, 200 ms under virtual threads) is parked on a selector and runs no task.
   */
  public int activeWorkers() {
    return activeWorkers;
  }

  /**
   * Connections waiting for a thread of the bounded pool now: queued, or (keep-alive connections
   * that became readable while the queue was full) held on the idle selector until there is room;
   * 0 for the other models.
   */
  public int queueDepth() {
    return queueDepth;
  }

  /** The bounded pool's queue capacity; 0 for the other models. */
  public int maxQueueDepth() {
    return maxQueueDepth;
  }

  /** Responses sent to clients, by status code. */
  public Map<Integer, Long> responsesByStatus() {
    return responsesByStatus;
  }

  /** Failed exchanges by failure name, such as {@code UPSTREAM_UNREACHABLE}. */
  public Map<String, Long> failures() {
    return failures;
  }

  /**
   * Every failure name {@link #failures()} may count, in no particular order: a metrics binding
   * can publish each one from the start, at 0, so that a rate over it counts the first failure
   * of a kind too (a series born with the value 1 hides it).
   */
  public static List<String> failureKinds() {
    return FAILURE_KINDS;
  }

  private static final List<String> FAILURE_KINDS = List.of("MALFORMED_REQUEST", "REQUEST_TIMEOUT",
      "BODY_TOO_LARGE", "URI_TOO_LONG", "EXPECTATION_FAILED", "HEADERS_TOO_LARGE", "DENIED",
      "AUTHENTICATION_REQUIRED", "PROXY_AUTHENTICATION_REQUIRED", "RATE_LIMITED",
      "METHOD_NOT_ALLOWED", "MISDIRECTED_REQUEST", "VERSION_NOT_SUPPORTED",
      "CODING_NOT_IMPLEMENTED", "FILTER_FAILED", "UPSTREAM_UNREACHABLE", "UPSTREAM_BAD_RESPONSE",
      "UPSTREAM_RESET", "NO_ROUTE", "NO_HEALTHY_UPSTREAM", "POOL_OVERLOADED", "UPSTREAM_TIMEOUT",
      "UPSTREAM_CONNECT_TIMEOUT", "REVALIDATION_FAILED", "LOOP_DETECTED", "OVERLOADED",
      "CLIENT_CLOSED", "RESPONSE_ABORTED", "WRITE_TIMEOUT", "PROXY_STOPPED",
      "TLS_HANDSHAKE_FAILED");

  /** Returns the counters as key=value pairs. */
  @Override
  public String toString() {
    return "connections_accepted=" + connectionsAccepted + " connections_rejected="
        + connectionsRejected + " active_connections=" + activeConnections + " exchanges="
        + exchanges + " active_exchanges=" + activeExchanges + " upstream_opened="
        + upstreamConnectionsOpened + " upstream_reused=" + upstreamConnectionsReused
        + " upstream_open=" + upstreamConnectionsOpen + " upstream_idle=" + upstreamConnectionsIdle
        + " write_timeouts=" + writeTimeouts + " request_buffer_bytes=" + requestBufferBytes
        + " request_spool_bytes=" + requestSpoolBytes
        + " responses=" + new TreeMap<>(responsesByStatus) + " failures=" + new TreeMap<>(failures)
        + (upstreamEndpoints.isEmpty() ? "" : " pools=" + new TreeMap<>(upstreamEndpoints));
  }

  /**
   * A mutable builder of {@link ProxyStats}. Not thread-safe.
   */
  public static final class Builder {
    private long connectionsAccepted;
    private long connectionsRejected;
    private long activeConnections;
    private long exchanges;
    private long activeExchanges;
    private long upstreamConnectionsOpened;
    private long upstreamConnectionsReused;
    private long upstreamConnectionsOpen;
    private long upstreamConnectionsIdle;
    private long writeTimeouts;
    private long requestBufferBytes;
    private long requestSpoolBytes;
    private Map<Integer, Long> responsesByStatus = Map.of();
    private Map<String, Long> failures = Map.of();
    private Map<String, Map<String, String>> upstreamEndpoints = Map.of();
    private Duration uptime = Duration.ZERO;
    private double latencyP50Millis;
    private double latencyP95Millis;
    private double latencyP99Millis;
    private int workers;
    private int activeWorkers;
    private int queueDepth;
    private int maxQueueDepth;

    private Builder() {}

    /** Sets {@link ProxyStats#connectionsAccepted()}. */
    public Builder connectionsAccepted(long value) {
      connectionsAccepted = value;
      return this;
    }

    /** Sets {@link ProxyStats#connectionsRejected()}. */
    public Builder connectionsRejected(long value) {
      connectionsRejected = value;
      return this;
    }

    /** Sets {@link ProxyStats#activeConnections()}. */
    public Builder activeConnections(long value) {
      activeConnections = value;
      return this;
    }

    /** Sets {@link ProxyStats#exchanges()}. */
    public Builder exchanges(long value) {
      exchanges = value;
      return this;
    }

    /** Sets {@link ProxyStats#activeExchanges()}. */
    public Builder activeExchanges(long value) {
      activeExchanges = value;
      return this;
    }

    /** Sets {@link ProxyStats#upstreamConnectionsOpened()}. */
    public Builder upstreamConnectionsOpened(long value) {
      upstreamConnectionsOpened = value;
      return this;
    }

    /** Sets {@link ProxyStats#upstreamConnectionsReused()}. */
    public Builder upstreamConnectionsReused(long value) {
      upstreamConnectionsReused = value;
      return this;
    }

    /** Sets {@link ProxyStats#upstreamConnectionsOpen()}. */
    public Builder upstreamConnectionsOpen(long value) {
      upstreamConnectionsOpen = value;
      return this;
    }

    /** Sets {@link ProxyStats#upstreamConnectionsIdle()}. */
    public Builder upstreamConnectionsIdle(long value) {
      upstreamConnectionsIdle = value;
      return this;
    }

    /** Sets {@link ProxyStats#requestBufferBytes()}. */
    public Builder requestBufferBytes(long value) {
      requestBufferBytes = value;
      return this;
    }

    /** Sets {@link ProxyStats#requestSpoolBytes()}. */
    public Builder requestSpoolBytes(long value) {
      requestSpoolBytes = value;
      return this;
    }

    /** Sets {@link ProxyStats#writeTimeouts()}. */
    public Builder writeTimeouts(long value) {
      writeTimeouts = value;
      return this;
    }

    /** Sets {@link ProxyStats#responsesByStatus()}. */
    public Builder responsesByStatus(Map<Integer, Long> value) {
      responsesByStatus = Objects.requireNonNull(value, "responsesByStatus");
      return this;
    }

    /** Sets {@link ProxyStats#failures()}. */
    public Builder failures(Map<String, Long> value) {
      failures = Objects.requireNonNull(value, "failures");
      return this;
    }

    /** Sets {@link ProxyStats#upstreamEndpoints()}. */
    public Builder upstreamEndpoints(Map<String, Map<String, String>> value) {
      upstreamEndpoints = Objects.requireNonNull(value, "upstreamEndpoints");
      return this;
    }

    /** Sets {@link ProxyStats#uptime()}. */
    public Builder uptime(Duration value) {
      uptime = Objects.requireNonNull(value, "uptime");
      return this;
    }

    /** Sets {@link ProxyStats#latencyP50Millis()}. */
    public Builder latencyP50Millis(double value) {
      latencyP50Millis = value;
      return this;
    }

    /** Sets {@link ProxyStats#latencyP95Millis()}. */
    public Builder latencyP95Millis(double value) {
      latencyP95Millis = value;
      return this;
    }

    /** Sets {@link ProxyStats#latencyP99Millis()}. */
    public Builder latencyP99Millis(double value) {
      latencyP99Millis = value;
      return this;
    }

    /** Sets {@link ProxyStats#workers()}. */
    public Builder workers(int value) {
      workers = value;
      return this;
    }

    /** Sets {@link ProxyStats#activeWorkers()}. */
    public Builder activeWorkers(int value) {
      activeWorkers = value;
      return this;
    }

    /** Sets {@link ProxyStats#queueDepth()}. */
    public Builder queueDepth(int value) {
      queueDepth = value;
      return this;
    }

    /** Sets {@link ProxyStats#maxQueueDepth()}. */
    public Builder maxQueueDepth(int value) {
      maxQueueDepth = value;
      return this;
    }

    /** Returns the snapshot. */
    public ProxyStats build() {
      return new ProxyStats(this);
    }
  }
}
