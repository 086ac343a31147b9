package dev.ferry.proxy.engine;

import dev.ferry.proxy.ProxyCache;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.ProxyStats;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.admin.AdminEndpoints;
import dev.ferry.proxy.engine.cache.CacheAdmin;
import dev.ferry.proxy.engine.cache.HttpCache;
import dev.ferry.proxy.engine.filter.BuiltInFilters;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.io.ByteBudget;
import dev.ferry.proxy.engine.io.SpoolDirectory;
import dev.ferry.proxy.engine.io.Guard;
import dev.ferry.proxy.engine.io.IoWatchdog;
import dev.ferry.proxy.engine.route.Dispatcher;
import dev.ferry.proxy.engine.route.LiveRoute;
import dev.ferry.proxy.engine.route.Router;
import dev.ferry.proxy.engine.tls.Interception;
import dev.ferry.proxy.engine.tls.ReloadingServerTls;
import dev.ferry.proxy.engine.tls.UpstreamHandshake;
import dev.ferry.proxy.engine.tls.UpstreamTlsContext;
import dev.ferry.proxy.engine.tunnel.TunnelRelay;
import dev.ferry.proxy.engine.upstream.Connector;
import dev.ferry.proxy.engine.upstream.DestinationPolicy;
import dev.ferry.proxy.engine.upstream.DetachedHooks;
import dev.ferry.proxy.engine.upstream.Forwarder;
import dev.ferry.proxy.engine.upstream.HostNames;
import dev.ferry.proxy.engine.upstream.NameLookups;
import dev.ferry.proxy.engine.upstream.UpstreamKey;
import dev.ferry.proxy.engine.upstream.UpstreamPool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * A running proxy: owns the listener, the connection executor, the live connections and the
 * upstream pool, and stops them in order.
 *
 * <p>Shutdown: stop accepting; close connections that wait for a request; let busy ones finish
 * their exchange (they close afterwards) until the grace period ends; then close every socket,
 * which unblocks the remaining tasks; return once all of them have ended.
 *
 * <p>Size: over 600 lines because start, reconfiguration and stop must order the same parts
 * (listener, executor, parker, watchdog, pool, router, cache) under one lock; the parts
 * themselves live in their own classes.
 */
final class RealProxyServer implements ProxyServer {
  private static final Logger log = LoggerFactory.getLogger(RealProxyServer.class);
  /** How long a stop waits, past its grace, for the threads it cut to end. */
  private static final Duration STRAGGLERS = Duration.ofSeconds(2);
  /** Far enough to be for ever, near enough that nanoTime plus it cannot overflow. */
  private static final Duration LONGEST_GRACE = Duration.ofDays(365L * 100);
  private static final long REST_SCAN_NANOS = 250_000_000L;

