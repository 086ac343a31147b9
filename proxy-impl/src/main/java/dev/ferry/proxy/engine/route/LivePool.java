package dev.ferry.proxy.engine.route;

import dev.ferry.proxy.Balancer;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.balance.EndpointPicker;
import dev.ferry.proxy.engine.balance.Pickers;
import dev.ferry.proxy.engine.health.ActiveHealthChecker;
import dev.ferry.proxy.engine.health.Candidates;
import dev.ferry.proxy.engine.health.HeadLimits;
import dev.ferry.proxy.engine.health.OutlierDetector;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.tls.UpstreamHandshake;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running {@link Upstream} pool: its live endpoints, the balancer, health (active checks and
 * passive outlier detection, with panic mode), the circuit breaker and the retry budget.
 *
 * <p>Circuit breaking (Envoy's model): at most {@code maxRequests} requests in flight, of which
 * at most {@code maxConnections} hold an upstream connection while {@code maxPendingRequests}
 * more may wait for one; past either limit the answer is 503 at once, naming the pool.
 */
public final class LivePool {
  private static final Logger log = LoggerFactory.getLogger(LivePool.class);
  private static final int MIN_RETRY_CONCURRENCY = 3;

  private final Upstream spec;
  private final List<LiveEndpoint> endpoints;
  private final EndpointPicker picker;
  private final OutlierDetector outliers;
  private final Candidates candidates;
  private final ActiveHealthChecker healthChecker;
  private final PoolLoad load;

  /**
   * @param previous the pool whose endpoints this one takes on (of the same name, or renamed),
   *     if any: those that stay (same scheme, authority and base path, whatever their weight)
   *     keep their health and ejections
   * @param loadOf the pool whose requests and connections in flight count against this one's
   *     limits (the one of the same name, whatever its endpoints), if any
   */
  LivePool(Upstream spec, LivePool previous, LivePool loadOf, UpstreamHandshake tls,
      ScheduledExecutorService scheduler, HeadLimits limits) {
    this.spec = spec;
    Map<String, LiveEndpoint> kept = previous == null ? Map.of() : previous.endpointsByKey();
    List<LiveEndpoint> list = new ArrayList<>();
    for (Upstream.Endpoint endpoint : spec.endpoints()) {
      LiveEndpoint old = kept.get(key(endpoint));
      list.add(old == null ? new LiveEndpoint(spec.name(), endpoint)
          : old.endpoint().equals(endpoint) && old.pool().equals(spec.name()) ? old
          : old.carriedTo(spec.name(), endpoint));
    }
    this.endpoints = List.copyOf(list);
    this.load = loadOf == null ? new PoolLoad() : loadOf.load;
    Balancer balancer = spec.balancer();
    if (balancer.kind() == Balancer.Kind.ROUND_ROBIN
        && endpoints.stream().anyMatch(e -> e.weight() != endpoints.get(0).weight())) {
      balancer = Balancer.weighted();
    }
    this.picker = Pickers.create(balancer, endpoints, ThreadLocalRandom.current());
    this.outliers = new OutlierDetector(spec, endpoints, System::nanoTime);
    this.candidates = new Candidates(spec.name(), spec.panicThreshold());
    this.healthChecker = spec.healthCheck()
        .map(check -> new ActiveHealthChecker(spec.name(), check, endpoints, tls, scheduler, limits))
        .orElse(null);
  }

  private static String key(Upstream.Endpoint endpoint) {
    return endpoint.scheme() + "://" + endpoint.authority() + endpoint.basePath();
  }

  /** The keys of a pool's endpoints (scheme, authority, base path), whatever their weights. */
  static Set<String> endpointKeys(Upstream spec) {
    Set<String> keys = new HashSet<>();
    spec.endpoints().forEach(endpoint -> keys.add(key(endpoint)));
    return keys;
  }

  private Map<String, LiveEndpoint> endpointsByKey() {
    Map<String, LiveEndpoint> byKey = new HashMap<>();
    for (LiveEndpoint endpoint : endpoints) {
      byKey.put(key(endpoint.endpoint()), endpoint);
    }
    return byKey;
  }

  public String name() {
    return spec.name();
  }

  public Upstream spec() {
    return spec;
  }

  public List<LiveEndpoint> endpoints() {
    return endpoints;
  }

  void startHealthChecks() {
    if (healthChecker != null) {
      healthChecker.start();
    }
  }

  void stopHealthChecks() {
    if (healthChecker != null) {
      healthChecker.stop();
    }
  }

  /**
   * A pool reconfigured without an active health check: an endpoint a removed check had marked
   * unhealthy is healthy again, as nothing would ever check it back in (Envoy does the same).
   */
  void releaseUnchecked() {
    if (healthChecker != null) {
      return;
    }
    for (LiveEndpoint endpoint : endpoints) {
      if (!endpoint.healthy()) {
        endpoint.healthy(true);
        log.warn("endpoint_up pool={} endpoint={} reason=health_check_removed", LogValues.of(spec.name()),
            endpoint.endpoint().authority());
      }
    }
  }

  /**
   * Admits one request, or throws POOL_OVERLOADED (503) past {@code maxRequests}. Pair with
   * {@link #release()}.
   */
  public void admit() throws HttpFailureException {
    if (!load.tryAdmit(spec.maxRequests())) {
      throw new HttpFailureException(ProxyFailure.POOL_OVERLOADED,
          "pool " + spec.name() + " has " + spec.maxRequests() + " requests in flight");
    }
  }

  public void release() {
    load.released();
  }

  /**
   * True when half of one of the pool's circuit-breaker limits is in use, or requests wait for a
   * connection: a request's slot is then worth freeing as soon as its client leaves (see
   * {@link dev.ferry.proxy.engine.upstream.Target#watchClient()}).
   */
  public boolean crowded() {
    return (long) load.active() * 2 >= spec.maxRequests()
        || (long) load.connections() * 2 >= spec.maxConnections() || load.pending() > 0;
  }

  /**
   * Takes one of the pool's connections if one is free now, without waiting: an event loop
   * cannot wait, and hands a request that finds none to a thread that can.
   */
  public boolean tryAcquireConnection() {
    return load.tryTakeConnection(spec.maxConnections());
  }

  /**
   * Takes one of the pool's {@code maxConnections} slots, waiting up to {@code waitNanos} as one
   * of at most {@code maxPendingRequests} waiters. Pair with {@link #releaseConnection()}.
   *
   * @return whether the request had to wait for the slot
   * @throws HttpFailureException POOL_OVERLOADED (503) when the wait queue is full or the wait
   *     ran out
   */
  public boolean acquireConnection(long waitNanos) throws HttpFailureException {
    if (load.tryTakeConnection(spec.maxConnections())) {
      return false;
    }
    if (!load.startWaiting(spec.maxPendingRequests())) {
      throw new HttpFailureException(ProxyFailure.POOL_OVERLOADED,
          "pool " + spec.name() + " has " + spec.maxConnections() + " connections busy and "
              + spec.maxPendingRequests() + " requests waiting");
    }
    try {
      if (!load.awaitConnection(spec.maxConnections(), waitNanos)) {
        throw new HttpFailureException(ProxyFailure.POOL_OVERLOADED,
            "pool " + spec.name() + " had no free connection in time");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HttpFailureException(ProxyFailure.POOL_OVERLOADED, "interrupted waiting for pool " + spec.name());
    }
    return true;
  }

  public void releaseConnection() {
    load.connectionReleased();
  }

  /**
   * Chooses the endpoint for an attempt: one not tried yet when another is available.
   *
   * @throws HttpFailureException NO_HEALTHY_UPSTREAM (503) when none may be chosen
   */
  public LiveEndpoint choose(Request request, InetAddress client, Set<LiveEndpoint> tried)
      throws HttpFailureException {
    List<LiveEndpoint> available = candidates.available(endpoints, System.nanoTime());
    if (available.isEmpty()) {
      throw new HttpFailureException(ProxyFailure.NO_HEALTHY_UPSTREAM,
          "no healthy endpoint in pool " + spec.name());
    }
    if (tried.isEmpty()) {
      return picker.pick(available, request, client);
    }
    if (available.size() > 1) {
      List<LiveEndpoint> untried = new ArrayList<>(available);
      untried.removeAll(tried);
      if (!untried.isEmpty()) {
        available = untried;
      }
    }
    return picker.pickForRetry(available, request, client);
  }

  /** Whether {@link #choose} could pick an endpoint outside {@code tried} now. */
  public boolean hasUntried(Set<LiveEndpoint> tried) {
    for (LiveEndpoint endpoint : candidates.available(endpoints, System.nanoTime())) {
      if (!tried.contains(endpoint)) {
        return true;
      }
    }
    return false;
  }

  /** Takes a slot of the retry budget, or returns false when retries are at their share. */
  public boolean tryStartRetry(int budgetPercent) {
    return load.tryStartRetry(Math.max(MIN_RETRY_CONCURRENCY, load.active() * budgetPercent / 100));
  }

  public void retryEnded() {
    load.retryEnded();
  }

  /**
   * Logs what changed with time alone, without a request: an ejection that ended
   * ({@code endpoint_up}) and panic mode starting or ending as health checks and ejections moved
   * endpoints. Requests notice both too; this tells an idle pool's log when it happened.
   */
  void noticeChanges() {
    outliers.noticeReturns();
    candidates.available(endpoints, System.nanoTime());
  }

  public void succeeded(LiveEndpoint endpoint) {
    outliers.onSuccess(endpoint);
  }

  public void failed(LiveEndpoint endpoint, String reason) {
    outliers.onFailure(endpoint, reason);
  }

  /** Requests in flight to the pool now. */
  public int activeRequests() {
    return load.active();
  }

  /** Each endpoint's state ({@code healthy}, {@code unhealthy}, {@code ejected}), for stats. */
  public Map<String, String> states() {
    long now = System.nanoTime();
    Map<String, String> states = new LinkedHashMap<>();
    for (LiveEndpoint endpoint : endpoints) {
      states.put(endpoint.authority() + endpoint.endpoint().basePath(), endpoint.state(now));
    }
    return states;
  }
}
