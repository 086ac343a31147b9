package dev.ferry.proxy.testkit;

import dev.ferry.proxy.CertificateAuthority;
import dev.ferry.proxy.InterceptTls;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;
import okhttp3.mockwebserver.MockWebServer;

/**
 * A Ferry proxy that records every exchange, and can replay recordings and inject faults. It
 * binds 127.0.0.1 on an ephemeral port and, unlike a production forward proxy, tunnels CONNECT to
 * any port (unless {@code configure(b -> b.allowConnectPorts(...))} names the ports) and reaches
 * loopback destinations, since test origins are local and listen on ephemeral ports. Its start
 * and per-exchange log lines are at debug where the proxy-api allows.
 * {@link FerryProxyExtension} manages one per test class or test; it also works on its own:
 *
 * <pre>{@code
 * try (RecordingProxy proxy = RecordingProxy.forward().start()) {
 *   HttpClient client = proxy.httpClientBuilder().build();
 *   client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:8081/orders")).build(),
 *       HttpResponse.BodyHandlers.ofString());
 *   FerryAssertions.assertThat(proxy.recording()).eventually().hasExchange(e -> e.path("/orders"));
 * }
 * }</pre>
 *
 * <p>In front of OkHttp's MockWebServer, as a reverse proxy (the server starts when the proxy
 * does, if it has not yet):
 *
 * <pre>{@code
 * try (MockWebServer origin = new MockWebServer();
 *      RecordingProxy proxy = RecordingProxy.inFrontOf(origin).start()) {
 *   // send requests to proxy.baseUri()
 * }
 * }</pre>
 *
 * <p>A forward proxy that {@linkplain Builder#interceptHttps() intercepts HTTPS} records
 * {@code https://} exchanges with their headers and bodies, as it does plain ones. Clients must
 * trust its certificate authority: {@link #httpClientBuilder()} does that for
 * {@code java.net.http}; other clients take {@link #sslContext()}, {@link #trustManager()} or
 * {@link #caCertificatePem()}. The proxy verifies the origins' certificates: trust a test
 * origin's CA with {@code configure(b -> b.upstreamTls(UpstreamTls.trusting(caFile)))}.
 *
 * <pre>{@code
 * try (RecordingProxy proxy = RecordingProxy.forward().interceptHttps()
 *     .configure(b -> b.upstreamTls(UpstreamTls.trusting(originCa))).start()) {
 *   HttpClient client = proxy.httpClientBuilder().build();    // trusts the proxy's CA
 *   client.send(HttpRequest.newBuilder(URI.create("https://localhost:8443/orders")).build(),
 *       HttpResponse.BodyHandlers.ofString());
 *   FerryAssertions.assertThat(proxy.recording()).eventually()
 *       .hasExchange(e -> e.url("https://localhost:8443/orders"));
 * }
 * }</pre>
 *
 * <p>Memory is bounded; see {@link Recording} and {@link Builder#maxRecordingBytes(long)}.
 *
 * <p>Size: over 600 lines because its {@link Builder}, nested as {@code RecordingProxy.forward()}
 * returns it, and the client wiring helpers are public API, each with its javadoc.
 */
public final class RecordingProxy implements AutoCloseable {

  private final ProxyServer server;
  private final Recording recording;
  private final FaultFilter faults;
  private final boolean forward;
  private final RecordIfMissing saver;
  private final List<RecordedExchange> loaded;
  /** The hosts whose CONNECT opens an intercepted session rather than a tunnel. */
  private final Predicate<String> intercepted;
  /** The proxy a test's view belongs to; null for the proxy itself. */
  private final RecordingProxy owner;
  private final Set<RecordingProxy> views = ConcurrentHashMap.newKeySet();
  /** Makes opening, closing and counting views one step, for {@link #restartReplay()}. */
  private final ReentrantLock viewLock = new ReentrantLock();
  /** The replay filter; null for a view and for a proxy that does not replay. */
  private final ReplayFilter replay;
  /** The client context trusting the interception CA; made on first use, shared with views. */
  private volatile SSLContext clientContext;
  private volatile List<RecordedExchange> unrecorded = List.of();
  /** Set by the first {@link #close()}, which alone saves a record-if-missing file. */
  private final AtomicBoolean saved = new AtomicBoolean();
  /** Set once the proxy itself was handed out beyond its tests' views (see keepAllTraffic). */
  private volatile boolean keepsAllTraffic;

