package dev.ferry.proxy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.net.ssl.SSLContext;

/**
 * An HTTP proxy running inside this JVM.
 *
 * <p>Without an upstream it is a forward proxy: clients send absolute-form requests
 * ({@code GET http://host/path}) and {@code CONNECT} tunnels. With {@link Route routes} or an
 * {@link Upstream} it is a reverse proxy, a gateway: clients send ordinary requests, the route
 * table picks a pool, and the pool's balancer an endpoint. Routes, pools and filters can be
 * replaced while it runs ({@link #reconfigure(ProxyConfig)}).
 *
 * <pre>{@code
 * try (ProxyServer proxy = ProxyServer.builder()
 *     .port(0)                                        // an ephemeral port
 *     .filter((exchange, chain) -> chain.proceed(exchange.request().withHeader("X-Env", "test")))
 *     .build()
 *     .start()) {
 *   HttpClient client = HttpClient.newBuilder()
 *       .proxy(ProxySelector.of(proxy.address()))
 *       .build();
 *   // ... requests from this client now go through the proxy
 * }
 * }</pre>
 *
 * <p>A proxy's threads are daemon threads, so an embedded proxy never keeps its host JVM alive;
 * a program whose main job is the proxy calls {@link #awaitTermination()}.
 *
 * <p>Size: this file is long because {@link Builder}, the one place every option is set and
 * validated, is nested in it, as {@code ProxyServer.builder()} promises; most of its lines are the
 * options' javadoc.
 */
public interface ProxyServer extends AutoCloseable {

  /**
   * The slf4j MDC key under which a thread serving a client connection carries that
   * connection's name, {@code ferry-conn-<port>-<id>}, for as long as it serves it: so that every
   * log line, those without a {@code conn=} too (a failed connect upstream, a retry), and those
   * of filters, tells which connection it came from. With logback, {@code %X{ferry.conn}} in the
   * pattern. Threads are not renamed per connection: renaming a running platform thread is a
   * system call, about 3 % of the CPU when each request comes on a connection of its own.
   */
  String MDC_CONNECTION = "ferry.conn";

  /** Returns a new builder with every option at its default. */
  static Builder builder() {
    return new Builder();
  }

  /**
   * Binds the listener and starts accepting connections. Returns this proxy. A proxy starts
   * once: one whose start failed (its address in use, an admin port taken) is stopped, with
   * everything it had started released, and {@link #awaitTermination()} returns; build another
   * from the same builder to try again.
   *
   * @throws java.io.UncheckedIOException if the address cannot be bound, naming it
   * @throws IllegalStateException if the proxy was already started, stopped, or failed to start
   */
  ProxyServer start();

  /**
   * Stops the proxy: stops accepting, closes idle connections (one whose thread is in its brief
   * wait for a request closes when that wait ends, within 50 ms on platform threads and 200 ms on
   * virtual ones, and a request that comes by then is served) and plain CONNECT tunnels or
   * upgraded connections at rest (the upstream spoke last, then nothing passed for half a
   * second), lets exchanges in progress (and requests whose body is still being received,
   * requests already sent on connections waiting in the pool's queue for a thread, and tunnels
   * until they come to rest) finish for up to {@code grace}, then closes
   * whatever is left (those exchanges, and requests still queued for a thread or still
   * arriving, closed unanswered, are logged and counted with the failure
   * {@code PROXY_STOPPED}). Returns when every connection and
   * thread of the proxy has ended, or at most 2 s after the grace when code of a filter or
   * listener ignores the interrupt that cuts it (as a blocking socket read does): that is logged
   * as {@code proxy_stop_incomplete}, its connection is closed, and its thread ends when that
   * code returns. Calling it again does nothing.
   *
   * <p>Called by a filter or listener of this proxy (a shutdown endpoint), on the thread of one
   * of its exchanges, it starts the stop on a thread of its own and returns at once: that
   * exchange, like any other, then finishes within the grace, its answer sent with
   * {@code Connection: close}. Use {@link #awaitTermination} elsewhere to wait for the end.
   *
   * <p>A negative grace is none; one of more than 100 years (such as
   * {@code ChronoUnit.FOREVER.getDuration()}) waits as long as the exchanges take.
   *
   * @throws NullPointerException if {@code grace} is null, before anything stops
   */
  void stop(Duration grace);

  /** Stops the proxy with a grace period of five seconds; see {@link #stop(Duration)}. */
  @Override
  default void close() {
    stop(Duration.ofSeconds(5));
  }

  /** Blocks until the proxy has stopped. */
  void awaitTermination() throws InterruptedException;

  /**
   * The port the proxy listens on: the bound one when {@code port(0)} asked for an ephemeral
   * port.
   *
   * @throws IllegalStateException if the proxy has not been started
   */
  int port();

  /**
   * The address the proxy listens on, for clients to connect to.
   *
   * @throws IllegalStateException if the proxy has not been started
   */
  InetSocketAddress address();

  /** The configuration this proxy was built with. */
  ProxyConfig config();

  /** A snapshot of the proxy's counters. */
  ProxyStats stats();

  /**
   * The admin listener's address, if {@link Builder#admin(InetSocketAddress)} configured one.
   *
   * @throws IllegalStateException if the proxy has not been started
   */
  Optional<InetSocketAddress> adminAddress();

  /** The HTTP cache, if {@link Builder#cache(CacheSpec)} configured one. */
  Optional<ProxyCache> cache();

  /**
   * Replaces the routes, pools and filters of a running proxy at once. Exchanges already past
   * routing finish on the old set; endpoints no longer in any pool are drained (their idle
   * connections expire, none are reused for new requests); endpoint health carries over for
   * pools and endpoints that stay. No request fails because of a reconfiguration.
   *
   * <pre>{@code
   * proxy.reconfigure(proxy.config().toBuilder().route(Route.to(canary).header("X-Canary", "1")).buildConfig());
   * }</pre>
   *
   * @throws IllegalArgumentException if {@code config} changes anything else (listener,
   *     concurrency, timeouts, limits, cache, listeners, access log and quiet logs, error pages,
   *     request ID header, admin endpoint and stats on the proxy port) or turns a forward proxy
   *     into a reverse one or back; the message names the option
   * @throws IllegalStateException if the proxy is not running
   */
  void reconfigure(ProxyConfig config);