  private volatile ProxyConfig config;
  /**
   * The proxy-wide filters and the route table, swapped together by {@link #reconfigure}: an
   * exchange takes both from one snapshot, never one config's filters with another's routes.
   */
  private volatile Pipeline pipeline;
  private final Metrics metrics = new Metrics();
  private final ListenerDispatch listeners;
  private final UpstreamPool pool;
  private final IoWatchdog watchdog;
  private final DestinationPolicy destinationPolicy;
  private final Forwarder forwarder;
  private final Dispatcher dispatcher;
  /** The handshake of every connection to an https upstream: requests' and health checks'. */
  private final UpstreamHandshake upstreamHandshake;
  private final boolean insecureUpstreams;
  private final ReloadingServerTls serverTls;
  private final Interception interception;
  private final ErrorPages errorPages;
  private final AccessLog accessLog;
  private final CacheAdmin cacheAdmin;
  private final AdminEndpoints adminEndpoints;
  private AdminServer adminServer;
  private IdleParker idleParker;
  /**
   * Whether the loops run: {@code ProxyConfig.eventLoop()}, and listeners that want only the
   * completed exchange. Listeners are fixed for the proxy's life, and where they want more (the
   * testkit's recorder) the loops could never serve a request: none are started.
   */
  private final boolean runsLoops;
  /** The event loops once started, when {@link #runsLoops}; null otherwise. */
  private volatile EventLoop[] eventLoops;
  /** Where the loops look up upstream host names; null without loops. */
  private volatile NameLookups nameLookups;
  /** Created with the first tunnel, under {@link #guard}. */
  private TunnelRelay tunnelRelay;
  private ScheduledExecutorService healthChecks;
  private Router router;
  private final HttpCache cache;
  private final AtomicLong exchangeIds = new AtomicLong();
  /** Request bodies awaited whole, on all connections together: an eighth of the maximum heap. */
  private final ByteBudget requestBuffers = new ByteBudget(Runtime.getRuntime().maxMemory() / 8);
  /** Disk for request bodies received whole beyond memory, on all connections together. */
  private final SpoolDirectory requestSpool;
  private final Guard guard = new Guard();
  private final LiveConnections connections = new LiveConnections(metrics.activeConnections);
  private final CountDownLatch terminated = new CountDownLatch(1);
  /** Held by start() throughout and by stop() to decide, so stop never sees a half-started proxy. */
  private final ReentrantLock lifecycle = new ReentrantLock();
  /**
   * Changed under {@link #guard}; volatile so that {@link #isStopping}, asked twice per exchange
   * on every connection's thread, reads it without taking that proxy-wide lock.
   */
  private volatile State state = State.NEW;
  /** Set, under the lifecycle lock, when start() failed; the proxy is stopped then. */
  private boolean startFailed;
  private Listener listener;
  private ConnectionExecutor executor;
  private ScheduledExecutorService sweeper;

  private enum State { NEW, RUNNING, STOPPING, STOPPED }

  RealProxyServer(ProxyConfig config) {
    this.config = config;
    this.requestSpool = new SpoolDirectory(config.requestSpoolDirectory().orElse(null), config.requestSpoolBytes());
    // Realised once, here: built-in filters keep per-proxy state (rate-limit buckets).
    this.pipeline = Pipeline.of(BuiltInFilters.realise(config.filters(), config), null, null);
    this.listeners = new ListenerDispatch(config.listeners());
    this.runsLoops = config.eventLoop() && listeners.completionOnly();
    this.watchdog = new IoWatchdog(config.writeTimeout().toNanos(),
        output -> writeTimedOut(output.peer()));
    this.destinationPolicy = new DestinationPolicy(config);
    UpstreamTlsContext upstreamTls = config.upstreamTls().map(UpstreamTlsContext::create).orElse(null);
    SSLContext upstreamSslContext = upstreamTls != null ? upstreamTls.sslContext()
        : config.upstreamSslContext().orElse(null);
    this.insecureUpstreams = upstreamTls != null && !upstreamTls.verifiesHosts();
    this.upstreamHandshake = new UpstreamHandshake(upstreamSslContext, !insecureUpstreams);
    this.pool = new UpstreamPool(config.maxIdleUpstreamConnections(), config.upstreamKeepAlive(),
        new Connector(config.connectTimeout(), upstreamHandshake, watchdog));
    // Built now, so a bad certificate file or a missing BouncyCastle fails build(), not start().
    this.serverTls = config.tls().map(ReloadingServerTls::create).orElse(null);
    this.interception = config.interceptTls().map(Interception::create).orElse(null);
    this.forwarder = new Forwarder(pool, config.upstreamTimeout(), config.maxHeaderBytes(),
        config.maxHeaderCount(), config.retryBufferBytes());
    this.dispatcher = new Dispatcher(forwarder, config.upstreamTimeout(), config.retryBufferBytes(),
        config.connectTimeout());
    // Large bodies go to files where hits go out on platform threads: the pool's, which send them
    // by sendfile, or the event loops', which write the files' pages mapped (LoopTail).
    boolean platformHits = !ConnectionExecutor.runsOnVirtualThreads(config.concurrency()) || runsLoops;
    this.cache = config.cache().map(spec -> new HttpCache(spec, config.isReverse(), platformHits)).orElse(null);
    this.cacheAdmin = cache == null ? null : new CacheAdmin(cache, config.cache().get().purgeClients());
    this.adminEndpoints = new AdminEndpoints(this, cacheAdmin);
    this.errorPages = new ErrorPages(config.errorPages());
    this.accessLog = new AccessLog(config.accessLog(), config.quietLogs());
  }

