package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ExchangeListener;
import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KeepAliveTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private MockWebServer origin;
  private ProxyServer proxy;

  @BeforeEach
  void start() throws Exception {
    origin = ferry.mockOrigin();
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return new MockResponse().setBody("body of " + request.getPath());
      }
    });
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .idleTimeout(Duration.ofSeconds(2)));
  }

  @Test
  void reusesClientAndUpstreamConnections() throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      for (int i = 0; i < 20; i++) {
        raw.send("GET /r" + i + " HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(raw.readResponse().bodyText()).isEqualTo("body of /r" + i);
      }
    }
    assertThat(proxy.stats().connectionsAccepted()).isEqualTo(1);
    assertThat(proxy.stats().upstreamConnectionsOpened()).isEqualTo(1);
    assertThat(proxy.stats().upstreamConnectionsReused()).isEqualTo(19);
    assertThat(origin.getRequestCount()).isEqualTo(20);
  }

  @Test
  void closesAfterResponseWhenClientAsks() throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.bodyText()).isEqualTo("body of /last");
      assertThat(response.header("Connection")).isEqualTo("close");
      assertThat(raw.isClosedByPeer()).isTrue();
    }
  }

  @Test
  void answersPipelinedRequestsInOrder() throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET /p1 HTTP/1.1\r\nHost: a\r\n\r\n"
          + "POST /p2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
          + "GET /p3 HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("body of /p1");
      assertThat(raw.readResponse().bodyText()).isEqualTo("body of /p2");
      assertThat(raw.readResponse().bodyText()).isEqualTo("body of /p3");
    }
    origin.takeRequest();
    assertThat(origin.takeRequest().getBody().readUtf8()).isEqualTo("abc");
  }

  /**
   * A pipelined request is timed from its arrival, its wait behind the one before it included
   * (README: latency counts from the first byte): it was timed from when the request before it
   * ended, so the access log said 300 ms of a request its client waited 600 ms for (probe overload F1).
   */
  @Test
  void timesAPipelinedRequestFromItsArrival() throws Exception {
    MockWebServer slow = ferry.mockOrigin();
    for (int i = 0; i < 2; i++) {
      slow.enqueue(new MockResponse().setHeadersDelay(300, TimeUnit.MILLISECONDS).setBody("slow"));
    }
    Map<String, Duration> durations = new ConcurrentHashMap<>();
    ProxyServer timed = ferry.start(ProxyServer.builder().upstream(Upstream.of(slow.url("/").toString()))
        .listener(new ExchangeListener() {
          @Override
          public void exchangeCompleted(ExchangeSummary summary) {
            durations.put(URI.create(summary.url()).getPath(), summary.duration());
          }
        }));
    try (RawClient raw = new RawClient(timed.address())) {
      raw.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("slow");
      assertThat(raw.readResponse().bodyText()).isEqualTo("slow");
    }
    Await.until(() -> durations.size() == 2, "both exchanges to be reported");
    assertThat(durations.get("/second")).as("its wait behind /first included")
        .isGreaterThanOrEqualTo(Duration.ofMillis(550));
  }

  /** RFC 9112 §7.1: "0" and an empty trailer section end a chunked body; the connection goes on. */
  @Test
  void keepsTheConnectionAfterAnEmptyChunkedBody() throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("POST /empty HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
          + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
      RawClient.RawResponse first = raw.readResponse();
      assertThat(first.bodyText()).isEqualTo("body of /empty");
      assertThat(first.header("Connection")).isNull();
      assertThat(raw.readResponse().bodyText()).isEqualTo("body of /next");
    }
    assertThat(proxy.stats().connectionsAccepted()).isEqualTo(1);
    assertThat(origin.takeRequest().getHeader("Content-Length")).isEqualTo("0");
  }

  /**
   * Probe lc1: a blank line after a request (RFC 9112 §2.2: some clients send one after a POST
   * body) started a request head, so the idle connection was answered an unasked 408 at the
   * request-header timeout and closed. It is still idle: a request sent after that timeout, and
   * within the idle one, is served.
   */
  @Test
  void keepsAnIdleConnectionThatSentABlankLinePastTheHeaderTimeout() throws Exception {
    ProxyServer strict = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .idleTimeout(Duration.ofSeconds(10)).requestHeaderTimeout(Duration.ofMillis(300)));
    try (RawClient raw = new RawClient(strict.address())) {
      raw.send("POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("body of /form");
      // The behaviour under test is time passing beyond the header timeout.
      long past = System.nanoTime() + Duration.ofMillis(900).toNanos();
      Await.until(() -> System.nanoTime() > past, "the request-header timeout to pass");
      raw.send("\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("body of /next");
    }
    assertThat(strict.stats().failures()).doesNotContainKey("REQUEST_TIMEOUT");
  }

  @Test
  void closesIdleConnectionAfterIdleTimeout() throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET /once HTTP/1.1\r\nHost: a\r\n\r\n");
      raw.readResponse();
      long started = System.nanoTime();
      assertThat(raw.isClosedByPeer()).isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(9));
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "idle connection to be closed");
  }

  @Test
  void skipsUnreadRequestBodyOfShortCircuitedRequest() throws Exception {
    assertBlockedAndTheConnectionKept(raw -> raw.send("POST /blocked HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nGET /"));
  }

  /**
   * A body the proxy holds whole, in memory or spooled, is skipped however large, rather than
   * the connection closed (probe r27: every refused upload over 64 KiB cost the client a reconnect).
   */
  @ParameterizedTest
  @ValueSource(ints = {200_000, 3_000_000})
  void skipsAnUnreadBodyItHoldsWhole(int size) throws Exception {
    assertBlockedAndTheConnectionKept(raw -> {
      raw.send("POST /blocked HTTP/1.1\r\nHost: a\r\nContent-Length: " + size + "\r\n\r\n");
      raw.output().write(new byte[size]);
      raw.output().flush();
    });
  }

  /** The same for the proxy's own 502: the upload it could not deliver is skipped, not the connection. */
  @Test
  void keepsTheConnectionAfterA502ForALargeUpload() throws Exception {
    int closedPort;
    try (java.net.ServerSocket unused = new java.net.ServerSocket(0)) {
      closedPort = unused.getLocalPort();
    }
    proxy.close();
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of("http://127.0.0.1:" + closedPort)));
    try (RawClient raw = new RawClient(proxy.address())) {
      for (int i = 0; i < 2; i++) {
        raw.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n");
        raw.output().write(new byte[100_000]);
        raw.output().flush();
        RawClient.RawResponse failed = raw.readResponse();
        assertThat(failed.status()).isEqualTo(502);
        assertThat(failed.header("Connection")).isNull();
      }
    }
    assertThat(proxy.stats().connectionsAccepted()).isEqualTo(1);
  }

  /**
   * A chunked body that arrived whole is known to its end, so a filter's answer need not close,
   * trailer fields or not (probe v35: one with a trailer closed the connection).
   */
  @ParameterizedTest
  @ValueSource(strings = {"", "X-Checksum: 1\r\n"})
  void skipsAnUnreadChunkedBodyThatArrivedWhole(String trailer) throws Exception {
    assertBlockedAndTheConnectionKept(raw -> raw.send("POST /blocked HTTP/1.1\r\nHost: a\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n5\r\nGET /\r\n0\r\n" + trailer + "\r\n"));
  }

  /**
   * A body still to come is not waited for on a thread once the request is answered: the
   * connection closes (lingering without a thread), and a client that sent its head and went
   * quiet holds nothing (probe v35: each such 401 held a pool thread for the body's deadlines).
   */
  @Test
  void closesRatherThanWaitForTheRestOfARefusedBody() throws Exception {
    proxy.close();
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .concurrency(dev.ferry.proxy.Concurrency.boundedPool(1, 0)).minRequestBodyRate(0)
        .filter(dev.ferry.proxy.Filters.authentication().credentials(java.util.Map.of("u", "p")).build()));
    try (RawClient quiet = new RawClient(proxy.address())) {
      quiet.send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 60000\r\n\r\n0123456789");
      RawClient.RawResponse refused = quiet.readResponse();
      assertThat(refused.status()).isEqualTo(401);
      assertThat(refused.header("Connection")).isEqualTo("close");
      Await.until(() -> proxy.stats().activeWorkers() == 0, "the only pool thread to be free");
      try (RawClient next = new RawClient(proxy.address())) {
        next.send("GET /ok HTTP/1.1\r\nHost: a\r\nAuthorization: Basic dTpw\r\n\r\n");
        assertThat(next.readResponse().bodyText()).isEqualTo("body of /ok");
      }
    }
  }

  /** Sends a request on a connection to a proxy whose filter answers it 403. */
  private interface BlockedRequest {
    void send(RawClient raw) throws Exception;
  }

  /**
   * A proxy whose filter answers /blocked with 403 without reading its body: the request
   * {@code blocked} sends is refused, its body skipped, and the connection serves the next one.
   */
  private void assertBlockedAndTheConnectionKept(BlockedRequest blocked) throws Exception {
    proxy.close();
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .filter((exchange, chain) -> exchange.request().path().equals("/blocked")
            ? dev.ferry.proxy.Response.text(403, "no\n") : chain.proceed(exchange.request())));
    try (RawClient raw = new RawClient(proxy.address())) {
      blocked.send(raw);
      RawClient.RawResponse refused = raw.readResponse();
      assertThat(refused.status()).isEqualTo(403);
      assertThat(refused.header("Connection")).isNull();
      raw.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("body of /next");
    }
    assertThat(proxy.stats().connectionsAccepted()).isEqualTo(1);
    assertThat(origin.getRequestCount()).isEqualTo(1);
  }
}
