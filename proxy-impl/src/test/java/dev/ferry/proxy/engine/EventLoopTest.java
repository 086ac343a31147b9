package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.ServerTls;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.io.ConnectionBuffers;
import dev.ferry.proxy.engine.upstream.HostNames;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The event loops (on by default for a plain reverse proxy): what they serve themselves, what they
 * hand to the threads, and how their exchanges fail, against real origins and raw clients.
 */
@DisabledIfSystemProperty(named = "ferry.test.eventLoop", matches = "false",
    disabledReason = "these tests are of the event loops, which -Dferry.test.eventLoop=false turns off")
class EventLoopTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  private ProxyServer loopProxy(String upstream) {
    return ferry.start(ProxyServer.builder().upstream(Upstream.of(upstream)).eventLoop(true));
  }

  /**
   * A proxy to {@code origin} whose concurrency model has one thread and no queue; its loops are
   * on by default.
   */
  private static ProxyServer.Builder oneThread(TinyOrigin origin) {
    return ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .concurrency(Concurrency.boundedPool(1, 0));
  }

  /**
   * With the pool's one thread held by a request handed over (a POST to an origin that does not
   * answer yet), GETs are still answered: they run on the loops, on by default, not on a thread.
   */
  @Test
  void answersGetsWhileEveryThreadIsBusy() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread(origin.origin()));
    assertThat(proxy.config().eventLoop()).isTrue();
    try (RawClient held = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 1);
      for (int i = 0; i < 3; i++) {
        try (RawClient raw = new RawClient(proxy.address())) {
          RawClient.RawResponse response = raw.send("GET /g" + i + " HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
          assertThat(response.status()).isEqualTo(200);
          assertThat(response.bodyText()).isEqualTo("ok");
          assertThat(response.header("via")).isEqualTo("1.1 ferry");
        }
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
  }

  /**
   * On a caching route the loop sends what the store answers (a hit, small or large, a HEAD, a
   * 304, a range) while the pool's one thread is held; the miss that filled the store was the
   * threads'.
   */
  @Test
  void answersCacheHitsWhileEveryThreadIsBusy() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    byte[] large = new byte[100_000];
    Arrays.fill(large, (byte) 'L');
    AtomicInteger requests = new AtomicInteger();
    TinyOrigin origin = HoldingOrigin.start(ferry, release, requests, "Cache-Control: max-age=600\r\nETag: \"v1\"\r\n",
        line -> line.contains("/large") ? large : "small".getBytes(StandardCharsets.ISO_8859_1));
    ProxyServer proxy = ferry.start(oneThread(origin).cache(CacheSpec.inMemory()));
    try (RawClient raw = new RawClient(proxy.address())) {
      for (String path : new String[] {"/small", "/large"}) {
        RawClient.RawResponse miss = raw.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
        assertThat(miss.header("x-cache")).isEqualTo("MISS");
      }
    }
    // Its thread may still be finishing its task after the connection went back to its loop and
    // ended there; the POST below, a new client, would find no thread and be refused 503.
    Await.until(() -> proxy.stats().activeConnections() == 0 && proxy.stats().activeWorkers() == 0,
        "the priming connection's thread to be free");
    try (RawClient held = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", requests, 3);
      try (RawClient raw = new RawClient(proxy.address())) {
        RawClient.RawResponse small = raw.send("GET /small HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
        assertThat(small.header("x-cache")).isEqualTo("HIT");
        assertThat(small.bodyText()).isEqualTo("small");
        assertThat(small.header("age")).isNotNull();
        RawClient.RawResponse whole = raw.send("GET /large HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
        assertThat(whole.header("x-cache")).isEqualTo("HIT");
        assertThat(whole.body()).isEqualTo(large);
        RawClient.RawResponse head = raw.send("HEAD /large HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(true);
        assertThat(head.header("content-length")).isEqualTo("100000");
        assertThat(head.body()).isEmpty();
        RawClient.RawResponse notModified = raw.send(
            "GET /large HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"v1\"\r\n\r\n").readResponse(true);
        assertThat(notModified.status()).isEqualTo(304);
        RawClient.RawResponse range = raw.send(
            "GET /large HTTP/1.1\r\nHost: a\r\nRange: bytes=10-19\r\n\r\n").readResponse();
        assertThat(range.status()).isEqualTo(206);
        assertThat(range.bodyText()).isEqualTo("L".repeat(10));
      }
      assertThat(proxy.cache().orElseThrow().stats().hits()).isEqualTo(5);
      release.countDown();
      assertThat(held.readResponse().bodyText()).isEqualTo("small");
    }
    assertThat(requests.get()).isEqualTo(3);
  }

  /**
   * A request whose body streams (chunked) goes to the threads with its bytes; the connection
   * serves on there.
   */
  @Test
  void handsStreamedBodiesToTheThreads() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("posted"));
    origin.enqueue(new MockResponse().setBody("got"));
    ProxyServer proxy = loopProxy(origin.url("/").toString());
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("posted");
      raw.send("GET /g HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("got");
    }
    assertThat(origin.takeRequest().getBody().readUtf8()).isEqualTo("hello");
    assertThat(origin.takeRequest().getPath()).isEqualTo("/g");
  }

  /**
   * Connections the loop ends give their input buffers back to the process's pool, as those
   * ended on a thread do: a client's that asked to close, and an upstream's that said it closes.
   * Clients opening a connection per request made the loops allocate a fresh 16 KiB buffer for
   * each (21 KB allocated per request, against 6.5 KB on the threads). Every request here takes
   * two buffers and gives both back, so the pool holds at least two, and none fewer than before.
   */
  @Test
  void givesTheBuffersOfConnectionsItEndsBackToThePool() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answeringThenClosing(
        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = loopProxy(origin.url("/"));
    int before = ConnectionBuffers.pooled();
    for (int i = 0; i < 20; i++) {
      try (RawClient raw = new RawClient(proxy.address())) {
        raw.send("GET /c" + i + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        assertThat(raw.readResponse().bodyText()).isEqualTo("ok");
        assertThat(raw.isClosedByPeer()).isTrue();
      }
    }
    Await.until(() -> ConnectionBuffers.pooled() >= Math.max(before, 2), "the ended connections' buffers in the pool");
    assertThat(origin.connectionCount()).isEqualTo(20);
  }

  /**
   * A client's input buffer goes back to the process's pool while its exchange waits for the
   * upstream, nothing pipelined behind its request, as a parked connection's does: requests held
   * by the origin hold none. Each held one until its exchange ended, and a thousand clients in
   * flight, past the pool's 128, allocated a fresh 16 KiB buffer for every third request.
   */
  @Test
  void holdsNoClientInputBufferWhileTheUpstreamAnswers() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = loopProxy(origin.origin().url("/"));
    // An ended connection gives its buffers to the pool: some wait there before the held ones.
    for (int i = 0; i < 2; i++) {
      try (RawClient raw = new RawClient(proxy.address())) {
        assertThat(raw.send("GET /fill HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
      }
    }
    Await.until(() -> ConnectionBuffers.pooled() >= 1, "the ended connections' buffers in the pool");
    int before = ConnectionBuffers.pooled();
    List<RawClient> held = new ArrayList<>();
    try {
      for (int i = 0; i < 10; i++) {
        held.add(new RawClient(proxy.address()).send("POST /hold HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"));
      }
      Await.until(() -> origin.requests().get() == 12, "the ten requests held by the origin");
      assertThat(ConnectionBuffers.pooled()).isGreaterThanOrEqualTo(before);
      origin.release().countDown();
      for (RawClient client : held) {
        assertThat(client.readResponse().bodyText()).isEqualTo("ok");
      }
    } finally {
      RawClient.closeAll(held);
    }
  }

  /**
   * A connection whose request the loop could have served but handed to a thread (blank lines
   * came before it, which the threads skip) waits for the next one on its loop again: its GET is
   * answered there while the pool's one thread is held by another client's POST.
   */
  @Test
  void returnsAConnectionToItsLoopAfterAnExchangeOnAThread() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread(origin.origin()));
    try (RawClient client = new RawClient(proxy.address())) {
      client.send("\r\n");
      Await.until(() -> proxy.stats().activeWorkers() == 1, "the blank line to go to the thread");
      client.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(client.readResponse().bodyText()).isEqualTo("ok");
      Await.until(() -> proxy.stats().activeWorkers() == 0, "the thread to give the idle connection back");
      try (RawClient held = new RawClient(proxy.address())) {
        HoldingOrigin.hold(held, "/hold", origin.requests(), 2);
        RawClient.RawResponse got = client.send("GET /g HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
        assertThat(got.status()).isEqualTo(200);
        assertThat(got.bodyText()).isEqualTo("ok");
        assertThat(origin.releaseHeld(held)).isEqualTo("ok");
      }
    }
  }

  /**
   * A connection whose request only the threads serve (a POST streaming its body) stays with
   * them for the next one, as without the loops: back on its loop, every such request would be
   * parsed there and handed over again. Its GET waits for the thread another client's POST holds.
   */
  @Test
  void keepsAConnectionOnTheThreadsAfterARequestOnlyTheyServe() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread(origin.origin()));
    try (RawClient client = new RawClient(proxy.address())) {
      client.send("POST /first HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n");
      assertThat(client.readResponse().bodyText()).isEqualTo("ok");
      Await.until(() -> proxy.stats().activeWorkers() == 0, "the thread to park the idle connection");
      try (RawClient held = new RawClient(proxy.address())) {
        HoldingOrigin.hold(held, "/hold", origin.requests(), 2);
        client.send("GET /g HTTP/1.1\r\nHost: a\r\n\r\n");
        client.socket().setSoTimeout(500);
        assertThatThrownBy(client::readResponse).as("answered on a loop").isInstanceOf(SocketTimeoutException.class);
        assertThat(origin.releaseHeld(held)).isEqualTo("ok");
        client.socket().setSoTimeout(5000);
        assertThat(client.readResponse().bodyText()).isEqualTo("ok");
      }
    }
  }

  /** Requests sent together are answered in order, each on the upstream connection kept. */
  @Test
  void answersPipelinedRequestsInOrderOnOneUpstreamConnection() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    for (int i = 0; i < 3; i++) {
      origin.enqueue(new MockResponse().setBody("r" + i));
    }
    ProxyServer proxy = loopProxy(origin.url("/").toString());
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET /0 HTTP/1.1\r\nHost: a\r\n\r\nGET /1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("r0");
      assertThat(raw.readResponse().bodyText()).isEqualTo("r1");
      RawClient.RawResponse head = raw.readResponse(true);
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.body()).isEmpty();
    }
    assertThat(proxy.stats().upstreamConnectionsOpened()).isEqualTo(1);
    assertThat(proxy.stats().upstreamConnectionsReused()).isEqualTo(2);
  }

  /**
   * An answer of unknown length goes to an HTTP/1.1 client chunked: one read until the
   * upstream's close is framed here, one chunked is relayed as its chunks end.
   */
  @Test
  void relaysAnswersOfUnknownLengthChunked() throws Exception {
    byte[] body = new byte[70_000];
    Arrays.fill(body, (byte) 'c');
    TinyOrigin untilClose = ferry.track(new TinyOrigin((socket, in, out) -> {
      out.write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      out.write(body);
    }));
    ProxyServer proxy = loopProxy(untilClose.url("/"));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET /c HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(response.header("transfer-encoding")).isEqualTo("chunked");
      assertThat(response.body()).isEqualTo(body);
    }
    MockWebServer chunked = ferry.mockOrigin();
    chunked.enqueue(new MockResponse().setChunkedBody("d".repeat(50_000), 4096));
    ProxyServer second = loopProxy(chunked.url("/").toString());
    try (RawClient raw = new RawClient(second.address())) {
      RawClient.RawResponse response = raw.send("GET /d HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(response.bodyText()).isEqualTo("d".repeat(50_000));
      raw.send("GET /again HTTP/1.1\r\nHost: a\r\n\r\n");
      chunked.enqueue(new MockResponse().setBody("again"));
      assertThat(raw.readResponse().bodyText()).isEqualTo("again");
    }
  }

  /** A client that reads slowly gets all of a large answer: the upstream is read as it makes room. */
  @Test
  void relaysALargeAnswerToASlowReader() throws Exception {
    byte[] body = new byte[3 * 1024 * 1024];
    for (int i = 0; i < body.length; i++) {
      body[i] = (byte) ('a' + i % 26);
    }
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody(new okio.Buffer().write(body)));
    ProxyServer proxy = loopProxy(origin.url("/").toString());
    Socket socket = new Socket();
    socket.setReceiveBufferSize(4096);
    socket.connect(proxy.address());
    try (RawClient raw = new RawClient(socket)) {
      raw.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
      // A byte at a time through a 4 KiB receive buffer: the loop waits for room again and again.
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.body()).isEqualTo(body);
    }
  }

  /** An endpoint that refuses connections is answered 502; the client's connection goes on. */
  @Test
  void answers502ForARefusingEndpointAndKeepsTheConnection() throws Exception {
    RefusingPort refusing = ferry.track(new RefusingPort());
    ProxyServer proxy = loopProxy(refusing.url("/"));
    try (RawClient raw = new RawClient(proxy.address())) {
      for (int i = 0; i < 2; i++) {
        RawClient.RawResponse response = raw.send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
        assertThat(response.status()).isEqualTo(502);
        assertThat(response.header("x-request-id")).isNotBlank();
        assertThat(response.bodyText()).isEqualTo("Could not connect to origin server: 127.0.0.1:" + refusing.port() + "\n");
      }
    }
    assertThat(proxy.stats().failures()).containsEntry("UPSTREAM_UNREACHABLE", 2L);
  }

  /** An upstream that never answers is answered 504 at the upstream timeout. */
  @Test
  void answers504AtTheUpstreamTimeout() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    TinyOrigin silent = ferry.track(new TinyOrigin((socket, in, out) -> {
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        // closes
      }
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(silent.url("/")))
        .upstreamTimeout(Duration.ofMillis(300)).eventLoop(true));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET /s HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(response.status()).isEqualTo(504);
    } finally {
      release.countDown();
    }
    assertThat(proxy.stats().failures()).containsEntry("UPSTREAM_TIMEOUT", 1L);
  }

  /** A connection that sends nothing is closed at the idle timeout, with no thread spent on it. */
  @Test
  void closesAnIdleConnectionAtTheIdleTimeout() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("one"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .idleTimeout(Duration.ofMillis(300)).eventLoop(true));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("one");
      raw.socket().setSoTimeout(5000);
      assertThat(raw.input().read()).isEqualTo(-1);
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the idle connection to be closed");
  }

  /**
   * Where no route could be served on a loop (a proxy-wide filter a loop cannot run, here an
   * application's own, an upstream reached over https), connections go straight to the threads: a loop would only hand every request over. A
   * route the loops can serve beside such ones is enough to use them; a host name is.
   */
  @Test
  void givesConnectionsToTheThreadsWhereNoRouteCanBeServedOnALoop() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    RealProxyServer filtered = (RealProxyServer) ferry.start(oneThread(origin.origin())
        .filter((exchange, chain) -> chain.proceed(exchange.request()).withHeader("X-Seen", "1")));
    assertThat(filtered.config().eventLoop()).isTrue();
    assertThat(filtered.pipeline().loopServes()).isFalse();
    try (RawClient held = new RawClient(filtered.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 1);
      try (RawClient raw = new RawClient(filtered.address())) {
        // The one thread is held, and the loop never took this connection: refused at once.
        assertThat(raw.send("GET /g HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(503);
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(loopServes(ProxyServer.builder().upstream(Upstream.of("http://origin.test:8080")))).isTrue();
    assertThat(loopServes(ProxyServer.builder().upstream(Upstream.of("https://127.0.0.1:8443")))).isFalse();
    assertThat(loopServes(ProxyServer.builder().upstream(Upstream.of("https://127.0.0.1:8443"))
        .route(Route.to(Upstream.of("http://127.0.0.1:8080")).pathPrefix("/plain")))).isTrue();
  }

  /**
   * An upstream named by a host name is served on a loop while the pool's one thread is held: the
   * name is looked up off the loop, on a lookup thread. A name that does not resolve is answered
   * 502 there too, its pool's one connection slot given back: the next request is answered the
   * same, not handed to the held thread.
   */
  @Test
  void looksUpUpstreamNamesOffTheLoopAndServesThemThere() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    String name = loopbackName();
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("http://" + name + ":" + origin.origin().port()))
        .route(Route.to(Upstream.of("http://no-such-host.invalid:80").maxConnections(1)).pathPrefix("/nowhere"))
        .concurrency(Concurrency.boundedPool(1, 0)));
    try (RawClient held = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 1);
      try (RawClient raw = new RawClient(proxy.address())) {
        for (int i = 0; i < 2; i++) {
          RawClient.RawResponse named = raw.send("GET /g" + i + " HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
          assertThat(named.status()).isEqualTo(200);
          assertThat(named.bodyText()).isEqualTo("ok");
          RawClient.RawResponse unknown = raw.send("GET /nowhere HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
          assertThat(unknown.status()).isEqualTo(502);
          assertThat(unknown.bodyText()).contains("no-such-host.invalid (unknown host)");
        }
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(proxy.stats().failures()).containsEntry("UPSTREAM_UNREACHABLE", 2L);
  }

  /**
   * A gateway of routes alone, with no catch-all upstream, serves its routes' GETs on the loops
   * too (the loop parsed their origin-form targets as a forward proxy's, refused them, and handed
   * every request to the threads), an HTTP/1.0 request without Host too, the proxy's own address
   * standing in for its authority, as on the threads.
   */
  @Test
  void servesARouteOnlyGatewayOnTheLoops() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.of(origin.origin().url("/"))).pathPrefix("/"))
        .concurrency(Concurrency.boundedPool(1, 0)));
    try (RawClient held = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 1);
      try (RawClient raw = new RawClient(proxy.address())) {
        RawClient.RawResponse named = raw.send("GET /g HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
        assertThat(named.status()).isEqualTo(200);
        assertThat(named.bodyText()).isEqualTo("ok");
        RawClient.RawResponse hostless = raw.send("GET /h HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").readResponse();
        assertThat(hostless.status()).isEqualTo(200);
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    origin.origin().takeRequest(); // the held POST
    assertThat(origin.origin().takeRequest().header("x-forwarded-host")).isEqualTo("a");
    assertThat(origin.origin().takeRequest().requestLine()).isEqualTo("GET /h HTTP/1.1");
  }

  /**
   * A client that half-closes its connection after its request (as {@code nc -N} and scripts
   * that shut down their output do) is answered on the loop, as the threads answer it, while the
   * one thread is held; then the connection closes. So are two requests pipelined before the end.
   * The loop once took the end of stream for the client's leaving and closed the connection
   * unanswered, and handed requests read before an end to the threads.
   */
  @Test
  void answersAClientThatHalfClosesAfterItsRequest() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread(origin.origin()));
    try (RawClient held = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 1);
      for (int i = 0; i < 2; i++) {
        try (Socket client = new Socket(proxy.address().getAddress(), proxy.address().getPort())) {
          client.setSoTimeout(10_000);
          client.getOutputStream().write("GET /half HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
          client.shutdownOutput();
          String answer = new String(client.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
          assertThat(answer).startsWith("HTTP/1.1 200 OK").endsWith("\r\n\r\nok");
        }
      }
      try (Socket client = new Socket(proxy.address().getAddress(), proxy.address().getPort())) {
        client.setSoTimeout(10_000);
        client.getOutputStream().write("GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n"
            .getBytes(StandardCharsets.ISO_8859_1));
        client.shutdownOutput();
        String answers = new String(client.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertThat(answers.split("HTTP/1.1 200 OK", -1)).as("two answers, pipelined before the end").hasSize(3);
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(origin.requests().get()).isEqualTo(5);
    assertThat(proxy.stats().failures()).doesNotContainKey("CLIENT_CLOSED");
  }

  /**
   * A client that leaves while its upstream's name is looked up gives back the pool's connection
   * slot its exchange held: the next request to that pool of one slot is still served on a loop
   * (answered 502, the name unknown) while the one thread is held, not handed to the threads for
   * want of a slot. The name is new, so that the JDK has no answer cached and the lookup takes a
   * while (about half a millisecond here); the client resets its connection as soon as its
   * exchange runs (a close, which may be a half-close, lets the exchange go on for a second, as
   * on the threads).
   */
  @Test
  void givesBackTheSlotsOfAnExchangeWhoseClientLeftDuringTheLookup() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    String unknown = "gone-" + System.nanoTime() + ".invalid";
    ProxyServer proxy = ferry.start(oneThread(origin.origin())
        .route(Route.to(Upstream.of("http://" + unknown + ":80").maxConnections(1)).pathPrefix("/gone")));
    try (Socket gone = new Socket(proxy.address().getAddress(), proxy.address().getPort())) {
      gone.setSoLinger(true, 0);
      gone.getOutputStream().write("GET /gone HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      // Reset as soon as its exchange runs: a spin, as the lookup takes well under a millisecond.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (proxy.stats().activeExchanges() == 0 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the client's connection to end");
    try (RawClient held = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 1);
      try (RawClient raw = new RawClient(proxy.address())) {
        RawClient.RawResponse response = raw.send("GET /gone HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
        assertThat(response.status()).isEqualTo(502);
        assertThat(response.bodyText()).contains(unknown + " (unknown host)");
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(proxy.stats().failures()).containsEntry("CLIENT_CLOSED", 1L);
  }

  /**
   * This machine's name if it is looked up to a loopback address (where the origins listen), as
   * on most machines; else {@code localhost}, a name all the same.
   */
  private static String loopbackName() {
    try {
      String name = InetAddress.getLocalHost().getHostName();
      if (HostNames.literal(name).isEmpty() && InetAddress.getByName(name).isLoopbackAddress()) {
        return name;
      }
    } catch (IOException e) {
      // no name of its own: localhost
    }
    return "localhost";
  }

  private boolean loopServes(ProxyServer.Builder builder) {
    return ((RealProxyServer) ferry.start(builder)).pipeline().loopServes();
  }

  /** {@code eventLoop(false)} keeps every connection on the threads, as TLS on the listener does. */
  @Test
  void runsNoLoopsWhenTurnedOffOrWhereTheyCannotServe() throws Exception {
    assertThat(ProxyServer.builder().upstream(Upstream.of("http://127.0.0.1:1")).eventLoop(false).build()
        .config().eventLoop()).isFalse();
    assertThat(ProxyServer.builder().eventLoop(false).build().config().eventLoop()).isFalse();
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    assertThat(ProxyServer.builder().upstream(Upstream.of("http://127.0.0.1:1"))
        .tls(ServerTls.keyStore(certificates.keyStore(), TestCertificates.password())).build()
        .config().eventLoop()).isFalse();
  }

  @Test
  void refusesEventLoopsWithTls() {
    assertThatThrownBy(() -> ProxyServer.builder().upstream(Upstream.of("http://127.0.0.1:1")).eventLoop(true)
            .tls(ServerTls.keyStore(java.nio.file.Path.of("absent.p12"), "x".toCharArray())).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("plain HTTP only");
  }
}