  /**
   * A mutable builder of {@link ProxyServer}; {@link #build()} validates and snapshots it into an
   * immutable {@link ProxyConfig}. Scalar options keep the last value set; {@link #filter} and
   * {@link #listener} append. Not thread-safe.
   *
   * <pre>{@code
   * ProxyServer proxy = ProxyServer.builder()
   *     .port(8080)
   *     .upstream(Upstream.of("http://127.0.0.1:9000"))
   *     .idleTimeout(Duration.ofSeconds(30))
   *     .build()
   *     .start();
   * }</pre>
   */
  final class Builder {
    String bindAddress = "127.0.0.1";
    int port;
    Concurrency concurrency = Concurrency.auto();
    Duration connectTimeout = Duration.ofSeconds(10);
    Duration requestHeaderTimeout = Duration.ofSeconds(30);
    Duration idleTimeout = Duration.ofSeconds(60);
    Duration upstreamTimeout = Duration.ofSeconds(60);
    Duration upstreamKeepAlive = Duration.ofSeconds(4);
    Duration writeTimeout = Duration.ofSeconds(60);
    long minRequestBodyRate = 240;
    int retryBufferBytes = 64 * 1024;
    int requestBufferBytes = 1024 * 1024;
    long requestSpoolBytes = 256L * 1024 * 1024;
    Path requestSpoolDirectory;
    SSLContext upstreamSslContext;
    UpstreamTls upstreamTls;
    ServerTls tls;
    InterceptTls interceptTls;
    final Set<Integer> connectPorts = new TreeSet<>();
    boolean anyConnectPort;
    boolean allowPrivateDestinations;
    String requestIdHeader = "X-Request-Id";
    AccessLogFormat accessLog = AccessLogFormat.COMBINED;
    final Map<Integer, String> errorPages = new TreeMap<>();
    InetSocketAddress admin;
    boolean statsOnProxyPort = true;
    /** Null until {@link #eventLoop(boolean)} is called: on where the loops can serve. */
    Boolean eventLoop;
    boolean quietLogs;
    final List<Filter> adminFilters = new ArrayList<>();
    int maxIdleUpstreamConnections = 64;
    int maxConnections = 10_000;
    int maxRequestLineBytes = 8 * 1024;
    int maxHeaderBytes = 64 * 1024;
    int maxHeaderCount = 100;
    long maxRequestBodyBytes = Long.MAX_VALUE;
    Upstream upstream;

    final List<Route> routes = new ArrayList<>();
    CacheSpec cache;
    final List<Filter> filters = new ArrayList<>();
    final List<ExchangeListener> listeners = new ArrayList<>();

    Builder() {}

    Builder(ProxyConfig config) {
      bindAddress = config.bindAddress();
      port = config.port();
      concurrency = config.concurrency();
      connectTimeout = config.connectTimeout();
      requestHeaderTimeout = config.requestHeaderTimeout();
      idleTimeout = config.idleTimeout();
      upstreamTimeout = config.upstreamTimeout();
      upstreamKeepAlive = config.upstreamKeepAlive();
      writeTimeout = config.writeTimeout();
      minRequestBodyRate = config.minRequestBodyRate();
      retryBufferBytes = config.retryBufferBytes();
      requestBufferBytes = config.requestBufferBytes();
      requestSpoolBytes = config.requestSpoolBytes();
      requestSpoolDirectory = config.requestSpoolDirectory().orElse(null);
      upstreamSslContext = config.upstreamSslContext().orElse(null);
      upstreamTls = config.upstreamTls().orElse(null);
      tls = config.tls().orElse(null);
      interceptTls = config.interceptTls().orElse(null);
      anyConnectPort = config.allowsAnyConnectPort();
      if (!anyConnectPort && !config.allowedConnectPorts().equals(Set.of(443))) {
        connectPorts.addAll(config.allowedConnectPorts()); // 443 alone is the default, not a choice
      }
      allowPrivateDestinations = config.allowsPrivateDestinations();
      requestIdHeader = config.requestIdHeader();
      accessLog = config.accessLog();
      errorPages.putAll(config.errorPages());
      admin = config.admin().orElse(null);
      statsOnProxyPort = config.statsOnProxyPort();
      eventLoop = config.eventLoopChoice();
      quietLogs = config.quietLogs();
      adminFilters.addAll(config.adminFilters());
      maxIdleUpstreamConnections = config.maxIdleUpstreamConnections();
      maxConnections = config.maxConnections();
      maxRequestLineBytes = config.maxRequestLineBytes();
      maxHeaderBytes = config.maxHeaderBytes();
      maxHeaderCount = config.maxHeaderCount();
      maxRequestBodyBytes = config.maxRequestBodyBytes();
      upstream = config.upstream().orElse(null);
      routes.addAll(config.routes());
      cache = config.cache().orElse(null);
      filters.addAll(config.filters());
      listeners.addAll(config.listeners());
    }

    /**
     * The local address to listen on; default {@code 127.0.0.1}. Use {@code 0.0.0.0} or
     * {@code ::} to accept connections from other machines.
     *
     * @throws IllegalArgumentException if it is not an IP address or a resolvable name
     */
    public Builder bindAddress(String bindAddress) {
      Objects.requireNonNull(bindAddress, "bindAddress");
      try {
        InetAddress.getByName(bindAddress);
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException(
            "bindAddress must be an IP address or a resolvable host name (was " + Checks.shown(bindAddress) + ")", e);
      }
      this.bindAddress = bindAddress;
      return this;
    }

