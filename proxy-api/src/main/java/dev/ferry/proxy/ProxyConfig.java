package dev.ferry.proxy;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import javax.net.ssl.SSLContext;

/**
 * The immutable configuration of a proxy, as {@link ProxyServer.Builder#build()} validated it.
 * Each getter documents itself on the builder method of the same name.
 *
 * <p>{@link #toBuilder()} derives a variant:
 *
 * <pre>{@code
 * ProxyServer variant = base.config().toBuilder().idleTimeout(Duration.ofSeconds(1)).build();
 * }</pre>
 */
public final class ProxyConfig {
  private static final ProxyServer.Builder DEFAULTS = new ProxyServer.Builder();

  private final String bindAddress;
  private final int port;
  private final Concurrency concurrency;
  private final Duration connectTimeout;
  private final Duration requestHeaderTimeout;
  private final Duration idleTimeout;
  private final Duration upstreamTimeout;
  private final Duration upstreamKeepAlive;
  private final Duration writeTimeout;
  private final long minRequestBodyRate;
  private final int retryBufferBytes;
  private final int requestBufferBytes;
  private final long requestSpoolBytes;
  private final Path requestSpoolDirectory;
  private final SSLContext upstreamSslContext;
  private final UpstreamTls upstreamTls;
  private final ServerTls tls;
  private final InterceptTls interceptTls;
  private final Set<Integer> connectPorts;
  private final boolean connectPortsNamed;
  private final boolean anyConnectPort;
  private final boolean allowPrivateDestinations;
  private final String requestIdHeader;
  private final AccessLogFormat accessLog;
  private final Map<Integer, String> errorPages;
  private final InetSocketAddress admin;
  private final boolean statsOnProxyPort;
  private final boolean eventLoop;
  private final Boolean eventLoopChoice;
  private final boolean quietLogs;
  private final List<Filter> adminFilters;
  private final int maxIdleUpstreamConnections;
  private final int maxConnections;
  private final int maxRequestLineBytes;
  private final int maxHeaderBytes;
  private final int maxHeaderCount;
  private final long maxRequestBodyBytes;
  private final Upstream upstream;
  private final List<Route> routes;
  private final CacheSpec cache;
  private final List<Filter> filters;
  private final List<ExchangeListener> listeners;

  ProxyConfig(ProxyServer.Builder builder) {
    bindAddress = builder.bindAddress;
    port = builder.port;
    concurrency = builder.concurrency;
    connectTimeout = builder.connectTimeout;
    requestHeaderTimeout = builder.requestHeaderTimeout;
    idleTimeout = builder.idleTimeout;
    upstreamTimeout = builder.upstreamTimeout;
    upstreamKeepAlive = builder.upstreamKeepAlive;
    writeTimeout = builder.writeTimeout;
    minRequestBodyRate = builder.minRequestBodyRate;
    retryBufferBytes = builder.retryBufferBytes;
    requestBufferBytes = builder.requestBufferBytes;
    requestSpoolBytes = builder.requestSpoolBytes;
    requestSpoolDirectory = builder.requestSpoolDirectory;
    upstreamSslContext = builder.upstreamSslContext;
    upstreamTls = builder.upstreamTls;
    tls = builder.tls;
    interceptTls = builder.interceptTls;
    anyConnectPort = builder.anyConnectPort;
    connectPorts = builder.connectPorts.isEmpty() ? Set.of(443) : Set.copyOf(builder.connectPorts);
    connectPortsNamed = !builder.connectPorts.isEmpty();
    allowPrivateDestinations = builder.allowPrivateDestinations;
    requestIdHeader = builder.requestIdHeader;
    accessLog = builder.accessLog;
    errorPages = Map.copyOf(builder.errorPages);
    admin = builder.admin;
    statsOnProxyPort = builder.statsOnProxyPort;
    eventLoopChoice = builder.eventLoop;
    eventLoop = eventLoopChoice != null ? eventLoopChoice : builder.tls == null;
    quietLogs = builder.quietLogs;
    adminFilters = List.copyOf(builder.adminFilters);
    maxIdleUpstreamConnections = builder.maxIdleUpstreamConnections;
    maxConnections = builder.maxConnections;
    maxRequestLineBytes = builder.maxRequestLineBytes;
    maxHeaderBytes = builder.maxHeaderBytes;
    maxHeaderCount = builder.maxHeaderCount;
    maxRequestBodyBytes = builder.maxRequestBodyBytes;
    upstream = builder.upstream;
    routes = List.copyOf(builder.routes);
    cache = builder.cache;
    filters = List.copyOf(builder.filters);
    listeners = List.copyOf(builder.listeners);
  }

