package dev.ferry.proxy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * One entry of a reverse proxy's route table: which requests it matches (host, path, method,
 * headers) and where they go (an {@link Upstream} pool), with options of its own. Routes are
 * tried in the order they were added; the first match wins, and a request no route matches is
 * answered 404. {@link ProxyServer.Builder#upstream(Upstream)} adds a last, catch-all route.
 * Immutable: each option returns a new value.
 *
 * <pre>{@code
 * ProxyServer.builder()
 *     .route(Route.to(api).host("api.example.test").pathPrefix("/v1/").stripPrefix()
 *         .retry(RetryPolicy.retries(2).onStatuses(502, 503)))
 *     .route(Route.to(assets).pathPrefix("/static/").timeout(Duration.ofSeconds(5)))
 *     .upstream(web)                                   // everything else
 *     .build();
 * }</pre>
 *
 * <p>Matching happens after the proxy-wide filters, on the request as they passed it on; the
 * route's own filters then run (in order), then the cache (unless the route turns it off), then
 * the pool's balancer.
 */
public final class Route {
  /** How {@link #path()} matches. */
  public enum PathMatch {
    /** The request path starts with it. */
    PREFIX,
    /** The request path is exactly it. */
    EXACT,
    /** The regular expression finds a match in the request path. */
    REGEX
  }

  private final Upstream upstream;
  private final String name;
  private final String host;
  private final String path;
  private final PathMatch pathMatch;
  private final Pattern pathPattern;
  private final Set<String> methods;
  private final Map<String, String> headers;
  private final List<Filter> filters;
  private final boolean cache;
  private final Duration timeout;
  private final RetryPolicy retry;
  private final boolean stripPrefix;

  private Route(Upstream upstream, String name, String host, String path, PathMatch pathMatch,
      Set<String> methods, Map<String, String> headers, List<Filter> filters, boolean cache,
      Duration timeout, RetryPolicy retry, boolean stripPrefix) {
    this.upstream = upstream;
    this.name = name;
    this.host = host;
    this.path = path;
    this.pathMatch = pathMatch;
    this.pathPattern = pathMatch == PathMatch.REGEX ? Pattern.compile(path) : null;
    this.methods = Set.copyOf(methods);
    this.headers = Map.copyOf(headers);
    this.filters = List.copyOf(filters);
    this.cache = cache;
    this.timeout = timeout;
    this.retry = retry;
    this.stripPrefix = stripPrefix;
  }

  /** A route matching every request, to {@code upstream}, with the default options. */
  public static Route to(Upstream upstream) {
    Objects.requireNonNull(upstream, "upstream");
    return new Route(upstream, null, null, "/", PathMatch.PREFIX, Set.of(), Map.of(), List.of(),
        true, null, RetryPolicy.retries(1), false);
  }

  /**
   * Names the route, for logs, stats and {@code Exchange.route()}; default its pattern.
   *
   * @throws IllegalArgumentException if blank or holding control characters
   */
  public Route name(String name) {
    Checks.name("route name", name);
    return copy(name, host, path, pathMatch, methods, headers, filters, cache, timeout, retry, stripPrefix);
  }

  /**
   * Matches only this host (the request's {@code Host}, without port, case-insensitively); a
   * leading {@code *.} matches any subdomain at any depth, not the name itself. A fully
   * qualified spelling ({@code api.example.}) is the same name: its trailing dot is dropped, as
   * it is from a request's {@code Host}.
   *
   * @throws IllegalArgumentException if blank, with an empty label, or with characters a host
   *     cannot have
   */
  public Route host(String glob) {
    Objects.requireNonNull(glob, "host");
    String lower = glob.toLowerCase(Locale.ROOT);
    if (lower.endsWith(".")) {
      // Kept, it matched no request: a request's Host loses its trailing dot (probe e26).
      lower = lower.substring(0, lower.length() - 1);
    }
    String bare = lower.startsWith("*.") ? lower.substring(2) : lower;
    if (bare.isEmpty() || bare.startsWith(".") || bare.endsWith(".") || bare.contains("..")
        || !bare.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '-' || c == '.' || c == '_')) {
      throw new IllegalArgumentException("route host must be a host name or *.domain (was " + Checks.shown(glob) + ")");
    }
    return copy(name, lower, path, pathMatch, methods, headers, filters, cache, timeout, retry, stripPrefix);
  }

  /**
   * Matches paths starting with {@code prefix}; the default is {@code /}, every path.
   *
   * @throws IllegalArgumentException unless it starts with {@code /}
   */
  public Route pathPrefix(String prefix) {
    return copy(name, host, checkPath(prefix), PathMatch.PREFIX, methods, headers, filters, cache,
        timeout, retry, stripPrefix);
  }

  /**
   * Matches exactly this path (the query is not part of it).
   *
   * @throws IllegalArgumentException unless it starts with {@code /}
   * @throws IllegalStateException after {@link #stripPrefix()}, which needs a path prefix
   */
  public Route path(String path) {
    checkNoStrip("path");
    return copy(name, host, checkPath(path), PathMatch.EXACT, methods, headers, filters, cache,
        timeout, retry, false);
  }

  /** stripPrefix() then an exact or regex path would leave nothing to strip: refused either way round. */
  private void checkNoStrip(String method) {
    if (stripPrefix) {
      throw new IllegalStateException("stripPrefix needs a pathPrefix route: call " + method
          + "(...) without stripPrefix(), or pathPrefix(...) instead");
    }
  }

  /**
   * Matches paths in which this regular expression finds a match (anchor it with {@code ^} and
   * {@code $} to match whole paths).
   *
   * @throws IllegalArgumentException if it is not a valid expression
   * @throws IllegalStateException after {@link #stripPrefix()}, which needs a path prefix
   */
  public Route pathRegex(String regex) {
    checkNoStrip("pathRegex");
    // The pattern names an unnamed route in logs and stats.
    Checks.regex("pathRegex", regex);
    return copy(name, host, regex, PathMatch.REGEX, methods, headers, filters, cache, timeout,
        retry, false);
  }

  /**
   * Matches only these methods (upper case); each call adds to the set. A route for {@code GET}
   * also takes {@code HEAD} (RFC 9110 §9.1: a server that supports GET supports HEAD).
   *
   * @throws IllegalArgumentException if one is not a method name (an RFC 9110 token)
   */
  public Route method(String... methods) {
    Set<String> set = new TreeSet<>(this.methods);
    for (String method : methods) {
      Objects.requireNonNull(method, "method");
      if (method.isEmpty() || !method.chars().allMatch(c -> Headers.isTokenChar((char) c))) {
        throw new IllegalArgumentException("route method is not a method name (was \"" + method + "\")");
      }
      set.add(method.toUpperCase(Locale.ROOT));
    }
    return copy(name, host, path, pathMatch, set, headers, filters, cache, timeout, retry, stripPrefix);
  }

  /**
   * Matches only requests with this header at this exact value; each call adds a condition.
   * A field sent on several lines is matched as one line of their values joined by {@code ", "}
   * (RFC 9110 §5.3), so {@code X-Canary: 0} and {@code X-Canary: 1} is {@code "0, 1"}, not
   * {@code "1"}.
   *
   * @throws IllegalArgumentException if the name is not a valid header name
   */
  public Route header(String name, String value) {
    Headers.checkName(Objects.requireNonNull(name, "name"));
    Map<String, String> map = new LinkedHashMap<>(headers);
    map.put(name.toLowerCase(Locale.ROOT), Objects.requireNonNull(value, "value"));
    return copy(this.name, host, path, pathMatch, methods, map, filters, cache, timeout, retry, stripPrefix);
  }

  /** Adds a filter that runs only for this route, after the proxy-wide ones. */
  public Route filter(Filter filter) {
    List<Filter> list = new ArrayList<>(filters);
    list.add(Objects.requireNonNull(filter, "filter"));
    return copy(name, host, path, pathMatch, methods, headers, list, cache, timeout, retry, stripPrefix);
  }

  /** Whether the proxy's cache serves this route; default true (when a cache is configured). */
  public Route cache(boolean enabled) {
    return copy(name, host, path, pathMatch, methods, headers, filters, enabled, timeout, retry, stripPrefix);
  }

  /**
   * The upstream timeout for this route, instead of the proxy's {@code upstreamTimeout}.
   *
   * @throws IllegalArgumentException unless positive and at most 365 days
   */
  public Route timeout(Duration timeout) {
    Checks.positive("route timeout", timeout);
    return copy(name, host, path, pathMatch, methods, headers, filters, cache, timeout, retry, stripPrefix);
  }

  /** The retry policy; default {@code RetryPolicy.retries(1)}. */
  public Route retry(RetryPolicy retry) {
    return copy(name, host, path, pathMatch, methods, headers, filters, cache, timeout,
        Objects.requireNonNull(retry, "retry"), stripPrefix);
  }

  /**
   * Removes the matched path prefix before the request goes upstream ({@code /v1/users} on a
   * {@code /v1/} route becomes {@code /users}).
   *
   * @throws IllegalStateException if the route does not match on a path prefix
   */
  public Route stripPrefix() {
    if (pathMatch != PathMatch.PREFIX) {
      throw new IllegalStateException("stripPrefix needs a pathPrefix route (was " + pathMatch + ")");
    }
    return copy(name, host, path, pathMatch, methods, headers, filters, cache, timeout, retry, true);
  }

  /** The pool the route sends to. */
  public Upstream upstream() {
    return upstream;
  }

  /** The route's name: as set, or its pattern ({@code host/prefix}). */
  public String name() {
    return name != null ? name : pattern();
  }

  /** True if the name was given with {@link #name(String)}, not taken from the pattern. */
  boolean named() {
    return name != null;
  }

  /** The host glob, if the route matches on host. */
  public Optional<String> host() {
    return Optional.ofNullable(host);
  }

  /** The path prefix, exact path or regular expression. */
  public String path() {
    return path;
  }

  /** How {@link #path()} matches. */
  public PathMatch pathMatch() {
    return pathMatch;
  }

  /** The methods matched; empty for all. */
  public Set<String> methods() {
    return methods;
  }

  /** The header conditions, lower-case name to exact value. */
  public Map<String, String> headers() {
    return headers;
  }

  /** The route's own filters, in order. */
  public List<Filter> filters() {
    return filters;
  }

  /** Whether the cache serves this route. */
  public boolean cacheEnabled() {
    return cache;
  }

  /** The route's upstream timeout, if it has its own. */
  public Optional<Duration> timeout() {
    return Optional.ofNullable(timeout);
  }

  /** The retry policy. */
  public RetryPolicy retry() {
    return retry;
  }

  /** Whether the matched prefix is removed before forwarding. */
  public boolean stripsPrefix() {
    return stripPrefix;
  }

  /**
   * True if the request matches: host (without port, case-insensitively), path, method and
   * every header condition. A server-wide {@code OPTIONS *} matches only a route without a path
   * condition (its prefix is {@code /}).
   */
  public boolean matches(Request request) {
    if (host != null && !hostMatches(request.host().toLowerCase(Locale.ROOT))) {
      return false;
    }
    String requestPath = request.path();
    boolean pathOk;
    switch (pathMatch) {
      case PREFIX:
        // A server-wide OPTIONS * goes where every path goes: to a route without a path condition.
        pathOk = requestPath.equals("*") ? path.equals("/") : requestPath.startsWith(path);
        break;
      case EXACT:
        pathOk = requestPath.equals(path);
        break;
      default:
        pathOk = pathPattern.matcher(requestPath).find();
    }
    if (!pathOk || !matchesMethod(request.method())) {
      return false;
    }
    for (Map.Entry<String, String> condition : headers.entrySet()) {
      // Repeated lines mean what one line of their values joined by commas means (RFC 9110
      // §5.3): "X-Canary: 0" beside "X-Canary: 1" is "0, 1", not 1 (probe g28).
      List<String> lines = request.headers().all(condition.getKey());
      if (lines.isEmpty() || !String.join(", ", lines).equals(condition.getValue())) {
        return false;
      }
    }
    return true;
  }

  /**
   * True if this route matches every request {@code later} matches, so that {@code later}, tried
   * after it, can never match: the same or a wider host, a prefix of its path, the same or more
   * methods, and no header condition it lacks. Conservative: false when it cannot tell (one
   * regular expression against another that differs). {@link ProxyServer.Builder#buildConfig()}
   * refuses a route an earlier one covers; tools that read routes from elsewhere (a config file)
   * can check with this where they can still say where the route came from.
   *
   * <pre>{@code
   * Route.to(api).pathPrefix("/v1/").covers(Route.to(api).pathPrefix("/v1/users/"))  // true
   * }</pre>
   */
  public boolean covers(Route later) {
    boolean hostCovered = host == null || host.equals(later.host)
        || (host.startsWith("*.") && later.host != null && later.host.endsWith(host.substring(1)));
    boolean pathCovered = switch (pathMatch) {
      case PREFIX -> path.equals("/")
          || (later.pathMatch != PathMatch.REGEX && later.path.startsWith(path));
      case EXACT -> later.pathMatch == PathMatch.EXACT && later.path.equals(path);
      case REGEX -> later.pathMatch == PathMatch.REGEX && later.path.equals(path);
    };
    boolean methodsCovered = methods.isEmpty()
        || (!later.methods.isEmpty() && later.methods.stream().allMatch(this::matchesMethod));
    return hostCovered && pathCovered && methodsCovered
        && later.headers.entrySet().containsAll(headers.entrySet());
  }

  /** A route for GET takes HEAD too: a server supporting GET supports HEAD (RFC 9110 §9.1). */
  private boolean matchesMethod(String method) {
    return methods.isEmpty() || methods.contains(method) || method.equals("HEAD") && methods.contains("GET");
  }

  private boolean hostMatches(String requestHost) {
    String bare = requestHost.endsWith(".") ? requestHost.substring(0, requestHost.length() - 1) : requestHost;
    if (host.startsWith("*.")) {
      return bare.endsWith(host.substring(1));
    }
    return bare.equals(host);
  }

  private String pattern() {
    String text = (host == null ? "" : host) + (pathMatch == PathMatch.REGEX ? "~" + path : path);
    return methods.isEmpty() ? text : String.join(",", methods) + " " + text;
  }

  private static String checkPath(String path) {
    Objects.requireNonNull(path, "path");
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("route path must start with / (was " + Checks.shown(path) + ")");
    }
    String unmatchable = Checks.unnormalisedPath(path);
    if (unmatchable != null) {
      // Request paths are matched normalised: a pattern in another form matches none of them,
      // and its requests went to a later route without a word (probe g12).
      throw new IllegalArgumentException("route path must be written as request paths are matched, "
          + "normalised (RFC 3986 §6.2.2): it holds " + unmatchable + " (was " + Checks.shown(path) + ")");
    }
    return path;
  }

  private Route copy(String name, String host, String path, PathMatch pathMatch, Set<String> methods,
      Map<String, String> headers, List<Filter> filters, boolean cache, Duration timeout,
      RetryPolicy retry, boolean stripPrefix) {
    return new Route(upstream, name, host, path, pathMatch, methods, headers, filters, cache,
        timeout, retry, stripPrefix);
  }

  /** The route's name and pool. */
  @Override
  public String toString() {
    return "Route{" + name() + " -> " + upstream.name() + "}";
  }
}
