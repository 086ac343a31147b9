package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Issue #8 item 7: interim responses an upstream sends unasked, and bare LFs in response heads. */
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
}