  /** Returns a builder holding this configuration, to derive a variant from. */
  public ProxyServer.Builder toBuilder() {
    return new ProxyServer.Builder(this);
  }

  /** See {@link ProxyServer.Builder#bindAddress(String)}. */
  public String bindAddress() {
    return bindAddress;
  }

  /** See {@link ProxyServer.Builder#port(int)}. */
  public int port() {
    return port;
  }

  /** See {@link ProxyServer.Builder#concurrency(Concurrency)}. */
  public Concurrency concurrency() {
    return concurrency;
  }

  /** See {@link ProxyServer.Builder#connectTimeout(Duration)}. */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /** See {@link ProxyServer.Builder#requestHeaderTimeout(Duration)}. */
  public Duration requestHeaderTimeout() {
    return requestHeaderTimeout;
  }

  /** See {@link ProxyServer.Builder#idleTimeout(Duration)}. */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  /** See {@link ProxyServer.Builder#upstreamTimeout(Duration)}. */
  public Duration upstreamTimeout() {
    return upstreamTimeout;
  }

  /** See {@link ProxyServer.Builder#upstreamKeepAlive(Duration)}. */
  public Duration upstreamKeepAlive() {
    return upstreamKeepAlive;
  }

  /** See {@link ProxyServer.Builder#writeTimeout(Duration)}. */
  public Duration writeTimeout() {
    return writeTimeout;
  }

  /** See {@link ProxyServer.Builder#minRequestBodyRate(long)}; bytes per second, 0 for none. */
  public long minRequestBodyRate() {
    return minRequestBodyRate;
  }

  /** See {@link ProxyServer.Builder#retryBufferBytes(int)}. */
  public int retryBufferBytes() {
    return retryBufferBytes;
  }

  /** See {@link ProxyServer.Builder#requestBufferBytes(int)}. */
  public int requestBufferBytes() {
    return requestBufferBytes;
  }

  /** See {@link ProxyServer.Builder#requestSpoolBytes(long)}. */
  public long requestSpoolBytes() {
    return requestSpoolBytes;
  }

  /** See {@link ProxyServer.Builder#requestSpoolDirectory(Path)}; empty for {@code java.io.tmpdir}. */
  public Optional<Path> requestSpoolDirectory() {
    return Optional.ofNullable(requestSpoolDirectory);
  }

  /** See {@link ProxyServer.Builder#upstreamSslContext(SSLContext)}; empty for the default. */
  public Optional<SSLContext> upstreamSslContext() {
    return Optional.ofNullable(upstreamSslContext);
  }

  /** See {@link ProxyServer.Builder#upstreamTls(UpstreamTls)}. */
  public Optional<UpstreamTls> upstreamTls() {
    return Optional.ofNullable(upstreamTls);
  }

  /** See {@link ProxyServer.Builder#tls(ServerTls)}. */
  public Optional<ServerTls> tls() {
    return Optional.ofNullable(tls);
  }

  /** See {@link ProxyServer.Builder#interceptTls(InterceptTls)}. */
  public Optional<InterceptTls> interceptTls() {
    return Optional.ofNullable(interceptTls);
  }

  /**
   * The ports CONNECT may reach, {443} unless configured; meaningless when
   * {@link #allowsAnyConnectPort()}. See {@link ProxyServer.Builder#allowConnectPorts(int...)}.
   */
  public Set<Integer> allowedConnectPorts() {
    return connectPorts;
  }

