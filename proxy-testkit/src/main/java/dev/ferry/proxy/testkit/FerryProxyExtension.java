package dev.ferry.proxy.testkit;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Request;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * A JUnit 5 extension that runs a {@link RecordingProxy} for a test class or for each test.
 *
 * <pre>{@code
 * class OrdersClientTest {
 *   @RegisterExtension
 *   static FerryProxyExtension proxy = FerryProxyExtension.forward();
 *
 *   @Test
 *   void postsOrders() throws Exception {
 *     OrdersClient client = new OrdersClient(proxy.httpClientBuilder().build());
 *     client.place(new Order("sku-1"));
 *     FerryAssertions.assertThat(proxy.recording())
 *         .hasExchange(e -> e.method("POST").path("/orders"));
 *   }
 * }
 * }</pre>
 *
 * <p>The proxy binds 127.0.0.1 on an ephemeral port. Registered on a static field it runs once
 * per class ({@link ProxyLifecycle#PER_CLASS}, the recording cleared after each test); on an
 * instance field, or with {@link #perTest()}, a new proxy runs for each test. Test and lifecycle
 * methods can take a {@link RecordingProxy} or {@link Recording} parameter. State lives in
 * JUnit's {@link ExtensionContext.Store}, so tests running in parallel each get their own proxy
 * with {@code perTest()}; the shortcut methods on the extension itself ({@link #recording()},
 * {@link #current()}...) need exactly one proxy running and say so otherwise.
 *
 * <p>Configure the extension where it is declared; it must not be reconfigured once tests run.
 * It never touches JVM-global proxy settings: wire clients with
 * {@link RecordingProxy#httpClientBuilder()} or {@link RecordingProxy#proxySelector()}.
 */
public final class FerryProxyExtension implements BeforeAllCallback, AfterAllCallback,
    BeforeEachCallback, AfterEachCallback, ParameterResolver {
  private static final String CLASS_PROXY = "classProxy";
  private static final String TEST_PROXY = "testProxy";

  private final RecordingProxy.Builder builder;
  private final boolean declarative;
  private ProxyLifecycle lifecycle;
  private Predicate<? super RecordedExchange> expected;
  /** An index of the proxies running, for the shortcut methods; the Store owns them. */
  private final Set<RecordingProxy> running = ConcurrentHashMap.newKeySet();

  /** Used by {@link FerryTest}: a forward proxy configured by the annotation. */
  public FerryProxyExtension() {
    this.builder = RecordingProxy.forward();
    this.declarative = true;
  }

  private FerryProxyExtension(RecordingProxy.Builder builder) {
    this.builder = builder;
    this.declarative = false;
  }

  /** Returns an extension running a forward proxy: clients use it as their HTTP proxy. */
  public static FerryProxyExtension forward() {
    return new FerryProxyExtension(RecordingProxy.forward());
  }

  /** Returns an extension running a reverse proxy in front of {@code upstream}. */
  public static FerryProxyExtension reverse(URI upstream) {
    return new FerryProxyExtension(RecordingProxy.reverse(upstream));
  }

  /** Customises the underlying {@link ProxyServer.Builder}; see {@link RecordingProxy.Builder#configure}. */
  public FerryProxyExtension configure(Consumer<ProxyServer.Builder> customizer) {
    builder.configure(customizer);
    return this;
  }

  /** The most bytes kept of each body; default 1 MiB. */
  public FerryProxyExtension maxBodyBytes(int maxBodyBytes) {
    builder.maxBodyBytes(maxBodyBytes);
    return this;
  }

  /** Runs a new proxy for each test, even when registered on a static field. */
  public FerryProxyExtension perTest() {
    lifecycle = ProxyLifecycle.PER_TEST;
    return this;
  }

  /** Runs one proxy for the test class; needs a static field. */
  public FerryProxyExtension perClass() {
    lifecycle = ProxyLifecycle.PER_CLASS;
    return this;
  }

  /** Answers from a HAR file instead of the network; see {@link RecordingProxy.Builder#replay(Path)}. */
  public FerryProxyExtension replay(Path har) {
    builder.replay(har);
    return this;
  }

  /** Replays a HAR file and records what it lacks; see {@link RecordingProxy.Builder#recordIfMissing}. */
  public FerryProxyExtension recordIfMissing(Path har) {
    builder.recordIfMissing(har);
    return this;
  }

  /** How replay matches requests; default method and URL. */
  public FerryProxyExtension replayMatcher(ReplayMatcher matcher) {
    builder.replayMatcher(matcher);
    return this;
  }

  /** Injects a fault into every exchange whose request matches, in every test. */
  public FerryProxyExtension fault(Predicate<? super Request> when, Fault fault) {
    builder.fault(when, fault);
    return this;
  }

  /**
   * Fails a test, after it ran, if a replaying proxy met a request it had no recording for
   * (like WireMock's {@code failOnUnmatchedRequests}).
   */
  public FerryProxyExtension failOnUnexpectedTraffic() {
    return failOnUnexpectedTraffic(e -> true);
  }

  /**
   * Fails a test, after it ran, if any exchange does not satisfy {@code expected} or was an
   * unmatched replay; the failure lists them.
   */
  public FerryProxyExtension failOnUnexpectedTraffic(Predicate<? super RecordedExchange> expected) {
    this.expected = Objects.requireNonNull(expected, "expected");
    return this;
  }

  /**
   * The proxy running now.
   *
   * @throws IllegalStateException if none is running, or several are (tests in parallel with
   *     {@code perTest()}: take a {@link RecordingProxy} parameter instead)
   */
  public RecordingProxy current() {
    List<RecordingProxy> proxies = List.copyOf(running);
    if (proxies.size() != 1) {
      throw new IllegalStateException(proxies.isEmpty()
          ? "no Ferry proxy is running; it starts before each test (or before all with perClass)"
          : proxies.size() + " Ferry proxies are running (parallel tests); take a RecordingProxy "
              + "parameter in the test method instead");
    }
    return proxies.get(0);
  }

  /** The running proxy's recording; see {@link #current()}. */
  public Recording recording() {
    return current().recording();
  }

  /** An {@code HttpClient} builder wired to the running proxy; see {@link #current()}. */
  public HttpClient.Builder httpClientBuilder() {
    return current().httpClientBuilder();
  }

  /** The running proxy's {@code http://127.0.0.1:<port>/}; see {@link #current()}. */
  public URI baseUri() {
    return current().baseUri();
  }

  /** Injects a fault into the running proxy until the test ends; see {@link #current()}. */
  public RecordingProxy inject(Predicate<? super Request> when, Fault fault) {
    return current().inject(when, fault);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    if (lifecycle(context) == ProxyLifecycle.PER_CLASS) {
      store(context).put(CLASS_PROXY, start(context));
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    if (find(context).isEmpty()) {
      store(context).put(TEST_PROXY, start(context));
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    RecordingProxy proxy = store(context).remove(TEST_PROXY, RecordingProxy.class);
    AssertionError unexpected = null;
    if (proxy != null) {
      try {
        unexpected = unexpectedTraffic(proxy);
      } finally {
        stop(proxy);
      }
    } else {
      Optional<RecordingProxy> shared = find(context);
      if (shared.isPresent()) {
        unexpected = unexpectedTraffic(shared.get());
        shared.get().recording().clear();
        shared.get().clearFaults();
      }
    }
    if (unexpected != null) {
      throw unexpected;
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    RecordingProxy proxy = store(context).remove(CLASS_PROXY, RecordingProxy.class);
    if (proxy != null) {
      stop(proxy);
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == RecordingProxy.class || type == Recording.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    RecordingProxy proxy = find(context).orElseThrow(() -> new ParameterResolutionException(
        "no Ferry proxy is running for " + context.getDisplayName()
            + "; with a proxy per test it is not available in @BeforeAll methods"));
    return parameter.getParameter().getType() == Recording.class ? proxy.recording() : proxy;
  }

  private Optional<RecordingProxy> find(ExtensionContext context) {
    ExtensionContext.Store store = store(context);
    RecordingProxy proxy = store.get(TEST_PROXY, RecordingProxy.class);
    return Optional.ofNullable(proxy != null ? proxy : store.get(CLASS_PROXY, RecordingProxy.class));
  }

  /** Keyed by this extension instance, so two extensions in one class keep separate proxies. */
  private ExtensionContext.Store store(ExtensionContext context) {
    return context.getStore(ExtensionContext.Namespace.create(FerryProxyExtension.class, this));
  }

  private ProxyLifecycle lifecycle(ExtensionContext context) {
    if (declarative) {
      return annotation(context).map(FerryTest::lifecycle).orElse(ProxyLifecycle.PER_TEST);
    }
    return lifecycle != null ? lifecycle : ProxyLifecycle.PER_CLASS;
  }

  private static Optional<FerryTest> annotation(ExtensionContext context) {
    return context.getTestClass()
        .flatMap(c -> AnnotationSupport.findAnnotation(c, FerryTest.class));
  }

  private RecordingProxy start(ExtensionContext context) {
    if (declarative) {
      annotation(context).ifPresent(a -> builder.maxBodyBytes(a.maxBodyBytes()));
    }
    RecordingProxy proxy = builder.start();
    running.add(proxy);
    return proxy;
  }

  private void stop(RecordingProxy proxy) {
    running.remove(proxy);
    proxy.close();
  }

  private AssertionError unexpectedTraffic(RecordingProxy proxy) {
    if (expected == null) {
      return null;
    }
    List<RecordedExchange> unexpected =
        proxy.recording().exchanges(e -> e.unmatched() || !expected.test(e));
    if (unexpected.isEmpty()) {
      return null;
    }
    return new AssertionError("Ferry proxy saw unexpected traffic: "
        + Recording.describe(unexpected).replace(" recorded:", ":") + "\nAll traffic: "
        + proxy.recording());
  }
}
