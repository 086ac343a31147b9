package dev.ferry.proxy.engine.route;

import dev.ferry.proxy.Filter;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.tls.UpstreamHandshake;
import dev.ferry.proxy.engine.upstream.UpstreamKey;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.UnaryOperator;

/**
 * An immutable snapshot of the routes and pools of a reverse proxy. Routes are tried in order;
 * the catch-all {@code upstream(...)} comes last. Routes naming equal pools (same name and
 * options) share one running pool.
 */
public final class RouteTable {
  private final List<LiveRoute> routes;
  private final Map<String, LivePool> pools;

  private RouteTable(List<LiveRoute> routes, Map<String, LivePool> pools) {
    this.routes = routes;
    this.pools = pools;
  }

  /**
   * Builds the table for {@code config}; a pool of {@code previous} with the same name, or renamed
   * with the same endpoints, hands on its endpoints' health and its load (see {@link LivePool}).
   *
   * @param realise turns a route's configured filters into the ones the engine runs
   */
  static RouteTable build(ProxyConfig config, RouteTable previous, UpstreamHandshake tls,
      ScheduledExecutorService scheduler, UnaryOperator<List<Filter>> realise) {
    List<Route> all = new ArrayList<>(config.routes());
    config.upstream().ifPresent(upstream -> all.add(Route.to(upstream).name("default")));
    Map<String, LivePool> pools = new LinkedHashMap<>();
    List<LiveRoute> routes = new ArrayList<>();
    Set<String> names = new HashSet<>();
    all.forEach(route -> names.add(route.upstream().name()));
    for (Route route : all) {
      Upstream spec = route.upstream();
      LivePool pool = pools.get(spec.name());
      if (pool == null) {
        pool = new LivePool(spec, previous == null ? null : previous.replacedBy(spec, names), tls, scheduler);
        pools.put(spec.name(), pool);
      } else if (!pool.spec().equals(spec)) {
        throw new IllegalArgumentException("two different pools are named " + spec.name()
            + "; give each pool its own name");
      }
      routes.add(new LiveRoute(route, pool, realise.apply(route.filters())));
    }
    return new RouteTable(List.copyOf(routes), pools);
  }

  /**
   * The pool of this table that {@code spec} replaces: the one of its name, else one renamed (its
   * name gone from the new table, {@code names}, and its endpoints the same), so that a rename
   * alone forgets no endpoint's health (probe g12: a down endpoint was back in rotation); null
   * for a new pool.
   */
  private LivePool replacedBy(Upstream spec, Set<String> names) {
    LivePool named = pools.get(spec.name());
    if (named != null) {
      return named;
    }
    Set<String> keys = LivePool.endpointKeys(spec);
    for (LivePool pool : pools.values()) {
      if (!names.contains(pool.name()) && LivePool.endpointKeys(pool.spec()).equals(keys)) {
        return pool;
      }
    }
    return null;
  }

  /** The first route that matches, if any. */
  public Optional<LiveRoute> match(Request request) {
    for (LiveRoute route : routes) {
      if (route.route().matches(request)) {
        return Optional.of(route);
      }
    }
    return Optional.empty();
  }

  /** Where this table's endpoints are connected to (one whose host is invalid never is). */
  public Set<UpstreamKey> endpointKeys() {
    Set<UpstreamKey> keys = new HashSet<>();
    for (LivePool pool : pools.values()) {
      for (LiveEndpoint endpoint : pool.endpoints()) {
        try {
          keys.add(UpstreamKey.of(endpoint.endpoint()));
        } catch (HttpFailureException invalid) {
          // Its exchanges fail before connecting.
        }
      }
    }
    return keys;
  }

  /** The running pools, by name. */
  public Map<String, LivePool> pools() {
    return pools;
  }

  void startHealthChecks() {
    pools.values().forEach(LivePool::startHealthChecks);
  }

  void stopHealthChecks() {
    pools.values().forEach(LivePool::stopHealthChecks);
  }

  /** See {@link LivePool#releaseUnchecked()}; once the old table's checks have stopped. */
  void releaseUnchecked() {
    pools.values().forEach(LivePool::releaseUnchecked);
  }
}