  /**
   * Whether {@link ProxyServer.Builder#allowConnectPorts(int...)} named the ports CONNECT may
   * reach ({@code allowConnectPorts(443)} too), rather than leaving the default.
   */
  public boolean namesConnectPorts() {
    return connectPortsNamed;
  }

  /** See {@link ProxyServer.Builder#allowAnyConnectPort()}. */
  public boolean allowsAnyConnectPort() {
    return anyConnectPort;
  }

  /** See {@link ProxyServer.Builder#allowPrivateDestinations(boolean)}. */
  public boolean allowsPrivateDestinations() {
    return allowPrivateDestinations;
  }

  /** See {@link ProxyServer.Builder#requestIdHeader(String)}. */
  public String requestIdHeader() {
    return requestIdHeader;
  }

  /** See {@link ProxyServer.Builder#accessLog(AccessLogFormat)}. */
  public AccessLogFormat accessLog() {
    return accessLog;
  }

  /** See {@link ProxyServer.Builder#errorPage(int, String)}: status to HTML template. */
  public Map<Integer, String> errorPages() {
    return errorPages;
  }

  /** See {@link ProxyServer.Builder#admin(InetSocketAddress)}. */
  public Optional<InetSocketAddress> admin() {
    return Optional.ofNullable(admin);
  }

  /**
   * Whether the event loops run: as {@link ProxyServer.Builder#eventLoop(boolean)} was set, or
   * by default true for a proxy, forward or reverse, without TLS on its listener.
   */
  public boolean eventLoop() {
    return eventLoop;
  }

  /** The builder's own choice, null where it was left to the default. */
  Boolean eventLoopChoice() {
    return eventLoopChoice;
  }

  /** See {@link ProxyServer.Builder#statsOnProxyPort(boolean)}. */
  public boolean statsOnProxyPort() {
    return statsOnProxyPort;
  }

  /** See {@link ProxyServer.Builder#quietLogs(boolean)}. */
  public boolean quietLogs() {
    return quietLogs;
  }

  /** See {@link ProxyServer.Builder#adminFilter(Filter)}. */
  public List<Filter> adminFilters() {
    return adminFilters;
  }

  /** See {@link ProxyServer.Builder#maxIdleUpstreamConnections(int)}. */
  public int maxIdleUpstreamConnections() {
    return maxIdleUpstreamConnections;
  }

  /** See {@link ProxyServer.Builder#maxConnections(int)}. */
  public int maxConnections() {
    return maxConnections;
  }

  /** See {@link ProxyServer.Builder#maxRequestLineBytes(int)}. */
  public int maxRequestLineBytes() {
    return maxRequestLineBytes;
  }

  /** See {@link ProxyServer.Builder#maxHeaderBytes(int)}. */
  public int maxHeaderBytes() {
    return maxHeaderBytes;
  }

  /** See {@link ProxyServer.Builder#maxHeaderCount(int)}. */
  public int maxHeaderCount() {
    return maxHeaderCount;
  }

  /** See {@link ProxyServer.Builder#maxRequestBodyBytes(long)}. */
  public long maxRequestBodyBytes() {
    return maxRequestBodyBytes;
  }

  /** The catch-all upstream of a reverse proxy, if one was set. */
  public Optional<Upstream> upstream() {
    return Optional.ofNullable(upstream);
  }

  /** The routes, in the order they are tried (the {@link #upstream()} catch-all not included). */
  public List<Route> routes() {
    return routes;
  }

  /** True if this is a reverse proxy: it has routes or a catch-all upstream. */
  public boolean isReverse() {
    return upstream != null || !routes.isEmpty();
  }

  /** The cache, if one is configured. */
  public Optional<CacheSpec> cache() {
    return Optional.ofNullable(cache);
  }

  /** The filters, in registration order. */
  public List<Filter> filters() {
    return filters;
  }

  /** The exchange listeners, in registration order. */
  public List<ExchangeListener> listeners() {
    return listeners;
  }

