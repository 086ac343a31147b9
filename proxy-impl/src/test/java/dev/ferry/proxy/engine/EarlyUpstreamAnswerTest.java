package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * RFC 9112 §9.5: an upstream that answers while its request's body is still streaming (probe
 * s8). Nothing more of the body goes to it, its answer reaches the client at once, and its
 * connection is never pooled: before, the proxy sent the rest of the body, which an upstream
 * that answered on the head reads as a request of its own, and pooled the connection, so the
 * next client got the answer to a request the first one smuggled past the proxy.
 */
class EarlyUpstreamAnswerTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  /** Also when the early answer says {@code Connection: keep-alive}, which used to keep it pooled. */
  @ParameterizedTest
  @ValueSource(strings = {"", "Connection: keep-alive\r\n"})
  void neverSendsOnOrPoolsAConnectionWhoseUpstreamAnsweredMidBody(String keepAlive) throws Exception {
    List<String> requestLines = new CopyOnWriteArrayList<>();
    CountDownLatch answeredEarly = new CountDownLatch(1);
    // Answers /early on its head alone, dropping the body bytes that came with it: what comes
    // later is read as the next request. Other requests are answered with their request line.
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> {
      String line;
      while ((line = TinyOrigin.readLine(in)) != null) {
        requestLines.add(line);
        while (!TinyOrigin.readLine(in).isEmpty()) {
          // The head's fields.
        }
        if (line.contains("/early")) {
          out.write(("HTTP/1.1 200 OK\r\n" + keepAlive + "Content-Length: 5\r\n\r\nearly")
              .getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
          in.skipNBytes(in.available());
          answeredEarly.countDown();
          continue;
        }
        byte[] body = ("answered: " + line).getBytes(StandardCharsets.ISO_8859_1);
        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
      }
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    String smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\nX-Swallow: ";
    try (RawClient attacker = new RawClient(proxy.address())) {
      // Expect: the body streams upstream as it comes, rather than being awaited whole.
      attacker.send("POST /early HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: "
          + (10 + smuggled.length()) + "\r\n\r\n");
      assertThat(attacker.readResponse(true).status()).isEqualTo(100);
      attacker.send("0123456789");
      assertThat(answeredEarly.await(10, TimeUnit.SECONDS)).as("the origin to answer early").isTrue();
      attacker.send(smuggled);

      RawClient.RawResponse answer = attacker.readResponse();
      assertThat(answer.bodyText()).isEqualTo("early");
    }
    try (RawClient victim = new RawClient(proxy.address())) {
      RawClient.RawResponse response = victim.send("GET /victim HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(response.bodyText()).isEqualTo("answered: GET /victim HTTP/1.1");
    }
    assertThat(requestLines).noneMatch(line -> line.contains("/smuggled"));
    assertThat(proxy.stats().upstreamConnectionsReused()).as("the connection that answered early, pooled").isZero();
  }

  /**
   * An upstream that answers an upload on its head (nginx's {@code return 200}) to a client that
   * asked to close: the client gets the answer and then an orderly close, even though what is
   * left of its body is small and comes after the answer (probe l22: 2-7 % of such uploads under
   * load ended in a reset, since only a large remainder made the close linger).
   */
  @Test
  void closesWithoutAResetAfterAnEarlyAnswerWhenLittleOfTheBodyIsLeft() throws Exception {
    CountDownLatch answered = new CountDownLatch(1);
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> {
      while (!TinyOrigin.readLine(in).isEmpty()) {
        // The head.
      }
      out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      answered.countDown();
      while (in.read() >= 0) {
        // Whatever of the body comes, dropped.
      }
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .requestBufferBytes(0).requestSpoolBytes(0));
    try (java.net.Socket client = new java.net.Socket("127.0.0.1", proxy.port())) {
      client.setSoTimeout(10_000);
      OutputStream out = client.getOutputStream();
      out.write(("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 20000\r\nConnection: close\r\n\r\n"
          + "a".repeat(10_000)).getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      assertThat(answered.await(10, TimeUnit.SECONDS)).as("the origin to answer on the head").isTrue();
      out.write('b'); // the proxy's next read of the body finds the answer there
      out.flush();
      java.io.InputStream in = client.getInputStream();
      assertThat(readUntil(in, "\r\n\r\nok")).startsWith("HTTP/1.1 200").contains("Connection: close");
      out.write("c".repeat(9_999).getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      assertThat(in.read()).as("an orderly close, not a reset").isEqualTo(-1);
    }
  }

  /** Reads until {@code end} has been read; fails at the end of the stream. */
  private static String readUntil(java.io.InputStream in, String end) throws IOException {
    StringBuilder read = new StringBuilder();
    while (read.indexOf(end) < 0) {
      int b = in.read();
      if (b < 0) {
        throw new java.io.EOFException("closed after " + read);
      }
      read.append((char) b);
    }
    return read.toString();
  }

  /**
   * An answer that comes once the whole body went is the answer, not an early one: the
   * connection goes back to the pool. (A check after the body's end closed every connection
   * whose upstream answered fast.)
   */
  @Test
  void poolsTheConnectionOfAnUploadAnsweredAfterItsWholeBody() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.echoingBodies(
        new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .requestBufferBytes(0).requestSpoolBytes(0));
    try (RawClient raw = new RawClient(proxy.address())) {
      for (int i = 0; i < 20; i++) {
        String body = "order-" + i;
        RawClient.RawResponse response = raw.send("POST /orders HTTP/1.1\r\nHost: a\r\nContent-Length: "
            + body.length() + "\r\n\r\n" + body).readResponse();
        assertThat(response.bodyText()).isEqualTo(body);
      }
    }
    assertThat(origin.connectionCount()).as("connections the origin saw").isEqualTo(1);
  }

  @Test
  void sendsTheWholeBodyToAnUpstreamThatSentEarlyHintsWhileReadingIt() throws Exception {
    CountDownLatch hinted = new CountDownLatch(1);
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> {
      while (!TinyOrigin.readLine(in).isEmpty()) {
        // The head: Content-Length 20.
      }
      // Two interim responses, the second after the proxy has seen the first: it is no answer
      // either (probe v10: it was taken for one, and the upload failed with a 502).
      out.write("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
          .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      byte[] first = in.readNBytes(10);
      out.write("HTTP/1.1 103 Early Hints\r\nLink: </b.js>; rel=preload\r\n\r\n"
          .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      hinted.countDown();
      byte[] body = (new String(first, StandardCharsets.ISO_8859_1)
          + new String(in.readNBytes(10), StandardCharsets.ISO_8859_1)).getBytes(StandardCharsets.ISO_8859_1);
      out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      out.write(body);
      out.flush();
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 20\r\n\r\n");
      assertThat(raw.readResponse(true).status()).isEqualTo(100);
      raw.send("0123456789");
      assertThat(hinted.await(10, TimeUnit.SECONDS)).as("the origin to send its hints").isTrue();
      raw.send("abcdefghij");

      assertThat(raw.readResponse(true).status()).isEqualTo(103);
      assertThat(raw.readResponse(true).status()).isEqualTo(103);
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("0123456789abcdefghij");
    }
  }

  /**
   * A proxy to an origin that answers 413 on the head, then reads and drops what comes, as a
   * lingering close does.
   */
  private ProxyServer proxyToAnEarly413() throws Exception {
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> {
      while (!TinyOrigin.readLine(in).isEmpty()) {
        // The head only.
      }
      out.write(("HTTP/1.1 413 Content Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\n"
          + "too large").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      in.transferTo(OutputStream.nullOutputStream());
    }));
    return ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
  }

  /**
   * A client that writes its whole upload before it reads gets the early answer, not a reset
   * (probe v10): the lingering close discards up to 8 MiB, where at 64 KiB a client still sending
   * a few megabytes was reset before it read anything; and the whole rest of a body of declared
   * length past that, where Java's HttpClient uploading 20 MB was reset after 8 MiB and never
   * saw the 413 (probe c26).
   */
  @ParameterizedTest
  @ValueSource(ints = {3 << 20, 20 << 20})
  void answersAClientThatSendsItsWholeUploadBeforeReading(int length) throws Exception {
    ProxyServer proxy = proxyToAnEarly413();
    byte[] body = new byte[length];
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: "
          + body.length + "\r\n\r\n");
      assertThat(raw.readResponse(true).status()).isEqualTo(100);
      for (int sent = 0; sent < body.length; sent += 64 * 1024) {
        raw.output().write(body, sent, 64 * 1024);
      }
      raw.output().flush();

      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.status()).isEqualTo(413);
      assertThat(response.bodyText()).isEqualTo("too large");
    }
  }

  /**
   * An early answer relayed once the client's body stalled (it waits for the answer it was told
   * to send the body for) closes the connection, and says so: a small remainder, drained to keep
   * other connections, cannot be here, the read having failed (probe l24: no Connection: close).
   */
  @Test
  void saysItClosesAfterAnEarlyAnswerWhoseBodyStalled() throws Exception {
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> {
      while (!TinyOrigin.readLine(in).isEmpty()) {
        // The head only.
      }
      out.write("HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\n\r\nnope".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      in.transferTo(OutputStream.nullOutputStream());
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .idleTimeout(java.time.Duration.ofSeconds(1)));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 64\r\n\r\n");
      assertThat(raw.readResponse(true).status()).isEqualTo(100);
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.status()).isEqualTo(401);
      assertThat(response.header("Connection")).isEqualTo("close");
    }
  }

  @Test
  void relaysAnEarlyAnswerWhileTheClientIsStillUploading() throws Exception {
    ProxyServer proxy = proxyToAnEarly413();
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 100000000\r\n\r\n");
      assertThat(raw.readResponse(true).status()).isEqualTo(100);
      CountDownLatch answered = new CountDownLatch(1);
      // 1 KiB every 10 ms: the whole body would take over a quarter of an hour.
      Thread writer = new Thread(() -> {
        try {
          while (!answered.await(10, TimeUnit.MILLISECONDS)) {
            raw.output().write(new byte[1024]);
            raw.output().flush();
          }
        } catch (IOException | InterruptedException expected) {
          // The proxy closes the connection after the answer.
        }
      }, "test-upload");
      writer.setDaemon(true);
      writer.start();

      RawClient.RawResponse response = raw.readResponse();
      answered.countDown();

      assertThat(response.status()).isEqualTo(413);
      assertThat(response.bodyText()).isEqualTo("too large");
      writer.join(10_000);
    }
  }
}