  private RecordingProxy(Builder b, URI upstream) {
    this.forward = upstream == null;
    this.owner = null;
    this.recording = new Recording(b.maxExchanges, b.maxRecordingBytes, b.overflow);
    Recorder recorder = new Recorder(recording, b.maxBodyBytes, () -> "127.0.0.1:" + port());
    this.faults = new FaultFilter(recorder, b.faults);
    this.saver = b.recordIfMissing == null ? null
        : new RecordIfMissing(b.recordIfMissing, b.recordFailures);
    this.loaded = saver != null ? saver.load() : b.replay != null ? b.replay.exchanges() : null;
    // Test origins are local and listen on ephemeral ports: a forward testkit proxy (bound to
    // loopback) reaches loopback destinations and tunnels CONNECT to any port (unless a
    // customizer names the ports), unlike the engine's default.
    // A line per exchange is noise in a test run: life-cycle and access lines go to debug.
    ProxyServer.Builder proxy = ProxyServer.builder().bindAddress("127.0.0.1").port(0).quietLogs(true);
    if (upstream != null) {
      proxy.upstream(Upstream.of(upstream.toString()));
    } else {
      proxy.allowPrivateDestinations(true);
    }
    // The recorder is the outermost filter so it sees what the client sent and received; faults
    // come next so the recording shows their effect; replay answers last, after user filters.
    proxy.filter(recorder).filter(faults).listener(recorder);
    if (b.intercept) {
      proxy.interceptTls(InterceptTls.of(b.authority()));
    }
    // After interception, so that a customizer's own interceptTls (hosts, a predicate) wins.
    b.customizers.forEach(c -> c.accept(proxy));
    if (upstream == null && !proxy.buildConfig().namesConnectPorts()) {
      // Tunnels go to any port unless a customizer named the ports (the engine's default is 443).
      proxy.allowAnyConnectPort();
    }
    InterceptTls intercepting = proxy.buildConfig().interceptTls().orElse(null);
    this.intercepted = host -> intercepting != null && intercepting.intercepts(host);
    faults.skipConnectsTo(intercepted);
    if (loaded != null) {
      ReplayMatcher matcher = b.matcher != null ? b.matcher
          : forward ? ReplayMatcher.methodAndUrl() : ReplayMatcher.methodAndTarget();
      this.replay = new ReplayFilter(recorder, loaded, matcher, saver != null, b.maxBodyBytes, intercepted);
      proxy.filter(replay);
    } else {
      this.replay = null;
    }
    this.server = proxy.build();
  }

  /** A test's view of a shared proxy: same server and faults, its own recording and rules. */
  private RecordingProxy(RecordingProxy owner) {
    this.owner = owner;
    this.server = owner.server;
    this.recording = owner.recording.view();
    this.faults = owner.faults;
    this.forward = owner.forward;
    this.saver = null;
    this.loaded = null;
    this.intercepted = owner.intercepted;
    this.replay = null;
  }

  /** Returns a builder for a forward proxy: clients use it as their HTTP proxy. */
  public static Builder forward() {
    return new Builder(null);
  }

  /**
   * Returns a builder for a reverse proxy in front of {@code upstream}: clients send ordinary
   * requests to {@link #baseUri()}.
   */
  public static Builder reverse(URI upstream) {
    Objects.requireNonNull(upstream, "upstream");
    return new Builder(() -> upstream);
  }

  /**
   * Returns a builder for a reverse proxy in front of an upstream known only when the proxy
   * starts, such as a server a test starts later: {@code reverse(() -> origin.url("/").uri())}
   * for OkHttp's MockWebServer. The supplier is called at each {@link Builder#start()}.
   */
  public static Builder reverse(Supplier<URI> upstream) {
    return new Builder(Objects.requireNonNull(upstream, "upstream"));
  }

