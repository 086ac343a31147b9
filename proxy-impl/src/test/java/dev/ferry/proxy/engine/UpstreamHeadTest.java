package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Response heads as upstreams send them: interim responses unasked and bare LFs (issue #8 item 7),
 * heads at the loops' read buffer and at the header limit, and bytes after a bodiless answer.
 */
class UpstreamHeadTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @Test
  void forwardsUnsolicited100ContinueToHttp11Clients() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(raw.readResponse().status()).isEqualTo(100);
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("ok");
    }
  }

  @Test
  void answers502ForBareLfThatWouldSplitAFieldInTwo() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering(
        "HTTP/1.1 200 OK\r\nX-Echo: hello\nSet-Cookie: session=attacker\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(response.status()).isEqualTo(502);
      assertThat(response.header("Set-Cookie")).isNull();
    }
  }

  /**
   * A response field with a control character in its value, or a name that is no token, is a
   * bad response (RFC 9112 §5): 502, and nothing of it reaches the client.
   */
  @Test
  void answers502ForAnInvalidFieldNameOrValue() throws Exception {
    for (String field : new String[] {"X-Echo: a\u0001b", "X Echo: b", "X-Echo\u00e9: c", "X-Echo: d\u007f"}) {
      TinyOrigin origin = ferry.track(TinyOrigin.answering(
          "HTTP/1.1 200 OK\r\n" + field + "\r\nContent-Length: 2\r\n\r\nok"));
      ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
      try (RawClient raw = new RawClient(proxy.address())) {
        RawClient.RawResponse response = raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
        assertThat(response.status()).as(field).isEqualTo(502);
        assertThat(response.headers().keySet()).as(field)
            .noneMatch(name -> name.toLowerCase().startsWith("x-echo") || name.contains(" "));
      }
    }
  }

  /** RFC 9110 §6.6.1: a proxy with a clock adds Date to a response it forwards without one. */
  @Test
  void addsDateToAResponseWithoutOneAndKeepsTheOrigins() throws Exception {
    TinyOrigin bare = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    TinyOrigin dated = ferry.track(TinyOrigin.answering(
        "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 2\r\n\r\nok"));
    for (TinyOrigin origin : new TinyOrigin[] {bare, dated}) {
      ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
      try (RawClient raw = new RawClient(proxy.address())) {
        RawClient.RawResponse response = raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
        assertThat(response.status()).isEqualTo(200);
        if (origin == dated) {
          assertThat(response.header("Date")).isEqualTo("Sun, 06 Nov 1994 08:49:37 GMT");
        } else {
          assertThat(response.header("Date")).matches("(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d\\d [A-Z][a-z]{2} \\d{4} \\d\\d:\\d\\d:\\d\\d GMT");
        }
      }
    }
  }

  /**
   * An upstream that breaks off in the middle of its response head answered: the request is not
   * retried on another endpoint as if it had been reset before any answer (it was), and the
   * client gets 502.
   */
  @Test
  void doesNotRetryARequestWhoseResponseHeadBrokeOff() throws Exception {
    TinyOrigin[] origins = new TinyOrigin[2];
    for (int i = 0; i < 2; i++) {
      TinyOrigin[] self = new TinyOrigin[1];
      self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
        if (self[0].readRequest(in) != null) {
          out.write("HTTP/1.1 200 OK\r\nContent-Le".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
          out.flush();
        }
      }));
      origins[i] = self[0];
    }
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.pool(origins[0].url("/"), origins[1].url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(502);
    }
    assertThat(origins[0].connectionCount() + origins[1].connectionCount()).as("upstream connections").isEqualTo(1);
  }

  /**
   * RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 response means faulty framing: 502 and the
   * connection closed (it was read as chunked and the connection reused).
   */
  @Test
  void answers502ToAnHttp10ResponseWithTransferEncoding() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(502);
    }
  }

  /** RFC 9110 §7.8: Upgrade in an HTTP/1.0 request is ignored: not forwarded, no 101 to relay. */
  @Test
  void ignoresUpgradeInAnHttp10Request() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET /ws HTTP/1.0\r\nHost: a\r\nConnection: Upgrade\r\n"
          + "Upgrade: websocket\r\n\r\n").readResponse();
      assertThat(response.status()).isEqualTo(200);
    }
    TinyOrigin.Received received = origin.takeRequest();
    assertThat(received.header("Upgrade")).isNull();
  }

  /** Forty 1 KiB fields: a head past the loops' 16 KiB read buffer, within the 64 KiB limit. */
  private static String largeFields() {
    StringBuilder fields = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      fields.append("X-Large-").append(i).append(": ").append("v".repeat(1000)).append("\r\n");
    }
    return fields.toString();
  }

  /**
   * A response head larger than a read buffer is relayed, with a length or a chunked body behind
   * it: on the loops it filled the buffer and the loop spun on the upstream's readiness until
   * the upstream timeout (504); then a chunked body's bytes past what one relay takes waited for
   * a readiness that never came.
   */
  @ParameterizedTest(name = "eventLoop={0}")
  @ValueSource(booleans = {true, false})
  void relaysAResponseHeadLargerThanTheReadBuffer(boolean eventLoop) throws Exception {
    String chunk = "b".repeat(20_000);
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\n" + largeFields()
        + "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(chunk.length()) + "\r\n" + chunk
        + "\r\n0\r\n\r\n"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .upstreamTimeout(Duration.ofSeconds(5)).eventLoop(eventLoop));
    try (RawClient raw = new RawClient(proxy.address())) {
      for (int i = 0; i < 2; i++) {
        RawClient.RawResponse response = raw.send("GET /large HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("X-Large-39")).isEqualTo("v".repeat(1000));
        assertThat(response.bodyText()).isEqualTo(chunk);
      }
    }
  }

  /**
   * A response head past {@code maxHeaderBytes} is a bad response: 502 at once, and the next
   * request is served. On the loops it spun a core until the upstream timeout, then 504.
   */
  @ParameterizedTest(name = "eventLoop={0}")
  @ValueSource(booleans = {true, false})
  void answers502ToAResponseHeadPastTheHeaderLimit(boolean eventLoop) throws Exception {
    TinyOrigin origin = answeringBy(requestLine -> "HTTP/1.1 200 OK\r\n"
        + (requestLine.contains("/huge") ? "X-Huge: " + "h".repeat(70_000) + "\r\n" : "")
        + "Content-Length: 2\r\n\r\nok");
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .upstreamTimeout(Duration.ofSeconds(5)).eventLoop(eventLoop));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET /huge HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(response.status()).isEqualTo(502);
      assertThat(response.bodyText()).contains("header section too large");
      assertThat(response.header("X-Huge")).isNull();
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET /small HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("ok");
    }
  }

  /**
   * The largest head the limits allow (an 8 KiB status line, a header section one byte within
   * {@code maxHeaderBytes} with its line ends) is relayed, and one byte more is 502, on the
   * loops as on the threads: the loops buffer a head whole, in a buffer grown to
   * {@code HeadParser.largestResponseHead}, and must agree with the threads' parser at the edge.
   */
  @ParameterizedTest(name = "eventLoop={0}")
  @ValueSource(booleans = {true, false})
  void relaysTheLargestResponseHeadTheLimitsAllowAndNotAByteMore(boolean eventLoop) throws Exception {
    String statusLine = "HTTP/1.1 200 " + "r".repeat(8 * 1024 - 13);
    String length = "Content-Length: 2\r\n";
    // Field lines of the header section's budget, but one byte (the empty line's CR must fit).
    int filler = 64 * 1024 - 1 - length.length() - "X-Filler: \r\n".length();
    TinyOrigin origin = answeringBy(requestLine -> statusLine + "\r\nX-Filler: "
        + "f".repeat(filler + (requestLine.contains("/over") ? 1 : 0)) + "\r\n" + length + "\r\nok");
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .upstreamTimeout(Duration.ofSeconds(5)).eventLoop(eventLoop));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET /edge HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.header("X-Filler")).hasSize(filler);
      assertThat(response.bodyText()).isEqualTo("ok");
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET /over HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(response.status()).isEqualTo(502);
      assertThat(response.bodyText()).contains("header section too large");
    }
  }

  /**
   * RFC 9112 §6.3: a 204 or a 304 ends at its head whatever its fields say, so bytes an upstream
   * sends after one are no part of it: the connection that carried them is closed, as the pool
   * closes one holding unread bytes. The loops kept it, and the next request read them as its
   * answer (502).
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"204 No Content", "304 Not Modified"})
  void closesAnUpstreamConnectionThatSentBytesAfterABodilessAnswer(String status) throws Exception {
    // The stray bytes go in the head's write, so that they come with it.
    TinyOrigin origin = answeringBy(requestLine -> requestLine.contains("/empty")
        ? "HTTP/1.1 " + status + "\r\nContent-Length: 5\r\n\r\nstray"
        : "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfine");
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse empty = raw.send("GET /empty HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(empty.status()).isEqualTo(Integer.parseInt(status.substring(0, 3)));
      assertThat(empty.body()).isEmpty();
      RawClient.RawResponse next = raw.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(next.status()).isEqualTo(200);
      assertThat(next.bodyText()).isEqualTo("fine");
    }
    assertThat(origin.connectionCount()).as("upstream connections").isEqualTo(2);
  }

  /** An origin answering each request on a connection with {@code answer} of its request line, in one write. */
  private TinyOrigin answeringBy(Function<String, String> answer) throws IOException {
    TinyOrigin[] origin = new TinyOrigin[1];
    origin[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      TinyOrigin.Received request;
      while ((request = origin[0].readRequest(in)) != null) {
        out.write(answer.apply(request.requestLine()).getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      }
    }));
    return origin[0];
  }
}
