package dev.ferry.proxy.testkit;

import dev.ferry.proxy.CertificateAuthority;
import dev.ferry.proxy.ProxyServer;
import java.io.Closeable;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.platform.commons.support.AnnotationSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A JUnit 5 extension that runs a {@link RecordingProxy} for a test class or for each test.
 *
 * <pre>{@code
 * class OrdersClientTest {
 *   @RegisterExtension
 *   static FerryProxyExtension proxy = FerryProxyExtension.forward();
 *
 *   @Test
 *   void postsOrders(RecordingProxy proxy) throws Exception {
 *     OrdersClient client = new OrdersClient(proxy.httpClientBuilder().build());
 *     client.place(new Order("sku-1"));
 *     FerryAssertions.assertThat(proxy.recording()).eventually()
 *         .hasExchange(e -> e.method("POST").path("/orders"));
 *   }
 * }
 * }</pre>
 *
 * <p><b>Isolation.</b> Each test sees only its own exchanges: the {@link RecordingProxy} and
 * {@link Recording} parameters a test method receives are that test's, kept in JUnit's
 * {@link ExtensionContext.Store}. By default ({@link ProxyLifecycle#AUTO}) a static extension
 * runs one proxy for the class while tests run one at a time, each test seeing the exchanges that
 * started during it (so a request a test sends without waiting for it, reaching the proxy after
 * that test ended, counts in the next one; failures then say so), and gives each test that runs
 * concurrently a proxy of its own, unless the
 * class proxy was injected into a {@code @BeforeAll} method (or the constructor), whose clients
 * stay wired to it: then concurrent tests share it (see {@link ProxyLifecycle#AUTO}). An instance
 * field (unless the class is {@code @TestInstance(PER_CLASS)}, whose one instance makes it a
 * class-wide extension like a static one), or {@link #perTest()}, runs a proxy per test;
 * {@link #perClass()} shares one proxy even
 * with concurrent tests. A {@code @Nested} class runs on its enclosing class's proxy. A class
 * proxy injected into {@code @BeforeAll} keeps the whole class's exchanges in its own recording;
 * otherwise it lets go of each test's exchanges when the test ends. On a class proxy that replays,
 * each test replays a recorded sequence from its start, as on a proxy of its own (unless tests
 * share the proxy concurrently; see {@link #perClass()}). The shortcut methods on the extension
 * itself ({@link #recording()}, {@link #current()}...) answer for the test running on the
 * calling thread.
 *
 * <p>Bounds: the same as {@link RecordingProxy.Builder}: {@link #maxBodyBytes} (1 MiB per body),
 * {@link #maxRecordingBytes} (64 MiB for all bodies), {@link #maxExchanges} (100,000).
 *
 * <p>Configure the extension where it is declared: once it has started a proxy, its
 * configuration methods throw {@link IllegalStateException}, as a change then would reach only
 * later tests. To change the running test's proxy, use {@link #inject} for a fault.
 * It never touches JVM-global proxy settings: wire clients with
 * {@link RecordingProxy#httpClientBuilder()} or {@link RecordingProxy#proxySelector()}.
 */
public final class FerryProxyExtension implements BeforeAllCallback, AfterAllCallback,
    BeforeEachCallback, AfterEachCallback, ParameterResolver {
  private static final Logger log = LoggerFactory.getLogger(FerryProxyExtension.class);
  private static final String CLASS_PROXY = "classProxy";
  private static final String TEST_PROXY = "testProxy";
  /** Which of these extensions run for a context, keyed by its unique id; see supportsParameter. */
  private static final ExtensionContext.Namespace REGISTERED =
      ExtensionContext.Namespace.create(FerryProxyExtension.class, "registered");
  /** Set when the class proxy was injected outside a test (@BeforeAll, a constructor). */
  private static final String CLASS_PROXY_WIRED = "classProxyWired";
  /** How long {@link #failOnUnexpectedTraffic} lets exchanges still in progress end; as long as a proxy's stop. */
  private static final Duration SETTLE = Duration.ofSeconds(2);

  private final RecordingProxy.Builder builder;
  private ProxyLifecycle lifecycle;
  private ExchangeMatcher expected;
  /** An index of the test proxies and views in use, for the shortcut methods; the Store owns them. */
  private final Set<RecordingProxy> running = ConcurrentHashMap.newKeySet();
  /** Class proxies, from the class's beforeAll to its afterAll. */
  private final Set<RecordingProxy> classProxies = ConcurrentHashMap.newKeySet();
  /** Class proxies {@link #current()} handed out before their tests: clients are wired to them. */
  private final Set<RecordingProxy> wiredOutsideTests = ConcurrentHashMap.newKeySet();
  private final ThreadLocal<RecordingProxy> onThread = new ThreadLocal<>();
  private final AtomicBoolean warnedOverlap = new AtomicBoolean();
  /** Set once a proxy has started: from then on the configuration methods refuse changes. */
  private volatile boolean started;

  /** Used by {@link FerryTest}: a proxy configured by the annotation. */
  public FerryProxyExtension() {
    this.builder = null;
  }

  private FerryProxyExtension(RecordingProxy.Builder builder) {
    this.builder = builder;
  }

  /** Returns an extension running a forward proxy: clients use it as their HTTP proxy. */
  public static FerryProxyExtension forward() {
    return new FerryProxyExtension(RecordingProxy.forward());
  }

  /** Returns an extension running a reverse proxy in front of {@code upstream}. */
  public static FerryProxyExtension reverse(URI upstream) {
    return new FerryProxyExtension(RecordingProxy.reverse(upstream));
  }

  /**
   * Returns an extension running a reverse proxy in front of an upstream known when the proxy
   * starts; see {@link RecordingProxy#reverse(Supplier)}.
   */
  public static FerryProxyExtension reverse(Supplier<URI> upstream) {
    return new FerryProxyExtension(RecordingProxy.reverse(upstream));
  }

  /**
   * Returns an extension running a reverse proxy in front of OkHttp's MockWebServer; see
   * {@link RecordingProxy#inFrontOf(MockWebServer)}.
   */
  public static FerryProxyExtension inFrontOf(MockWebServer server) {
    return new FerryProxyExtension(RecordingProxy.inFrontOf(server));
  }

  /** Customises the underlying {@link ProxyServer.Builder}; see {@link RecordingProxy.Builder#configure}. */
  public FerryProxyExtension configure(Consumer<ProxyServer.Builder> customizer) {
    configurable("configure").configure(customizer);
    return this;
  }

  /** The most bytes kept of each body; default 1 MiB. See {@link RecordingProxy.Builder#maxBodyBytes}. */
  public FerryProxyExtension maxBodyBytes(int maxBodyBytes) {
    configurable("maxBodyBytes").maxBodyBytes(maxBodyBytes);
    return this;
  }

  /** The most exchanges held; default 100,000. See {@link RecordingProxy.Builder#maxExchanges}. */
  public FerryProxyExtension maxExchanges(int maxExchanges) {
    configurable("maxExchanges").maxExchanges(maxExchanges);
    return this;
  }

  /** The byte budget; default 64 MiB. See {@link RecordingProxy.Builder#maxRecordingBytes}. */
  public FerryProxyExtension maxRecordingBytes(long maxRecordingBytes) {
    configurable("maxRecordingBytes").maxRecordingBytes(maxRecordingBytes);
    return this;
  }

  /** What happens past the byte budget; see {@link RecordingProxy.Builder#overflow}. */
  public FerryProxyExtension overflow(RecordingOverflow overflow) {
    configurable("overflow").overflow(overflow);
    return this;
  }

  /**
   * Intercepts HTTPS with a CA generated once for this extension, recording {@code https://}
   * exchanges; see {@link RecordingProxy.Builder#interceptHttps()}. Clients trust it through
   * {@link RecordingProxy#httpClientBuilder()} or {@link RecordingProxy#sslContext()}.
   */
  public FerryProxyExtension interceptHttps() {
    configurable("interceptHttps").interceptHttps();
    return this;
  }

  /**
   * Intercepts HTTPS with certificates issued by {@code authority}; see
   * {@link RecordingProxy.Builder#interceptHttps(CertificateAuthority)}.
   */
  public FerryProxyExtension interceptHttps(CertificateAuthority authority) {
    configurable("interceptHttps").interceptHttps(authority);
    return this;
  }

  /** Runs a new proxy for each test, even when registered on a static field. */
  public FerryProxyExtension perTest() {
    requireUnstarted("perTest");
    lifecycle = ProxyLifecycle.PER_TEST;
    return this;
  }

  /**
   * Runs one proxy for the test class even for concurrent tests; needs a static field. A replayed
   * sequence (several recordings of one request) starts over for each test that starts while no
   * other runs; tests that overlap go on through it together, each getting the next answer.
   */
  public FerryProxyExtension perClass() {
    requireUnstarted("perClass");
    lifecycle = ProxyLifecycle.PER_CLASS;
    return this;
  }

  /** Answers from a HAR file instead of the network; see {@link RecordingProxy.Builder#replay(Path)}. */
  public FerryProxyExtension replay(Path har) {
    configurable("replay").replay(har);
    return this;
  }

  /** Replays a HAR file and records what it lacks; see {@link RecordingProxy.Builder#recordIfMissing}. */
  public FerryProxyExtension recordIfMissing(Path har) {
    configurable("recordIfMissing").recordIfMissing(har);
    return this;
  }

  /** Whether record-if-missing saves the proxy's own failure answers; default false. */
  public FerryProxyExtension recordFailures(boolean recordFailures) {
    configurable("recordFailures").recordFailures(recordFailures);
    return this;
  }

  /**
   * How replay matches requests; default method and URL for a forward proxy, method and target
   * for a reverse one (see {@link RecordingProxy.Builder#replayMatcher}).
   */
  public FerryProxyExtension replayMatcher(ReplayMatcher matcher) {
    configurable("replayMatcher").replayMatcher(matcher);
    return this;
  }

  /**
   * Injects a fault into every exchange whose request matches, in every test.
   *
   * @throws IllegalStateException once the extension has started a proxy: for the running test,
   *     use {@link #inject} instead
   */
  public FerryProxyExtension fault(UnaryOperator<ExchangeMatcher> when, Fault fault) {
    configurable("fault").fault(when, fault);
    return this;
  }

  /**
   * Fails a test, after it ran, if a replaying proxy met a request it had no recording for
   * (like WireMock's {@code failOnUnmatchedRequests}).
   */
  public FerryProxyExtension failOnUnexpectedTraffic() {
    return failOnUnexpectedTraffic(e -> e);
  }

  /**
   * Fails a test, after it ran, if any of its exchanges does not match {@code expected} or was an
   * unmatched replay; the failure lists them. Exchanges still in progress when the test ends are
   * given up to two seconds to finish, and count. Each exchange is judged as it is recorded, so
   * one the recording later drops to stay within its bounds ({@link #maxExchanges}, the byte
   * budget), or that the test clears from its recording, still fails the test.
   *
   * <p>With {@link #interceptHttps()}, the CONNECT that opens an intercepted session is the
   * proxy's plumbing and is not judged, whatever its answer (as no fault applies to it): the
   * requests inside the session are, with their {@code https://} URLs. A CONNECT the proxy
   * tunnels without decrypting is judged like any request, since it is all the proxy sees of
   * that traffic: {@code e -> e.pathStartsWith("/api/")} refuses it (it has no path), while
   * {@code e -> e.host("api.example")} accepts a tunnel to that host.
   */
  public FerryProxyExtension failOnUnexpectedTraffic(UnaryOperator<ExchangeMatcher> expected) {
    requireUnstarted("failOnUnexpectedTraffic");
    this.expected = ExchangeMatcher.build(expected);
    return this;
  }

  /**
   * The proxy of the test running on this thread (for a shared proxy, that test's view of it).
   * Outside a test, while no test runs: the class's proxy, if exactly one class has one (in a
   * {@code @BeforeAll} method, or while a framework prepares the tests, as Spring evaluates a
   * {@code @DynamicPropertySource} supplier: {@code () -> ferry.baseUri().toString()}). Clients
   * wired to it then are recorded in the tests' recordings, as when the proxy is taken as a
   * {@code @BeforeAll} parameter.
   *
   * @throws IllegalStateException if no test runs on this thread and not exactly one proxy is
   *     in use (take a {@link RecordingProxy} parameter instead)
   */
  public RecordingProxy current() {
    RecordingProxy mine = onThread.get();
    if (mine != null) {
      return mine;
    }
    List<RecordingProxy> proxies = List.copyOf(running);
    List<RecordingProxy> classes = List.copyOf(classProxies);
    if (proxies.isEmpty() && classes.size() == 1) {
      // Before the tests: it refused (probe t28), though the class proxy was the one in use.
      RecordingProxy wired = classes.get(0);
      wiredOutsideTests.add(wired);
      wired.keepAllTraffic();
      return wired;
    }
    if (proxies.size() != 1) {
      throw new IllegalStateException(proxies.isEmpty()
          ? "no Ferry proxy is in use by a test; it starts before each test (or before all)"
          : proxies.size() + " Ferry proxies are in use (parallel tests) and none by this thread;"
              + " take a RecordingProxy parameter in the test method instead");
    }
    return proxies.get(0);
  }

  /** The current test's recording; see {@link #current()}. */
  public Recording recording() {
    return current().recording();
  }

  /** An {@code HttpClient} builder wired to the current test's proxy; see {@link #current()}. */
  public HttpClient.Builder httpClientBuilder() {
    return current().httpClientBuilder();
  }

  /** The current test's proxy's {@code http://127.0.0.1:<port>/}; see {@link #current()}. */
  public URI baseUri() {
    return current().baseUri();
  }

  /** Injects a fault until the current test ends; see {@link RecordingProxy#inject}. */
  public RecordingProxy inject(UnaryOperator<ExchangeMatcher> when, Fault fault) {
    return current().inject(when, fault);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    register(context);
    if (lifecycle(context) != ProxyLifecycle.PER_TEST && !sharesEnclosingProxy(context)) {
      RecordingProxy proxy = start(context);
      store(context).put(CLASS_PROXY, proxy);
      classProxies.add(proxy);
    }
  }

  /**
   * A {@code @Nested} class runs on its enclosing class's proxy (the store's lookup finds it), so
   * that clients wired to it in the outer {@code @BeforeAll} reach the nested tests' recordings;
   * unless the nested class has a {@link FerryTest} of its own, which configures another proxy,
   * whether the enclosing class's came from {@code @FerryTest} or from
   * {@code @RegisterExtension} (JUnit then runs the nested class with that instance, not one of
   * its own; the nested annotation was ignored, probe t22).
   */
  private boolean sharesEnclosingProxy(ExtensionContext context) {
    return store(context).get(CLASS_PROXY) != null
        && AnnotationSupport.findAnnotation(context.getRequiredTestClass(), FerryTest.class).isEmpty();
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    register(context);
    RecordingProxy shared = store(context).get(CLASS_PROXY, RecordingProxy.class);
    ProxyLifecycle lifecycle = lifecycle(context);
    boolean concurrent = runsConcurrently(context);
    // A client wired in @BeforeAll sends to the class proxy: a proxy of the test's own would
    // leave that traffic where no test sees it, so AUTO then shares the class proxy as PER_CLASS.
    boolean wired = store(context).get(CLASS_PROXY_WIRED) != null
        || shared != null && wiredOutsideTests.contains(shared);
    boolean own = shared == null || lifecycle == ProxyLifecycle.PER_TEST
        || (lifecycle == ProxyLifecycle.AUTO && concurrent && !wired);
    if (!own && concurrent && warnedOverlap.compareAndSet(false, true)) {
      warnOverlap(context, lifecycle);
    }
    if (!own) {
      // A recorded sequence replays from its start in each test, as on a proxy of the test's own.
      shared.restartReplay();
    }
    RecordingProxy proxy = own ? start(context) : shared.openView();
    judgeTraffic(proxy);
    store(context).put(TEST_PROXY, proxy);
    running.add(proxy);
    onThread.set(proxy);
  }

  private static void warnOverlap(ExtensionContext context, ProxyLifecycle lifecycle) {
    String name = context.getRequiredTestClass().getName();
    if (lifecycle == ProxyLifecycle.PER_CLASS) {
      log.warn("Ferry proxy: tests of {} run concurrently on one PER_CLASS proxy, so each test's "
          + "recording also holds the exchanges of the tests that overlap it; ProxyLifecycle.AUTO "
          + "or PER_TEST gives each concurrent test a proxy of its own", name);
    } else {
      log.warn("Ferry proxy: tests of {} run concurrently, but the class's proxy was injected "
          + "before its tests (@BeforeAll or a constructor), where clients may be wired to it; "
          + "they share that proxy as with perClass(), so each test's recording also holds the "
          + "exchanges of the tests that overlap it. Wire clients in the test (or @BeforeEach) "
          + "from its own RecordingProxy for a proxy per concurrent test", name);
    }
  }

  /**
   * JUnit reports the configured execution mode even with parallel execution switched off
   * ({@code junit.jupiter.execution.parallel.enabled} false, its default), when every test runs
   * one at a time whatever the mode says.
   */
  private static boolean runsConcurrently(ExtensionContext context) {
    return context.getExecutionMode() == ExecutionMode.CONCURRENT
        && context.getConfigurationParameter("junit.jupiter.execution.parallel.enabled", Boolean::parseBoolean)
            .orElse(false);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    RecordingProxy proxy = context.getStore(namespace()).remove(TEST_PROXY, RecordingProxy.class);
    onThread.remove();
    if (proxy == null) {
      return;
    }
    running.remove(proxy);
    AssertionError unexpected;
    try {
      unexpected = unexpectedTraffic(proxy);
    } finally {
      proxy.close();
      report(context, proxy);
    }
    if (unexpected != null) {
      throw unexpected;
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    RecordingProxy proxy = context.getStore(namespace()).remove(CLASS_PROXY, RecordingProxy.class);
    if (proxy != null) {
      classProxies.remove(proxy);
      wiredOutsideTests.remove(proxy);
      proxy.close();
      report(context, proxy);
    }
  }

  /**
   * Supports {@link RecordingProxy} and {@link Recording} parameters. With several of these
   * extensions in a class (a reverse proxy per service), only the first registered answers, to
   * refuse such a parameter with a message that says what to use instead: each answering left
   * JUnit's own "multiple competing ParameterResolvers", which names no remedy (probe testkit2 F2).
   */
  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    List<FerryProxyExtension> registered = registered(context);
    return (type == RecordingProxy.class || type == Recording.class)
        && (registered.size() < 2 || registered.get(0) == this);
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    int registered = registered(context).size();
    if (registered > 1) {
      throw new ParameterResolutionException(registered + " Ferry proxy extensions run for "
          + context.getDisplayName() + ", and a " + parameter.getParameter().getType().getSimpleName()
          + " parameter does not say which proxy it means: use the extensions' fields instead "
          + "(orders.current(), orders.recording(), orders.baseUri())");
    }
    RecordingProxy proxy = find(context).orElseThrow(() -> noProxy(parameter, context));
    if (store(context).get(TEST_PROXY) == null) {
      store(context).put(CLASS_PROXY_WIRED, Boolean.TRUE);
      proxy.keepAllTraffic();
    }
    return parameter.getParameter().getType() == Recording.class ? proxy.recording() : proxy;
  }

  /**
   * Names the kind of method that asked for a proxy where none runs: every method that was not a
   * constructor used to be called "@BeforeAll", also an {@code @AfterAll} one (probe t25). With a
   * proxy per test there is no class recording for {@code @AfterAll} to read.
   */
  private static ParameterResolutionException noProxy(ParameterContext parameter,
      ExtensionContext context) {
    Executable executable = parameter.getDeclaringExecutable();
    boolean afterAll = executable.isAnnotationPresent(AfterAll.class);
    String kind = executable instanceof Constructor ? "constructor"
        : executable.isAnnotationPresent(BeforeAll.class) ? "@BeforeAll method " + executable.getName()
        : afterAll ? "@AfterAll method " + executable.getName()
        : "method " + executable.getName();
    String advice = afterAll
        ? "with a proxy per test, each test's proxy has stopped by then and there is no class "
            + "recording to read; read each test's recording in the test or an @AfterEach method, "
            + "or have one proxy for the class (lifecycle = PER_CLASS) and take it in a @BeforeAll "
            + "method too, so that its recording keeps the class's traffic for @AfterAll"
        : "with a proxy per test, the proxy starts before each test; take it as a parameter of "
            + "the test or of a @BeforeEach method, or have one proxy for the class "
            + "(lifecycle = PER_CLASS)";
    return new ParameterResolutionException("no Ferry proxy is running for "
        + context.getDisplayName() + " when its " + kind + " runs: " + advice);
  }

  /** Notes that this extension runs for {@code context} (a class's or a test's). */
  private void register(ExtensionContext context) {
    @SuppressWarnings("unchecked")
    List<FerryProxyExtension> registered = context.getStore(REGISTERED).getOrComputeIfAbsent(
        context.getUniqueId(), id -> new CopyOnWriteArrayList<FerryProxyExtension>(), List.class);
    if (!registered.contains(this)) {
      registered.add(this);
    }
  }

  /** The extensions that run for {@code context}, in the order JUnit called them. */
  @SuppressWarnings("unchecked")
  private static List<FerryProxyExtension> registered(ExtensionContext context) {
    List<FerryProxyExtension> registered = context.getStore(REGISTERED).get(context.getUniqueId(), List.class);
    return registered == null ? List.of() : registered;
  }

  private Optional<RecordingProxy> find(ExtensionContext context) {
    ExtensionContext.Store store = store(context);
    RecordingProxy proxy = store.get(TEST_PROXY, RecordingProxy.class);
    return Optional.ofNullable(proxy != null ? proxy : store.get(CLASS_PROXY, RecordingProxy.class));
  }

  /** Keyed by this extension instance, so two extensions in one class keep separate proxies. */
  private ExtensionContext.Store store(ExtensionContext context) {
    return context.getStore(namespace());
  }

  private ExtensionContext.Namespace namespace() {
    return ExtensionContext.Namespace.create(FerryProxyExtension.class, this);
  }

  /** The builder, for configuration method {@code method}; see {@link #requireUnstarted}. */
  private RecordingProxy.Builder configurable(String method) {
    RecordingProxy.Builder configured = programmatic();
    requireUnstarted(method);
    return configured;
  }

  /**
   * Refuses to reconfigure the extension once it has started a proxy: the change would miss the
   * running test and reach only later ones, which then depend on test order (probe t25).
   */
  private void requireUnstarted(String method) {
    if (started) {
      throw new IllegalStateException(method + "(...) configures the extension, which has "
          + "already started a proxy: it would change only the tests that run after this one. "
          + "Configure the extension where it is declared; for the running test, "
          + (method.equals("fault") ? "inject a fault with inject(...), which ends with the test"
              : "start a RecordingProxy of its own (RecordingProxy.forward()...start())"));
    }
  }

  private RecordingProxy.Builder programmatic() {
    if (builder == null) {
      throw new IllegalStateException("this extension is configured by @FerryTest; register "
          + "FerryProxyExtension.forward() with @RegisterExtension to configure it in code");
    }
    return builder;
  }

  private ProxyLifecycle lifecycle(ExtensionContext context) {
    Optional<FerryTest> annotated = builder == null ? annotation(context) : nestedAnnotation(context);
    if (builder == null || annotated.isPresent()) {
      return annotated.map(FerryTest::lifecycle).orElse(ProxyLifecycle.PER_TEST);
    }
    return lifecycle != null ? lifecycle : ProxyLifecycle.AUTO;
  }

  /**
   * For an instance configured in code: the {@link FerryTest} of the {@code @Nested} class under
   * way, or of a nested class enclosing it, which configures that class's proxy instead.
   */
  private static Optional<FerryTest> nestedAnnotation(ExtensionContext context) {
    for (Class<?> c = context.getTestClass().orElse(null);
        c != null && c.getEnclosingClass() != null && !Modifier.isStatic(c.getModifiers());
        c = c.getEnclosingClass()) {
      Optional<FerryTest> found = AnnotationSupport.findAnnotation(c, FerryTest.class);
      if (found.isPresent()) {
        return found;
      }
    }
    return Optional.empty();
  }

  /** The test class's {@link FerryTest}, or for a {@code @Nested} class its nearest enclosing one's. */
  private static Optional<FerryTest> annotation(ExtensionContext context) {
    for (Class<?> c = context.getTestClass().orElse(null); c != null; c = c.getEnclosingClass()) {
      Optional<FerryTest> found = AnnotationSupport.findAnnotation(c, FerryTest.class);
      if (found.isPresent()) {
        return found;
      }
    }
    return Optional.empty();
  }

  private RecordingProxy start(ExtensionContext context) {
    started = true;
    Class<?> testClass = context.getRequiredTestClass();
    Optional<FerryTest> annotated = builder == null ? annotation(context) : nestedAnnotation(context);
    RecordingProxy.Builder from = annotated.map(a -> FerryTestOptions.builder(a, testClass,
            () -> authority(context)))
        .orElseGet(() -> builder != null ? builder : RecordingProxy.forward());
    List<Closeable> started = new ArrayList<>();
    RecordingProxy proxy = StartedUpstreams.collect(from::start, started);
    // Closed when the JVM exits: a static server may serve several classes (a base class holding
    // it and the extension), also across runs in one JVM, and a closed MockWebServer cannot start.
    StartedUpstreams.closeAtExit(started);
    return proxy;
  }

  /**
   * This extension's interception CA for {@code @FerryTest(interceptHttps = true)}, generated
   * once, as a {@code @RegisterExtension} builder's is: kept in the root store under this
   * extension's namespace, which JUnit fills once however many tests start proxies at once.
   */
  private CertificateAuthority authority(ExtensionContext context) {
    return context.getRoot().getStore(namespace()).getOrComputeIfAbsent(CertificateAuthority.class,
        k -> CertificateAuthority.generate(Duration.ofDays(1)), CertificateAuthority.class);
  }

  /** Publishes what a record-if-missing proxy could not save in the test report. */
  private static void report(ExtensionContext context, RecordingProxy proxy) {
    if (!proxy.unrecorded().isEmpty()) {
      context.publishReportEntry("ferry.unrecorded", Recording.describe(proxy.unrecorded(), "proxy.unrecorded()")
          .replace(" recorded:", " not recorded (the proxy answered them itself, a fault changed "
              + "the answer, or the response body was cut at maxBodyBytes; the WARN log line says "
              + "which):"));
    }
  }

  private AssertionError unexpectedTraffic(RecordingProxy proxy) {
    if (expected == null) {
      return null;
    }
    // An exchange is recorded, and judged, just after its client has the response: let those
    // in progress end.
    proxy.recording().awaitQuiet(SETTLE);
    return proxy.recording().unexpectedTraffic()
        .map(verdict -> new AssertionError(verdict + "\nAll traffic: " + proxy.recording()
            + (proxy.recording().sharesItsProxy() ? Recording.SHARED_PROXY_HINT : "")))
        .orElse(null);
  }

  /**
   * Has the test's recording judge each exchange as it is recorded, rather than what it still
   * holds when the test ends: an exchange dropped past the recording's bounds would then go
   * unjudged (probe t25). An intercepted session's CONNECT is plumbing, as it is to faults: its
   * requests are judged.
   */
  private void judgeTraffic(RecordingProxy proxy) {
    ExchangeMatcher wanted = expected;
    if (wanted != null) {
      proxy.recording().judgeEach(new TrafficJudge(
          e -> !proxy.isInterceptedConnect(e) && (e.unmatched() || !wanted.test(e)), wanted.toString()));
    }
  }
}
