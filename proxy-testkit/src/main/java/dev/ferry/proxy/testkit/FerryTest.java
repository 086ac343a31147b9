package dev.ferry.proxy.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs a test class with a recording forward proxy, injected as a {@link RecordingProxy} or
 * {@link Recording} parameter, like WireMock's {@code @WireMockTest}:
 *
 * <pre>{@code
 * @FerryTest
 * class CheckoutTest {
 *   @Test
 *   void postsTheOrder(RecordingProxy proxy) throws Exception {
 *     HttpClient client = proxy.httpClientBuilder().build();
 *     // ... exercise the code under test with this client ...
 *     FerryAssertions.assertThat(proxy.recording()).hasExchange(e -> e.method("POST").path("/orders"));
 *   }
 * }
 * }</pre>
 *
 * <p>For a reverse proxy, replay, faults set up front or any other option, register a
 * {@link FerryProxyExtension} with {@code @RegisterExtension} instead.
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
  int maxBodyBytes() default 1024 * 1024;
}
