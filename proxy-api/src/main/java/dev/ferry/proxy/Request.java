package dev.ferry.proxy;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * An immutable HTTP request as it travels through Ferry's filter chain.
 *
 * <p>The request is split the way a proxy needs it: the {@link #scheme()} and
 * {@link #authority()} name the origin it is for, and {@link #target()} is the origin-form
 * request-target ({@code /path?query}) sent to that origin. For a {@code CONNECT} request the
 * target is the authority itself; for {@code OPTIONS *} it is {@code *}.
 *
 * <pre>{@code
 * Request request = Request.builder().method("GET").url("http://example.com/a?b=1").build();
 * Request tagged = request.withHeader("X-Env", "test");
 * }</pre>
 */
public final class Request {
  private final String method;
  private final String scheme;
  private final String authority;
  private final String target;
  private final String version;
  private final Headers headers;
  private final Body body;

  private Request(Builder builder) {
    this.method = builder.method;
    this.scheme = builder.scheme;
    this.authority = builder.authority;
    this.target = builder.target;
    this.version = builder.version;
    this.headers = builder.headers;
    this.body = builder.body;
  }

  /** Returns a builder for a {@code GET / HTTP/1.1} request with no headers and no body. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns a builder that starts as a copy of this request. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** The method, such as {@code GET}, exactly as sent (methods are case-sensitive). */
  public String method() {
    return method;
  }

  /** The scheme of the origin: {@code http} or {@code https}. */
  public String scheme() {
    return scheme;
  }

  /** The origin's {@code host[:port]}, as it appeared in the target or the Host field. */
  public String authority() {
    return authority;
  }

  /** The host part of {@link #authority()}, without brackets for an IPv6 literal. */
  public String host() {
    return Authority.host(authority);
  }

  /** The port of {@link #authority()}, or the scheme's default port when none is given. */
  public int port() {
    return Authority.port(authority, "https".equals(scheme) ? 443 : 80);
  }

  /** The request-target in origin form ({@code /path?query}), or as described above. */
  public String target() {
    return target;
  }

  /**
   * The path of {@link #target()}, without the query. On a reverse proxy it is normalised before
   * any filter sees it (escaped unreserved characters decoded, slashes merged, dot-segments
   * removed), so a filter matching a prefix sees the path the backend will resolve. A forward
   * proxy passes paths on as the client spelled them: {@code /%61dmin}, {@code //admin} and
   * {@code /x/../admin} are three paths here and one to many origins: a filter that decides
   * access on a path should match {@link #resolvedPath()}.
   */
  public String path() {
    int query = target.indexOf('?');
    return query < 0 ? target : target.substring(0, query);
  }

  /**
   * The path as the most liberal origin would resolve it, to decide access on: escapes of
   * unreserved characters decoded ({@code /%61dmin} is {@code /admin}), {@code \}, {@code %2F}
   * and {@code %5C} taken as slashes, segment parameters dropped ({@code /admin;x/},
   * {@code /..;/}, as servlet containers read them), empty segments merged and dot-segments
   * removed, never above the root. Every spelling that some server would take for
   * {@code /admin/panel} reads {@code /admin/panel} here, so a rule on it holds on a forward
   * proxy, which passes the path on as the client wrote it. It is for matching only: the
   * request still goes upstream with {@link #path()}. A path that is not one ({@code *}, a
   * CONNECT's authority) is returned as it is.
   *
   * <pre>{@code
   * Filters.when(request -> request.resolvedPath().startsWith("/admin/"),
   *     (exchange, chain) -> Response.text(403, "Forbidden\n"))
   * }</pre>
   */
  public String resolvedPath() {
    return ResolvedPaths.of(path());
  }

  /** The query of {@link #target()} without the {@code ?}, if there is one. */
  public Optional<String> query() {
    int query = target.indexOf('?');
    return query < 0 ? Optional.empty() : Optional.of(target.substring(query + 1));
  }

  /** The absolute URL, {@code scheme://authority/target}; for CONNECT, the authority alone. */
  public String url() {
    if ("CONNECT".equals(method)) {
      return authority;
    }
    if ("*".equals(target)) {
      return scheme + "://" + authority;
    }
    return scheme + "://" + authority + target;
  }

  /** The protocol version, {@code HTTP/1.1} or {@code HTTP/1.0}. */
  public String version() {
    return version;
  }

  /** The header fields. */
  public Headers headers() {
    return headers;
  }

  /** The body; {@link Body#empty()} for a request without one. */
  public Body body() {
    return body;
  }

  /** Returns a copy in which {@code name} has the single value {@code value}. */
  public Request withHeader(String name, String value) {
    return toBuilder().headers(headers.with(name, value)).build();
  }

  /** Returns a copy without any field named {@code name}. */
  public Request withoutHeader(String name) {
    return toBuilder().headers(headers.without(name)).build();
  }

  /** Returns a copy with these header fields instead. */
  public Request withHeaders(Headers headers) {
    return toBuilder().headers(headers).build();
  }

  /** Returns a copy with this body instead. */
  public Request withBody(Body body) {
    return toBuilder().body(body).build();
  }

  /**
   * Returns a copy with this origin-form target ({@code /path?query}) instead.
   *
   * @throws IllegalArgumentException unless {@code target} starts with {@code /} (an OPTIONS
   *     request's {@code *} too), as the builder's {@code target} does for an invalid character
   */
  public Request withTarget(String target) {
    Objects.requireNonNull(target, "target");
    if (!target.startsWith("/") && !(target.equals("*") && method.equals("OPTIONS"))) {
      // Anything else named no route, and a catch-all answered 404 (probe e25).
      throw new IllegalArgumentException("withTarget needs an origin-form target starting with /, like "
          + "/items?id=1 (was " + Checks.shown(target) + ")");
    }
    return toBuilder().target(target).build();
  }

  /** Returns {@code GET http://example.com/ HTTP/1.1}. */
  @Override
  public String toString() {
    return method + " " + url() + " " + version;
  }

  /**
   * A mutable builder of {@link Request}. Not thread-safe.
   */
  public static final class Builder {
    private String method = "GET";
    private String scheme = "http";
    private String authority = "localhost";
    private String target = "/";
    private String version = "HTTP/1.1";
    private Headers headers = Headers.empty();
    private Body body = Body.empty();

    private Builder() {}

    private Builder(Request request) {
      method = request.method;
      scheme = request.scheme;
      authority = request.authority;
      target = request.target;
      version = request.version;
      headers = request.headers;
      body = request.body;
    }

    /**
     * Sets the method; default {@code GET}.
     *
     * @throws IllegalArgumentException if it is not an RFC 9110 token
     */
    public Builder method(String method) {
      Objects.requireNonNull(method, "method");
      boolean token = !method.isEmpty();
      for (int i = 0; i < method.length() && token; i++) {
        token = Headers.isTokenChar(method.charAt(i));
      }
      if (!token) {
        throw new IllegalArgumentException("method must be a token such as GET (was " + method + ")");
      }
      this.method = method;
      return this;
    }

    /**
     * Sets scheme, authority and target from an absolute URL such as
     * {@code http://example.com:8080/a?b}. A fragment ({@code #top}) is dropped, as a browser
     * drops it: it is never part of a request (RFC 9110 §4.2.4).
     *
     * @throws IllegalArgumentException if the URL is not absolute http or https
     */
    public Builder url(String url) {
      Objects.requireNonNull(url, "url");
      int fragment = url.indexOf('#');
      if (fragment >= 0) {
        url = url.substring(0, fragment);
      }
      int colon = url.indexOf("://");
      if (colon < 0) {
        throw new IllegalArgumentException("url must be absolute, like http://host/path (was " + url + ")");
      }
      scheme(url.substring(0, colon).toLowerCase(Locale.ROOT));
      int start = colon + 3;
      int slash = start;
      while (slash < url.length() && url.charAt(slash) != '/' && url.charAt(slash) != '?') {
        slash++;
      }
      authority(url.substring(start, slash));
      String rest = url.substring(slash);
      target(rest.isEmpty() ? "/" : rest.startsWith("?") ? "/" + rest : rest);
      return this;
    }

    /**
     * Sets the scheme; default {@code http}.
     *
     * @throws IllegalArgumentException unless it is {@code http} or {@code https}
     */
    public Builder scheme(String scheme) {
      Objects.requireNonNull(scheme, "scheme");
      if (!scheme.equals("http") && !scheme.equals("https")) {
        throw new IllegalArgumentException("scheme must be http or https (was " + scheme + ")");
      }
      this.scheme = scheme;
      return this;
    }

    /**
     * Sets the origin's {@code host[:port]}; default {@code localhost}.
     *
     * @throws IllegalArgumentException if it is empty or holds a character not allowed there
     */
    public Builder authority(String authority) {
      Authority.check(authority);
      this.authority = authority;
      return this;
    }

    /**
     * Sets the request-target; default {@code /}.
     *
     * @throws IllegalArgumentException if it is empty, holds whitespace or control characters,
     *     or a fragment ({@code #}), which no request-target has (RFC 9112 §3.2)
     */
    public Builder target(String target) {
      Objects.requireNonNull(target, "target");
      if (target.isEmpty()) {
        throw new IllegalArgumentException("target must not be empty; use / for the root");
      }
      int fragment = target.indexOf('#');
      if (fragment >= 0) {
        // The proxy answers 400 to a client sending one; the origin would read it as a path.
        throw new IllegalArgumentException("target must not hold a fragment (at " + fragment
            + " in " + Checks.shown(target) + "): drop it, or percent-encode a # meant as data (%23)");
      }
      for (int i = 0; i < target.length(); i++) {
        char c = target.charAt(i);
        if (c <= 0x20 || c >= 0x7f) {
          throw new IllegalArgumentException(String.format(Locale.ROOT,
              "Unexpected char %#04x at %d in target: percent-encode it", (int) c, i));
        }
      }
      this.target = target;
      return this;
    }

    /**
     * Sets the protocol version; default {@code HTTP/1.1}.
     *
     * @throws IllegalArgumentException unless it is {@code HTTP/1.1} or {@code HTTP/1.0}
     */
    public Builder version(String version) {
      Objects.requireNonNull(version, "version");
      if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
        throw new IllegalArgumentException("version must be HTTP/1.1 or HTTP/1.0 (was " + version + ")");
      }
      this.version = version;
      return this;
    }

    /** Replaces all header fields. */
    public Builder headers(Headers headers) {
      this.headers = Objects.requireNonNull(headers, "headers");
      return this;
    }

    /** Adds one header field at the end. */
    public Builder header(String name, String value) {
      this.headers = headers.plus(name, value);
      return this;
    }

    /** Sets the body; default {@link Body#empty()}. */
    public Builder body(Body body) {
      this.body = Objects.requireNonNull(body, "body");
      return this;
    }

    /** Returns the immutable request. */
    public Request build() {
      return new Request(this);
    }
  }
}