    /**
     * The port to listen on; default 0, an ephemeral port chosen at start
     * ({@link ProxyServer#port()} tells which).
     *
     * @throws IllegalArgumentException unless between 0 and 65535
     */
    public Builder port(int port) {
      this.port = Checks.range("port", port, 0, 65535);
      return this;
    }

    /** How connections are run; default {@link Concurrency#auto()}. */
    public Builder concurrency(Concurrency concurrency) {
      this.concurrency = Objects.requireNonNull(concurrency, "concurrency");
      return this;
    }

    /**
     * How long connecting to an upstream may take, TCP connect and TLS handshake together;
     * default 10 s. Past it: 504 (as nginx answers a connect timeout); a refused connection, an
     * unknown host or a failed handshake is 502.
     *
     * @throws IllegalArgumentException unless positive and at most 365 days
     */
    public Builder connectTimeout(Duration connectTimeout) {
      this.connectTimeout = Checks.positive("connectTimeout", connectTimeout);
      return this;
    }

    /**
     * How long a client may take to send a whole request head; default 30 s. On a new
     * connection it counts from accept, so a client that connects and sends nothing is closed
     * after it; on a kept-alive connection it counts from the request's first byte (the wait
     * before that is the {@link #idleTimeout}). This cuts off slowloris clients. Past it: 408 and
     * the connection is closed.
     *
     * @throws IllegalArgumentException unless positive and at most 365 days
     */
    public Builder requestHeaderTimeout(Duration requestHeaderTimeout) {
      this.requestHeaderTimeout = Checks.positive("requestHeaderTimeout", requestHeaderTimeout);
      return this;
    }

    /**
     * How long a client connection may sit idle between requests, and the longest gap allowed
     * while reading a request body; default 60 s.
     *
     * @throws IllegalArgumentException unless positive and at most 365 days
     */
    public Builder idleTimeout(Duration idleTimeout) {
      this.idleTimeout = Checks.positive("idleTimeout", idleTimeout);
      return this;
    }

    /**
     * How long to wait for the upstream's response head, and the longest gap allowed between
     * bytes of its body; default 60 s. Past it: 504 (or a cut connection mid-body).
     *
     * <p>The wait for the head starts once the request's last byte is written, which is when the
     * kernel has taken it: on loopback or a fast network its send buffer holds megabytes, so an
     * upstream that reads a large upload slowly and answers at its end must do so within this
     * time of the upload leaving the proxy, as with nginx's {@code proxy_read_timeout}. A write
     * to an upstream that stops reading is bounded by {@link #writeTimeout} instead.
     *
     * @throws IllegalArgumentException unless positive and at most 365 days
     */
    public Builder upstreamTimeout(Duration upstreamTimeout) {
      this.upstreamTimeout = Checks.positive("upstreamTimeout", upstreamTimeout);
      return this;
    }

    /**
     * How long an idle pooled upstream connection is kept for reuse; default 4 s, below the idle
     * timeout of common servers (Node 5 s, Apache 5 s) so that Ferry drops a connection before
     * the upstream does. An upstream's {@code Keep-Alive: timeout=N} shortens it further for that
     * connection (to a second less than N). A connection idle for more than a second is also
     * probed without blocking before reuse, and discarded if the upstream closed it or sent
     * unexpected bytes.
     *
     * @throws IllegalArgumentException unless positive and at most 365 days
     */
    public Builder upstreamKeepAlive(Duration upstreamKeepAlive) {
      this.upstreamKeepAlive = Checks.positive("upstreamKeepAlive", upstreamKeepAlive);
      return this;
    }

    /**
     * How long one write may make no progress, to a client, to an upstream or in either
     * direction of a tunnel; default 60 s. Blocking sockets have no send timeout, so a watchdog
     * resets the connection of a write that passed its deadline (what it could not send is
     * dropped, not kept by the kernel for a peer that reads nothing): a client that asks for a
     * large body and never reads cannot pin a connection task. Progress is what the kernel
     * takes: writes go to it in pieces of at most 256 KiB, each restarting the clock, so a peer
     * that keeps reading is never cut unless it takes less than 256 KiB in this time. Counted in
     * {@link ProxyStats#writeTimeouts()} and logged as {@code write_timeout}. An {@code http}
     * upstream that answers an upload before reading it and stops reading has its answer relayed
     * after a second (or half this timeout) instead (RFC 9112 §9.5).
     *
     * @throws IllegalArgumentException unless positive and at most 365 days
     */
    public Builder writeTimeout(Duration writeTimeout) {
      this.writeTimeout = Checks.positive("writeTimeout", writeTimeout);
      return this;
    }

    /**
     * The slowest a request body may arrive, in bytes per second averaged since the body began,
     * after a grace period of 5 s; default 240 (Kestrel's {@code MinRequestBodyDataRate}). A
     * body trickling slower is cut off with 408 and the connection is closed. 0 disables the
     * check (the {@link #idleTimeout} still bounds each gap).
     *
     * @throws IllegalArgumentException if negative
     */
    public Builder minRequestBodyRate(long bytesPerSecond) {
      if (bytesPerSecond < 0) {
        throw new IllegalArgumentException(
            "minRequestBodyRate must not be negative (was " + bytesPerSecond + ")");
      }
      this.minRequestBodyRate = bytesPerSecond;
      return this;
    }

    /**
     * The largest request body kept so that the request can be sent again on a fresh
     * connection; default 65536 bytes. An idempotent request (GET, HEAD, OPTIONS, TRACE, PUT,
     * DELETE) that fails on a reused upstream connection before any response byte arrived (a
     * reset or end of stream, never a timeout) is retried once when its body is empty or fit in
     * this buffer. The body is never read ahead for this: it streams upstream as it arrives, a
     * copy of what was sent kept on the side, dropped once it outgrows the buffer (and with it
     * the retry); 0 retries only requests without a body. Other methods are never sent twice (RFC 9110 §9.2.2): the pooled connection a POST
     * is to take is probed for a close first instead.
     *
     * @throws IllegalArgumentException unless between 0 and 16777216
     */
    public Builder retryBufferBytes(int retryBufferBytes) {
      this.retryBufferBytes = Checks.range("retryBufferBytes", retryBufferBytes, 0, 16 * 1024 * 1024);
      return this;
    }