  /**
   * Lists only the options that differ from their defaults, such as
   * {@code ProxyConfig{port=8080, upstream=http://127.0.0.1:9000}}.
   */
  @Override
  public String toString() {
    List<String> parts = new ArrayList<>();
    add(parts, "bindAddress", bindAddress, DEFAULTS.bindAddress);
    add(parts, "port", port, DEFAULTS.port);
    add(parts, "concurrency", concurrency, DEFAULTS.concurrency);
    add(parts, "connectTimeout", connectTimeout, DEFAULTS.connectTimeout);
    add(parts, "requestHeaderTimeout", requestHeaderTimeout, DEFAULTS.requestHeaderTimeout);
    add(parts, "idleTimeout", idleTimeout, DEFAULTS.idleTimeout);
    add(parts, "upstreamTimeout", upstreamTimeout, DEFAULTS.upstreamTimeout);
    add(parts, "upstreamKeepAlive", upstreamKeepAlive, DEFAULTS.upstreamKeepAlive);
    add(parts, "writeTimeout", writeTimeout, DEFAULTS.writeTimeout);
    add(parts, "minRequestBodyRate", minRequestBodyRate, DEFAULTS.minRequestBodyRate);
    add(parts, "retryBufferBytes", retryBufferBytes, DEFAULTS.retryBufferBytes);
    add(parts, "requestBufferBytes", requestBufferBytes, DEFAULTS.requestBufferBytes);
    add(parts, "requestSpoolBytes", requestSpoolBytes, DEFAULTS.requestSpoolBytes);
    add(parts, "requestSpoolDirectory", requestSpoolDirectory, null);
    if (upstreamSslContext != null) {
      parts.add("upstreamSslContext=" + upstreamSslContext.getProtocol());
    }
    add(parts, "upstreamTls", upstreamTls, null);
    add(parts, "tls", tls, null);
    add(parts, "interceptTls", interceptTls, null);
    if (anyConnectPort) {
      parts.add("connectPorts=any");
    } else if (!connectPorts.equals(Set.of(443))) {
      parts.add("connectPorts=" + new TreeSet<>(connectPorts));
    }
    add(parts, "allowPrivateDestinations", allowPrivateDestinations, DEFAULTS.allowPrivateDestinations);
    add(parts, "requestIdHeader", requestIdHeader, DEFAULTS.requestIdHeader);
    add(parts, "accessLog", accessLog, DEFAULTS.accessLog);
    if (!errorPages.isEmpty()) {
      parts.add("errorPages=" + new TreeSet<>(errorPages.keySet()));
    }
    add(parts, "admin", admin, null);
    add(parts, "statsOnProxyPort", statsOnProxyPort, DEFAULTS.statsOnProxyPort);
    add(parts, "eventLoop", eventLoopChoice, null);
    add(parts, "quietLogs", quietLogs, DEFAULTS.quietLogs);
    if (!adminFilters.isEmpty()) {
      parts.add("adminFilters=" + adminFilters.size());
    }
    add(parts, "maxIdleUpstreamConnections", maxIdleUpstreamConnections,
        DEFAULTS.maxIdleUpstreamConnections);
    add(parts, "maxConnections", maxConnections, DEFAULTS.maxConnections);
    add(parts, "maxRequestLineBytes", maxRequestLineBytes, DEFAULTS.maxRequestLineBytes);
    add(parts, "maxHeaderBytes", maxHeaderBytes, DEFAULTS.maxHeaderBytes);
    add(parts, "maxHeaderCount", maxHeaderCount, DEFAULTS.maxHeaderCount);
    add(parts, "maxRequestBodyBytes", maxRequestBodyBytes, DEFAULTS.maxRequestBodyBytes);
    add(parts, "upstream", upstream, null);
    if (!routes.isEmpty()) {
      parts.add("routes=" + routes);
    }
    add(parts, "cache", cache, null);
    if (!filters.isEmpty()) {
      parts.add("filters=" + filters.size());
    }
    if (!listeners.isEmpty()) {
      parts.add("listeners=" + listeners.size());
    }
    return "ProxyConfig{" + String.join(", ", parts) + "}";
  }

  private static void add(List<String> parts, String name, Object value, Object defaultValue) {
    if (value != null && !value.equals(defaultValue)) {
      parts.add(name + "=" + value);
    }
  }
}