  @Override
  public ProxyServer start() {
    lifecycle.lock();
    try {
      guard.run(() -> {
        if (state != State.NEW) {
          // A failed start stops the proxy too: the message said "stopped" to one that never ran (probe e24).
          throw new IllegalStateException((state == State.RUNNING ? "proxy was already started"
              : startFailed ? "proxy failed to start" : "proxy was stopped")
              + "; a proxy starts once: build a new one to start again");
        }
      });
      startUnderLock();
    } finally {
      lifecycle.unlock();
    }
    if (insecureUpstreams) {
      log.warn("upstream_tls_insecure certificates and host names of https upstreams are NOT verified");
    }
    if (adminServer != null && !adminServer.address().getAddress().isLoopbackAddress()) {
      // The admin endpoints have no authentication: anyone who can reach them reads the stats
      // and may purge the cache.
      log.warn("admin_exposed address={} the admin endpoints (/_stats, /_dashboard, /metrics, cache purge) "
          + "have no authentication; keep this address behind a firewall", HostNames.authorityText(
          adminServer.address().getAddress(), adminServer.address().getPort()));
    }
    config.cache().filter(spec -> spec.maxSizeBytes() > Runtime.getRuntime().maxMemory() / 2).ifPresent(spec ->
        // Small bodies, and large ones past the off-heap cap, are kept on the heap: a cache this
        // size, once full, may exhaust it (probe c28: 200 MiB in a 64 MiB heap).
        log.warn("cache_larger_than_heap max_size_bytes={} max_heap_bytes={} a full cache may exhaust the heap; "
            + "give the JVM a larger -Xmx or the cache a smaller maxSizeBytes", spec.maxSizeBytes(),
            Runtime.getRuntime().maxMemory()));
    if (interception != null) {
      LeveledLog.log(log, lifecycleLevel(), "interception_ca subject={} sha256={} not_after={}",
          LogValues.quoted(interception.authority().certificate().getSubjectX500Principal().getName()),
          interception.authority().sha256Fingerprint(), interception.authority().certificate().getNotAfter().toInstant());
    }
    LeveledLog.log(log, lifecycleLevel(), "proxy_started address={} mode={} concurrency={} config={}",
        HostNames.authorityText(address().getAddress(), port()), config.isReverse() ? "reverse" : "forward",
        LogValues.of(executor.description()), LogValues.quoted(config));
    return this;
  }

  /**
   * Builds every part, then marks the proxy running just before it accepts. A part that fails to
   * start (a pool configuration the router refuses, an admin port in use) releases every part
   * started before it, the listening socket included, and the proxy is stopped.
   */
  private void startUnderLock() {
    ServerSocket serverSocket;
    try {
      serverSocket = bind();
    } catch (RuntimeException e) {
      startFailed = true;
      throw e;
    }
    try {
      startParts(serverSocket);
    } catch (RuntimeException | Error e) {
      startFailed = true;
      releaseParts();
      closeQuietly(serverSocket);
      markStopped();
      throw e;
    }
  }