    /**
     * The largest request body received whole before the request is handled; default 1048576
     * bytes (nginx buffers request bodies the same way). A client sending such a body slowly
     * waits between its bytes without a thread, as one sending its head slowly does, so slow
     * uploads cannot take the pool's threads (nor hold an upstream connection open) for as long
     * as {@link #minRequestBodyRate} allows; the minimum rate and the {@link #idleTimeout} still
     * bound the wait, and a body too slow is answered 408 when it is handled.
     *
     * <p>This applies to bodies framed by {@code Content-Length}; a chunked body is awaited whole
     * up to 16 KiB or this size, whichever is smaller. A larger body, or one arriving while the
     * bodies awaited on all connections fill an eighth of the maximum heap, is received whole on
     * disk instead, within {@link #requestSpoolBytes}. Bodies whose client expects
     * {@code 100 Continue} (it waits for the proxy before sending them), and bodies for which
     * neither has room, stream to the upstream as they arrive, read on the request's thread. 0
     * awaits no body in memory (those with a length or over their first bytes go to disk, if
     * {@link #requestSpoolBytes} allows; the bytes that come with the head stay in the
     * connection's own 16 KiB buffer either way).
     *
     * @throws IllegalArgumentException unless between 0 and 67108864
     */
    public Builder requestBufferBytes(int requestBufferBytes) {
      this.requestBufferBytes = Checks.range("requestBufferBytes", requestBufferBytes, 0, 64 * 1024 * 1024);
      return this;
    }

    /**
     * The most disk space that request bodies received whole before their requests are handled
     * may take together, for bodies larger than {@link #requestBufferBytes} (chunked ones: over
     * 16 KiB), or arriving while the memory for those is spent; default 268435456 (256 MiB). As
     * with {@link #requestBufferBytes}, a client sending such a body slowly (a "slow POST" that
     * declares a large length, or sends many chunks) waits between its bytes without a thread or
     * an upstream connection; nginx spools request bodies to disk the same way. The body is then
     * read from its file as it goes upstream, and the file is gone when it has been read or the
     * connection ends. A chunked body's framing is followed as it arrives, to find its end; a
     * request pipelined behind it is served next, in order.
     *
     * <p>The space is taken as the bytes arrive, not when a length is declared. A body that no
     * longer fits streams the rest as it arrives, read on the request's thread. Each body's file
     * is created in {@link #requestSpoolDirectory}, readable only by the proxy's user, and
     * deleted right after it is created where the file system allows (POSIX), else when it is
     * closed. If a file cannot be created there, the body streams
     * and a warning is logged. 0 never writes a body to disk.
     *
     * @throws IllegalArgumentException if negative
     */
    public Builder requestSpoolBytes(long requestSpoolBytes) {
      if (requestSpoolBytes < 0) {
        throw new IllegalArgumentException(
            "requestSpoolBytes must not be negative (was " + requestSpoolBytes + ")");
      }
      this.requestSpoolBytes = requestSpoolBytes;
      return this;
    }

    /**
     * The directory for the files of request bodies received on disk (see
     * {@link #requestSpoolBytes}); default the JVM's {@code java.io.tmpdir}. Request bodies can
     * hold secrets: pick a directory on a local file system that only the proxy's user can list.
     * {@link #build()} refuses one set together with {@code requestSpoolBytes(0)}, which turns
     * spooling off.
     *
     * @throws IllegalArgumentException if it is not an existing directory
     */
    public Builder requestSpoolDirectory(Path requestSpoolDirectory) {
      Objects.requireNonNull(requestSpoolDirectory, "requestSpoolDirectory");
      if (!Files.isDirectory(requestSpoolDirectory)) {
        throw new IllegalArgumentException(
            "requestSpoolDirectory must be an existing directory (was " + requestSpoolDirectory + ")");
      }
      try {
        // As a body would be: permissions, a read-only or special file system all show here.
        Files.delete(Files.createTempFile(requestSpoolDirectory, "ferry-check-", ".tmp"));
      } catch (IOException | UnsupportedOperationException e) {
        throw new IllegalArgumentException("requestSpoolDirectory must be a directory the proxy can write"
            + " files in (was " + requestSpoolDirectory + ": " + e + ")");
      }
      this.requestSpoolDirectory = requestSpoolDirectory;
      return this;
    }

    /**
     * The TLS context for {@code https} upstreams: its trust managers decide which upstream
     * certificates are accepted, its key managers supply a client certificate. Default: the
     * JVM's default context (the system trust store). Host names are always verified, and
     * chains that browsers refuse although the JDK accepts them (a leaf without a subject
     * alternative name, a SHA-1 or MD5 signature, an RSA key under 2048 bits) are refused too.
     */
    public Builder upstreamSslContext(SSLContext upstreamSslContext) {
      this.upstreamSslContext = Objects.requireNonNull(upstreamSslContext, "upstreamSslContext");
      return this;
    }

    /**
     * TLS toward {@code https} upstreams (and intercepted origins) from files: trusted CAs, an
     * optional client certificate for mutual TLS, or an explicitly insecure trust-all for tests
     * (logged as a warning at every start). Default: the JVM's trust store, host names verified.
     * Use either this or {@link #upstreamSslContext(SSLContext)}, not both.
     */
    public Builder upstreamTls(UpstreamTls upstreamTls) {
      this.upstreamTls = Objects.requireNonNull(upstreamTls, "upstreamTls");
      return this;
    }

