package dev.ferry.samples;

import dev.ferry.proxy.Balancer;
import dev.ferry.proxy.HealthCheck;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.RetryPolicy;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The CLI's reverse-proxy flags: {@code --upstream} (repeatable, one pool), {@code --route}
 * (repeatable, first match wins, before the {@code --upstream} catch-all), and the options every
 * pool or route gets: {@code --lb}, {@code --health-check}, {@code --max-requests-per-pool},
 * {@code --retries}, {@code --preserve-host}, {@code --keep-location}. Values are checked when read, by the same
 * {@link Upstream}, {@link Route} and {@link Balancer} methods the builder uses.
 */
final class RouteOptions {
  /** Flags that take a value. */
  static final Set<String> FLAGS = Set.of("--upstream", "--route", "--lb", "--health-check",
      "--retries", "--max-requests-per-pool");

  /** Flags without a value. */
  static final Set<String> SWITCHES = Set.of("--preserve-host", "--keep-location");

  /** The help text of these flags, a section of {@link CliOptions#USAGE}. */
  static final String USAGE = String.join("\n",
      "      --upstream URL[*N]       reverse proxy to URL, e.g. http://127.0.0.1:9000; repeatable:",
      "                               all form one pool; *N gives an endpoint weight N; a",
      "                               path in URL (http://h:9000/app) goes before each path",
      "      --route 'PATTERN=URL[*N][,URL[*N]...]'",
      "                               send requests matching PATTERN, [HOSTGLOB]/PATH-PREFIX",
      "                               (api.example.test/v1/, *.example.test/, /static/), to a",
      "                               pool of these URLs; repeatable, first match wins, then",
      "                               --upstream (if any) takes the rest; no match is 404",
      "      --lb POLICY              balancing in every pool: round-robin | weighted |",
      "                               least-requests | random | hash:header:NAME |",
      "                               hash:cookie:NAME | hash:client-ip | hash:path (default",
      "                               round-robin; weighted when any endpoint has a weight)",
      "      --health-check PATH[:SECS]  GET PATH on every endpoint every SECS (default 5)",
      "      --retries N              retries on every route (default 1; 0 = off): any",
      "                               request that could not connect; idempotent ones also",
      "                               on a reset before the answer",
      "      --max-requests-per-pool N  requests in flight per pool; more are answered 503",
      "                               (default 10000)",
      "      --preserve-host          send the client's Host to the upstream",
      "      --keep-location          pass an upstream's Location and Refresh naming the",
      "                               upstream itself on as they are (default: rewritten to",
      "                               the client's path, as nginx's proxy_redirect default)",
      "      --config FILE            read options from a YAML file and reload its pools, routes",
      "                               and filters when it changes or on SIGHUP (see README)");

  private final List<PoolSpec.Endpoint> upstream = new ArrayList<>();
  private final List<PendingRoute> routes = new ArrayList<>();
  private Balancer balancer;
  private HealthCheck healthCheck;
  private RetryPolicy retry;
  private Integer maxRequests;
  private boolean preserveHost;
  private boolean keepLocation;

  /**
   * A route from {@code --route} as given: its pattern, checked (and that pattern as written),
   * and its URLs; the pool is built when all flags are known.
   */
  private record PendingRoute(Route pattern, String written, List<PoolSpec.Endpoint> endpoints) {}

  /** One endpoint, whatever trailing slashes its base path is written with (as the pool sees it). */
  private static boolean sameEndpoint(String a, String b) {
    // As the pool compares them: http://h and http://h:80 are one (they were told apart here,
    // and the pool's own refusal named no flag: probe readmecli F2).
    return Upstream.of(a).endpoints().get(0).sameTarget(Upstream.of(b).endpoints().get(0));
  }

  /** Host globs compare ignoring case, as host names do; paths exactly, as the router matches them. */
  private static boolean samePattern(String a, String b) {
    int slashA = a.indexOf('/');
    int slashB = b.indexOf('/');
    return slashA == slashB && a.regionMatches(true, 0, b, 0, Math.max(slashA, 0))
        && a.substring(Math.max(slashA, 0)).equals(b.substring(Math.max(slashB, 0)));
  }

  /**
   * Reads one flag of {@link #FLAGS} with its value.
   *
   * @throws IllegalArgumentException naming the flag and what to fix
   */
  void add(String flag, String value) {
    switch (flag) {
      case "--upstream" -> {
        PoolSpec.Endpoint endpoint = PoolSpec.check(PoolSpec.endpoint(flag, value));
        if (upstream.stream().anyMatch(e -> sameEndpoint(e.url(), endpoint.url()))) {
          throw new IllegalArgumentException(flag + " " + endpoint.url() + " given twice: give it once, "
              + "with URL*N for a weight of N");
        }
        upstream.add(endpoint);
      }
      case "--route" -> {
        PendingRoute route = route(value);
        if (routes.stream().anyMatch(r -> samePattern(r.written(), route.written()))) {
          throw new IllegalArgumentException(flag + ": the pattern of " + value + " is given twice; "
              + "the first match wins, so the second could never be used");
        }
        routes.add(route);
      }
      case "--lb" -> balancer = PoolSpec.balancer(flag, value);
      case "--health-check" -> healthCheck = PoolSpec.healthCheck(flag, value);
      case "--retries" -> retry = RetryPolicy.retries(CliOptions.intValue(flag, value.trim()));
      case "--max-requests-per-pool" -> {
        int max = CliOptions.intValue(flag, value.trim());
        Upstream.of("http://127.0.0.1").maxRequests(max); // the builder's range check, now
        maxRequests = max;
      }
      default -> throw new IllegalArgumentException("unknown option " + flag);
    }
  }

