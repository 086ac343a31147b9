package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue #8 item 1: upstreams that close idle keep-alive connections (Node closes after 5 s) must
 * never turn a request into a 502, and a request that timed out is never sent twice.
 */
class StaleUpstreamConnectionTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  /** Echoes each request body; closes a connection idle for {@code idleMillis}, then signals. */
  private TinyOrigin closingIdleAfter(int idleMillis, Semaphore closedIdle) throws IOException {
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((Socket socket, InputStream in, OutputStream out) -> {
      socket.setSoTimeout(idleMillis);
      try {
        TinyOrigin.Received request;
        while ((request = self[0].readRequest(in)) != null) {
          out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + request.body().length + "\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
          out.write(request.body());
          out.flush();
        }
      } catch (SocketTimeoutException idle) {
        socket.close();
        closedIdle.release();
      }
    }));
    return self[0];
  }

  /** A POST may not be sent twice: the pooled connection it goes on is probed first, and a closed one left. */
  @Test
  void servesPostsOnConnectionsTheUpstreamClosedWhileIdle() throws Exception {
    Semaphore closedIdle = new Semaphore(0);
    TinyOrigin origin = closingIdleAfter(200, closedIdle);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      for (int i = 0; i < 20; i++) {
        String body = "order-" + i;
        RawClient.RawResponse response = raw.send("POST /orders HTTP/1.1\r\nHost: a\r\n"
            + "Content-Length: " + body.length() + "\r\n\r\n" + body).readResponse();
        assertThat(response.status()).as("POST %d", i).isEqualTo(200);
        assertThat(response.bodyText()).isEqualTo(body);
        // The next POST goes out only once the origin has dropped the pooled connection.
        assertThat(closedIdle.tryAcquire(5, TimeUnit.SECONDS)).isTrue();
      }
    }
    assertThat(proxy.stats().responsesByStatus()).containsOnlyKeys(200);
  }

  /** A forward proxy has no route retry: the forwarder's probe is what keeps a POST off a dead connection. */
  @Test
  void servesPostsOnStaleConnectionsInAForwardProxy() throws Exception {
    Semaphore closedIdle = new Semaphore(0);
    TinyOrigin origin = closingIdleAfter(200, closedIdle);
    ProxyServer proxy = ferry.start(ProxyServer.builder());
    try (RawClient raw = new RawClient(proxy.address())) {
      for (int i = 0; i < 5; i++) {
        String body = "order-" + i;
        RawClient.RawResponse response = raw.send("POST " + origin.url("/orders") + " HTTP/1.1\r\n"
            + "Host: a\r\nContent-Length: " + body.length() + "\r\n\r\n" + body).readResponse();
        assertThat(response.status()).as("POST %d", i).isEqualTo(200);
        assertThat(response.bodyText()).isEqualTo(body);
        assertThat(closedIdle.tryAcquire(5, TimeUnit.SECONDS)).isTrue();
      }
    }
  }

  /**
   * A PUT whose body is past the retry buffer could not be sent again: like a POST, its pooled
   * connection is probed first and a closed one left (probe l24: it went out on the dead
   * connection, 502, every time). Chunked bodies, of unknown length, likewise.
   */
  @Test
  void probesTheConnectionOfABodyTooLargeToResend() throws Exception {
    Semaphore closedIdle = new Semaphore(0);
    TinyOrigin origin = closingIdleAfter(200, closedIdle);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .retryBufferBytes(8));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      assertThat(closedIdle.tryAcquire(5, TimeUnit.SECONDS)).isTrue();
      RawClient.RawResponse response = raw.send("PUT / HTTP/1.1\r\nHost: a\r\n"
          + "Content-Length: 20\r\n\r\n01234567890123456789").readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("01234567890123456789");
      assertThat(closedIdle.tryAcquire(5, TimeUnit.SECONDS)).isTrue();
      response = raw.send("DELETE / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "3\r\nabc\r\n0\r\n\r\n").readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("abc");
    }
    assertThat(origin.connectionCount()).isEqualTo(3);
  }

  /**
   * An origin that answers every request's head with a cacheable page naming its path and leaves
   * any content unread, as many GET, DELETE and OPTIONS handlers do (only POST, PUT and PATCH
   * bodies are read).
   */
  private static TinyOrigin contentIgnoringOrigin() throws IOException {
    return new TinyOrigin((socket, in, out) -> {
      String line;
      while ((line = TinyOrigin.readLine(in)) != null && !line.isEmpty()) {
        String path = line.split(" ")[1];
        String field;
        while ((field = TinyOrigin.readLine(in)) != null && !field.isEmpty()) {
          // The rest of the head; the content is left unread.
        }
        byte[] page = ("page for " + path).getBytes(StandardCharsets.ISO_8859_1);
        out.write(("HTTP/1.1 200 OK\r\nCache-Control: max-age=100\r\nContent-Length: " + page.length
            + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(page);
        out.flush();
      }
    });
  }

  /**
   * An upstream that never reads a GET's content takes it for the start of the next request on
   * the connection: the connection that carried one ends with it, and the next client gets its
   * own page, not one the first chose. Nor is the answer to such a GET stored: the key holds no
   * content, and an origin that reads it answered for everyone (probe p24).
   */
  @Test
  void neverStoresOrReusesTheConnectionOfAGetWithContent() throws Exception {
    TinyOrigin origin = ferry.track(contentIgnoringOrigin());
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .cache(CacheSpec.inMemory()));
    String smuggled = "GET /evil HTTP/1.1\r\nX-Ignore: ";
    try (RawClient attacker = new RawClient(proxy.address())) {
      RawClient.RawResponse fat = attacker.send("GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: "
          + smuggled.length() + "\r\n\r\n" + smuggled).readResponse();
      assertThat(fat.bodyText()).isEqualTo("page for /a");
      assertThat(fat.header("X-Cache")).isEqualTo("BYPASS");
    }
    try (RawClient victim = new RawClient(proxy.address())) {
      assertThat(victim.send("GET /victim HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText())
          .isEqualTo("page for /victim");
      assertThat(victim.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().header("X-Cache"))
          .isEqualTo("MISS");
    }
    assertThat(origin.connectionCount()).isEqualTo(2);
  }

  /**
   * Content has no meaning on a DELETE, OPTIONS or TRACE either, nor surely on an extension
   * method: an origin that reads content only for POST, PUT and PATCH took a DELETE's for the
   * next client's request (probe v27). The connection that carried it ends with it.
   */
  @ParameterizedTest
  @ValueSource(strings = {"DELETE", "OPTIONS", "TRACE", "PROPFIND"})
  void neverReusesTheConnectionOfAnotherMethodWithContent(String method) throws Exception {
    TinyOrigin origin = ferry.track(contentIgnoringOrigin());
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    String smuggled = "GET /evil HTTP/1.1\r\nX-Ignore: ";
    try (RawClient attacker = new RawClient(proxy.address())) {
      assertThat(attacker.send(method + " /a HTTP/1.1\r\nHost: a\r\nContent-Length: " + smuggled.length()
          + "\r\n\r\n" + smuggled).readResponse().bodyText()).isEqualTo("page for /a");
    }
    try (RawClient victim = new RawClient(proxy.address())) {
      assertThat(victim.send("GET /victim HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText())
          .isEqualTo("page for /victim");
    }
    assertThat(origin.connectionCount()).isEqualTo(2);
  }

  /**
   * A server that answers HEAD as GET (Python's {@code do_HEAD = do_GET}) writes the body after
   * the head, often later than any check before the next reuse can see (Nagle's algorithm holds
   * it for the proxy's delayed ACK): the connection that carried a HEAD whose answer announced
   * content is not reused (probe c25: the next client got 502, "malformed status line"). Here
   * the body comes just before the next answer, the latest it can. A HEAD whose answer
   * announced no content keeps its connection.
   */
  @Test
  void neverReusesTheConnectionOfAHeadWhoseAnswerAnnouncedContent() throws Exception {
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> {
      byte[] late = new byte[0];
      String line;
      while ((line = TinyOrigin.readLine(in)) != null && !line.isEmpty()) {
        String path = line.split(" ")[1];
        String field;
        while ((field = TinyOrigin.readLine(in)) != null && !field.isEmpty()) {
          // The rest of the head.
        }
        out.write(late);
        byte[] page = ("page for " + path).getBytes(StandardCharsets.ISO_8859_1);
        String length = path.equals("/empty") ? "0"
            // Conflicting lines, the first saying 0 (probe v28).
            : path.equals("/conflict") ? "0\r\nContent-Length: " + page.length : Integer.toString(page.length);
        // No framing: as a GET's, a body until the close (probe v29).
        String framing = path.equals("/unframed") ? "" : "Content-Length: " + length + "\r\n";
        out.write(("HTTP/1.1 200 OK\r\n" + framing + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        late = line.startsWith("HEAD") && !path.equals("/empty") ? page : new byte[0];
        if (!line.startsWith("HEAD")) {
          out.write(page);
        }
        out.flush();
      }
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient client = new RawClient(proxy.address())) {
      assertThat(client.send("HEAD /empty HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(true).status())
          .isEqualTo(200);
      assertThat(client.send("HEAD /doc HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(true).status())
          .isEqualTo(200);
      assertThat(client.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText())
          .isEqualTo("page for /next");
      client.send("HEAD /conflict HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(true);
      assertThat(client.send("GET /last HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText())
          .isEqualTo("page for /last");
      client.send("HEAD /unframed HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(true);
      assertThat(client.send("GET /final HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText())
          .isEqualTo("page for /final");
    }
    assertThat(origin.connectionCount()).as("the HEAD announcing no content kept its connection").isEqualTo(4);
  }

  /**
   * RFC 9110 §9.2.2: a proxy never sends a POST twice. An upstream that read it and closed
   * without answering may have acted on it: the client gets 502, the upstream saw it once. A GET
   * in the same place is sent again.
   */
  @Test
  void neverResendsAPostTheUpstreamReadAndLeftUnanswered() throws Exception {
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      TinyOrigin.Received request;
      while ((request = self[0].readRequest(in)) != null) {
        if (request.requestLine().contains("/drop")) {
          return; // read, acted on, never answered: the connection closes
        }
        out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      }
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(self[0].url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /warm HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      assertThat(raw.send("POST /drop HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\norder")
          .readResponse().status()).isEqualTo(502);
    }
    assertThat(self[0].takeRequest().requestLine()).startsWith("GET /warm");
    assertThat(self[0].takeRequest().requestLine()).startsWith("POST /drop");
    assertThat(self[0].pollRequest()).as("the POST went once").isNull();
  }

  /**
   * Bytes an upstream sends after its response, however soon the connection is reused, are never
   * read as the next request's response (another client's): a pooled connection with unasked
   * bytes waiting is left, whatever its idle time.
   */
  @Test
  void neverServesBytesAnUpstreamSentLateAfterItsResponse() throws Exception {
    java.util.concurrent.CountDownLatch extraSent = new java.util.concurrent.CountDownLatch(1);
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      TinyOrigin.Received request;
      while ((request = self[0].readRequest(in)) != null) {
        out.write(("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nfirst\n").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        if (extraSent.getCount() > 0) {
          self[0].awaitQuiet(100); // the client has its response and the connection is pooled
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nSMUGGLED".getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
          extraSent.countDown();
        }
      }
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(self[0].url("/"))));
    try (RawClient first = new RawClient(proxy.address())) {
      assertThat(first.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("first\n");
    }
    assertThat(extraSent.await(5, TimeUnit.SECONDS)).isTrue();
    try (RawClient second = new RawClient(proxy.address())) {
      assertThat(second.send("GET /b HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("first\n");
    }
    assertThat(self[0].connectionCount()).isEqualTo(2);
  }

  /**
   * An upstream that answers one request twice (probe r22): the excess answer is read as the
   * next request's, which cannot be told apart, but that request's own answer, which then waits
   * in the socket, must not be read as the answer of the request after it, and so on for ever.
   */
  @Test
  void leavesAConnectionWhoseLastRequestsOwnAnswerCameAfterAnExcessOne() throws Exception {
    java.util.concurrent.CountDownLatch secondAnswered = new java.util.concurrent.CountDownLatch(1);
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      // Each answer leaves at once: with Nagle's algorithm the one after the excess waits for
      // its acknowledgement and can arrive after the next request went out, which no client
      // could tell from that request's answer (the README's limit).
      socket.setTcpNoDelay(true);
      TinyOrigin.Received request;
      boolean excessDue = false;
      while ((request = self[0].readRequest(in)) != null) {
        String path = request.requestLine().split(" ")[1];
        if (excessDue) {
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nEXCESS".getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
          excessDue = false;
        }
        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + path.length() + "\r\n\r\n" + path)
            .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        if (path.equals("/late")) {
          excessDue = true;
        } else if (path.equals("/r0")) {
          secondAnswered.countDown();
        }
      }
    }));
    // The threads' shared pool: each event loop keeps idle connections of its own, so the next
    // client, on the other loop, may not be given the connection the excess waits on.
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(self[0].url("/")))
        .eventLoop(false));
    assertThat(getClosing(proxy, "/late")).isEqualTo("/late");
    assertThat(getClosing(proxy, "/r0")).as("the excess answer, read as the next request's").isEqualTo("EXCESS");
    assertThat(secondAnswered.await(5, TimeUnit.SECONDS)).isTrue();
    for (String path : new String[] {"/r1", "/r2"}) {
      assertThat(getClosing(proxy, path)).isEqualTo(path);
    }
  }

  /** A GET on a connection of its own, closed after its answer, as many clients send them. */
  private static String getClosing(ProxyServer proxy, String path) throws IOException {
    try (RawClient raw = new RawClient(proxy.address())) {
      return raw.send("GET " + path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").readResponse().bodyText();
    }
  }

  @Test
  void probesConnectionIdleOverASecondAndDiscardsOneWithUnaskedBytes() throws Exception {
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      TinyOrigin.Received request;
      while ((request = self[0].readRequest(in)) != null) {
        if (request.requestLine().startsWith("HEAD")) {
          // A broken origin: a body after a HEAD response, arriving after the head was read.
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
          self[0].awaitQuiet(100);
          out.write("HTTP/".getBytes(StandardCharsets.ISO_8859_1));
        } else {
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
        }
        out.flush();
      }
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(self[0].url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(true).status()).isEqualTo(200);
      // Idle time is the behaviour under test: past a second, a pooled connection is probed.
      Thread.sleep(1_200);
      RawClient.RawResponse response = raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("ok");
    }
    assertThat(self[0].connectionCount()).isEqualTo(2);
  }

  @Test
  void evictsPooledConnectionBeforeTheUpstreamKeepAliveTimeout() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering(
        "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .upstreamKeepAlive(Duration.ofSeconds(60)));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      assertThat(proxy.stats().upstreamConnectionsIdle()).isEqualTo(1);
      Await.until(() -> proxy.stats().upstreamConnectionsIdle() == 0, Duration.ofSeconds(5),
          () -> "the pool to drop a connection the upstream keeps alive for 1 s");
    }
  }

  @Test
  void neverResendsARequestThatTimedOut() throws Exception {
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      if (self[0].readRequest(in) != null) {
        out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      }
      // The second request on this connection is read and never answered.
      self[0].readRequest(in);
      self[0].awaitQuiet(30_000);
    }));
    Duration timeout = Duration.ofMillis(800);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(self[0].url("/")))
        .upstreamTimeout(timeout));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      long started = System.nanoTime();
      RawClient.RawResponse response = raw.send("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      long elapsedMillis = (System.nanoTime() - started) / 1_000_000;
      assertThat(response.status()).isEqualTo(504);
      // Once, not twice: a retry would double the wait.
      assertThat(elapsedMillis).isLessThan(2 * timeout.toMillis());
    }
    assertThat(self[0].takeRequest().requestLine()).startsWith("GET /1");
    assertThat(self[0].takeRequest().requestLine()).startsWith("GET /2");
    assertThat(self[0].pollRequest()).isNull();
    assertThat(self[0].connectionCount()).isEqualTo(1);
  }
}
