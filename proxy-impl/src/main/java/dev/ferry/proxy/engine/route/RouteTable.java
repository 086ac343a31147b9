package dev.ferry.proxy.engine.route;

import dev.ferry.proxy.Filter;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.health.HeadLimits;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.http1.TargetPaths;
import dev.ferry.proxy.engine.tls.UpstreamHandshake;
import dev.ferry.proxy.engine.upstream.UpstreamKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BinaryOperator;

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
   * @param realise turns a route's configured filters, and those the route of its name ran
   *     before the reload (none at first), into the ones the engine runs
   */
  static RouteTable build(ProxyConfig config, RouteTable previous, UpstreamHandshake tls,
      ScheduledExecutorService scheduler, BinaryOperator<List<Filter>> realise) {
    List<Route> all = new ArrayList<>(config.routes());
    config.upstream().ifPresent(upstream -> all.add(Route.to(upstream).name("default")));
    Map<String, LivePool> pools = new LinkedHashMap<>();
    List<LiveRoute> routes = new ArrayList<>();
    Map<String, Integer> byName = new HashMap<>();
    Map<String, Upstream> specs = new HashMap<>();
    all.forEach(route -> specs.put(route.upstream().name(), route.upstream()));
    for (Route route : all) {
      Upstream spec = route.upstream();
      LivePool pool = pools.get(spec.name());
      if (pool == null) {
        LivePool replaced = previous == null ? null : previous.replacedBy(spec, specs);
        LivePool named = previous == null ? null : previous.pools.get(spec.name());
        // Load goes by name (an endpoint swap keeps the pool's limits on what is in flight, probe
        // e13); endpoint health by endpoint, from the pool they were in.
        pool = new LivePool(spec, replaced, named != null ? named : replaced, tls, scheduler,
            HeadLimits.of(config));
        pools.put(spec.name(), pool);
      } else if (!pool.spec().equals(spec)) {
        throw new IllegalArgumentException("two different pools are named " + spec.name()
            + "; give each pool its own name");
      }
      // Routes left with their pattern as name may share it: each is the nth of its name, in the
      // table before as now (its filters' state, its cache entries are its own, probe v23).
      int nth = byName.merge(route.name(), 1, Integer::sum);
      List<Filter> before = previous == null ? List.of() : previous.routes.stream()
          .filter(old -> old.route().name().equals(route.name())).skip(nth - 1L).findFirst()
          .map(LiveRoute::filters).orElse(List.of());
      String partition = spec.name() + " " + route.name() + (nth > 1 ? " #" + nth : "");
      routes.add(new LiveRoute(route, pool, realise.apply(route.filters(), before), partition));
    }
    return new RouteTable(List.copyOf(routes), pools);
  }

  /**
   * The pool of this table whose endpoints' health {@code spec} takes on: the one of its name if they share an endpoint; else one renamed, with the same endpoints,
   * whose name the new table gives no pool of those endpoints (gone, or taken by a new pool), so
   * that a rename alone forgets no endpoint's health (probe g12: a down endpoint was back in
   * rotation; v12: also when a new pool takes the old name); null for a new pool.
   *
   * @param specs the new table's pools by name
   */
  private LivePool replacedBy(Upstream spec, Map<String, Upstream> specs) {
    Set<String> keys = LivePool.endpointKeys(spec);
    LivePool named = pools.get(spec.name());
    if (named != null && !Collections.disjoint(LivePool.endpointKeys(named.spec()), keys)) {
      return named;
    }
    for (LivePool pool : pools.values()) {
      Upstream successor = specs.get(pool.name());
      if (LivePool.endpointKeys(pool.spec()).equals(keys)
          && (successor == null || Collections.disjoint(LivePool.endpointKeys(successor), keys))) {
        return pool;
      }
    }
    return null;
  }

  /**
   * The first route that matches, if any.
   *
   * @throws HttpFailureException MALFORMED_REQUEST when path parameters decide the route: a
   *     servlet container reads {@code /admin;x/s} as {@code /admin/s}, so a route for
   *     {@code /admin/} (its own filters, its own pool) would be passed by for a later one in
   *     front of the same application (probe h24). Parameters that leave the route as it is
   *     ({@code ;jsessionid=...}) are served.
   */
  public Optional<LiveRoute> match(Request request) throws HttpFailureException {
    Optional<LiveRoute> matched = firstMatch(request);
    if (request.target().startsWith("/")) {
      String servletView = TargetPaths.withoutSegmentParameters(request.target());
      if (servletView != request.target() && !firstMatch(request.withTarget(servletView)).equals(matched)) {
        throw new HttpFailureException(ProxyFailure.MALFORMED_REQUEST,
            "path parameters (;) would route the request elsewhere than the path without them");
      }
    }
    return matched;
  }

  /**
   * For a request no route matches: the redirect to its path with a slash ({@link #slashTarget}),
   * 301 to a GET or HEAD and 308 to other methods (308 keeps the method and body, RFC 9110
   * §15.4.9; clients may turn a 301 POST into a GET); null where there is none.
   */
  public Response slashRedirect(Request request) {
    String slashed = slashTarget(request);
    if (slashed == null) {
      return null;
    }
    boolean safe = request.method().equals("GET") || request.method().equals("HEAD");
    Response moved = safe ? Response.text(301, "Moved Permanently\n") : Response.text(308, "Permanent Redirect\n");
    return moved.toBuilder().header("Location", slashed).build();
  }

  /**
   * For a request no route matches: the target to redirect it to when the first route matching
   * its path with a slash after it is a prefix route for exactly that ({@code /v1} to
   * {@code /v1/}, its query kept), as nginx redirects for a prefix location written with its
   * slash; null otherwise.
   */
  private String slashTarget(Request request) {
    String path = request.path();
    if (!path.startsWith("/") || path.endsWith("/")) {
      return null;
    }
    String slashed = path + "/";
    String target = slashed + request.target().substring(path.length());
    Optional<LiveRoute> there = firstMatch(request.withTarget(target));
    return there.isPresent() && there.get().route().pathMatch() == Route.PathMatch.PREFIX
        && there.get().route().path().equals(slashed) ? target : null;
  }

  private Optional<LiveRoute> firstMatch(Request request) {
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
          keys.add(endpoint.key());
        } catch (HttpFailureException invalid) {
          // Its exchanges fail before connecting.
        }
      }
    }
    return keys;
  }

  /** The routes in the order they are matched, the catch-all {@code upstream(...)} last. */
  public List<LiveRoute> routes() {
    return routes;
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
