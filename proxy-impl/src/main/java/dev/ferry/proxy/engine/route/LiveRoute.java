package dev.ferry.proxy.engine.route;

import dev.ferry.proxy.Filter;
import dev.ferry.proxy.Route;
import java.util.List;

/**
 * A route of the running table: the route, its pool, its filters as the engine runs them, and
 * the cache partition of its requests: its pool and its name, and its place among routes of that
 * name (routes left with their pattern as name may share it, one telling requests apart by a
 * header and stripping a prefix, probe v23), so that one route's entries never answer another's.
 */
public record LiveRoute(Route route, LivePool pool, List<Filter> filters, String cachePartition) {
  public String name() {
    return route.name();
  }
}