  /**
   * Returns a builder for a reverse proxy in front of OkHttp's MockWebServer, which starts with
   * the proxy if it has not started yet. A server started so through {@link FerryProxyExtension}
   * is closed when the JVM exits; used directly, the test closes it. Needs {@code com.squareup.okhttp3:mockwebserver} on the
   * test classpath (the testkit declares it optional). It is not an overload of
   * {@code reverse}: javac would then need MockWebServer to compile every {@code reverse(uri)}.
   *
   * <pre>{@code
   * static MockWebServer origin = new MockWebServer();
   * @RegisterExtension
   * static FerryProxyExtension proxy = FerryProxyExtension.inFrontOf(origin);
   * }</pre>
   */
  public static Builder inFrontOf(MockWebServer server) {
    return reverse(MockWebServers.upstream(Objects.requireNonNull(server, "server")));
  }

  private RecordingProxy start() {
    server.start();
    return this;
  }

  /**
   * Opens a view of this proxy for one test: it shares the server, and has its own recording
   * (the exchanges that start from now until it is closed) and its own injected faults.
   */
  RecordingProxy openView() {
    viewLock.lock();
    try {
      RecordingProxy view = new RecordingProxy(this);
      views.add(view);
      return view;
    } finally {
      viewLock.unlock();
    }
  }

  /**
   * Starts the replay's recorded sequences over, so that the next test on this shared proxy
   * replays from the start of the file as it would on a proxy of its own; unless a test's view is
   * open, whose sequences this would restart midway: tests that share the proxy concurrently
   * ({@code perClass()}) go on through the sequences together. Checked and done under the lock
   * that opens views, so no test starts in between.
   */
  void restartReplay() {
    viewLock.lock();
    try {
      if (replay != null && views.isEmpty()) {
        replay.restart();
      }
    } finally {
      viewLock.unlock();
    }
  }

  /** The recorded exchanges: for a test's view, those that started while the test ran. */
  public Recording recording() {
    return recording;
  }

  /** The underlying proxy, for its port, stats and configuration. */
  public ProxyServer server() {
    return server;
  }

  /** The address the proxy listens on. */
  public InetSocketAddress address() {
    return server.address();
  }

  /** The port the proxy listens on. */
  public int port() {
    return server.port();
  }

  /** {@code http://127.0.0.1:<port>/}: where a reverse proxy's clients send requests. */
  public URI baseUri() {
    return URI.create("http://127.0.0.1:" + server.port() + "/");
  }

  /** True for a forward proxy, false for a reverse proxy. */
  public boolean isForward() {
    return forward;
  }

  /**
   * Injects a fault into every later exchange whose request matches, until
   * {@link #clearFaults()} (the extension clears a test's faults after it). Rules add up: a
   * request that several select gets all their faults. On a proxy shared by a test class, a
   * fault applies to every test's requests that match.
   *
   * <pre>{@code
   * proxy.inject(e -> e.method("POST").path("/orders"), Fault.status(503));
   * }</pre>
   *
   * @throws IllegalArgumentException if the matcher has conditions beyond the request head
   *     (status, response headers, bodies): a fault is chosen before the request is forwarded
   */
  public RecordingProxy inject(UnaryOperator<ExchangeMatcher> when, Fault fault) {
    faults.add(FaultFilter.Rule.of(when, fault, this));
    return this;
  }

  /** Removes the faults added through this object's {@link #inject}; those set on the builder stay. */
  public void clearFaults() {
    faults.clear(this);
  }

  /**
   * The requests a record-if-missing proxy did not save when it closed, because the proxy
   * answered them itself (a refused connect, a timeout), a fault changed them, or their response
   * body was cut at {@code maxBodyBytes}; empty before {@link #close()} and for other proxies.
   * The same list is logged as a warning, with the reason for each.
   */
  public List<RecordedExchange> unrecorded() {
    return unrecorded;
  }