  /** Reads {@code --preserve-host} or {@code --keep-location}. */
  void add(String flag) {
    switch (flag) {
      case "--preserve-host" -> preserveHost = true;
      case "--keep-location" -> keepLocation = true;
      default -> throw new IllegalArgumentException("unknown option " + flag);
    }
  }

  /** True if a flag here was given: they cannot be combined with {@code --config}. */
  boolean any() {
    return !upstream.isEmpty() || !routes.isEmpty() || balancer != null || healthCheck != null
        || retry != null || maxRequests != null || preserveHost || keepLocation;
  }

  /** The first flag given here, for the message that refuses it next to {@code --config}. */
  String firstFlag() {
    return !upstream.isEmpty() ? "--upstream" : !routes.isEmpty() ? "--route"
        : balancer != null ? "--lb" : healthCheck != null ? "--health-check"
        : retry != null ? "--retries" : maxRequests != null ? "--max-requests-per-pool"
        : preserveHost ? "--preserve-host" : "--keep-location";
  }

  /** True if there is an upstream or a route: the proxy is a reverse proxy. */
  boolean reverse() {
    return !upstream.isEmpty() || !routes.isEmpty();
  }

  /**
   * Adds the routes, in order, then the {@code --upstream} pool as the catch-all.
   *
   * @throws IllegalArgumentException if a pool option was given without a pool
   */
  void applyTo(ProxyServer.Builder builder) {
    if (!reverse() && any()) {
      throw new IllegalArgumentException(firstFlag() + " needs --upstream or --route");
    }
    Map<List<PoolSpec.Endpoint>, Upstream> pools = new LinkedHashMap<>();
    for (PendingRoute pending : routes) {
      Route route = rebase(pending.pattern(), pool(pending.endpoints(), pools));
      builder.route(retry == null ? route : route.retry(retry));
    }
    if (!upstream.isEmpty()) {
      Upstream pool = pool(upstream, pools);
      if (retry == null) {
        builder.upstream(pool);
      } else {
        // builder.upstream(pool) is a catch-all named "default" with the default retry policy; a
        // catch-all route that carries --retries is the same thing otherwise, name included (the
        // route label of metrics and logs must not change with the retry count).
        builder.route(Route.to(pool).name("default").retry(retry));
      }
    }
  }

  /** One pool per distinct endpoint list, so that routes to the same URLs share it. */
  private Upstream pool(List<PoolSpec.Endpoint> endpoints, Map<List<PoolSpec.Endpoint>, Upstream> pools) {
    Upstream existing = pools.get(endpoints);
    if (existing != null) {
      return existing;
    }
    Upstream pool = PoolSpec.pool(endpoints);
    String name = pool.name();
    for (int n = 2; nameTaken(pools, pool.name()); n++) {
      pool = pool.name(name + "-" + n);
    }
    if (balancer != null) {
      pool = pool.balance(balancer);
    }
    if (healthCheck != null) {
      pool = pool.healthCheck(healthCheck);
    }
    if (maxRequests != null) {
      pool = pool.maxRequests(maxRequests);
    }
    if (preserveHost) {
      pool = pool.preserveHost();
    }
    if (keepLocation) {
      pool = pool.keepLocation();
    }
    pools.put(List.copyOf(endpoints), pool);
    return pool;
  }

  private static boolean nameTaken(Map<List<PoolSpec.Endpoint>, Upstream> pools, String name) {
    return pools.values().stream().anyMatch(p -> p.name().equals(name));
  }

  /**
   * Parses {@code PATTERN=URL[,URL...]}: PATTERN is {@code [HOSTGLOB]/PATH-PREFIX}. The pattern
   * is checked now on a placeholder pool, which {@link #rebase} replaces.
   */
  private static PendingRoute route(String value) {
    String hint = "--route must be [HOSTGLOB]/PATH-PREFIX=URL[,URL...], like "
        + "'api.example.test/v1/=http://127.0.0.1:9001' or '/static/=http://127.0.0.1:9003' (was "
        + value + ")";
    int equals = separator(value);
    if (equals < 0) {
      throw new IllegalArgumentException(hint);
    }
    String pattern = value.substring(0, equals).trim();
    int slash = pattern.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException(hint);
    }
    List<PoolSpec.Endpoint> endpoints = new ArrayList<>();
    for (String url : value.substring(equals + 1).split(",", -1)) {
      if (url.isBlank()) {
        throw new IllegalArgumentException(hint);
      }
      endpoints.add(PoolSpec.endpoint("--route", url));
    }
    Upstream pool = PoolSpec.pool(endpoints); // checks URLs and weights now
    Route route = Route.to(pool).pathPrefix(pattern.substring(slash));
    if (slash > 0) {
      route = route.host(pattern.substring(0, slash));
    }
    return new PendingRoute(route, pattern, List.copyOf(endpoints));
  }

  /**
   * The {@code =} between pattern and URLs: the first one followed by a URL scheme, since a
   * path prefix may itself hold {@code =}.
   */
  private static int separator(String value) {
    for (int i = value.indexOf('='); i >= 0; i = value.indexOf('=', i + 1)) {
      if (value.regionMatches(true, i + 1, "http://", 0, 7) || value.regionMatches(true, i + 1, "https://", 0, 8)) {
        return i;
      }
    }
    return value.indexOf('=');
  }

  /** The route's pattern, sent to {@code pool}. */
  private static Route rebase(Route pattern, Upstream pool) {
    Route route = Route.to(pool).pathPrefix(pattern.path());
    return pattern.host().map(route::host).orElse(route);
  }
}
