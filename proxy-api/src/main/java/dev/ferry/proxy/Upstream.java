package dev.ferry.proxy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * A pool of upstream endpoints that a reverse proxy (or one of its {@link Route routes}) sends
 * requests to, with how to balance across them, how to tell their health, and how much load they
 * may take. Immutable: each option returns a new value.
 *
 * <pre>{@code
 * Upstream api = Upstream.pool("http://10.0.0.5:8080", "http://10.0.0.6:8080")
 *     .endpoint("http://10.0.0.7:8080", 3)                 // three times the share of the others
 *     .name("api")
 *     .balance(Balancer.leastRequests())
 *     .healthCheck(HealthCheck.http("/health").interval(Duration.ofSeconds(5)))
 *     .maxRequests(512);
 * }</pre>
 *
 * <p>Every endpoint has its own pooled keep-alive connections. Unless configured otherwise the
 * pool balances round-robin (weighted when weights differ), ejects an endpoint after 5
 * consecutive connect failures or 5xx answers for 30 s (times the number of its ejections, up to
 * ten times; at most half the pool at once), and balances over all endpoints, healthy or not, when fewer than half
 * are healthy (Envoy's panic threshold), rather than fail everything.
 */
public final class Upstream {
  private final String name;
  private final List<Endpoint> endpoints;
  private final boolean preserveHost;
  private final boolean keepLocation;
  private final Balancer balancer;
  private final HealthCheck healthCheck;
  private final int maxConnections;
  private final int maxPendingRequests;
  private final int maxRequests;
  private final int ejectAfterFailures;
  private final Duration baseEjection;
  private final int maxEjectedPercent;
  private final int panicThresholdPercent;

  private Upstream(Builder b) {
    for (int i = 0; i < b.endpoints.size(); i++) {
      for (int j = 0; j < i; j++) {
        Endpoint one = b.endpoints.get(i);
        Endpoint other = b.endpoints.get(j);
        // Twice, it took a double share with two separate health states (probe g12).
        if (one.sameTarget(other)) {
          throw new IllegalArgumentException("endpoint " + one.scheme() + "://" + one.authority()
              + one.basePath() + " is in the pool twice; give it once, with a weight for a larger share");
        }
      }
    }
    this.name = b.name;
    this.endpoints = List.copyOf(b.endpoints);
    this.preserveHost = b.preserveHost;
    this.keepLocation = b.keepLocation;
    this.balancer = b.balancer;
    this.healthCheck = b.healthCheck;
    this.maxConnections = b.maxConnections;
    this.maxPendingRequests = b.maxPendingRequests;
    this.maxRequests = b.maxRequests;
    this.ejectAfterFailures = b.ejectAfterFailures;
    this.baseEjection = b.baseEjection;
    this.maxEjectedPercent = b.maxEjectedPercent;
    this.panicThresholdPercent = b.panicThresholdPercent;
  }

  /**
   * Returns a pool of one endpoint.
   *
   * @param url an absolute {@code http} or {@code https} URL, optionally with a base path that
   *     is put before every request's path
   * @throws IllegalArgumentException if the URL is not one, or its host is no host name (an
   *     escape, an empty label) or spells an IPv4 address in a legacy form ({@code 127.1},
   *     {@code 0x7f.0.0.1}) rather than dotted decimal
   */
  public static Upstream of(String url) {
    return pool(url);
  }

  /**
   * Returns a pool of these endpoints, each of weight 1, named after the first one.
   *
   * @throws IllegalArgumentException if there is no URL or one is not an absolute http(s) URL
   *     (see {@link #of(String)})
   */
  public static Upstream pool(String... urls) {
    if (urls.length == 0) {
      throw new IllegalArgumentException("an upstream pool needs at least one endpoint URL");
    }
    Builder b = new Builder();
    for (String url : urls) {
      b.endpoints.add(Endpoint.parse(url, 1));
    }
    b.name = b.endpoints.get(0).authority();
    return new Upstream(b);
  }

  /**
   * Returns a pool of one endpoint with a weight, to add more to with {@link #endpoint}:
   * {@code Upstream.weighted("http://a:80", 3).endpoint("http://b:80", 2)}.
   *
   * @throws IllegalArgumentException if the URL is invalid or the weight is not 1 to 1000
   */
  public static Upstream weighted(String url, int weight) {
    Builder b = new Builder();
    b.endpoints.add(Endpoint.parse(url, weight));
    b.name = b.endpoints.get(0).authority();
    return new Upstream(b);
  }

  /**
   * Adds an endpoint with a weight: it gets {@code weight} times the share of an endpoint of
   * weight 1 (smooth weighted round-robin unless another balancer is chosen).
   *
   * @throws IllegalArgumentException if the URL is invalid or the weight is not 1 to 1000
   */
  public Upstream endpoint(String url, int weight) {
    Builder b = toBuilder();
    b.endpoints.add(Endpoint.parse(url, weight));
    return new Upstream(b);
  }

  /**
   * Names the pool, for logs, stats and error answers; default the first endpoint's
   * {@code host:port}.
   *
   * @throws IllegalArgumentException if blank or holding control characters
   */
  public Upstream name(String name) {
    Checks.name("upstream name", name);
    Builder b = toBuilder();
    b.name = name;
    return new Upstream(b);
  }

  /** Sends the client's {@code Host} to the endpoints instead of the endpoint's own authority. */
  public Upstream preserveHost() {
    Builder b = toBuilder();
    b.preserveHost = true;
    return new Upstream(b);
  }

  /**
   * Passes the endpoints' {@code Location} and {@code Refresh} fields on as they come. By
   * default one that names an endpoint itself ({@code http://10.0.0.5:8080/app/login}, built
   * from the {@code Host} the proxy sent) is rewritten to the path the client would ask for
   * ({@code /v1/login} through a {@link Route#stripPrefix() stripPrefix} route on {@code /v1/}
   * before an endpoint with base path {@code /app}), as nginx's {@code proxy_redirect default}
   * does: an endpoint's own address is seldom one the client can reach. Any other URL, and a
   * path without scheme and host, goes on unchanged.
   */
  public Upstream keepLocation() {
    Builder b = toBuilder();
    b.keepLocation = true;
    return new Upstream(b);
  }

  /** How requests are spread over the endpoints; default {@link Balancer#roundRobin()}. */
  public Upstream balance(Balancer balancer) {
    Builder b = toBuilder();
    b.balancer = Objects.requireNonNull(balancer, "balancer");
    return new Upstream(b);
  }

  /** Checks each endpoint actively; default none (passive outlier detection still runs). */
  public Upstream healthCheck(HealthCheck healthCheck) {
    Builder b = toBuilder();
    b.healthCheck = Objects.requireNonNull(healthCheck, "healthCheck");
    return new Upstream(b);
  }

  /**
   * Circuit breaker: the most connections busy with requests to the whole pool; default 10000
   * (the proxy's own default {@code maxConnections}, so the breaker is opt-in). A request that
   * would need another connection waits (see {@link #maxPendingRequests}). An upgraded
   * connection (a WebSocket) counts until its tunnel closes, here and in {@link #maxRequests}.
   *
   * @throws IllegalArgumentException unless between 1 and 1000000
   */
  public Upstream maxConnections(int maxConnections) {
    Builder b = toBuilder();
    b.maxConnections = Checks.range("maxConnections", maxConnections, 1, 1_000_000);
    return new Upstream(b);
  }

  /**
   * Circuit breaker: the most requests waiting for a connection when {@link #maxConnections} are
   * all busy; default 10000. Past it: 503 at once, naming the pool.
   *
   * @throws IllegalArgumentException unless between 0 and 1000000
   */
  public Upstream maxPendingRequests(int maxPendingRequests) {
    Builder b = toBuilder();
    b.maxPendingRequests = Checks.range("maxPendingRequests", maxPendingRequests, 0, 1_000_000);
    return new Upstream(b);
  }

  /**
   * Circuit breaker: the most requests in flight to the pool at once; default 10000. Past it: 503
   * at once, naming the pool, counted in stats as {@code POOL_OVERLOADED}.
   *
   * @throws IllegalArgumentException unless between 1 and 1000000
   */
  public Upstream maxRequests(int maxRequests) {
    Builder b = toBuilder();
    b.maxRequests = Checks.range("maxRequests", maxRequests, 1, 1_000_000);
    return new Upstream(b);
  }

  /**
   * Passive outlier detection: after {@code consecutiveFailures} failures of the endpoint's own
   * in a row (connect failures and timeouts, resets, malformed or late answers, 5xx, bodies
   * broken off after their head; never a client's, such as a request body too slow; an answer
   * counts as a success once its body has come whole), an endpoint is ejected for
   * {@code baseEjection} times the number of times it was ejected before (capped at 10 times);
   * default 5 and 30 s. 0 failures turns ejection off.
   *
   * @throws IllegalArgumentException if failures is not 0 to 1000 or the duration not positive
   *     and at most 365 days
   */
  public Upstream ejectAfter(int consecutiveFailures, Duration baseEjection) {
    Checks.positive("baseEjection", baseEjection);
    Builder b = toBuilder();
    b.ejectAfterFailures = Checks.range("consecutiveFailures", consecutiveFailures, 0, 1000);
    b.baseEjection = baseEjection;
    return new Upstream(b);
  }

  /**
   * The largest share of the pool that outlier detection may eject at once, in percent; default
   * 50. One endpoint may always be ejected.
   *
   * @throws IllegalArgumentException unless between 0 and 100
   */
  public Upstream maxEjectedPercent(int percent) {
    Builder b = toBuilder();
    b.maxEjectedPercent = Checks.range("maxEjectedPercent", percent, 0, 100);
    return new Upstream(b);
  }

  /**
   * When fewer than this percentage of the endpoints are healthy, the pool balances over all of
   * them, healthy or not (panic mode), rather than overload the few or fail everything; default
   * 50. 0 turns panic mode off: with no healthy endpoint the answer is 503.
   *
   * @throws IllegalArgumentException unless between 0 and 100
   */
  public Upstream panicThreshold(int percent) {
    Builder b = toBuilder();
    b.panicThresholdPercent = Checks.range("panicThreshold", percent, 0, 100);
    return new Upstream(b);
  }

  /** The pool's name. */
  public String name() {
    return name;
  }

  /** The endpoints, in the order given. */
  public List<Endpoint> endpoints() {
    return endpoints;
  }

  /** True if the client's {@code Host} is sent to the endpoints. */
  public boolean preservesHost() {
    return preserveHost;
  }

  /** True if {@code Location} and {@code Refresh} naming an endpoint go on unchanged; see {@link #keepLocation()}. */
  public boolean keepsLocation() {
    return keepLocation;
  }

  /** The balancing policy. */
  public Balancer balancer() {
    return balancer;
  }

  /** The active health check, if any. */
  public Optional<HealthCheck> healthCheck() {
    return Optional.ofNullable(healthCheck);
  }

  /** See {@link #maxConnections(int)}. */
  public int maxConnections() {
    return maxConnections;
  }

  /** See {@link #maxPendingRequests(int)}. */
  public int maxPendingRequests() {
    return maxPendingRequests;
  }

  /** See {@link #maxRequests(int)}. */
  public int maxRequests() {
    return maxRequests;
  }

  /** See {@link #ejectAfter(int, Duration)}; 0 when ejection is off. */
  public int ejectAfterFailures() {
    return ejectAfterFailures;
  }

  /** See {@link #ejectAfter(int, Duration)}. */
  public Duration baseEjection() {
    return baseEjection;
  }

  /** See {@link #maxEjectedPercent(int)}. */
  public int maxEjectedPercent() {
    return maxEjectedPercent;
  }

  /** See {@link #panicThreshold(int)}. */
  public int panicThreshold() {
    return panicThresholdPercent;
  }

  private Builder toBuilder() {
    Builder b = new Builder();
    b.name = name;
    b.endpoints.addAll(endpoints);
    b.preserveHost = preserveHost;
    b.keepLocation = keepLocation;
    b.balancer = balancer;
    b.healthCheck = healthCheck;
    b.maxConnections = maxConnections;
    b.maxPendingRequests = maxPendingRequests;
    b.maxRequests = maxRequests;
    b.ejectAfterFailures = ejectAfterFailures;
    b.baseEjection = baseEjection;
    b.maxEjectedPercent = maxEjectedPercent;
    b.panicThresholdPercent = panicThresholdPercent;
    return b;
  }


  @Override
  public boolean equals(Object other) {
    if (!(other instanceof Upstream)) {
      return false;
    }
    Upstream that = (Upstream) other;
    return name.equals(that.name) && endpoints.equals(that.endpoints)
        && preserveHost == that.preserveHost && keepLocation == that.keepLocation
        && balancer.equals(that.balancer)
        && Objects.equals(healthCheck, that.healthCheck) && maxConnections == that.maxConnections
        && maxPendingRequests == that.maxPendingRequests && maxRequests == that.maxRequests
        && ejectAfterFailures == that.ejectAfterFailures && baseEjection.equals(that.baseEjection)
        && maxEjectedPercent == that.maxEjectedPercent
        && panicThresholdPercent == that.panicThresholdPercent;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, endpoints, preserveHost, keepLocation, balancer, healthCheck);
  }

  /** The endpoints (with weights other than 1) and the options that differ from the defaults. */
  @Override
  public String toString() {
    List<String> parts = new ArrayList<>();
    for (Endpoint endpoint : endpoints) {
      parts.add(endpoint.toString());
    }
    String text = String.join(",", parts);
    if (endpoints.size() > 1 || !name.equals(endpoints.get(0).authority())) {
      text = name + "[" + text + "]";
    }
    if (!balancer.equals(Balancer.roundRobin())) {
      text += " " + balancer;
    }
    if (healthCheck != null) {
      text += " " + healthCheck;
    }
    return text + (preserveHost ? " (preserveHost)" : "") + (keepLocation ? " (keepLocation)" : "");
  }

  /** One endpoint of a pool: where to connect, the base path, and its weight. */
  public static final class Endpoint {
    private final String scheme;
    private final String authority;
    /** {@link #authority}'s host, worked out once: the proxy asks for it on every request. */
    private final String host;
    private final String basePath;
    private final int weight;

    private Endpoint(String scheme, String authority, String basePath, int weight) {
      this.scheme = scheme;
      this.authority = authority;
      this.host = Authority.host(authority);
      this.basePath = basePath;
      this.weight = weight;
    }

    static Endpoint parse(String url, int weight) {
      Objects.requireNonNull(url, "url");
      Checks.range("weight", weight, 1, 1000);
      // Messages show the URL without credentials or query: they end up in logs and on terminals.
      // Controls show as ?: a CR LF in a message would forge a line of the log it lands in.
      String shown = Checks.shown(withoutQuery(withoutCredentials(url)));
      int colon = url.indexOf("://");
      String scheme = colon < 0 ? "" : url.substring(0, colon).toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) {
        throw new IllegalArgumentException(
            "upstream must be an absolute http or https URL, like http://127.0.0.1:9000 (was " + shown + ")");
      }
      if (!withoutCredentials(url).equals(url)) {
        throw new IllegalArgumentException("upstream URL must not hold credentials (user:password@); "
            + "send them in a header with a filter, such as Filters.setRequestHeader(\"Authorization\", ...) "
            + "(was " + shown + ")");
      }
      if (url.indexOf('?') >= 0 || url.indexOf('#') >= 0) {
        throw new IllegalArgumentException("upstream URL must not have a query or fragment (was " + shown + ")");
      }
      int slash = url.indexOf('/', colon + 3);
      String authority = slash < 0 ? url.substring(colon + 3) : url.substring(colon + 3, slash);
      try {
        Authority.check(authority);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("upstream URL has an invalid host or port: " + e.getMessage(), e);
      }
      if (Authority.host(authority).isEmpty()) {
        throw new IllegalArgumentException("upstream URL must name a host (was " + shown + ")");
      }
      if (!Authority.isHostSpelling(Authority.host(authority))) {
        // The proxy answers 400 to a request naming such a host (an escape, an empty label):
        // every request would get it, blamed on the client (probe v32).
        throw new IllegalArgumentException("upstream URL host " + Checks.shown(Authority.host(authority))
            + " is no host name: letters, digits, '-', '_' and non-empty labels only (was " + shown + ")");
      }
      if (Authority.isLegacyIpv4(Authority.host(authority))) {
        // The proxy answers 400 to a request naming its host so: every request would get it,
        // a client error for the operator's configuration (probe v31).
        throw new IllegalArgumentException("upstream URL host " + Authority.host(authority) + " is an "
            + "IPv4 address in a legacy form (hex, octal or too few parts): write it in dotted decimal, "
            + "like 127.0.0.1 (was " + shown + ")");
      }
      if (Authority.port(authority, 1) == 0) {
        throw new IllegalArgumentException("upstream port must be from 1 to 65535 (was " + shown + ")");
      }
      String basePath = slash < 0 ? "" : url.substring(slash);
      while (basePath.endsWith("/")) {
        basePath = basePath.substring(0, basePath.length() - 1);
      }
      String unnormalised = Checks.unnormalisedPath(basePath);
      if (unnormalised != null) {
        // It goes before every request path as it is: a dot-segment or an escape there meant
        // another path to the endpoint than the one written (probe g24: /app/x/.. sent /app/x/../x).
        throw new IllegalArgumentException("upstream base path must be written normalised (RFC 3986 §6.2.2): "
            + "it holds " + unnormalised + " (was " + shown + ")");
      }
      return new Endpoint(scheme, authority, basePath, weight);
    }

    /** {@code url} with a query or fragment shown as {@code ?...}: a query given by mistake may hold a token. */
    private static String withoutQuery(String url) {
      int query = url.indexOf('?') >= 0 ? url.indexOf('?') : url.indexOf('#');
      return query < 0 ? url : url.substring(0, query) + url.charAt(query) + "...";
    }

    /**
     * {@code url} with a {@code user:password@} before its host shown as {@code ***@}; as it is
     * without one. The last {@code @} before any query or fragment counts, since a password may
     * hold a {@code /}.
     */
    private static String withoutCredentials(String url) {
      int start = url.indexOf("://");
      int end = url.length();
      for (char c : new char[] {'?', '#'}) {
        int at = url.indexOf(c, start + 3);
        end = at >= 0 ? Math.min(end, at) : end;
      }
      int at = start < 0 ? -1 : url.lastIndexOf('@', end - 1);
      return at > start ? url.substring(0, start + 3) + "***" + url.substring(at) : url;
    }

    /** {@code http} or {@code https}. */
    public String scheme() {
      return scheme;
    }

    /** {@code host:port} as written (the port may be implied by the scheme). */
    public String authority() {
      return authority;
    }

    /** The host, without brackets for IPv6. */
    public String host() {
      return host;
    }

    /**
     * Whether {@code other} is this endpoint, whatever its weight and spelling: the same scheme,
     * base path, port (an implied default port and the same one written are one), and host (case
     * and a root dot aside; an IPv6 literal in any of its forms, {@code [::1]} and
     * {@code [0:0:0:0:0:0:0:1]}). Host names are not resolved.
     */
    public boolean sameTarget(Endpoint other) {
      return scheme.equals(other.scheme) && port() == other.port() && basePath.equals(other.basePath)
          && Authority.identity(host()).equals(Authority.identity(other.host()));
    }

    /** The port, explicit or the scheme's default. */
    public int port() {
      return Authority.port(authority, "https".equals(scheme) ? 443 : 80);
    }

    /** The path put before every request's path, without a trailing slash; may be empty. */
    public String basePath() {
      return basePath;
    }

    /** The relative share of requests; 1 unless set. */
    public int weight() {
      return weight;
    }

    @Override
    public boolean equals(Object other) {
      if (!(other instanceof Endpoint)) {
        return false;
      }
      Endpoint that = (Endpoint) other;
      return scheme.equals(that.scheme) && authority.equals(that.authority)
          && basePath.equals(that.basePath) && weight == that.weight;
    }

    @Override
    public int hashCode() {
      return Objects.hash(scheme, authority, basePath, weight);
    }

    /** The URL, with {@code *weight} appended when the weight is not 1. */
    @Override
    public String toString() {
      return scheme + "://" + authority + basePath + (weight == 1 ? "" : "*" + weight);
    }
  }

  private static final class Builder {
    String name;
    final List<Endpoint> endpoints = new ArrayList<>();
    boolean preserveHost;
    boolean keepLocation;
    Balancer balancer = Balancer.roundRobin();
    HealthCheck healthCheck;
    int maxConnections = 10_000;
    int maxPendingRequests = 10_000;
    int maxRequests = 10_000;
    int ejectAfterFailures = 5;
    Duration baseEjection = Duration.ofSeconds(30);
    int maxEjectedPercent = 50;
    int panicThresholdPercent = 50;
  }
}
