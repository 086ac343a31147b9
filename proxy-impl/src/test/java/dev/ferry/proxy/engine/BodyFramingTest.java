package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Bodies in all three framings, both directions, and the responses that have none. */
class BodyFramingTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private ProxyServer proxy;

  private ProxyServer reverseTo(String url) {
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(url)));
    return proxy;
  }

  /** POSTs {@code chunks} as a chunked body through a reverse proxy; returns what the origin received. */
  private TinyOrigin.Received uploadChunked(String chunks) throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    reverseTo(origin.url("/"));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks);
      assertThat(raw.readResponse().bodyText()).isEqualTo("ok");
    }
    return origin.takeRequest();
  }

  @Test
  void passesChunkedRequestBodyWithTrailers() throws Exception {
    TinyOrigin.Received received = uploadChunked("5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n");
    assertThat(new String(received.body())).isEqualTo("hello world");
    assertThat(received.header("Transfer-Encoding")).isEqualTo("chunked");
    assertThat(received.header("X-Checksum")).isEqualTo("abc");
  }

  /**
   * A chunked body that is all here before the request goes upstream, without trailers, goes
   * with its Content-Length, as nginx sends a body it buffered: many servers (HTTP/1.0 ones,
   * Python's http.server, simple frameworks) read no chunked request body. Before, it was sent
   * chunked as it came.
   */
  @Test
  void sendsAChunkedBodyThatIsAllHereWithItsLength() throws Exception {
    TinyOrigin.Received received = uploadChunked("5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n");
    assertThat(new String(received.body())).isEqualTo("hello world");
    assertThat(received.header("Content-Length")).isEqualTo("11");
    assertThat(received.header("Transfer-Encoding")).isNull();
  }

  /** The same for a larger body received on disk as it trickled in. */
  @Test
  void sendsASpooledChunkedBodyWithItsLength() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    reverseTo(origin.url("/"));
    String chunk = "x".repeat(10_000);
    String framed = Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n";
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + framed + framed);
      Await.until(() -> proxy.stats().requestSpoolBytes() > 0 || proxy.stats().requestBufferBytes() > 0,
          "the body to be awaited whole");
      raw.send(framed + "0\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("ok");
    }
    TinyOrigin.Received received = origin.takeRequest();
    assertThat(received.body()).hasSize(30_000);
    assertThat(received.header("Content-Length")).isEqualTo("30000");
    assertThat(received.header("Transfer-Encoding")).isNull();
  }

  /**
   * Trailers cannot stand in for the fields the proxy sets or vouches for: a forged client
   * certificate or forwarding chain in a request's trailers is dropped, as in its header section.
   * Before, they reached the upstream after the last chunk.
   */
  @Test
  void dropsTrailersNamingFieldsTheProxyVouchesFor() throws Exception {
    TinyOrigin.Received received = uploadChunked("5\r\nhello\r\n0\r\n"
        + "Client-Cert: :Zm9yZ2Vk:\r\nClient-Cert-Chain: :Zm9yZ2Vk:\r\n"
        + "X-Forwarded-Client-Cert: By=spiffe://evil\r\nX-Forwarded-For: 10.0.0.1\r\n"
        + "X_Forwarded_Proto: https\r\nForwarded: for=10.0.0.1\r\nX-Request-Id: forged-id\r\n"
        + "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nX-Checksum: abc\r\n\r\n");
    assertThat(received.header("X-Checksum")).as("other trailers go on").isEqualTo("abc");
    for (String forged : List.of("Client-Cert", "Client-Cert-Chain", "X-Forwarded-Client-Cert", "X_Forwarded_Proto")) {
      assertThat(received.header(forged)).as(forged).isNull();
    }
    assertThat(received.headerLines()).as("the proxy's forwarding fields alone")
        .noneMatch(line -> line.contains("10.0.0.1"))
        .noneMatch(line -> line.contains("forged-id") || line.contains("4bf92f3577b34da6a3ce929d0e0e4736"));
  }

  /**
   * A reverse proxy drops a client's own address and URL claims (X-Real-IP, X-Original-URL and
   * the like, underscore spellings too) on arrival: sent as trailers instead, they are dropped
   * as well, or a backend that merges trailers into its headers (Apache's MergeTrailers) would
   * take them for the proxy's word. Before, they reached the upstream after the last chunk.
   */
  @Test
  void dropsTrailersNamingTheClientClaimsAReverseProxyDrops() throws Exception {
    TinyOrigin.Received received = uploadChunked("5\r\nhello\r\n0\r\n"
        + "X-Real-IP: 10.0.0.1\r\nX-Original-URL: /admin\r\nX-Forwarded-Port: 443\r\n"
        + "X-Client-IP: 10.0.0.2\r\nTrue-Client-IP: 10.0.0.3\r\nX_Real_IP: 10.0.0.4\r\nX-Checksum: abc\r\n\r\n");
    assertThat(received.header("X-Checksum")).as("other trailers go on").isEqualTo("abc");
    for (String claim : List.of("X-Real-IP", "X-Original-URL", "X-Forwarded-Port", "X-Client-IP",
        "True-Client-IP", "X_Real_IP")) {
      assertThat(received.header(claim)).as(claim).isNull();
    }
    assertThat(received.headerLines()).as("no client claim")
        .noneMatch(line -> line.contains("10.0.0.") || line.contains("/admin"));
  }

  @Test
  void passesContentLengthRequestBody() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("ok"));
    reverseTo(origin.url("/").toString());
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("PUT /doc HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world");
      assertThat(raw.readResponse().bodyText()).isEqualTo("ok");
    }
    RecordedRequest recorded = origin.takeRequest();
    assertThat(recorded.getBody().readUtf8()).isEqualTo("hello world");
    assertThat(recorded.getHeader("Content-Length")).isEqualTo("11");
  }

  /**
   * The Content-Length of a HEAD or 304 answer frames nothing, and goes on to the client: as one
   * value, or not at all when it is no length. Repeats and invalid values were relayed as they
   * were, and strict clients (Node's) failed on them (probe s12).
   */
  @ParameterizedTest(name = "{0} {1} {2}")
  @CsvSource(delimiter = '|', value = { // ~ stands for a line break between fields
      "HEAD|200|Content-Length: 5~Content-Length: 5|5",
      "HEAD|200|Content-Length: 5, 5|5",
      "HEAD|200|Content-Length: 5~Content-Length: 6|",
      "HEAD|200|Content-Length: abc|",
      "GET|304|Content-Length: -1|",
      "GET|304|Content-Length: 07|7"})
  void passesOnTheContentLengthOfABodilessAnswerAsOneValidValue(String method, int status, String fields,
      String expected) throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 " + status + " X\r\n"
        + fields.replace("~", "\r\n") + "\r\nETag: \"e\"\r\n\r\n"));
    reverseTo(origin.url("/"));
    try (RawClient raw = new RawClient(proxy.address())) {
      for (int i = 0; i < 2; i++) {
        raw.send(method + " / HTTP/1.1\r\nHost: a\r\n\r\n");
        RawClient.RawResponse response = raw.readResponse(true);
        assertThat(response.status()).isEqualTo(status);
        assertThat(response.header("Content-Length")).isEqualTo(expected);
      }
    }
  }

  @Test
  void relaysChunkedResponseAsChunkedWithTrailers() throws Exception {
    String chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
        + "3\r\nabc\r\n4\r\ndefg\r\n0\r\nX-Sum: 7\r\n\r\n";
    TinyOrigin origin = ferry.track(TinyOrigin.answering(chunked));
    reverseTo(origin.url("/"));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.header("Transfer-Encoding")).isEqualTo("chunked");
      // Trailer is end-to-end (RFC 9110 §6.6.2 is not in §7.6.1's list): it announces what follows.
      assertThat(response.header("Trailer")).isEqualTo("X-Sum");
      assertThat(response.bodyText()).isEqualTo("abcdefg");
      raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("abcdefg");
    }
    // An HTTP/1.0 client gets no trailer section, so no Trailer field announcing one (probe sem).
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET / HTTP/1.0\r\nHost: a\r\n\r\n").readResponse();
      assertThat(response.bodyText()).isEqualTo("abcdefg");
      assertThat(response.header("Trailer")).isNull();
    }
  }

  @Test
  void relaysCloseDelimitedResponseFromHttp10Origin() throws Exception {
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> {
      TinyOrigin.readLine(in);
      while (!TinyOrigin.readLine(in).isEmpty()) {
        // skip the head
      }
      out.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end".getBytes());
    }));
    reverseTo(origin.url("/"));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.bodyText()).isEqualTo("until the end");
      assertThat(response.header("Transfer-Encoding")).isEqualTo("chunked");
      raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("until the end");
    }
    assertThat(origin.connectionCount()).isEqualTo(2);
  }

  @Test
  void neverSendsChunkedToHttp10Client() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setChunkedBody("streamed body", 4));
    reverseTo(origin.url("/").toString());
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.0\r\nHost: a\r\n\r\n");
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.header("Transfer-Encoding")).isNull();
      assertThat(response.bodyText()).isEqualTo("streamed body");
      assertThat(raw.isClosedByPeer()).isTrue();
    }
  }

  @Test
  void keepsHttp10ClientAliveWhenItAsks() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("one"));
    origin.enqueue(new MockResponse().setBody("two"));
    reverseTo(origin.url("/").toString());
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      RawClient.RawResponse first = raw.readResponse();
      assertThat(first.header("Connection")).isEqualTo("keep-alive");
      assertThat(first.bodyText()).isEqualTo("one");
      raw.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("two");
    }
  }

  @Test
  void sendsNoBodyFor204And304() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setResponseCode(204));
    origin.enqueue(new MockResponse().setResponseCode(304).setHeader("ETag", "\"v1\""));
    origin.enqueue(new MockResponse().setBody("after"));
    reverseTo(origin.url("/").toString());
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n");
      RawClient.RawResponse noContent = raw.readResponse();
      assertThat(noContent.status()).isEqualTo(204);
      assertThat(noContent.header("Content-Length")).isNull();
      raw.send("GET /x HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"v1\"\r\n\r\n");
      RawClient.RawResponse notModified = raw.readResponse();
      assertThat(notModified.status()).isEqualTo(304);
      assertThat(notModified.header("ETag")).isEqualTo("\"v1\"");
      raw.send("GET /y HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("after");
    }
  }

  @Test
  void cutsClientConnectionWhenUpstreamDiesMidBody() throws Exception {
    TinyOrigin origin = ferry.track(
        TinyOrigin.answeringThenClosing("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly ten b"));
    reverseTo(origin.url("/"));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(readAllQuietly(raw)).contains("Content-Length: 1000").endsWith("only ten b");
    }
    Await.until(() -> proxy.stats().failures().getOrDefault("RESPONSE_ABORTED", 0L) == 1L,
        "the aborted response to be counted");
  }

  /**
   * An HTTP/1.0 client gets a body of unknown length delimited by the close (RFC 9112 §6.3): an
   * orderly close would say the cut body is complete, so the proxy resets the connection.
   */
  @Test
  void resetsAnHttp10ClientWhoseCloseDelimitedBodyTheUpstreamCut() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answeringThenClosing(CUT_CHUNKED));
    reverseTo(origin.url("/"));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.0\r\nHost: a\r\n\r\n");
      java.io.ByteArrayOutputStream received = new java.io.ByteArrayOutputStream();
      assertThatThrownBy(() -> {
        for (int b; (b = raw.input().read()) != -1; ) {
          received.write(b);
        }
      }).as("a reset, not an end of stream, after %s", received).isInstanceOf(java.net.SocketException.class);
    }
    Await.until(() -> proxy.stats().failures().getOrDefault("RESPONSE_ABORTED", 0L) == 1L,
        "the aborted response to be counted");
  }

  @Test
  void leavesChunkedResponseUnterminatedWhenUpstreamDiesMidChunk() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answeringThenClosing(CUT_CHUNKED));
    reverseTo(origin.url("/"));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      String all = readAllQuietly(raw);
      assertThat(all).contains("hello").doesNotContain("\r\n0\r\n\r\n");
    }
  }

  /** A chunked body whose second chunk the upstream cuts off, closing. */
  private static final String CUT_CHUNKED =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nabc";

  private static String readAllQuietly(RawClient raw) throws IOException {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try {
      int b;
      java.io.InputStream in = raw.input();
      while ((b = in.read()) != -1) {
        bytes.write(b);
      }
    } catch (IOException e) {
      // a reset is as good as a close here
    }
    return bytes.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
  }

  /**
   * The head of a response of unknown length goes to the client when it came, not with the
   * body's first bytes: a server-sent-events stream sends its head first (it was withheld until
   * the body began), chunked or read until close alike.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"Transfer-Encoding: chunked", "Connection: close"})
  void sendsTheHeadBeforeABodyThatComesLater(String framing) throws Exception {
    java.util.concurrent.CountDownLatch headSeen = new java.util.concurrent.CountDownLatch(1);
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      if (self[0].readRequest(in) != null) {
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n" + framing + "\r\n\r\n")
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        out.flush();
        try {
          headSeen.await(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          return;
        }
        byte[] data = "d".repeat(20000).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        if (framing.startsWith("Transfer")) {
          out.write(("4e20\r\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
          out.write(data);
          out.write("\r\n0\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        } else {
          out.write(data);
        }
        out.flush();
      }
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(self[0].url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.socket().setSoTimeout(5_000);
      raw.send("GET /events HTTP/1.1\r\nHost: a\r\n\r\n");
      String head = readUntil(raw, "\r\n\r\n", "the head, before any body byte was sent");
      headSeen.countDown();
      assertThat(head).startsWith("HTTP/1.1 200");
    }
  }

  /**
   * A chunk's data goes to the client when it came, not when the CRLF after it does: a writer
   * may send that CRLF only with its next chunk, and the data waited for it (probe v22).
   */
  @Test
  void relaysAChunksDataBeforeTheCrlfAfterIt() throws Exception {
    java.util.concurrent.CountDownLatch dataSeen = new java.util.concurrent.CountDownLatch(1);
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      if (self[0].readRequest(in) != null) {
        out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello"
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        out.flush();
        try {
          dataSeen.await(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          return;
        }
        out.write("\r\n0\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        out.flush();
      }
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(self[0].url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.socket().setSoTimeout(5_000);
      raw.send("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
      String seen = readUntil(raw, "hello", "the chunk's data, before its CRLF was sent");
      dataSeen.countDown();
      assertThat(seen).startsWith("HTTP/1.1 200");
      readUntil(raw, "0\r\n\r\n", "the last chunk, once the origin sent it");
    }
  }

  /** Reads byte by byte until {@code end}; fails, saying what was awaited, if the stream ends. */
  private static String readUntil(RawClient raw, String end, String what) throws IOException {
    StringBuilder read = new StringBuilder();
    while (!read.toString().endsWith(end)) {
      int b = raw.input().read();
      assertThat(b).as(what).isNotNegative();
      read.append((char) b);
    }
    return read.toString();
  }
}
