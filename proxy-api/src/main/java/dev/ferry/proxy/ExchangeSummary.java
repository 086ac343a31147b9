package dev.ferry.proxy;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What happened in one exchange, reported to {@link ExchangeListener#exchangeCompleted} when it
 * ends.
 */
public final class ExchangeSummary {
  private final long id;
  private final long connectionId;
  private final InetSocketAddress clientAddress;
  private final String method;
  private final String url;
  private final int status;
  private final long requestBodyBytes;
  private final long responseBodyBytes;
  private final Instant startTime;
  private final Duration duration;
  private final String upstream;
  private final String route;
  private final String requestId;
  private final String traceId;
  private final String cache;
  private final String failure;

  private ExchangeSummary(Builder builder) {
    this.id = builder.id;
    this.connectionId = builder.connectionId;
    this.clientAddress = Objects.requireNonNull(builder.clientAddress, "clientAddress");
    this.method = Objects.requireNonNull(builder.method, "method");
    this.url = Objects.requireNonNull(builder.url, "url");
    this.status = builder.status;
    this.requestBodyBytes = builder.requestBodyBytes;
    this.responseBodyBytes = builder.responseBodyBytes;
    this.startTime = Objects.requireNonNull(builder.startTime, "startTime");
    this.duration = Objects.requireNonNull(builder.duration, "duration");
    this.upstream = builder.upstream;
    this.route = builder.route;
    this.requestId = builder.requestId;
    this.traceId = builder.traceId;
    this.cache = builder.cache;
    this.failure = builder.failure;
  }

  /** Returns a new builder; the engine uses it, and so can tests that fake summaries. */
  public static Builder builder() {
    return new Builder();
  }

  /** The exchange's id, as {@link Exchange#id()}. */
  public long id() {
    return id;
  }

  /** The client connection's id, as {@link Exchange#connectionId()}. */
  public long connectionId() {
    return connectionId;
  }

  /** The client's address. */
  public InetSocketAddress clientAddress() {
    return clientAddress;
  }

  /** The request method. */
  public String method() {
    return method;
  }

  /** The request's absolute URL, as {@link Request#url()}. */
  public String url() {
    return url;
  }

  /** The status sent to the client, or 0 if the exchange failed before a response head. */
  public int status() {
    return status;
  }

  /** Bytes of request body read from the client. */
  public long requestBodyBytes() {
    return requestBodyBytes;
  }

  /** Bytes of response body written to the client. */
  public long responseBodyBytes() {
    return responseBodyBytes;
  }

  /** When the request head was read. */
  public Instant startTime() {
    return startTime;
  }

  /** Time from the request head to the last response byte (or the failure). */
  public Duration duration() {
    return duration;
  }

  /** The request ID (see {@code ProxyServer.Builder#requestIdHeader}), once the head was read. */
  public Optional<String> requestId() {
    return Optional.ofNullable(requestId);
  }

  /** The W3C trace id (32 hex digits) the exchange belongs to, once the head was read. */
  public Optional<String> traceId() {
    return Optional.ofNullable(traceId);
  }

  /** The name of the route the request matched, in a reverse proxy. */
  public Optional<String> route() {
    return Optional.ofNullable(route);
  }

  /** The upstream that served the exchange as {@code host:port}, if one was contacted. */
  public Optional<String> upstream() {
    return Optional.ofNullable(upstream);
  }

  /** The cache's verdict ({@code HIT}, {@code MISS}, ...), if a cache is configured. */
  public Optional<String> cache() {
    return Optional.ofNullable(cache);
  }

  /**
   * {@code url} as a log may show it: the proxy's own logs redact only values named like
   * credentials, but a listener logging the summary (as {@link ExchangeListener}'s example does)
   * printed tokens and passwords the access log masked (probe e24).
   */
  private static String shownUrl(String url) {
    int scheme = url.indexOf("://");
    int authority = scheme < 0 ? 0 : scheme + 3;
    int pathStart = authority;
    while (pathStart < url.length() && "/?".indexOf(url.charAt(pathStart)) < 0) {
      pathStart++;
    }
    if (url.startsWith("/")) {
      pathStart = 0;
    }
    int at = url.lastIndexOf('@', pathStart - 1);
    String head = at < authority ? url.substring(0, pathStart)
        : url.substring(0, authority) + "***" + url.substring(at, pathStart);
    String rest = url.substring(pathStart);
    int query = rest.indexOf('?');
    String path = (query < 0 ? rest : rest.substring(0, query)).replaceAll(";[^/]*", ";***");
    String values = query < 0 ? "" : "?" + rest.substring(query + 1).replaceAll("=[^&]*", "=***");
    return head + path + values;
  }

  /**
   * Why the exchange failed, if it did: a failure name such as {@code UPSTREAM_TIMEOUT} or
   * {@code CLIENT_CLOSED}. Empty for an exchange that completed normally, whatever its status.
   */
  public Optional<String> failure() {
    return Optional.ofNullable(failure);
  }

  /**
   * Returns a one-line, key=value description, for logs: its URL without what may carry a
   * credential (userinfo, and the values of path parameters and of the query, each {@code ***});
   * {@link #url()} has them.
   */
  @Override
  public String toString() {
    return "exchange id=" + id + " conn=" + connectionId + " method=" + method + " url=" + shownUrl(url)
        + " status=" + status + " latency_ms=" + duration.toMillis()
        + (requestId == null ? "" : " rid=" + requestId)
        + (route == null ? "" : " route=" + route)
        + (upstream == null ? "" : " upstream=" + upstream)
        + (cache == null ? "" : " cache=" + cache)
        + (failure == null ? "" : " failure=" + failure);
  }

  /**
   * A mutable builder of {@link ExchangeSummary}. Not thread-safe.
   */
  public static final class Builder {
    private long id;
    private long connectionId;
    private InetSocketAddress clientAddress;
    private String method;
    private String url;
    private int status;
    private long requestBodyBytes;
    private long responseBodyBytes;
    private Instant startTime;
    private Duration duration = Duration.ZERO;
    private String upstream;
    private String route;
    private String requestId;
    private String traceId;
    private String cache;
    private String failure;

    private Builder() {}

    /** Sets the exchange id. */
    public Builder id(long id) {
      this.id = id;
      return this;
    }

    /** Sets the connection id. */
    public Builder connectionId(long connectionId) {
      this.connectionId = connectionId;
      return this;
    }

    /** Sets the client address. Required. */
    public Builder clientAddress(InetSocketAddress clientAddress) {
      this.clientAddress = Objects.requireNonNull(clientAddress, "clientAddress");
      return this;
    }

    /** Sets the method. Required. */
    public Builder method(String method) {
      this.method = Objects.requireNonNull(method, "method");
      return this;
    }

    /** Sets the URL. Required. */
    public Builder url(String url) {
      this.url = Objects.requireNonNull(url, "url");
      return this;
    }

    /** Sets the status sent, or 0 for none. */
    public Builder status(int status) {
      this.status = status;
      return this;
    }

    /** Sets the request body bytes read. */
    public Builder requestBodyBytes(long requestBodyBytes) {
      this.requestBodyBytes = requestBodyBytes;
      return this;
    }

    /** Sets the response body bytes written. */
    public Builder responseBodyBytes(long responseBodyBytes) {
      this.responseBodyBytes = responseBodyBytes;
      return this;
    }

    /** Sets the start time. Required. */
    public Builder startTime(Instant startTime) {
      this.startTime = Objects.requireNonNull(startTime, "startTime");
      return this;
    }

    /** Sets the duration; default zero. */
    public Builder duration(Duration duration) {
      this.duration = Objects.requireNonNull(duration, "duration");
      return this;
    }

    /** Sets the request ID. */
    public Builder requestId(String requestId) {
      this.requestId = Objects.requireNonNull(requestId, "requestId");
      return this;
    }

    /** Sets the trace id. */
    public Builder traceId(String traceId) {
      this.traceId = Objects.requireNonNull(traceId, "traceId");
      return this;
    }

    /** Sets the name of the route matched. */
    public Builder route(String route) {
      this.route = Objects.requireNonNull(route, "route");
      return this;
    }

    /** Sets the upstream contacted, as {@code host:port}. */
    public Builder upstream(String upstream) {
      this.upstream = Objects.requireNonNull(upstream, "upstream");
      return this;
    }

    /** Sets the cache verdict. */
    public Builder cache(String cache) {
      this.cache = Objects.requireNonNull(cache, "cache");
      return this;
    }

    /** Sets the failure name. */
    public Builder failure(String failure) {
      this.failure = Objects.requireNonNull(failure, "failure");
      return this;
    }

    /**
     * Returns the summary.
     *
     * @throws NullPointerException if a required field is missing
     */
    public ExchangeSummary build() {
      return new ExchangeSummary(this);
    }
  }
}