  /**
   * The certificate authority that signs the certificates this proxy shows clients when it
   * intercepts HTTPS; empty if it does not intercept. Whatever set up interception, this is the
   * authority the running proxy uses.
   */
  public Optional<CertificateAuthority> certificateAuthority() {
    return server.config().interceptTls().map(InterceptTls::authority);
  }

  /**
   * A client {@code SSLContext} that trusts this proxy's interception CA, and only it: for
   * {@code HttpClient.Builder.sslContext}, OkHttp's {@code sslSocketFactory} (with
   * {@link #trustManager()}) or Apache HttpClient's TLS strategy. The same instance every time.
   *
   * @throws IllegalStateException if this proxy does not intercept HTTPS
   */
  public SSLContext sslContext() {
    SSLContext context = owner != null ? owner.sslContext() : clientContext;
    if (context == null) {
      context = requireAuthority("sslContext()").sslContext();
      clientContext = context;
    }
    return context;
  }

  /**
   * A trust manager that trusts this proxy's interception CA, and only it; OkHttp's
   * {@code sslSocketFactory(sslContext().getSocketFactory(), trustManager())} needs both.
   *
   * @throws IllegalStateException if this proxy does not intercept HTTPS
   */
  public X509TrustManager trustManager() {
    return requireAuthority("trustManager()").trustManager();
  }

  /**
   * This proxy's interception CA certificate as PEM text, for clients configured by file:
   * {@code curl --cacert}, a browser, another process's trust store.
   *
   * @throws IllegalStateException if this proxy does not intercept HTTPS
   */
  public String caCertificatePem() {
    return requireAuthority("caCertificatePem()").certificatePem();
  }

  private CertificateAuthority requireAuthority(String method) {
    return certificateAuthority().orElseThrow(() -> new IllegalStateException(method
        + " needs a proxy that intercepts HTTPS: build it with RecordingProxy.forward()"
        + ".interceptHttps() or @FerryTest(interceptHttps = true)"));
  }

  /**
   * True for a CONNECT that this proxy intercepts: its plumbing, not the client's traffic, whose
   * session's requests are recorded as exchanges of their own. A CONNECT it tunnels is not.
   */
  boolean isInterceptedConnect(RecordedExchange exchange) {
    RecordedRequest request = exchange.request();
    return request.method().equals("CONNECT") && intercepted.test(request.host());
  }

  /** A {@link ProxySelector} that sends every request through this proxy. */
  public ProxySelector proxySelector() {
    return ProxySelector.of(server.address());
  }

  /** A {@link Proxy} for this proxy, for {@code URL.openConnection(proxy)} or OkHttp. */
  public Proxy proxy() {
    return new Proxy(Proxy.Type.HTTP, server.address());
  }

  /**
   * A new {@code HttpClient} builder wired to this proxy: through {@link #proxySelector()} for a
   * forward proxy, trusting the proxy's CA ({@link #sslContext()}) when it intercepts HTTPS;
   * unchanged for a reverse proxy (send requests to {@link #baseUri()}).
   */
  public HttpClient.Builder httpClientBuilder() {
    return configure(HttpClient.newBuilder());
  }

  /** Wires an existing {@code HttpClient} builder to this proxy, as {@link #httpClientBuilder()}. */
  public HttpClient.Builder configure(HttpClient.Builder builder) {
    if (!forward) {
      return builder;
    }
    builder.proxy(proxySelector());
    return certificateAuthority().isPresent() ? builder.sslContext(sslContext()) : builder;
  }

  /**
   * Points the JVM-wide proxy system properties at this proxy until the returned handle is
   * closed, which restores them. Prefer {@link #proxySelector()}: system properties affect every
   * thread, so tests that use them must not run in parallel with each other.
   */
  public SystemProxyProperties systemProperties() {
    return SystemProxyProperties.set(server.address());
  }

