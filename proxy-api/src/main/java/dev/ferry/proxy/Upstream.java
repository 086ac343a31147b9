package dev.ferry.proxy;

import java.util.Locale;
import java.util.Objects;

/**
 * The origin a reverse proxy sends its requests to.
 *
 * <pre>{@code
 * ProxyServer.builder().upstream(Upstream.of("http://127.0.0.1:9000").preserveHost());
 * }</pre>
 *
 * <p>A path in the URL is a prefix put before every request's path:
 * {@code Upstream.of("http://app:9000/api")} sends {@code GET /users} as {@code GET /api/users}.
 */
public final class Upstream {
  private final String scheme;
  private final String authority;
  private final String basePath;
  private final boolean preserveHost;

  private Upstream(String scheme, String authority, String basePath, boolean preserveHost) {
    this.scheme = scheme;
    this.authority = authority;
    this.basePath = basePath;
    this.preserveHost = preserveHost;
  }

  /**
   * Returns the upstream at this absolute URL, such as {@code http://127.0.0.1:9000}.
   *
   * @throws IllegalArgumentException if the URL is not absolute http or https, or has a query
   *     or fragment
   */
  public static Upstream of(String url) {
    Objects.requireNonNull(url, "url");
    int colon = url.indexOf("://");
    String scheme = colon < 0 ? "" : url.substring(0, colon).toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException(
          "upstream must be an absolute http or https URL, like http://127.0.0.1:9000 (was " + url + ")");
    }
    if (url.indexOf('?') >= 0 || url.indexOf('#') >= 0) {
      throw new IllegalArgumentException("upstream URL must not have a query or fragment (was " + url + ")");
    }
    int slash = url.indexOf('/', colon + 3);
    String authority = slash < 0 ? url.substring(colon + 3) : url.substring(colon + 3, slash);
    Authority.check(authority);
    String basePath = slash < 0 ? "" : url.substring(slash);
    while (basePath.endsWith("/")) {
      basePath = basePath.substring(0, basePath.length() - 1);
    }
    return new Upstream(scheme, authority, basePath, false);
  }

  /**
   * Returns a copy that passes the client's {@code Host} on to the upstream unchanged. By
   * default the upstream's own authority is sent as {@code Host} and the client's goes in
   * {@code X-Forwarded-Host}.
   */
  public Upstream preserveHost() {
    return new Upstream(scheme, authority, basePath, true);
  }

  /** {@code http} or {@code https}. */
  public String scheme() {
    return scheme;
  }

  /** The upstream's {@code host[:port]}. */
  public String authority() {
    return authority;
  }

  /** The host, without brackets for an IPv6 literal. */
  public String host() {
    return Authority.host(authority);
  }

  /** The port, or the scheme's default. */
  public int port() {
    return Authority.port(authority, "https".equals(scheme) ? 443 : 80);
  }

  /** The path prefix, without a trailing slash; empty if none. */
  public String basePath() {
    return basePath;
  }

  /** Whether the client's Host is passed on; see {@link #preserveHost()}. */
  public boolean preservesHost() {
    return preserveHost;
  }

  @Override
  public boolean equals(Object other) {
    if (!(other instanceof Upstream)) {
      return false;
    }
    Upstream that = (Upstream) other;
    return scheme.equals(that.scheme) && authority.equals(that.authority)
        && basePath.equals(that.basePath) && preserveHost == that.preserveHost;
  }

  @Override
  public int hashCode() {
    return Objects.hash(scheme, authority, basePath, preserveHost);
  }

  /** Returns {@code http://host:port/base}, with {@code (preserveHost)} when set. */
  @Override
  public String toString() {
    return scheme + "://" + authority + basePath + (preserveHost ? " (preserveHost)" : "");
  }
}
