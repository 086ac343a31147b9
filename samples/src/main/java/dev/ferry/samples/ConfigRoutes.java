package dev.ferry.samples;

import dev.ferry.proxy.HealthCheck;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.RetryPolicy;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code pools}, {@code routes} and {@code upstream} sections of the config file. A pool is
 * an {@link Upstream} with a name; a route is a {@link Route} that names its pool; routes are
 * added in file order (first match wins) and {@code upstream: NAME} is the catch-all after them.
 * Routes naming the same pool share it.
 */
final class ConfigRoutes {
  private static final List<String> POOL = List.of("name", "endpoints", "balancer", "healthCheck",
      "maxConnections", "maxPendingRequests", "maxRequests", "ejectAfter", "maxEjectedPercent",
      "panicThreshold", "preserveHost", "keepLocation");
  private static final List<String> ENDPOINT = List.of("url", "weight");
  private static final List<String> HEALTH = List.of("path", "intervalSeconds", "timeoutSeconds",
      "healthyThreshold", "unhealthyThreshold", "expectStatus");
  private static final List<String> EJECT = List.of("failures", "baseEjectionSeconds");
  private static final List<String> ROUTE = List.of("name", "host", "pathPrefix", "path",
      "pathRegex", "methods", "headers", "pool", "cache", "timeoutSeconds", "retries", "stripPrefix");
  private static final List<String> RETRIES = List.of("count", "statuses", "nonIdempotent");
  private static final String POOL_ITEM = "\"- name: api\" with its endpoints on the lines below";
  static final String ROUTE_ITEM = "\"- pathPrefix: /api/\" with its pool on the lines below";

  private ConfigRoutes() {}

  /**
   * Adds the routes and the catch-all to {@code builder}; returns true if there is either.
   *
   * @throws ConfigFileException naming the line of the first problem
   */
  static boolean read(ConfigNode pools, ConfigNode routes, ConfigNode upstream, ProxyServer.Builder builder) {
    Map<String, Upstream> byName = new HashMap<>();
    if (pools != null) {
      for (ConfigNode item : pools.items(POOL_ITEM)) {
        Upstream pool = pool(item);
        if (byName.put(pool.name(), pool) != null) {
          throw item.error("names pool " + pool.name() + " again; pool names must differ");
        }
      }
    }
    boolean reverse = false;
    Set<String> used = new HashSet<>();
    if (routes != null) {
      List<Route> earlier = new ArrayList<>();
      for (ConfigNode item : routes.items(ROUTE_ITEM)) {
        Route route = route(item, byName);
        for (Route before : earlier) {
          // The builder refuses this too, but here the message can name the line.
          if (before.covers(route)) {
            throw item.error("can never match: route " + before.name() + " before it matches every "
                + "request it would; remove it, or move it before the wider one");
          }
        }
        earlier.add(route);
        builder.route(route);
        used.add(route.upstream().name());
        reverse = true;
      }
    }
    if (upstream != null) {
      Upstream pool = named(upstream, byName);
      builder.upstream(pool);
      used.add(pool.name());
      reverse = true;
    }
    if (pools != null) {
      // A pool nothing routes to would leave the proxy forwarding, or the pool idle, silently.
      for (ConfigNode item : pools.items(POOL_ITEM)) {
        String name = item.fields(POOL).get("name").text();
        if (!used.contains(name)) {
          throw item.error("defines pool " + name + ", which no route and no upstream uses: "
              + "route to it (routes: ... pool: " + name + ", or upstream: " + name + ") or remove it");
        }
      }
    }
    return reverse;
  }

  private static Upstream pool(ConfigNode item) {
    Map<String, ConfigNode> fields = item.fields(POOL);
    ConfigNode name = required(item, fields, "name");
    ConfigNode endpoints = required(item, fields, "endpoints");
    List<PoolSpec.Endpoint> list = new ArrayList<>();
    for (ConfigNode endpoint : endpoints.list()) {
      PoolSpec.Endpoint parsed = endpoint(endpoint);
      list.add(endpoint.call(() -> PoolSpec.check(parsed))); // errors name this endpoint's line
    }
    Upstream built = endpoints.call(() -> PoolSpec.pool(list));
    Upstream pool = name.call(() -> built.name(name.text()));
    for (Map.Entry<String, ConfigNode> field : fields.entrySet()) {
      ConfigNode value = field.getValue();
      Upstream current = pool;
      pool = value.call(() -> switch (field.getKey()) {
        case "balancer" -> current.balance(PoolSpec.balancer(value.path(), value.text()));
        case "healthCheck" -> current.healthCheck(healthCheck(value));
        case "maxConnections" -> current.maxConnections(value.integer());
        case "maxPendingRequests" -> current.maxPendingRequests(value.integer());
        case "maxRequests" -> current.maxRequests(value.integer());
        case "ejectAfter" -> ejectAfter(current, value);
        case "maxEjectedPercent" -> current.maxEjectedPercent(value.integer());
        case "panicThreshold" -> current.panicThreshold(value.integer());
        case "preserveHost" -> value.bool() ? current.preserveHost() : current;
        case "keepLocation" -> value.bool() ? current.keepLocation() : current;
        default -> current; // name and endpoints, above
      });
    }
    return pool;
  }