  /**
   * Stops the proxy, letting exchanges in progress finish for up to two seconds; one held by an
   * injected latency or bandwidth fault ends at once, its connection closed. In
   * record-if-missing mode it then adds the new exchanges, if any, to the HAR file (as it is now:
   * other proxies may have added theirs), leaving out (and reporting in {@link #unrecorded()}) the
   * answers the proxy made itself or a fault changed, and responses whose body was cut at
   * {@code maxBodyBytes}; a second close saves nothing. For a test's view
   * of a shared proxy, ends the view and removes its faults (an exchange one of them holds in a
   * latency or bandwidth fault ends at once, as at the proxy's close); the proxy keeps running.
   *
   * @throws UncheckedIOException if the HAR file cannot be written
   */
  @Override
  public void close() {
    if (owner != null) {
      recording.end();
      faults.end(this);
      owner.closeView(this);
      return;
    }
    faults.close();
    server.stop(Duration.ofSeconds(2));
    if (saver != null && saved.compareAndSet(false, true)) {
      unrecorded = saver.save(recording);
    }
  }

  /**
   * The proxy itself (not a test's view) was handed to code outside a test, a {@code @BeforeAll}
   * method: its recording, which that code may read to the end of the class, keeps every
   * exchange, within the recording's bounds, instead of letting go of finished tests' traffic.
   */
  void keepAllTraffic() {
    keepsAllTraffic = true;
  }

  /**
   * Lets go of finished tests' traffic once no test uses the shared proxy, unless the proxy's own
   * recording is in a user's hands ({@link #keepAllTraffic}).
   */
  private void closeView(RecordingProxy view) {
    viewLock.lock();
    try {
      views.remove(view);
      if (views.isEmpty() && saver == null && !keepsAllTraffic) {
        recording.discardUpTo(view.recording.endOrder());
      }
    } finally {
      viewLock.unlock();
    }
  }

  @Override
  public String toString() {
    return "RecordingProxy{" + (forward ? "forward" : "reverse") + ", port=" + server.port()
        + (certificateAuthority().isPresent() ? ", intercepting HTTPS" : "")
        + (owner != null ? ", test view" : "") + "}";
  }

  /**
   * Configures a {@link RecordingProxy}. Reusable: each {@link #start()} makes a new proxy with
   * its own recording. Configure it from one thread; once configured, {@link #start()} may be
   * called from several threads at once (as {@link FerryProxyExtension} does for concurrent
   * tests), and the proxies it starts share one interception CA.
   *
   * <p>Recording bounds, all checked before bytes are allocated: {@link #maxBodyBytes} per body
   * (1 MiB), {@link #maxRecordingBytes} for all kept bodies together (64 MiB),
   * {@link #maxExchanges} (100,000). What happens past the byte budget is {@link #overflow}.
   */
  public static final class Builder {
    static final long DEFAULT_RECORDING_BYTES = 64L * 1024 * 1024;
    static final int DEFAULT_BODY_BYTES = 1024 * 1024;
    static final int DEFAULT_EXCHANGES = 100_000;

    private final Supplier<URI> upstream;
    private final List<Consumer<ProxyServer.Builder>> customizers = new ArrayList<>();
    private final List<FaultFilter.Rule> faults = new ArrayList<>();
    private int maxBodyBytes = DEFAULT_BODY_BYTES;
    private int maxExchanges = DEFAULT_EXCHANGES;
    private long maxRecordingBytes = DEFAULT_RECORDING_BYTES;
    private RecordingOverflow overflow = RecordingOverflow.DROP_OLDEST;
    private Recording replay;
    private Path recordIfMissing;
    private boolean recordFailures;
    /** Null: the mode's default (see {@link #replayMatcher}). */
    private ReplayMatcher matcher;
    private boolean intercept;
    private volatile CertificateAuthority authority;
    private final ReentrantLock authorityLock = new ReentrantLock();

    private Builder(Supplier<URI> upstream) {
      this.upstream = upstream;
    }