    /**
     * Terminates TLS on the listener: clients connect with {@code https://} (a reverse proxy) or
     * {@code curl --proxy https://...} (a forward proxy). TLS 1.2 and 1.3, certificates chosen by
     * SNI, optional client certificates, ALPN {@code http/1.1}; certificate files are reloaded
     * when they change. The handshake is bounded by the {@link #requestHeaderTimeout}; a failed
     * one is logged as {@code tls_handshake_failed} and counted, and disturbs no other
     * connection. Default: plain HTTP.
     */
    public Builder tls(ServerTls tls) {
      this.tls = Objects.requireNonNull(tls, "tls");
      return this;
    }

    /**
     * Intercepts HTTPS in a forward proxy: a CONNECT to a matching host is answered 200, the
     * client's TLS is terminated with a leaf certificate issued by the given authority, and the
     * requests inside run through the same pipeline as plain ones (filters, cache, listeners)
     * to the origin over verified TLS. Bytes in the tunnel that are not a TLS ClientHello are
     * relayed as a plain tunnel. Needs {@code org.bouncycastle:bcpkix-jdk18on} on the class path.
     * Default: CONNECT tunnels are relayed without looking inside.
     *
     * <pre>{@code
     * CertificateAuthority ca = CertificateAuthority.generate();
     * ProxyServer proxy = ProxyServer.builder().interceptTls(InterceptTls.of(ca).hosts("*.example.com")).build();
     * HttpClient client = HttpClient.newBuilder().proxy(ProxySelector.of(proxy.start().address()))
     *     .sslContext(ca.sslContext()).build();
     * }</pre>
     */
    public Builder interceptTls(InterceptTls interceptTls) {
      this.interceptTls = Objects.requireNonNull(interceptTls, "interceptTls");
      return this;
    }

    /**
     * Adds ports a forward proxy may open CONNECT tunnels to. By default only 443 is allowed
     * (Squid's {@code SSL_ports}); once any port is added, exactly the added ports are allowed.
     * A CONNECT to another port is answered 403 and the connection closed. Forward proxies only:
     * {@link #build()} refuses it together with an upstream or routes.
     *
     * @throws IllegalArgumentException unless each port is between 1 and 65535
     */
    public Builder allowConnectPorts(int... ports) {
      for (int port : ports) {
        connectPorts.add(Checks.range("allowConnectPorts", port, 1, 65535));
      }
      return this;
    }

    /**
     * Lets CONNECT tunnels go to any port; see {@link #allowConnectPorts(int...)}, which
     * {@link #build()} refuses beside it.
     */
    public Builder allowAnyConnectPort() {
      this.anyConnectPort = true;
      return this;
    }

    /**
     * Whether a forward proxy bound to a non-loopback address may connect to loopback,
     * link-local (including the cloud metadata address 169.254.169.254) and unspecified
     * addresses; default false. A proxy bound to loopback (the default bind address) serves only
     * local clients and may always reach local destinations. The decision is made on every
     * address a name resolves to, after DNS: refused destinations are answered 403. Forward
     * proxies only: {@link #build()} refuses {@code true} together with an upstream or routes.
     */
    public Builder allowPrivateDestinations(boolean allowPrivateDestinations) {
      this.allowPrivateDestinations = allowPrivateDestinations;
      return this;
    }

    /**
     * The header that carries the request ID; default {@code X-Request-Id}. A client's own ID is
     * kept (when printable and at most 200 characters), otherwise a UUID is made; either way it
     * goes upstream, comes back on the response, and is in the logs and the
     * {@link ExchangeSummary}.
     *
     * @throws IllegalArgumentException if it is not a valid header name, or is one the proxy
     *     manages itself ({@link Headers#isProxyManaged}: Host, framing, hop-by-hop), sets or
     *     acts on itself (trace context, {@code Via}, {@code Forwarded}, {@code X-Forwarded-*},
     *     {@code Expect}, {@code Max-Forwards}), or one with a meaning of its own (credentials,
     *     caching, content metadata: {@code Authorization}, {@code Cache-Control},
     *     {@code Content-*}...): its value would be replaced upstream, echoed to the client and
     *     written to the logs
     */
    public Builder requestIdHeader(String name) {
      OwnFields.check(name, "requestIdHeader");
      this.requestIdHeader = name;
      return this;
    }

    /** The access log's layout on logger {@code dev.ferry.access}; default combined. */
    public Builder accessLog(AccessLogFormat format) {
      this.accessLog = Objects.requireNonNull(format, "accessLog");
      return this;
    }

    /**
     * An HTML page for the proxy's own answers with this status (404, 5xx, 4xx limits...), sent
     * to clients that accept {@code text/html} (named in {@code Accept} with a {@code q} above 0
     * and not below {@code text/plain}'s); others get the plain-text answer. In the page,
     * {@code {status}}, {@code {reason}} and {@code {detail}} are replaced by the answer's status,
     * reason and detail, HTML-escaped. Without one, a built-in page is used. Each call for a status
     * replaces the earlier one.
     *
     * @throws IllegalArgumentException unless the status is between 400 and 599
     */
    public Builder errorPage(int status, String html) {
      Checks.range("errorPage status", status, 400, 599);
      errorPages.put(status, Objects.requireNonNull(html, "html"));
      return this;
    }

    /**
     * Serves the admin endpoints ({@code /_stats} as JSON, {@code /_dashboard}, {@code /_cache/stats},
     * {@code POST /_cache/purge?url=}) on a listener of their own at {@code address}, such as
     * {@code new InetSocketAddress("127.0.0.1", 9901)} (port 0: ephemeral, see
     * {@code ProxyServer#adminAddress()}; another port must not be the proxy's own on the same
     * address, which {@link #build()} refuses). Default: no admin listener. Bind it to loopback unless
     * the network in front of it is trusted: it has no authentication. Requests a web page could
     * have sent (another {@code Origin}, a cross-site {@code Sec-Fetch-Site}, or on loopback a
     * {@code Host} other than an address, {@code localhost} or the machine's own name) are
     * refused with 403.
     */
    public Builder admin(InetSocketAddress address) {
      this.admin = Objects.requireNonNull(address, "admin");
      return this;
    }

