package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * HTTP/1.0 clients on the event loops: served there while the proxy's one thread is held (so
 * nothing here can be the threads' doing), each answer framed for a client that knows no chunks
 * and keeps its connection only when it asked to (RFC 9112 §6.1, §9.3).
 */
@DisabledIfSystemProperty(named = "ferry.test.eventLoop", matches = "false",
    disabledReason = "these tests are of the event loops, which -Dferry.test.eventLoop=false turns off")
class LoopHttp10Test {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  private final CountDownLatch release = new CountDownLatch(1);
  private final AtomicInteger requests = new AtomicInteger();

  /** An origin answering with what {@code answer} makes of each request line; {@code POST /hold} held. */
  private TinyOrigin origin(Function<String, String> answer) throws Exception {
    return HoldingOrigin.answering(ferry, release, requests,
        line -> answer.apply(line).getBytes(StandardCharsets.ISO_8859_1));
  }

  /** A reverse proxy to {@code origin} with one thread and no queue, that thread held by a POST. */
  private RawClient holdingTheThread(ProxyServer proxy, String target) throws Exception {
    RawClient held = new RawClient(proxy.address());
    HoldingOrigin.hold(held, target, requests, 1);
    return held;
  }

  private static ProxyServer.Builder oneThread() {
    return ProxyServer.builder().concurrency(Concurrency.boundedPool(1, 0));
  }

  /**
   * A 1.0 client that asks for keep-alive keeps its connection over a GET and a HEAD, each
   * answered with a length and {@code Connection: keep-alive}; the origin gets HTTP/1.1 with the
   * upstream's Host and Via naming 1.0; a request without keep-alive is answered with
   * {@code Connection: close}, and the connection ends.
   */
  @Test
  void servesHttp10ClientsAndKeepsTheirConnectionOnlyWhenAsked() throws Exception {
    TinyOrigin origin = origin(line -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    ProxyServer proxy = ferry.start(oneThread().upstream(Upstream.of(origin.url("/"))));
    try (RawClient held = holdingTheThread(proxy, "/hold"); RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse get = raw.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").readResponse();
      assertThat(get.status()).isEqualTo(200);
      assertThat(get.bodyText()).isEqualTo("ok");
      assertThat(get.header("connection")).isEqualTo("keep-alive");
      assertThat(get.header("content-length")).isEqualTo("2");
      assertThat(get.header("via")).isEqualTo("1.1 ferry");
      RawClient.RawResponse head = raw.send("HEAD /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").readResponse(true);
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("content-length")).isEqualTo("2");
      RawClient.RawResponse last = raw.send("GET /c HTTP/1.0\r\n\r\n").readResponse();
      assertThat(last.bodyText()).isEqualTo("ok");
      assertThat(last.header("connection")).isEqualTo("close");
      assertThat(raw.isClosedByPeer()).isTrue();
      release.countDown();
      assertThat(held.readResponse().bodyText()).isEqualTo("ok");
    }
    origin.takeRequest(); // the held POST
    TinyOrigin.Received first = origin.takeRequest();
    assertThat(first.requestLine()).isEqualTo("GET /a HTTP/1.1");
    assertThat(first.header("host")).isEqualTo("127.0.0.1:" + origin.port());
    assertThat(first.header("via")).isEqualTo("1.0 ferry");
    assertThat(first.header("connection")).isNull();
    assertThat(first.header("keep-alive")).isNull();
  }

  /**
   * A chunked answer of 300 KB in many chunks, with a trailer field, reaches a 1.0 client as its
   * data alone (no chunk framing, no trailer), with {@code Connection: close}, and the connection
   * ends after it (the body is read to that end), twice.
   */
  @Test
  void sendsAChunkedAnswerToAnHttp10ClientAsItsDataThenCloses() throws Exception {
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    StringBuilder chunked = new StringBuilder();
    for (int i = 0; i < 300; i++) {
      String chunk = String.valueOf((char) ('a' + i % 26)).repeat(1000 + i % 7);
      data.writeBytes(chunk.getBytes(StandardCharsets.ISO_8859_1));
      chunked.append(Integer.toHexString(chunk.length())).append(i % 2 == 0 ? ";ext=1" : "").append("\r\n")
          .append(chunk).append("\r\n");
    }
    chunked.append("0\r\nX-Checksum: 42\r\n\r\n");
    TinyOrigin origin = origin(line -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
        + chunked);
    ProxyServer proxy = ferry.start(oneThread().upstream(Upstream.of(origin.url("/"))));
    try (RawClient held = holdingTheThread(proxy, "/hold")) {
      for (int i = 0; i < 2; i++) {
        try (RawClient raw = new RawClient(proxy.address())) {
          RawClient.RawResponse response =
              raw.send("GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").readResponse();
          assertThat(response.status()).isEqualTo(200);
          assertThat(response.header("transfer-encoding")).isNull();
          assertThat(response.header("trailer")).isNull();
          assertThat(response.header("content-length")).isNull();
          assertThat(response.header("connection")).isEqualTo("close");
          assertThat(response.body()).isEqualTo(data.toByteArray()); // read to the connection's end
        }
      }
      release.countDown();
      held.readResponse();
    }
  }

  /** An answer that ends with its connection goes to a 1.0 client as it came, and so ends there too. */
  @Test
  void relaysAnAnswerEndingWithItsConnectionToAnHttp10Client() throws Exception {
    TinyOrigin origin = origin(line -> line.startsWith("POST")
        ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        : "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end");
    ProxyServer proxy = ferry.start(oneThread().upstream(Upstream.of(origin.url("/"))));
    try (RawClient held = holdingTheThread(proxy, "/hold"); RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response =
          raw.send("GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").readResponse();
      assertThat(response.header("connection")).isEqualTo("close");
      assertThat(response.bodyText()).isEqualTo("until the end");
      release.countDown();
      held.readResponse();
    }
  }

  /** RFC 9110 §15.2: a 1xx never goes to an HTTP/1.0 client, which would take it for the answer. */
  @Test
  void sendsNoInterimAnswerToAnHttp10Client() throws Exception {
    TinyOrigin origin = origin(line -> "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    ProxyServer proxy = ferry.start(oneThread().upstream(Upstream.of(origin.url("/"))));
    try (RawClient held = holdingTheThread(proxy, "/hold"); RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response =
          raw.send("GET /e HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("ok");
      RawClient.RawResponse modern = raw.send("GET /e HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(modern.status()).isEqualTo(103);
      assertThat(raw.readResponse().bodyText()).isEqualTo("ok");
      release.countDown();
      held.readResponse();
    }
  }

  /**
   * RFC 9112 §9.3: a proxy keeps no persistent connection with an HTTP/1.0 client, so a forward
   * proxy's 1.0 client is answered {@code Connection: close} whatever it asked, and its
   * connection ends.
   */
  @Test
  void endsAForwardProxysHttp10ConnectionAfterEachAnswer() throws Exception {
    TinyOrigin origin = origin(line -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    ProxyServer proxy = ferry.start(oneThread());
    try (RawClient held = holdingTheThread(proxy, origin.url("/hold"));
        RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET " + origin.url("/f")
          + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").readResponse();
      assertThat(response.bodyText()).isEqualTo("ok");
      assertThat(response.header("connection")).isEqualTo("close");
      assertThat(raw.isClosedByPeer()).isTrue();
      release.countDown();
      held.readResponse();
    }
  }
}
