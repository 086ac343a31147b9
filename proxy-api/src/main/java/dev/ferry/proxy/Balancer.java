package dev.ferry.proxy;

import java.util.Objects;

/**
 * How an {@link Upstream} pool spreads requests over its endpoints. Only healthy, non-ejected
 * endpoints are chosen from, unless the pool is in panic mode.
 *
 * <pre>{@code
 * Upstream.pool(a, b, c).balance(Balancer.hashHeader("X-User-Id"));   // same user, same endpoint
 * }</pre>
 */
public final class Balancer {
  /** The policies. */
  public enum Kind {
    /** In turn; smooth weighted (nginx's algorithm) when endpoint weights differ. */
    ROUND_ROBIN,
    /** Smooth weighted round-robin (nginx): even interleaving in proportion to weight. */
    WEIGHTED,
    /** Power of two random choices, the one with fewer requests in flight (Envoy's default). */
    LEAST_REQUESTS,
    /** Uniformly at random, in proportion to weight. */
    RANDOM,
    /**
     * Consistent hashing (a ring of virtual nodes): the same key goes to the same endpoint, and
     * removing one of N endpoints moves only about 1/N of the keys. Requests without the key
     * are balanced round-robin.
     */
    HASH
  }

  /** What a {@link Kind#HASH} balancer hashes. */
  public enum HashOn {
    /** A request header's value. */
    HEADER,
    /** A request cookie's value. */
    COOKIE,
    /** The client's IP address. */
    CLIENT_IP,
    /** The request path, without the query. */
    PATH
  }

  private static final Balancer ROUND_ROBIN = new Balancer(Kind.ROUND_ROBIN, null, "");

  private final Kind kind;
  private final HashOn hashOn;
  private final String key;

  private Balancer(Kind kind, HashOn hashOn, String key) {
    this.kind = kind;
    this.hashOn = hashOn;
    this.key = key;
  }

  /** In turn, weighted when weights differ; the default. */
  public static Balancer roundRobin() {
    return ROUND_ROBIN;
  }

  /** Smooth weighted round-robin, as nginx does it. */
  public static Balancer weighted() {
    return new Balancer(Kind.WEIGHTED, null, "");
  }

  /**
   * The less loaded of two endpoints picked at random (P2C): both drawn in proportion to weight,
   * and their requests in flight compared per unit of weight.
   */
  public static Balancer leastRequests() {
    return new Balancer(Kind.LEAST_REQUESTS, null, "");
  }

  /** At random, in proportion to weight. */
  public static Balancer random() {
    return new Balancer(Kind.RANDOM, null, "");
  }

  /**
   * Consistent hashing on a request header's value.
   *
   * @throws IllegalArgumentException if the name is not a valid header name
   */
  public static Balancer hashHeader(String name) {
    Headers.checkName(Objects.requireNonNull(name, "name"));
    return new Balancer(Kind.HASH, HashOn.HEADER, name);
  }

  /**
   * Consistent hashing on a cookie's value.
   *
   * @throws IllegalArgumentException if the name is blank
   */
  public static Balancer hashCookie(String name) {
    Objects.requireNonNull(name, "name");
    // RFC 6265 §4.1.1: a cookie-name is a token; a control character in one went raw into the
    // banner and the start's log line (probe v25).
    if (name.isEmpty() || !name.chars().allMatch(c -> Headers.isTokenChar((char) c))) {
      throw new IllegalArgumentException("cookie name must be a token (was " + Checks.shown(name) + ")");
    }
    return new Balancer(Kind.HASH, HashOn.COOKIE, name);
  }

  /** Consistent hashing on the client's IP address. */
  public static Balancer hashClientIp() {
    return new Balancer(Kind.HASH, HashOn.CLIENT_IP, "");
  }

  /** Consistent hashing on the request path (cache affinity). */
  public static Balancer hashPath() {
    return new Balancer(Kind.HASH, HashOn.PATH, "");
  }

  /** The policy. */
  public Kind kind() {
    return kind;
  }

  /** What a hash balancer hashes; null for the other kinds. */
  public HashOn hashOn() {
    return hashOn;
  }

  /** The header or cookie name a hash balancer reads; empty otherwise. */
  public String key() {
    return key;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Balancer && ((Balancer) other).kind == kind
        && ((Balancer) other).hashOn == hashOn && ((Balancer) other).key.equals(key);
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, hashOn, key);
  }

  /** The CLI spelling: {@code round-robin}, {@code hash:header:NAME}, and so on. */
  @Override
  public String toString() {
    switch (kind) {
      case ROUND_ROBIN:
        return "round-robin";
      case WEIGHTED:
        return "weighted";
      case LEAST_REQUESTS:
        return "least-requests";
      case RANDOM:
        return "random";
      default:
        switch (hashOn) {
          case HEADER:
            return "hash:header:" + key;
          case COOKIE:
            return "hash:cookie:" + key;
          case CLIENT_IP:
            return "hash:client-ip";
          default:
            return "hash:path";
        }
    }
  }
}