    /**
     * Adds a filter that runs for requests to the admin listener before the built-in endpoints,
     * to serve more of them (the command-line proxy serves Prometheus {@code /metrics} this
     * way): answer the paths it knows, pass the rest on with {@code proceed}.
     */
    public Builder adminFilter(Filter filter) {
      adminFilters.add(Objects.requireNonNull(filter, "adminFilter"));
      return this;
    }

    /**
     * Logs the proxy's life-cycle lines ({@code proxy_started}, {@code forward_policy},
     * {@code proxy_stopped}) and the access log at debug instead of info; default false. For
     * proxies started by tests, where a line per exchange is noise. Failures and warnings keep
     * their levels.
     */
    public Builder quietLogs(boolean quiet) {
      this.quietLogs = quiet;
      return this;
    }

    /**
     * Whether the proxy serves its plain requests on event loops: a selector thread per core
     * holds the client connections between requests and runs, without a thread of the
     * {@link #concurrency} model, each GET, HEAD or DELETE without a body (or with
     * {@code Content-Length: 0}), each OPTIONS without one to a path (not {@code *}) and without
     * {@code Max-Forwards}, and each POST, PUT or PATCH
     * with a body of up to 16 KiB (and within the {@link #retryBufferBytes retry buffer}), which
     * the loop awaits if it comes after its head, when its listeners implement only
     * {@link ExchangeListener#exchangeCompleted}: in a reverse proxy, one whose route's filters,
     * and the proxy's, are all built-in checks of the head
     * ({@link Filters#accessControl}, {@link Filters#rateLimit}, {@link Filters#authentication}
     * without a checker), which the loop asks, answering itself what one of them answers
     * instead (403, 429, 401, as the threads would), or rewrites of the request's or the response's header fields
     * ({@link Filters#setRequestHeader}, {@link Filters#setResponseHeader} and their
     * {@code add}, {@code remove} and {@code rename} kin); in a forward proxy with such filters
     * alone (its access rules on destinations are checked where the loop connects, on every
     * address a name has; with the cache on, a request to a name under a rule on addresses stays
     * on the threads, which look the name up before a hit is served), one to an absolute
     * {@code http://} URL. Where the {@link #cache} serves the request (with its built-in
     * store), the loop sends what the store answers alone (hits, 304s, ranges; other methods
     * there go to the threads, whose cache invalidates what an unsafe one names; on a route
     * without the cache, the loop invalidates it itself), fetches a miss
     * that need not wait for another request's fetch of its URL, storing what may be stored as it
     * relays it, and revalidates a stale entry (a 304 answered from the store); otherwise it goes
     * upstream, to the origin the request names or, in a reverse proxy, when the pool's endpoints
     * are all plain {@code http} (a host name is looked up on a thread of its own, never on a
     * loop). A head that arrives in pieces is awaited on the loop, under the
     * {@link #requestHeaderTimeout request-header timeout}. Everything else (other requests, bodies chunked, larger or still arriving, CONNECT
     * and {@code https://} targets, cache misses that would wait for another fetch, a pool whose
     * connections are all taken) goes to the
     * concurrency model's threads as without it; the connection comes back to its loop after that
     * exchange if the loop could have served it, and otherwise stays with the threads (a client
     * streaming request bodies is not handed over for each). A proxy whose requests the loops could never
     * serve (other proxy-wide filters, such filters on every route, upstreams reached over {@code https})
     * gives its connections to the threads from the start, and one with a listener that
     * implements more than {@code exchangeCompleted} (listeners stay for the proxy's life) starts
     * no loops at all.
     *
     * <p>Default: on without {@link #tls}, off with it. It takes about a third off the CPU per
     * request of such a path and holds an idle connection in about half the memory (see
     * {@code samples/bench/README.md}, "Event loops"); {@code eventLoop(false)} keeps every
     * connection on the concurrency model's threads. {@link #build()} refuses {@code eventLoop(true)} with TLS on
     * the listener.
     *
     * <pre>{@code
     * ProxyServer.builder().upstream("http://127.0.0.1:8081").eventLoop(false).build().start();
     * }</pre>
     */
    public Builder eventLoop(boolean enabled) {
      this.eventLoop = enabled;
      return this;
    }

    /**
     * Whether a forward proxy also answers {@code GET /_stats} (and the other admin paths) sent
     * in origin-form to the proxy port by a loopback client, as in {@code curl localhost:8080/_stats};
     * default true. Such requests are never forwarded upstream.
     * Only a forward proxy has this choice: {@link #build()} refuses {@code false} on a reverse
     * proxy, whose {@code /_stats} path is its upstream's.
     */
    public Builder statsOnProxyPort(boolean enabled) {
      this.statsOnProxyPort = enabled;
      return this;
    }

    /**
     * The most idle connections kept per upstream {@code host:port} once load falls; default 64.
     * 0 disables pooling. A connection coming back from a request is always kept for reuse, so
     * a busy proxy with more requests in flight than this does not close and reopen connections
     * on every burst; those past the cap are closed, least recently used first, once a second
     * or two unused. With {@link #eventLoop event loops}, each loop keeps its own, up to this
     * many per upstream.
     *
     * @throws IllegalArgumentException unless between 0 and 10000
     */
    public Builder maxIdleUpstreamConnections(int maxIdleUpstreamConnections) {
      this.maxIdleUpstreamConnections =
          Checks.range("maxIdleUpstreamConnections", maxIdleUpstreamConnections, 0, 10_000);
      return this;
    }

