package dev.ferry.samples;

import dev.ferry.proxy.Balancer;
import dev.ferry.proxy.HealthCheck;
import dev.ferry.proxy.Upstream;
import java.util.List;
import java.util.Locale;

/**
 * The text forms of pool options shared by the command line and the config file: an endpoint
 * with its weight ({@code URL*N}), a balancer ({@code --lb} spellings, the inverse of
 * {@link Balancer#toString()}) and a health check ({@code PATH[:INTERVAL_SECS]}). Each parser
 * names, in its messages, the flag or key it reads ({@code what}).
 */
final class PoolSpec {
  /** The {@code --lb} spellings, for messages. */
  static final String BALANCERS = "round-robin, weighted, least-requests, random, "
      + "hash:header:NAME, hash:cookie:NAME, hash:client-ip or hash:path";

  /** An endpoint URL and its weight (1 when none is written). */
  record Endpoint(String url, int weight) {}

  private PoolSpec() {}

  /**
   * Parses {@code URL} or {@code URL*N}.
   *
   * @throws IllegalArgumentException naming {@code what} if N is not a whole number
   */
  static Endpoint endpoint(String what, String text) {
    String spec = text.trim();
    int star = spec.lastIndexOf('*');
    if (star < 0) {
      return new Endpoint(spec, 1);
    }
    String weight = spec.substring(star + 1);
    try {
      return new Endpoint(spec.substring(0, star), Integer.parseInt(weight));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(what + " weight must be a whole number, as in "
          + "http://127.0.0.1:9002*3 (was *" + weight + ")"); // not the URL: its query may hold a token
    }
  }

  /**
   * Checks the URL and weight of one endpoint, as {@link Upstream} does.
   *
   * @throws IllegalArgumentException if either is invalid
   */
  static Endpoint check(Endpoint endpoint) {
    Upstream.weighted(endpoint.url(), endpoint.weight());
    return endpoint;
  }

  /**
   * The pool of these endpoints, in order, named after the first one, balanced
   * {@link Balancer#weighted()} when any weight is above 1 and round-robin otherwise. Checked by
   * {@link Upstream}.
   *
   * @throws IllegalArgumentException if a URL or weight is invalid
   */
  static Upstream pool(List<Endpoint> endpoints) {
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("a pool needs at least one endpoint URL");
    }
    Upstream pool = Upstream.weighted(endpoints.get(0).url(), endpoints.get(0).weight());
    boolean weighted = endpoints.get(0).weight() != 1;
    for (Endpoint endpoint : endpoints.subList(1, endpoints.size())) {
      pool = pool.endpoint(endpoint.url(), endpoint.weight());
      weighted |= endpoint.weight() != 1;
    }
    return weighted ? pool.balance(Balancer.weighted()) : pool;
  }

  /**
   * Parses a balancer spelling: {@value #BALANCERS}.
   *
   * @throws IllegalArgumentException naming {@code what} if it is none of them
   */
  static Balancer balancer(String what, String text) {
    String spec = text.trim();
    String lower = spec.toLowerCase(Locale.ROOT);
    switch (lower) {
      case "round-robin":
        return Balancer.roundRobin();
      case "weighted":
        return Balancer.weighted();
      case "least-requests":
        return Balancer.leastRequests();
      case "random":
        return Balancer.random();
      case "hash:client-ip":
        return Balancer.hashClientIp();
      case "hash:path":
        return Balancer.hashPath();
      default:
        break;
    }
    if (lower.startsWith("hash:header:") && spec.length() > 12) {
      return Balancer.hashHeader(spec.substring(12));
    }
    if (lower.startsWith("hash:cookie:") && spec.length() > 12) {
      return Balancer.hashCookie(spec.substring(12));
    }
    throw new IllegalArgumentException(what + " must be " + BALANCERS + " (was " + text + ")");
  }

  /**
   * Parses {@code PATH} or {@code PATH:INTERVAL_SECS} into a health check with the defaults of
   * {@link HealthCheck#http(String)}.
   *
   * @throws IllegalArgumentException naming {@code what} if the path or interval is invalid
   */
  static HealthCheck healthCheck(String what, String text) {
    String path = text.trim();
    String interval = null;
    int colon = path.lastIndexOf(':');
    if (colon >= 0) {
      interval = path.substring(colon + 1);
      path = path.substring(0, colon);
    }
    HealthCheck check = HealthCheck.http(path);
    return interval == null ? check : check.interval(Seconds.parse(what + " interval", interval));
  }
}
