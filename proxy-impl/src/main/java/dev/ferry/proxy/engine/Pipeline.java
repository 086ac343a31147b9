package dev.ferry.proxy.engine;

import dev.ferry.proxy.Filter;
import dev.ferry.proxy.engine.route.RouteTable;
import java.util.List;

/**
 * What an exchange runs through, swapped whole by a reconfiguration: the proxy-wide filters
 * (built-in ones realised) and the route table they go with. An exchange takes one when it
 * begins, so it never runs one configuration's filters and another's routes.
 *
 * @param routes the route table of a reverse proxy; null in a forward one
 */
record Pipeline(List<Filter> filters, RouteTable routes) {}
