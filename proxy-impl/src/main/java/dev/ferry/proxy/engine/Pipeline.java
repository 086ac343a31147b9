package dev.ferry.proxy.engine;

import dev.ferry.proxy.Filter;
import dev.ferry.proxy.engine.cache.HttpCache;
import dev.ferry.proxy.engine.route.RouteTable;
import java.util.List;

/**
 * What an exchange runs through, swapped whole by a reconfiguration: the proxy-wide filters
 * (built-in ones realised) and the route table they go with. An exchange takes one when it
 * begins, so it never runs one configuration's filters and another's routes.
 *
 * @param routes the route table of a reverse proxy; null in a forward one
 * @param loopServes whether the event loops could serve some request through it (see
 *     {@link LoopEligibility#servesSome}): where they never could, connections go to the threads
 *     from the start rather than through a loop that hands every request over
 */
record Pipeline(List<Filter> filters, RouteTable routes, boolean loopServes) {

  /** The pipeline of {@code filters} and {@code routes}, with {@code cache} for the loops' hits. */
  static Pipeline of(List<Filter> filters, RouteTable routes, HttpCache cache) {
    return new Pipeline(filters, routes, LoopEligibility.servesSome(filters, routes, cache));
  }
}
