package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.management.UnixOperatingSystemMXBean;

import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ExchangeListener;
import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.ServerTls;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class OverloadTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  /** A proxy whose requests for {@code /hold} wait for {@code release} before going on. */
  private ProxyServer holdingProxy(Concurrency concurrency, MockWebServer origin,
      CountDownLatch release) {
    return ferry.start(ProxyServer.builder().concurrency(concurrency)
        .upstream(Upstream.of(origin.url("/").toString()))
        .filter((exchange, chain) -> {
          if (exchange.request().path().equals("/hold")) {
            try {
              release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return chain.proceed(exchange.request());
        }));
  }

  @ParameterizedTest
  @ValueSource(strings = {"pool", "thread"})
  void answers503AtOnceWhenAllThreadsAreBusy(String model) throws Exception {
    Concurrency concurrency = model.equals("pool")
        ? Concurrency.boundedPool(1, 0) : Concurrency.threadPerConnection(1);
    CountDownLatch release = new CountDownLatch(1);
    MockWebServer origin = ferry.mockOrigin();
    ProxyServer proxy = holdingProxy(concurrency, origin, release);
    origin.enqueue(new MockResponse().setBody("held"));
    origin.enqueue(new MockResponse().setBody("after"));
    try (RawClient busy = new RawClient(proxy.address())) {
      busy.send("GET /hold HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      Await.until(() -> proxy.stats().activeExchanges() == 1, "the held exchange to start");
      try (RawClient turnedAway = new RawClient(proxy.address())) {
        RawClient.RawResponse response = turnedAway.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
        assertThat(response.status()).isEqualTo(503);
        assertThat(response.header("Retry-After")).isEqualTo("1");
        assertThat(turnedAway.isClosedByPeer()).isTrue();
      }
      release.countDown();
      assertThat(busy.readResponse().bodyText()).isEqualTo("held");
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the held connection to end");
    try (RawClient later = new RawClient(proxy.address())) {
      assertThat(later.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("after");
    }
    assertThat(proxy.stats().connectionsRejected()).isEqualTo(1);
  }

  /**
   * A keep-alive client already admitted, whose next request arrives while every thread is busy
   * and there is no queue, waits for a thread instead of being answered 503.
   */
  @Test
  void makesAnAdmittedKeepAliveClientWaitForAThreadRatherThanRefuseIt() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    MockWebServer origin = ferry.mockOrigin();
    ProxyServer proxy = holdingProxy(Concurrency.boundedPool(1, 0), origin, release);
    origin.enqueue(new MockResponse().setBody("first"));
    origin.enqueue(new MockResponse().setBody("held"));
    origin.enqueue(new MockResponse().setBody("waited"));
    try (RawClient admitted = new RawClient(proxy.address())) {
      assertThat(admitted.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("first");
      Await.until(() -> proxy.stats().activeWorkers() == 0, "the served connection to park");
      try (RawClient busy = new RawClient(proxy.address())) {
        busy.send("GET /hold HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        Await.until(() -> proxy.stats().activeExchanges() == 1, "the held exchange to start");
        admitted.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
        Await.until(() -> proxy.stats().queueDepth() == 1, "the admitted connection to wait for a thread");
        release.countDown();
        assertThat(busy.readResponse().bodyText()).isEqualTo("held");
      }
      RawClient.RawResponse next = admitted.readResponse();
      assertThat(next.status()).isEqualTo(200);
      assertThat(next.bodyText()).isEqualTo("waited");
    }
    assertThat(proxy.stats().connectionsRejected()).isZero();
  }

  /**
   * The pool of {@link Concurrency#auto()} (Java 17's default) queues as many clients with a
   * request ready as the default connection limit admits: 1,050 new clients whose requests come
   * while every thread is busy all wait their turn and are answered. With the queue of 1,000 it
   * had, the 50 past it were answered 503, and under a steady load a fifth of all requests were
   * (wrk with 2,000 connections, each refused client reconnecting to be refused again).
   */
  @Test
  void queuesNewClientsPastAThousandWithTheDefaultQueue() throws Exception {
    assumeDescriptors(8192, "1,050 clients and the proxy's ends of them");
    int clients = 1_050;
    CountDownLatch held = new CountDownLatch(2);
    CountDownLatch release = new CountDownLatch(1);
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .concurrency(Concurrency.boundedPool(2, Concurrency.auto().queueSize()))
        .upstream(Upstream.of(origin.url("/")))
        .filter(HoldingFilter.holding("/hold", held, release)));
    List<RawClient> waiting = new ArrayList<>();
    try (RawClient first = new RawClient(proxy.address()); RawClient second = new RawClient(proxy.address())) {
      first.send("GET /hold HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      second.send("GET /hold HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      assertThat(held.await(10, TimeUnit.SECONDS)).as("both threads held").isTrue();
      for (int i = 0; i < clients; i++) {
        waiting.add(new RawClient(proxy.address()).send("GET /" + i + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
      }
      Await.until(() -> proxy.stats().queueDepth() == clients, "every new client to wait for a thread");
      release.countDown();
      for (RawClient client : waiting) {
        assertThat(client.readResponse().status()).isEqualTo(200);
      }
      assertThat(first.readResponse().status()).isEqualTo(200);
      assertThat(second.readResponse().status()).isEqualTo(200);
    } finally {
      RawClient.closeAll(waiting);
    }
    assertThat(proxy.stats().connectionsRejected()).isZero();
  }

  /**
   * Java 17's default pool grows past its 200 threads while connections wait for one and the
   * CPUs idle, as they do when every thread waits on a slow backend: 260 requests held at once
   * (a filter standing in for a backend that takes its time) are all under way together, where
   * the fixed 200 threads left 60 waiting until the first ones finished. On Java 21+ the default
   * is virtual threads, which have no cap to grow.
   */
  @Test
  void servesMoreSlowRequestsAtOnceThanTheDefaultPoolsThreads() throws Exception {
    assumeDescriptors(4096, "260 clients, the proxy's ends of them and its upstream connections");
    int threads = holdAtOnce(260, ProxyServer.builder());
    if (!ConnectionExecutor.runsOnVirtualThreads(Concurrency.auto())) {
      assertThat(threads).as("the pool's thread cap").isGreaterThanOrEqualTo(260);
    }
  }

  /**
   * An explicit growing pool starts threads for the connections queued once its cap grows. It
   * grows only while the machine's CPUs have room ({@link PoolSizer}), which a second test JVM
   * or a build beside this one may not leave for a while: hence {@link #holdAtOnce}'s long wait.
   */
  @Test
  void growsAnExplicitPoolToItsCeilingForQueuedConnections() throws Exception {
    int threads = holdAtOnce(6, ProxyServer.builder().concurrency(Concurrency.boundedPool(2, 100).growingTo(8)));
    assertThat(threads).as("the pool's thread cap").isBetween(6, 8);
  }

  /**
   * Starts a proxy from {@code builder} that holds every request, sends one from each of
   * {@code clients} new clients, and waits up to 60 s until all are held at once (holds last up to
   * 90 s, so a pool that did not grow stays short of them until then); then releases them, expects
   * every one answered 200 and none refused, and returns the proxy's {@code workers()} while all
   * were held.
   */
  private int holdAtOnce(int clients, ProxyServer.Builder builder) throws Exception {
    CountDownLatch held = new CountDownLatch(clients);
    CountDownLatch release = new CountDownLatch(1);
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(builder.upstream(Upstream.of(origin.url("/")))
        .filter(HoldingFilter.holding(null, held, release, Duration.ofSeconds(90))));
    List<RawClient> slow = new ArrayList<>();
    int workers;
    try {
      for (int i = 0; i < clients; i++) {
        slow.add(new RawClient(proxy.address()).send("GET /" + i + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
      }
      Await.until(() -> held.getCount() == 0, Duration.ofSeconds(60), () -> "every request under way at once; "
          + (clients - held.getCount()) + " are, on " + proxy.stats().workers() + " threads");
      workers = proxy.stats().workers();
      release.countDown();
      for (RawClient client : slow) {
        assertThat(client.readResponse().status()).isEqualTo(200);
      }
    } finally {
      release.countDown();
      RawClient.closeAll(slow);
    }
    assertThat(proxy.stats().connectionsRejected()).isZero();
    return workers;
  }

  /**
   * A growing pool without a queue refuses a client while its threads are all busy, as a fixed
   * one does, and takes the refusals as the sign to grow: a later client is served beside the
   * held one. Each refusal is weighed at the pool's next look at the CPUs, and a look that finds
   * them busy (a compiler at work, on a CI machine) lets it pass, so clients keep coming until
   * one is served, as they would.
   */
  @Test
  void growsAPoolWithoutAQueueAfterRefusingClients() throws Exception {
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .concurrency(Concurrency.boundedPool(1, 0).growingTo(4))
        .upstream(Upstream.of(origin.url("/")))
        .filter(HoldingFilter.holding("/hold", held, release)));
    try (RawClient first = new RawClient(proxy.address())) {
      first.send("GET /hold HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      assertThat(held.await(10, TimeUnit.SECONDS)).as("the first request holds the one thread").isTrue();
      assertThat(statusOfANewClient(proxy)).isEqualTo(503);
      Await.until(() -> statusOfANewClient(proxy) == 200, Duration.ofSeconds(20),
          () -> "a client served beside the held one; the pool's cap is " + proxy.stats().workers());
      assertThat(proxy.stats().workers()).as("the pool's thread cap").isBetween(2, 4);
      release.countDown();
      assertThat(first.readResponse().status()).isEqualTo(200);
    } finally {
      release.countDown();
    }
    assertThat(proxy.stats().connectionsRejected()).isPositive();
  }

  /** The status a new client's request gets; an I/O failure reads as 0. */
  private static int statusOfANewClient(ProxyServer proxy) {
    try (RawClient client = new RawClient(proxy.address())) {
      return client.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").readResponse().status();
    } catch (IOException e) {
      return 0;
    }
  }

  /**
   * New connections that say nothing yet are not refused while every thread is busy (a burst of
   * connects overflowed the queue and got 503 though they needed no thread): they wait on the
   * selector, and are served once they send a request and a thread is free.
   */
  @Test
  void parksNewConnectionsWhileEveryThreadIsBusyAndServesThemLater() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    MockWebServer origin = ferry.mockOrigin();
    ProxyServer proxy = holdingProxy(Concurrency.boundedPool(1, 0), origin, release);
    origin.enqueue(new MockResponse().setBody("held"));
    List<RawClient> quiet = new ArrayList<>();
    try (RawClient busy = new RawClient(proxy.address())) {
      busy.send("GET /hold HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      Await.until(() -> proxy.stats().activeExchanges() == 1, "the held exchange to start");
      for (int i = 0; i < 5; i++) {
        quiet.add(new RawClient(proxy.address()));
      }
      Await.until(() -> proxy.stats().activeConnections() == 6, "the quiet connections to be accepted");
      assertThat(proxy.stats().connectionsRejected()).isZero();
      release.countDown();
      assertThat(busy.readResponse().bodyText()).isEqualTo("held");
      for (int i = 0; i < quiet.size(); i++) {
        // The one thread must be free: a new client's request that finds none is still a 503.
        Await.until(() -> proxy.stats().activeWorkers() == 0, "the thread to be free");
        origin.enqueue(new MockResponse().setBody("later " + i));
        RawClient client = quiet.get(i);
        assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("later " + i);
      }
    } finally {
      RawClient.closeAll(quiet);
    }
    assertThat(proxy.stats().connectionsRejected()).isZero();
  }

  /**
   * A request that waited in the pool's queue for a thread is timed from its arrival, as the
   * README says (the access log's time and latency count from the first byte), whether its
   * connection was new or kept alive and woken on the idle parker: it was timed from when a
   * thread got to it, so a saturated pool's queue never showed in latency. Under TLS too, whose
   * waiting request is still ciphertext in the kernel (probe accounting F1).
   */
  @ParameterizedTest
  @CsvSource({"false, false", "true, false", "true, true"})
  void timesARequestThatWaitedForAThreadFromItsArrival(boolean keptAlive, boolean tls) throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    MockWebServer origin = ferry.mockOrigin();
    Map<String, Duration> durations = new ConcurrentHashMap<>();
    TestCertificates certificates = tls ? TestCertificates.issued("localhost", null, 2) : null;
    ProxyServer.Builder builder = ProxyServer.builder();
    if (tls) {
      builder.tls(ServerTls.keyStore(certificates.keyStore(), TestCertificates.password()));
    }
    ProxyServer proxy = ferry.start(builder.concurrency(Concurrency.boundedPool(1, 8))
        .upstream(Upstream.of(origin.url("/").toString()))
        .filter(HoldingFilter.holding("/hold", new CountDownLatch(1), release))
        .listener(new ExchangeListener() {
          @Override
          public void exchangeCompleted(ExchangeSummary summary) {
            durations.put(URI.create(summary.url()).getPath(), summary.duration());
          }
        }));
    for (int i = 0; i < 3; i++) {
      origin.enqueue(new MockResponse().setBody("ok"));
    }
    SSLContext trust = tls ? certificates.trustingContext() : null;
    try (RawClient waiting = new RawClient(proxy.address(), trust);
        RawClient busy = new RawClient(proxy.address(), trust)) {
      if (keptAlive) {
        assertThat(waiting.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
        Await.until(() -> proxy.stats().activeWorkers() == 0, "the kept-alive connection to be parked");
      }
      busy.send("GET /hold HTTP/1.1\r\nHost: a\r\n\r\n");
      Await.until(() -> proxy.stats().activeExchanges() == 1, "the held exchange to take the one thread");
      waiting.send("GET /waited HTTP/1.1\r\nHost: a\r\n\r\n");
      Await.until(() -> proxy.stats().queueDepth() == 1, "the request to wait for the thread");
      Thread.sleep(300); // the wait for a thread under test
      release.countDown();
      assertThat(waiting.readResponse().status()).isEqualTo(200);
      assertThat(busy.readResponse().status()).isEqualTo(200);
      Await.until(() -> durations.containsKey("/waited"), "the waited request to be reported");
      assertThat(durations.get("/waited")).as("timed from its arrival, its wait for a thread included")
          .isGreaterThanOrEqualTo(Duration.ofMillis(300));
    }
  }

  /** Skips the test where this process may open fewer than {@code needed} file descriptors. */
  private static void assumeDescriptors(long needed, String forWhat) {
    long descriptors = ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix
        ? unix.getMaxFileDescriptorCount() : 0;
    assumeTrue(descriptors >= needed, forWhat + " need " + needed + " file descriptors; this process may open "
        + descriptors);
  }
}