  private void startParts(ServerSocket serverSocket) {
    int port = serverSocket.getLocalPort();
    destinationPolicy.listening(serverSocket.getInetAddress(), port);
    executor = ConnectionExecutor.create(config.concurrency(), port);
    if (executor.parksIdleConnections()) {
      try {
        idleParker = new IdleParker(executor, ConnectionExecutor.platformThreads("ferry-parker-" + port + "-"));
      } catch (IOException e) {
        throw new UncheckedIOException("could not open a selector for idle connections: " + e.getMessage(), e);
      }
      idleParker.start();
    }
    if (runsLoops) {
      nameLookups = new NameLookups(ConnectionExecutor.platformThreads("ferry-lookup-" + port + "-"));
      EventLoop[] loops = new EventLoop[Runtime.getRuntime().availableProcessors()];
      ThreadFactory threads = ConnectionExecutor.platformThreads("ferry-loop-" + port + "-");
      try {
        for (int i = 0; i < loops.length; i++) {
          loops[i] = new EventLoop(this, threads);
          loops[i].start();
        }
      } catch (IOException e) {
        closeLoops(loops);
        throw new UncheckedIOException("could not open a selector for the event loops: " + e.getMessage(), e);
      }
      eventLoops = loops;
    }
    watchdog.start(ConnectionExecutor.platformThreads("ferry-watchdog-" + port + "-"));
    sweeper = Executors.newSingleThreadScheduledExecutor(
        ConnectionExecutor.platformThreads("ferry-pool-sweeper-" + port + "-"));
    sweeper.scheduleWithFixedDelay(pool::evictExpired, 1, 1, TimeUnit.SECONDS);
    sweeper.scheduleAtFixedRate(metrics.latency::rotate, 10, 10, TimeUnit.SECONDS);
    if (executor.adjustsThreads()) {
      sweeper.scheduleWithFixedDelay(executor::adjustThreads, PoolSizer.TICK_MILLIS, PoolSizer.TICK_MILLIS,
          TimeUnit.MILLISECONDS);
    }
    if (config.isReverse()) {
      // Checks block on sockets: the router gives them a thread per checked endpoint (see
      // Router). Core threads never time out: with periodic tasks queued, a pool allowed to
      // would shrink to one thread between rounds, and endpoints that hang would delay the rest.
      ScheduledThreadPoolExecutor checks = new ScheduledThreadPoolExecutor(2,
          ConnectionExecutor.platformThreads("ferry-health-" + port + "-"));
      checks.setRemoveOnCancelPolicy(true);
      healthChecks = checks;
      router = new Router(config, upstreamHandshake, healthChecks,
          (routeFilters, previous) -> BuiltInFilters.realise(routeFilters, config, previous));
      router.start();
      pipeline = Pipeline.of(pipeline.filters(), router.current(), cache);
    }
    if (cache != null) {
      InetSocketAddress self = new InetSocketAddress(serverSocket.getInetAddress(), port);
      cache.startBackground(ConnectionExecutor.platformThreads("ferry-cache-refresh-" + port + "-"),
          (request, authority) -> refresh(request, new DetachedHooks(self, destinationPolicy, authority)));
    }
    if (config.admin().isPresent()) {
      adminServer = AdminServer.start(this, config.admin().get(), port);
      destinationPolicy.adminListening(adminServer.address().getAddress(), adminServer.address().getPort());
    }
    listener = new Listener(this, serverSocket, config.maxConnections());
    guard.run(() -> state = State.RUNNING);
    listener.start();
  }