    /**
     * Intercepts HTTPS: CONNECT to any host is decrypted with a certificate issued by a
     * certificate authority generated for this builder (valid for a day, a name unique to it),
     * and each request inside is recorded with its {@code https://} URL, headers and bodies.
     * The first {@link #start()} generates the CA and later ones reuse it, so a client set up to
     * trust it once keeps working with every proxy this builder starts (a proxy per test).
     * Default off: CONNECT tunnels are recorded as one {@code CONNECT host:port} exchange.
     *
     * @throws IllegalStateException on a reverse proxy builder: interception is for forward
     *     proxies
     */
    public Builder interceptHttps() {
      requireForward();
      this.intercept = true;
      return this;
    }

    /**
     * Intercepts HTTPS as {@link #interceptHttps()} does, with certificates issued by
     * {@code authority}: for clients that already trust a CA of your own, such as one loaded with
     * {@link CertificateAuthority#fromPem}.
     *
     * @throws IllegalStateException on a reverse proxy builder
     */
    public Builder interceptHttps(CertificateAuthority authority) {
      requireForward();
      this.authority = Objects.requireNonNull(authority, "authority");
      this.intercept = true;
      return this;
    }

    private void requireForward() {
      if (upstream != null) {
        throw new IllegalStateException("interceptHttps() is for forward proxies: a reverse "
            + "proxy's clients send it plain requests; use RecordingProxy.forward()");
      }
    }

    /**
     * The interception CA, generated on first use. Concurrent tests start their proxies from one
     * builder at once: they wait for the one CA rather than each generating its own, which a
     * client set up to trust the first would refuse.
     */
    private CertificateAuthority authority() {
      CertificateAuthority generated = authority;
      if (generated != null) {
        return generated;
      }
      authorityLock.lock();
      try {
        if (authority == null) {
          authority = CertificateAuthority.generate(Duration.ofDays(1));
        }
        return authority;
      } finally {
        authorityLock.unlock();
      }
    }

    /**
     * Customises the underlying {@link ProxyServer.Builder}: timeouts, limits, extra filters
     * (which run after the recorder), listeners. The port stays ephemeral unless you set it.
     */
    public Builder configure(Consumer<ProxyServer.Builder> customizer) {
      customizers.add(Objects.requireNonNull(customizer, "customizer"));
      return this;
    }

    /**
     * The most bytes kept of each request and response body; longer bodies are flagged
     * truncated. They still pass through whole. Default 1 MiB.
     *
     * @throws IllegalArgumentException if negative
     */
    public Builder maxBodyBytes(int maxBodyBytes) {
      if (maxBodyBytes < 0) {
        throw new IllegalArgumentException("maxBodyBytes must not be negative (was "
            + maxBodyBytes + ")");
      }
      this.maxBodyBytes = maxBodyBytes;
      return this;
    }

    /**
     * The most exchanges the recording holds; older ones are dropped and counted in
     * {@link Recording#dropped()}. Default 100,000.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder maxExchanges(int maxExchanges) {
      if (maxExchanges < 1) {
        throw new IllegalArgumentException("maxExchanges must be at least 1 (was "
            + maxExchanges + ")");
      }
      this.maxExchanges = maxExchanges;
      return this;
    }

    /**
     * The byte budget: the most body bytes the recording holds in memory, all exchanges
     * together, including captures in progress. Bytes are reserved before they are allocated,
     * so a recording cannot exhaust the heap; past the budget the recording does what
     * {@link #overflow} says. Default 64 MiB.
     *
     * @throws IllegalArgumentException if negative
     */
    public Builder maxRecordingBytes(long maxRecordingBytes) {
      if (maxRecordingBytes < 0) {
        throw new IllegalArgumentException("maxRecordingBytes must not be negative (was "
            + maxRecordingBytes + ")");
      }
      this.maxRecordingBytes = maxRecordingBytes;
      return this;
    }

    /** What the recording does past its byte budget; default {@link RecordingOverflow#DROP_OLDEST}. */
    public Builder overflow(RecordingOverflow overflow) {
      this.overflow = Objects.requireNonNull(overflow, "overflow");
      return this;
    }

