package dev.ferry.proxy.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs a test class with a recording proxy, injected as a {@link RecordingProxy} or
 * {@link Recording} parameter, like WireMock's {@code @WireMockTest}:
 *
 * <pre>{@code
 * @FerryTest
 * class CheckoutTest {
 *   @Test
 *   void postsTheOrder(RecordingProxy proxy) throws Exception {
 *     HttpClient client = proxy.httpClientBuilder().build();
 *     // ... exercise the code under test with this client ...
 *     FerryAssertions.assertThat(proxy.recording()).eventually()
 *         .hasExchange(e -> e.method("POST").path("/orders"));
 *   }
 * }
 * }</pre>
 *
 * <p>A reverse proxy in front of a server the class starts, replaying a HAR file, with faults:
 *
 * <pre>{@code
 * @FerryTest(reverse = "origin", recordIfMissing = "src/test/resources/orders.har",
 *     configure = "faults")
 * class OrdersTest {
 *   static MockWebServer origin = new MockWebServer();   // or a URI, or a Supplier<URI>
 *
 *   static void faults(RecordingProxy.Builder proxy) {
 *     proxy.fault(e -> e.path("/slow"), Fault.latency(Duration.ofMillis(300)));
 *   }
 * }
 * }</pre>
 *
 * <p>Every option of {@link RecordingProxy.Builder} is reachable through {@link #configure()};
 * {@link FerryProxyExtension} with {@code @RegisterExtension} offers the same in code.
 */
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(FerryProxyExtension.class)
public @interface FerryTest {

  /** When the proxy starts and stops; default a new proxy for each test. */
  ProxyLifecycle lifecycle() default ProxyLifecycle.PER_TEST;

  /** The most bytes kept of each body; default 1 MiB. */
  int maxBodyBytes() default RecordingProxy.Builder.DEFAULT_BODY_BYTES;

  /** The most exchanges the recording holds; default 100,000. */
  int maxExchanges() default RecordingProxy.Builder.DEFAULT_EXCHANGES;

  /** The byte budget of the recording, all bodies together; default 64 MiB. */
  long maxRecordingBytes() default RecordingProxy.Builder.DEFAULT_RECORDING_BYTES;

  /** What the recording does past its byte budget; default drop the oldest exchanges. */
  RecordingOverflow overflow() default RecordingOverflow.DROP_OLDEST;

  /**
   * Makes it a reverse proxy in front of the upstream held by this static field or returned by
   * this static no-argument method of the test class: a {@code URI}, a {@code String} URL, a
   * {@code Supplier<URI>} or an OkHttp {@code MockWebServer}, read when the proxy starts: before
   * each test, after {@code @BeforeAll} methods; with {@code lifecycle = PER_CLASS}, before them,
   * so a server started in {@code @BeforeAll} is not there yet (start it in a static initializer,
   * or name a {@code MockWebServer}, which the proxy starts). Default empty: a forward proxy.
   */
  String reverse() default "";

  /**
   * Whether the forward proxy intercepts HTTPS, recording {@code https://} exchanges with their
   * headers and bodies. The extension generates one CA, when its first proxy starts, and every
   * proxy it starts uses it (a proxy per test, concurrent tests, {@code @Nested} classes), as
   * {@link RecordingProxy.Builder#interceptHttps()} does for the {@code @RegisterExtension}
   * form: {@link RecordingProxy#httpClientBuilder()} trusts it, and a client set up once from
   * {@link RecordingProxy#sslContext()} or {@link RecordingProxy#caCertificatePem()} keeps
   * working in every test of the class. A {@link #configure()} method may call
   * {@code interceptHttps(CertificateAuthority)} to use a CA of your own. Default false: CONNECT
   * tunnels are relayed unread. Not with {@link #reverse()}.
   */
  boolean interceptHttps() default false;

  /** Answers from this HAR file (a path relative to the working directory); default none. */
  String replay() default "";

  /** Replays this HAR file and records what it lacks; default none. */
  String recordIfMissing() default "";

  /** Whether record-if-missing also saves the proxy's own failure answers; default false. */
  boolean recordFailures() default false;

  /**
   * The name of a static method of the test class taking a {@link RecordingProxy.Builder}, called
   * before each proxy starts: faults, replay matchers, proxy options. Default none.
   */
  String configure() default "";
}
