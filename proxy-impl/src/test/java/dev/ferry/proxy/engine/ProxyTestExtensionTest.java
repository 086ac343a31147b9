package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.Upstream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;

/** Drives the extension's callbacks by hand, as JUnit would around a test. */
class ProxyTestExtensionTest {
  private final ProxyTestExtension ferry = new ProxyTestExtension();

  @Test
  void closesTrackedResourcesInReverseOrder() throws Exception {
    List<String> closed = new ArrayList<>();
    ferry.beforeEach(null);
    ferry.track(() -> closed.add("first"));
    ferry.track(() -> closed.add("second"));
    ferry.afterEach(null);
    assertThat(closed).containsExactly("second", "first");
  }

  @Test
  void stopsProxiesAfterTheTest() throws Exception {
    ferry.beforeEach(null);
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("hello"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    InetSocketAddress address = proxy.address();
    try (RawClient raw = new RawClient(address)) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("hello");
    }
    ferry.assertNoLeaks(proxy);
    ferry.afterEach(null);
    assertThatThrownBy(() -> new RawClient(address)).isInstanceOf(ConnectException.class);
    assertThat(ThreadLeaks.threadsFor(address.getPort())).isEmpty();
  }

  @Test
  void findsAnExchangeStillInProgress() throws Exception {
    ProxyTestExtension impatient = new ProxyTestExtension(Duration.ofMillis(200));
    impatient.beforeEach(null);
    CountDownLatch release = new CountDownLatch(1);
    ProxyServer proxy = impatient.start(ProxyServer.builder().filter((exchange, chain) -> {
      await(release);
      return Response.text(200, "late\n");
    }));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: a\r\n\r\n");
      Await.until(() -> proxy.stats().activeExchanges() == 1, "the exchange to start");
      assertThatThrownBy(() -> impatient.assertNoLeaks(proxy))
          .hasMessageContaining("no active exchange").hasMessageContaining("active_exchanges=1");
      release.countDown();
      assertThat(raw.readResponse().bodyText()).isEqualTo("late\n");
    }
    impatient.assertNoLeaks(proxy);
    impatient.afterEach(null);
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void failsAfterAnUncaughtExceptionOnAnyThread() throws Exception {
    Thread.UncaughtExceptionHandler original = Thread.getDefaultUncaughtExceptionHandler();
    List<Throwable> delegated = new ArrayList<>();
    Thread.UncaughtExceptionHandler previous = (thread, error) -> delegated.add(error);
    Thread.setDefaultUncaughtExceptionHandler(previous);
    try {
      ferry.beforeEach(null);
      Thread doomed = new Thread(() -> {
        throw new IllegalStateException("boom");
      }, "doomed");
      doomed.start();
      doomed.join();
      assertThatThrownBy(() -> ferry.afterEach(null))
          .hasMessageContaining("uncaught exceptions")
          .hasMessageContaining("doomed: java.lang.IllegalStateException: boom");
      assertThat(delegated).singleElement().extracting(Throwable::getMessage).isEqualTo("boom");
      assertThat(Thread.getDefaultUncaughtExceptionHandler()).isSameAs(previous);
    } finally {
      Thread.setDefaultUncaughtExceptionHandler(original);
    }
  }
}