    /**
     * The most client connections open at once; default 10000. A connection past it is answered
     * 503 and closed (on a {@link #tls TLS} listener: a fatal {@code internal_error} alert, which
     * the client reports, in place of a 503 it could not read before a handshake).
     *
     * @throws IllegalArgumentException unless between 1 and 1000000
     */
    public Builder maxConnections(int maxConnections) {
      this.maxConnections = Checks.range("maxConnections", maxConnections, 1, 1_000_000);
      return this;
    }

    /**
     * The longest request line accepted; default 8192 bytes. Past it: 414.
     *
     * @throws IllegalArgumentException unless between 256 and 1048576
     */
    public Builder maxRequestLineBytes(int maxRequestLineBytes) {
      this.maxRequestLineBytes =
          Checks.range("maxRequestLineBytes", maxRequestLineBytes, 256, 1024 * 1024);
      return this;
    }

    /**
     * The largest header section accepted, from clients and from upstreams; default 65536
     * bytes. Past it: 431 to a client, 502 for an upstream's response.
     *
     * @throws IllegalArgumentException unless between 1024 and 1048576
     */
    public Builder maxHeaderBytes(int maxHeaderBytes) {
      this.maxHeaderBytes = Checks.range("maxHeaderBytes", maxHeaderBytes, 1024, 1024 * 1024);
      return this;
    }

    /**
     * The most header fields accepted in one message, from clients and from upstreams (as
     * Envoy's limit); default 100. Past it: 431 to a client, 502 for an upstream's response.
     *
     * @throws IllegalArgumentException unless between 1 and 10000
     */
    public Builder maxHeaderCount(int maxHeaderCount) {
      this.maxHeaderCount = Checks.range("maxHeaderCount", maxHeaderCount, 1, 10_000);
      return this;
    }

    /**
     * The largest request body accepted; default unlimited ({@code Long.MAX_VALUE}). A declared
     * Content-Length over it is answered 413 before the body is read; a chunked body that grows
     * past it is cut off with 413 (or a closed connection, if the response has begun).
     *
     * @throws IllegalArgumentException if negative
     */
    public Builder maxRequestBodyBytes(long maxRequestBodyBytes) {
      if (maxRequestBodyBytes < 0) {
        throw new IllegalArgumentException(
            "maxRequestBodyBytes must not be negative (was " + maxRequestBodyBytes + ")");
      }
      this.maxRequestBodyBytes = maxRequestBodyBytes;
      return this;
    }

    /**
     * Makes this a reverse proxy to {@code upstream}: the last, catch-all route, after those
     * added with {@link #route(Route)} (which it does not have to follow in the call order).
     * Without an upstream or a route (the default) the proxy is a forward proxy. Calling it again
     * replaces the pool.
     */
    public Builder upstream(Upstream upstream) {
      this.upstream = Objects.requireNonNull(upstream, "upstream");
      return this;
    }

    /**
     * Adds a route after those already added, making this a reverse proxy. Routes are tried in
     * order and the first match wins; a request no route (nor the {@link #upstream} catch-all)
     * matches is answered 404. A route that could never match, because one before it matches
     * every request it would (the same conditions, or a shorter path prefix), is refused when
     * the options are built.
     */
    public Builder route(Route route) {
      routes.add(Objects.requireNonNull(route, "route"));
      return this;
    }

    /**
     * Replaces the routes added so far with {@code routes}, in order: how a route is taken out
     * of a running proxy's configuration.
     *
     * <pre>{@code
     * ProxyConfig current = proxy.config();
     * proxy.reconfigure(current.toBuilder()
     *     .routes(current.routes().stream().filter(r -> !"canary".equals(r.name())).toList())
     *     .buildConfig());
     * }</pre>
     */
    public Builder routes(List<Route> routes) {
      List<Route> replacing = List.copyOf(Objects.requireNonNull(routes, "routes"));
      this.routes.clear();
      this.routes.addAll(replacing);
      return this;
    }

    /**
     * Adds an RFC 9111 shared cache after the filters (so access control holds on hits too).
     * Without one (the default) nothing is cached.
     */
    public Builder cache(CacheSpec cache) {
      this.cache = Objects.requireNonNull(cache, "cache");
      return this;
    }

    /** Adds a filter after those already added. */
    public Builder filter(Filter filter) {
      filters.add(Objects.requireNonNull(filter, "filter"));
      return this;
    }

    /** Replaces the filters added so far with {@code filters}, in order; see {@link #routes}. */
    public Builder filters(List<Filter> filters) {
      List<Filter> replacing = List.copyOf(Objects.requireNonNull(filters, "filters"));
      this.filters.clear();
      this.filters.addAll(replacing);
      return this;
    }

