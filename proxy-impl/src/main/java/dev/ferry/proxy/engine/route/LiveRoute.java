package dev.ferry.proxy.engine.route;

import dev.ferry.proxy.Filter;
import dev.ferry.proxy.Route;
import java.util.List;

/** A route of the running table: the route, its pool, and its filters as the engine runs them. */
public record LiveRoute(Route route, LivePool pool, List<Filter> filters) {
  public String name() {
    return route.name();
  }
}