  /**
   * A listening channel's socket bound to {@code address}; on failure the channel is closed, not
   * left open until the JVM exits (probe e25: one descriptor per failed start, port in use).
   */
  static ServerSocket listen(InetSocketAddress address, int backlog) throws IOException {
    ServerSocketChannel channel = ServerSocketChannel.open(family(address.getAddress()));
    try {
      ServerSocket socket = channel.socket();
      socket.setReuseAddress(true);
      socket.bind(address, backlog);
      return socket;
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  private ServerSocket bind() {
    try {
      // A channel's socket, so that accepted connections have channels the idle parker can
      // select on; they are used in blocking mode otherwise.
      InetAddress address = InetAddress.getByName(config.bindAddress());
      return listen(new InetSocketAddress(address, config.port()), 1024);
    } catch (IOException e) {
      markStopped();
      throw new UncheckedIOException("could not bind " + config.bindAddress() + ":" + config.port()
          + ": " + e.getMessage(), e);
    }
  }

  /**
   * The socket's family from the address, so that {@code 0.0.0.0} listens on IPv4 only: a
   * channel of the default family is an IPv6 socket, on which the JDK turns an IPv4 wildcard
   * into {@code ::} and listens on both. (An unresolved address fails to bind either way.)
   */
  static ProtocolFamily family(InetAddress address) {
    return address == null || address instanceof Inet4Address
        ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6;
  }

  @Override
  public void stop(Duration grace) {
    // Checked before the state changes: a grace past Long.MAX_VALUE nanoseconds (FOREVER) threw
    // once the listener was closed, and left the proxy half stopped (probe v31).
    Objects.requireNonNull(grace, "grace");
    Duration bounded = grace.compareTo(LONGEST_GRACE) > 0 ? LONGEST_GRACE
        : grace.isNegative() ? Duration.ZERO : grace;
    stopWithin(bounded);
  }

  private void stopWithin(Duration grace) {
    // A filter or listener of this proxy: waiting here would wait on the caller's own exchange.
    boolean fromOwnExchange = ClientConnection.servesFor(this);
    boolean first;
    lifecycle.lock();
    try {
      first = guard.call(() -> {
        if (state == State.NEW) {
          state = State.STOPPED;
          terminated.countDown();
          return false;
        }
        if (state != State.RUNNING) {
          return false;
        }
        state = State.STOPPING;
        return true;
      });
    } finally {
      lifecycle.unlock();
    }
    if (!first) {
      if (!fromOwnExchange) {
        awaitQuietly();
      }
      return;
    }
    if (fromOwnExchange) {
      // Stopping already (the caller's answer says Connection: close); the rest waits elsewhere.
      Thread stopper = new Thread(() -> drain(grace), "ferry-stop-" + port());
      stopper.start();
      return;
    }
    drain(grace);
  }

  /**
   * Waits up to {@code grace} for the connections to end, closing tunnels on TLS sockets as they
   * come to rest, four times a second (the relay does the same for plain ones).
   */
  private boolean awaitEmptyClosingTunnelsAtRest(Duration grace) {
    long end = System.nanoTime() + grace.toNanos();
    while (true) {
      long left = end - System.nanoTime();
      if (connections.awaitEmpty(Duration.ofNanos(Math.max(0, Math.min(left, REST_SCAN_NANOS))))) {
        return true;
      }
      if (left <= REST_SCAN_NANOS || Thread.currentThread().isInterrupted()) {
        return false;
      }
      connections.snapshot().forEach(ClientConnection::closeIfTunnelAtRest);
    }
  }

  /** The stop after the state has turned to STOPPING: closes, waits up to {@code grace}, releases. */
  private void drain(Duration grace) {
    long started = System.nanoTime();
    boolean drained = false;
    try {
      listener.close();
      connections.close().forEach(ClientConnection::requestClose);
      TunnelRelay resting = guard.call(() -> tunnelRelay);
      if (resting != null) {
        resting.drain();
      }
      if (adminServer != null) {
        adminServer.close();
      }
      drained = awaitEmptyClosingTunnelsAtRest(grace);
      // Stragglers get 2 s after the grace in all, the pool's threads included (the pool's wait
      // came on top, and a stop took the grace and 4 s, probe e14).
      long stragglersUntil = System.nanoTime() + STRAGGLERS.toNanos();
      if (!drained) {
        // Every connection's fate is decided before any is closed: closing one frees its
        // thread, which could take up a queued connection the stop had not looked at yet and
        // take in its request just as the stop looked (CI: a request cut uncounted).
        List<ClientConnection> left = connections.snapshot();
        left.forEach(ClientConnection::cutAtGraceEnd);
        left.forEach(ClientConnection::forceClose);
        if (!connections.awaitEmpty(STRAGGLERS)) {
          // Code of a filter or listener that ignores the interrupt (a blocking socket read does):
          // its connection is closed, and the thread ends when that code returns.
          log.warn("proxy_stop_incomplete port={} connections={} reason=\"a filter or listener ignored the interrupt\"",
              listener.port(), connections.snapshot().size());
        }
      }
      if (idleParker != null) {
        idleParker.close();
      }
      closeLoops(eventLoops);
      TunnelRelay relay = guard.call(() -> tunnelRelay);
      if (relay != null) {
        relay.close();
      }
      try {
        executor.shutdown(Duration.ofNanos(Math.max(0, stragglersUntil - System.nanoTime())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    } finally {
      // Whatever failed above, the rest is released and waiters are let go.
      releaseParts();
      markStopped();
    }
    LeveledLog.log(log, lifecycleLevel(), "proxy_stopped port={} drained={} stop_ms={}", listener.port(), drained,
        (System.nanoTime() - started) / 1_000_000);
  }

  /**
   * Stops the background parts (those {@link #startParts} may have started: the sweeper, health
   * checks and router, the watchdog, cache refreshes, the admin listener, the idle parker) and
   * waits briefly for their threads, so that stop returns with none of them running.
   */
  private void releaseParts() {
    List<ExecutorService> ended = new ArrayList<>();
    if (sweeper != null) {
      sweeper.shutdownNow();
      ended.add(sweeper);
    }
    if (router != null) {
      router.close();
    }
    if (healthChecks != null) {
      healthChecks.shutdownNow();
      ended.add(healthChecks);
    }
    watchdog.stop();
    if (cache != null) {
      cache.close();
    }
    // Closed already by a stop, which drains them first; closing them again is harmless.
    if (adminServer != null) {
      adminServer.close();
    }
    if (idleParker != null) {
      idleParker.close();
    }
    closeLoops(eventLoops);
    if (nameLookups != null) {
      nameLookups.close();
    }
    pool.close();
    for (ExecutorService service : ended) {
      try {
        service.awaitTermination(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    watchdog.awaitStopped(Duration.ofSeconds(1));
  }

  /** The proxy is stopped for good: waiters in {@link #awaitTermination} are let go. */
  private void markStopped() {
    guard.run(() -> state = State.STOPPED);
    terminated.countDown();
  }

  private static void closeQuietly(ServerSocket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Best effort: the proxy failed to start anyway.
    }
  }

  private void awaitQuietly() {
    try {
      terminated.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void reconfigure(ProxyConfig next) {
    Objects.requireNonNull(next, "config");
    lifecycle.lock();
    try {
      if (guard.call(() -> state != State.RUNNING)) {
        throw new IllegalStateException("proxy is not running; reconfigure a started proxy");
      }
      ProxyConfig current = config;
      ConfigChanges.requireOnlyRoutingChanged(current, next);
      if (router != null) {
        Set<UpstreamKey> removed = router.current().endpointKeys();
        router.reconfigure(next);
        Set<UpstreamKey> kept = router.current().endpointKeys();
        removed.removeAll(kept);
        pool.retire(removed, kept);
      }
      pipeline = Pipeline.of(BuiltInFilters.realise(next.filters(), next, pipeline.filters()),
          router == null ? null : router.current(), cache);
      config = next;
    } finally {
      lifecycle.unlock();
    }
    log.info("proxy_reconfigured routes={} filters={}", next.routes().size()
        + (next.upstream().isPresent() ? 1 : 0), next.filters().size());
  }

  /**
   * A background cache refresh: routed like a client's request in a reverse proxy, forwarded
   * to the origin it names in a forward one.
   */
  private Response refresh(Request request, DetachedHooks hooks) throws IOException {
    if (router == null) {
      return forwarder.forward(request, hooks);
    }
    LiveRoute route = router.current().match(request).orElseThrow(() ->
        new HttpFailureException(ProxyFailure.NO_ROUTE, "no route matches " + request.path()));
    return dispatcher.dispatch(route, request, new DetachedDispatchHooks(hooks));
  }

  @Override
  public void awaitTermination() throws InterruptedException {
    terminated.await();
  }

  @Override
  public int port() {
    return startedListener().port();
  }

  @Override
  public InetSocketAddress address() {
    return startedListener().address();
  }

  @Override
  public ProxyConfig config() {
    return config;
  }

  @Override
  public ProxyStats stats() {
    return metrics.snapshot(pool, router, executor, requestBuffers.taken(), requestSpool.taken());
  }

  @Override
  public Optional<ProxyCache> cache() {
    return Optional.ofNullable(cache);
  }

  /** The cache stage, or null without one. */
  HttpCache httpCache() {
    return cache;
  }

  @Override
  public String toString() {
    return "ProxyServer{" + (listener == null ? "not started" : listener.address()) + ", " + config + "}";
  }

  private Listener startedListener() {
    if (listener == null) {
      throw new IllegalStateException("proxy has not been started; call start() first");
    }
    return listener;
  }

  /** Registers a new connection; false if the proxy is stopping and it must be turned away. */
  boolean register(ClientConnection connection) {
    return connections.add(connection);
  }

  void unregister(ClientConnection connection) {
    connections.remove(connection);
    listener.releasePermit();
  }

  boolean isStopping() {
    return state != State.RUNNING;
  }

  /** The filter chain, with built-in filters realised by the engine, and the routes it goes with. */
  Pipeline pipeline() {
    return pipeline;
  }

  ProxyConfig configuration() {
    return config;
  }

  Metrics metrics() {
    return metrics;
  }

  ListenerDispatch listeners() {
    return listeners;
  }

  Forwarder forwarder() {
    return forwarder;
  }

  /** Memory for request bodies awaited whole before their exchange; see ClientConnection. */
  ByteBudget requestBuffers() {
    return requestBuffers;
  }

  /** Disk for request bodies received whole beyond memory; see RequestArrival. */
  SpoolDirectory requestSpool() {
    return requestSpool;
  }

  IoWatchdog watchdog() {
    return watchdog;
  }

  DestinationPolicy destinationPolicy() {
    return destinationPolicy;
  }

  /** Counts and logs a write that made no progress for {@code writeTimeout}: a socket's, a tunnel's. */
  void writeTimedOut(Object peer) {
    metrics.writeTimeouts.increment();
    log.info("write_timeout peer={} timeout_ms={}", peer, config.writeTimeout().toMillis());
  }

  @Override
  public Optional<InetSocketAddress> adminAddress() {
    startedListener();
    return Optional.ofNullable(adminServer).map(AdminServer::address);
  }

  /** Info, or debug for a proxy asked for quiet logs (one started by a test). */
  Level lifecycleLevel() {
    return config.quietLogs() ? Level.DEBUG : Level.INFO;
  }

  /** TLS on the listener; null for plain HTTP. */
  ReloadingServerTls serverTls() {
    return serverTls;
  }

  /** HTTPS interception of CONNECT; null when tunnels are relayed blind. */
  Interception interception() {
    return interception;
  }

  /**
   * The relay for plain tunnels, started with the first tunnel (most proxies never see one).
   * Null if the proxy stopped before it was needed or no selector could be opened: tunnels then
   * run on threads.
   */
  TunnelRelay tunnelRelay() {
    return guard.call(() -> {
      if (tunnelRelay == null && state == State.RUNNING) {
        try {
          TunnelRelay relay = new TunnelRelay(
              ConnectionExecutor.platformThreads("ferry-tunnels-" + listener.port() + "-"),
              config.idleTimeout().toNanos(), config.writeTimeout().toNanos());
          relay.start();
          tunnelRelay = relay;
        } catch (IOException e) {
          log.warn("tunnel_relay_unavailable error={} tunnels=threads", LogValues.quoted(e.getMessage()));
        }
      }
      return tunnelRelay;
    });
  }

  /** The blocking path's upstream pool, which also counts the event loops' connections. */
  UpstreamPool upstreamPool() {
    return pool;
  }

  /** The event loops new connections go to; null when the configuration runs none. */
  EventLoop[] eventLoops() {
    return eventLoops;
  }

  NameLookups nameLookups() {
    return nameLookups;
  }

  /**
   * The event loop that holds the connection {@code connectionId} while it waits for a request
   * (one per connection, chosen round robin); null when the configuration runs none.
   */
  EventLoop eventLoop(long connectionId) {
    EventLoop[] loops = eventLoops;
    return loops == null ? null : loops[(int) (connectionId % loops.length)];
  }

  private static void closeLoops(EventLoop[] loops) {
    if (loops != null) {
      for (EventLoop loop : loops) {
        if (loop != null) {
          loop.close();
        }
      }
    }
  }

  /** Holds idle connections without a thread; null for a model that does not park them. */
  IdleParker idleParker() {
    return idleParker;
  }

  ErrorPages errorPages() {
    return errorPages;
  }

  AccessLog accessLog() {
    return accessLog;
  }

  /** PURGE and the {@code /_cache/...} endpoints; null without a cache. */
  CacheAdmin cacheAdmin() {
    return cacheAdmin;
  }

  AdminEndpoints adminEndpoints() {
    return adminEndpoints;
  }

  /** The route table of a reverse proxy; null for a forward proxy or before start. */
  Router router() {
    return router;
  }

  Dispatcher dispatcher() {
    return dispatcher;
  }

  ConnectionExecutor executor() {
    return executor;
  }

  long nextExchangeId() {
    return exchangeIds.incrementAndGet();
  }
}