  /** {@code URL}, {@code URL*N}, or {@code {url: URL, weight: N}}. */
  private static PoolSpec.Endpoint endpoint(ConfigNode node) {
    if (!node.isMapping()) {
      return node.call(() -> PoolSpec.endpoint(node.path(), node.text()));
    }
    Map<String, ConfigNode> fields = node.fields(ENDPOINT);
    String url = required(node, fields, "url").text();
    ConfigNode weight = fields.get("weight");
    return new PoolSpec.Endpoint(url, weight == null ? 1 : weight.integer());
  }

  /** {@code PATH[:SECS]}, or a mapping of {@link #HEALTH}. */
  private static HealthCheck healthCheck(ConfigNode node) {
    if (!node.isMapping()) {
      return PoolSpec.healthCheck(node.path(), node.text());
    }
    Map<String, ConfigNode> fields = node.fields(HEALTH);
    HealthCheck check = HealthCheck.http(required(node, fields, "path").text());
    for (Map.Entry<String, ConfigNode> field : fields.entrySet()) {
      ConfigNode value = field.getValue();
      HealthCheck current = check;
      check = value.call(() -> switch (field.getKey()) {
        case "intervalSeconds" -> current.interval(value.seconds());
        case "timeoutSeconds" -> current.timeout(value.seconds());
        case "healthyThreshold" -> current.healthyThreshold(value.integer());
        case "unhealthyThreshold" -> current.unhealthyThreshold(value.integer());
        case "expectStatus" -> expectStatus(current, value);
        default -> current; // path, above
      });
    }
    return check;
  }

  private static HealthCheck expectStatus(HealthCheck check, ConfigNode node) {
    List<ConfigNode> range = node.list();
    if (range.size() != 2) {
      throw node.error("must be [MIN, MAX], like [200, 399]");
    }
    return check.expectStatus(range.get(0).integer(), range.get(1).integer());
  }

  private static Upstream ejectAfter(Upstream pool, ConfigNode node) {
    Map<String, ConfigNode> fields = node.fields(EJECT);
    ConfigNode failures = fields.get("failures");
    ConfigNode base = fields.get("baseEjectionSeconds");
    return pool.ejectAfter(failures == null ? pool.ejectAfterFailures() : failures.integer(),
        base == null ? pool.baseEjection() : base.seconds());
  }

  private static Route route(ConfigNode item, Map<String, Upstream> pools) {
    Map<String, ConfigNode> fields = item.fields(ROUTE);
    int paths = (fields.containsKey("pathPrefix") ? 1 : 0) + (fields.containsKey("path") ? 1 : 0)
        + (fields.containsKey("pathRegex") ? 1 : 0);
    if (paths > 1) {
      throw item.error("may have only one of pathPrefix, path and pathRegex");
    }
    Route route = Route.to(named(required(item, fields, "pool"), pools));
    // stripPrefix last: it needs the path prefix, wherever it is written.
    for (String key : ROUTE) {
      ConfigNode value = fields.get(key);
      if (value != null) {
        Route current = route;
        route = value.call(() -> option(current, key, value));
      }
    }
    return route;
  }

  private static Route option(Route route, String key, ConfigNode value) {
    switch (key) {
      case "name":
        return route.name(value.text());
      case "host":
        return route.host(value.text());
      case "pathPrefix":
        return route.pathPrefix(value.text());
      case "path":
        return route.path(value.text());
      case "pathRegex":
        return route.pathRegex(value.text());
      case "methods":
        Route withMethods = route;
        for (ConfigNode method : value.list()) {
          withMethods = withMethods.method(method.text());
        }
        return withMethods;
      case "headers":
        Route withHeaders = route;
        for (Map.Entry<String, ConfigNode> header : value.entries().entrySet()) {
          withHeaders = withHeaders.header(header.getKey(), header.getValue().text());
        }
        return withHeaders;
      case "cache":
        return route.cache(value.bool());
      case "timeoutSeconds":
        return route.timeout(value.seconds());
      case "retries":
        return route.retry(retries(value));
      case "stripPrefix":
        return value.bool() ? route.stripPrefix() : route;
      default:
        return route; // pool, above
    }
  }

  /** {@code N}, or {@code {count: N, statuses: [...], nonIdempotent: BOOL}}. */
  private static RetryPolicy retries(ConfigNode node) {
    if (!node.isMapping()) {
      return RetryPolicy.retries(node.integer());
    }
    Map<String, ConfigNode> fields = node.fields(RETRIES);
    RetryPolicy policy = RetryPolicy.retries(required(node, fields, "count").integer());
    ConfigNode statuses = fields.get("statuses");
    if (statuses != null) {
      int[] codes = statuses.list().stream().mapToInt(ConfigNode::integer).toArray();
      RetryPolicy counted = policy;
      policy = statuses.call(() -> counted.onStatuses(codes));
    }
    ConfigNode nonIdempotent = fields.get("nonIdempotent");
    return nonIdempotent == null ? policy : policy.nonIdempotent(nonIdempotent.bool());
  }

  private static Upstream named(ConfigNode node, Map<String, Upstream> pools) {
    Upstream pool = pools.get(node.text());
    if (pool == null) {
      throw node.error("names no pool (was " + node.text() + "); " + (pools.isEmpty()
          ? "the file defines none" : "pools: " + String.join(", ", new TreeSet<>(pools.keySet()))));
    }
    return pool;
  }

  private static ConfigNode required(ConfigNode item, Map<String, ConfigNode> fields, String key) {
    ConfigNode value = fields.get(key);
    if (value == null) {
      throw item.error("needs " + key);
    }
    return value;
  }
}