    /**
     * Answers from this recording instead of the network. An unmatched request gets a 502 whose
     * body names the request and the nearest recorded ones. A matched exchange whose response
     * body was truncated when it was recorded (cut at {@link #maxBodyBytes}, or left out by the
     * tool that wrote the HAR) is not replayed as a prefix, which could pass a test that should
     * fail: the request is answered 502, saying how many of the body's bytes were kept. Record
     * for replay with a large enough {@link #maxBodyBytes}. A matched exchange that got no
     * response is answered 502 too. Bodies replay byte for byte, with their recorded
     * {@code Content-Encoding} (gzip, br...) and trailers.
     */
    public Builder replay(Recording recording) {
      this.replay = Objects.requireNonNull(recording, "recording");
      this.recordIfMissing = null;
      return this;
    }

    /**
     * Answers from this HAR file instead of the network; see {@link #replay(Recording)}.
     *
     * @throws UncheckedIOException if the file cannot be read or is not a HAR log
     */
    public Builder replay(Path har) {
      return replay(Recording.fromHar(har));
    }

    /**
     * Answers from this HAR file when it holds a match; forwards and records the other requests,
     * and on {@link RecordingProxy#close()} writes the file with the new exchanges added. The
     * file need not exist yet: the first run records everything, later runs work offline.
     * Answers the proxy made itself (a 502 because the origin was down, a 504) are not saved,
     * so a failed run is not replayed forever, nor are answers a fault changed, nor responses
     * whose body was cut at {@link #maxBodyBytes} (replay would answer them 502): raise it to
     * record them. {@link RecordingProxy#unrecorded()} lists what was left out, and a warning
     * says why for each. A recorded entry that cannot be replayed (its response body cut, as
     * files saved by earlier versions may hold, or no response) is no match: the request is
     * forwarded, and recorded again, so such a file heals once {@link #maxBodyBytes} is large
     * enough.
     *
     * <p>Proxies of concurrent tests, also in other JVMs (surefire forks), may record into one
     * file: each adds its exchanges to what the file holds when it closes, under a lock on the
     * sibling file {@code <har>.lock}, which is created there and left in place (ignore
     * {@code *.har.lock} in version control). The file is replaced whole, so a run reading it
     * meanwhile never sees it half-written.
     */
    public Builder recordIfMissing(Path har) {
      this.recordIfMissing = Objects.requireNonNull(har, "har");
      this.replay = null;
      return this;
    }

    /**
     * Whether record-if-missing also saves the answers the proxy made itself (502, 504, limit
     * 4xx), to replay an origin's outage on purpose. Default false.
     */
    public Builder recordFailures(boolean recordFailures) {
      this.recordFailures = recordFailures;
      return this;
    }

    /**
     * How replay matches requests; default {@link ReplayMatcher#methodAndUrl()} for a forward
     * proxy and {@link ReplayMatcher#methodAndTarget()} for a reverse one, whose recorded URLs
     * carry the proxy's own ephemeral port.
     */
    public Builder replayMatcher(ReplayMatcher matcher) {
      this.matcher = Objects.requireNonNull(matcher, "matcher");
      return this;
    }

    /**
     * Injects a fault into every exchange whose request matches, for the proxy's lifetime:
     * {@code fault(e -> e.path("/slow"), Fault.latency(Duration.ofMillis(300)))}.
     *
     * @throws IllegalArgumentException if the matcher has conditions beyond the request head
     */
    public Builder fault(UnaryOperator<ExchangeMatcher> when, Fault fault) {
      faults.add(FaultFilter.Rule.of(when, fault, this));
      return this;
    }

    /**
     * Builds and starts a proxy on 127.0.0.1 and an ephemeral port. A reverse proxy's upstream
     * supplier is called now.
     *
     * @throws UncheckedIOException if the record-if-missing or replay file cannot be read
     */
    public RecordingProxy start() {
      URI resolved = null;
      if (upstream != null) {
        resolved = Objects.requireNonNull(upstream.get(), "upstream supplier returned null");
      }
      return new RecordingProxy(this, resolved).start();
    }
  }
}