    /** Adds an exchange listener after those already added. */
    public Builder listener(ExchangeListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * Validates the options and returns a proxy that is ready to {@link ProxyServer#start()}.
     *
     * @throws IllegalStateException if options conflict, if virtual threads are asked for on a
     *     runtime older than Java 21, or if no engine is on the classpath
     * @throws java.io.UncheckedIOException if a certificate or key file the options name cannot
     *     be read (the message names it)
     */
    public ProxyServer build() {
      int feature = Runtime.version().feature();
      if (concurrency.kind() == Concurrency.Kind.VIRTUAL_THREADS && feature < 21) {
        throw new IllegalStateException("virtual threads need Java 21+, running on "
            + Runtime.version() + "; use Concurrency.auto() or boundedPool(...)");
      }
      return EngineLoader.engine().create(buildConfig());
    }

    /**
     * Validates the options like {@link #build()} and returns the configuration without creating
     * a proxy, for {@link ProxyServer#reconfigure(ProxyConfig)}.
     *
     * @throws IllegalStateException if options conflict (a route that can never match among
     *     them, a {@link #requestIdHeader} that is the cache's {@code statusHeader}, ...)
     */
    public ProxyConfig buildConfig() {
      if (cache != null) {
        cache.checkConsistent();
        if (cache.statusHeader() != null && cache.statusHeader().equalsIgnoreCase(requestIdHeader)) {
          throw new IllegalStateException("requestIdHeader " + requestIdHeader + " is the cache's status "
              + "header too, and would hide every HIT and MISS: name another, or set the cache's "
              + "statusHeader to another");
        }
      }
      if (upstreamSslContext != null && upstreamTls != null) {
        throw new IllegalStateException("upstreamSslContext and upstreamTls both configure TLS to "
            + "upstreams; keep one");
      }
      boolean reverse = upstream != null || !routes.isEmpty();
      if (interceptTls != null && reverse) {
        throw new IllegalStateException("interceptTls is for forward proxies; remove it or the "
            + "upstream and routes");
      }
      if (reverse && (anyConnectPort || !connectPorts.isEmpty() || allowPrivateDestinations
          || !statsOnProxyPort)) {
        // A reverse proxy connects only to its configured upstreams, and passes /_stats to them,
        // so these would do nothing.
        throw new IllegalStateException("allowConnectPorts, allowAnyConnectPort, "
            + "allowPrivateDestinations and statsOnProxyPort(false) are for forward proxies (a reverse "
            + "proxy reaches only its upstreams, and its /_stats is theirs); remove them or the "
            + "upstream and routes");
      }
      if (Boolean.TRUE.equals(eventLoop) && tls != null) {
        throw new IllegalStateException("eventLoop(true) serves plain HTTP only: remove it or tls(...)");
      }
      if (reverse && filters.stream().anyMatch(
          filter -> filter instanceof Authentication auth && auth.checksProxyAuthorization())) {
        // Clients of a gateway take it for the origin and never send Proxy-Authorization to one
        // (RFC 9110 §11.7.1): every request was answered 407 (probe embed F1).
        throw new IllegalStateException("Filters.proxyAuthentication() is for forward proxies: "
            + "clients of a reverse proxy send Authorization, not Proxy-Authorization; use "
            + "Filters.authentication() (401) with upstream and routes");
      }
      if (anyConnectPort && !connectPorts.isEmpty()) {
        throw new IllegalStateException("allowAnyConnectPort() allows every port, which makes "
            + "allowConnectPorts(" + connectPorts + ") meaningless; keep one");
      }
      if (requestSpoolDirectory != null && requestSpoolBytes == 0) {
        throw new IllegalStateException("requestSpoolDirectory is set but requestSpoolBytes(0) turns "
            + "spooling off; remove one");
      }
      if (admin != null && admin.getPort() != 0 && admin.getPort() == port && sharesAddress(admin, bindAddress)) {
        throw new IllegalStateException("the admin listener's port " + port + " is the proxy's own port "
            + "on the same address: give admin(...) another port, or 0 for any free one");
      }
      checkPoolNames();
      checkRouteNames();
      checkRoutesReachable();
      return new ProxyConfig(this);
    }

    /** Whether two listeners on one port would collide: one address, or either a wildcard. */
    private static boolean sharesAddress(InetSocketAddress admin, String bindAddress) {
      try {
        InetAddress bind = InetAddress.getByName(bindAddress);
        InetAddress other = admin.getAddress();
        return other == null || other.isAnyLocalAddress() || bind.isAnyLocalAddress() || other.equals(bind);
      } catch (UnknownHostException e) {
        return false;
      }
    }

    /**
     * A name given with {@link Route#name} is the route's in logs, metrics and statistics: one
     * given twice, or {@code default} (the {@link #upstream} catch-all's) beside a catch-all,
     * merged two routes' traffic there (probe o22). Routes left with their pattern as name may
     * share it.
     */
    private void checkRouteNames() {
      Set<String> taken = new HashSet<>();
      if (upstream != null) {
        taken.add("default");
      }
      for (Route route : routes) {
        if (route.named() && taken.contains(route.name())) {
          throw new IllegalStateException("two routes are named " + route.name()
              + (route.name().equals("default") ? " (the upstream(...) catch-all's name)" : "")
              + "; give each route its own name");
        }
        taken.add(route.name());
      }
      for (Route route : routes) {
        if (!route.named() && routes.stream().anyMatch(other -> other != route && other.named()
            && other.name().equals(route.name()))) {
          throw new IllegalStateException("route " + route.name() + " has the name another route was "
              + "given; give each route its own name");
        }
      }
    }

    /**
     * The first match wins, so a route that an earlier one covers is a mistake, and so is a
     * catch-all {@link #upstream} behind a route that matches every request.
     */
    private void checkRoutesReachable() {
      if (upstream != null) {
        for (Route route : routes) {
          if (route.covers(Route.to(upstream))) {
            throw new IllegalStateException("the upstream(...) pool " + upstream.name() + " is never used: route "
                + route.name() + " matches every request first; remove one, or narrow the route");
          }
        }
      }
      for (int i = 1; i < routes.size(); i++) {
        for (int j = 0; j < i; j++) {
          if (routes.get(j).covers(routes.get(i))) {
            throw new IllegalStateException("route " + routes.get(i).name() + " (number " + (i + 1)
                + ") can never match: route " + routes.get(j).name() + " before it matches every "
                + "request it would; remove it, or add it before the wider one");
          }
        }
      }
    }

    /** Routes name their pools; one name for two different pools would merge them. */
    private void checkPoolNames() {
      Map<String, Upstream> pools = new HashMap<>();
      List<Upstream> all = new ArrayList<>();
      routes.forEach(route -> all.add(route.upstream()));
      if (upstream != null) {
        all.add(upstream);
      }
      for (Upstream pool : all) {
        Upstream named = pools.putIfAbsent(pool.name(), pool);
        if (named != null && !named.equals(pool)) {
          throw new IllegalStateException("two different pools are named " + pool.name()
              + "; give each pool its own name with Upstream.name(...)");
        }
      }
    }

  }
}
