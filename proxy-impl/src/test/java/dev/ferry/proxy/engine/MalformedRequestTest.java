package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Strict RFC 9112 parsing: ambiguous or malformed requests are answered 400 (or 505) and the
 * connection is closed; nothing reaches the origin, and the proxy serves the next client.
 */
class MalformedRequestTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private MockWebServer origin;
  private ProxyServer proxy;

  @BeforeEach
  void start() throws Exception {
    origin = ferry.mockOrigin();
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
  }

  static Stream<Arguments> malformed() {
    return Stream.of(
        bad("content-length with transfer-encoding",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        bad("transfer-encoding with content-length",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"),
        bad("differing content-lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
        bad("content-length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nabcdef"),
        bad("negative content-length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"),
        bad("hex content-length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1a\r\n\r\n"),
        bad("signed content-length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nabcde"),
        bad("empty content-length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n"),
        bad("huge content-length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n"),
        bad("gzip transfer-encoding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"),
        bad("chunked not final", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
        bad("chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        bad("transfer-encoding in http/1.0", "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        bad("space before colon in transfer-encoding",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"),
        bad("leading space on field name", "POST / HTTP/1.1\r\nHost: a\r\n Transfer-Encoding: chunked\r\n\r\n"),
        bad("vertical tab in transfer-encoding",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \u000bchunked\r\n\r\n0\r\n\r\n"),
        bad("invalid chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),
        bad("negative chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n"),
        bad("oversized chunk size",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nabc\r\n0\r\n\r\n"),
        bad("chunk without crlf", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n"),
        bad("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n"),
        bad("nul in value", "GET / HTTP/1.1\r\nHost: a\r\nX-Bad: a\u0000b\r\n\r\n"),
        bad("bare cr in value", "GET / HTTP/1.1\r\nHost: a\r\nX-Bad: a\rb\r\n\r\n"),
        bad("del in value", "GET / HTTP/1.1\r\nHost: a\r\nX-Bad: a\u007fb\r\n\r\n"),
        bad("control char in name", "GET / HTTP/1.1\r\nHost: a\r\nX\u0001Bad: x\r\n\r\n"),
        bad("whitespace before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
        bad("double space in request line", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"),
        bad("missing version", "GET /\r\nHost: a\r\n\r\n"),
        bad("trailing garbage after version", "GET / HTTP/1.1x\r\nHost: a\r\n\r\n"),
        bad("lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n"),
        bad("tab separators", "GET\t/\tHTTP/1.1\r\nHost: a\r\n\r\n"),
        bad("bare lf line ends", "GET / HTTP/1.1\nHost: a\n\n"),
        bad("http/1.1 without host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"),
        bad("two host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        bad("invalid host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
        bad("host with userinfo", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n"),
        bad("ipv6 host without brackets", "GET / HTTP/1.1\r\nHost: ::1:8080\r\n\r\n"),
        // RFC 9112 §3.2: an invalid Host is a 400 beside an absolute-form target too (probe p11).
        bad("absolute-form with host port out of range", "GET http://a/ HTTP/1.1\r\nHost: a:65536\r\n\r\n"),
        bad("absolute-form with host port not a number", "GET http://a/ HTTP/1.1\r\nHost: a:8O\r\n\r\n"),
        bad("absolute-form with signed host port", "GET http://a/ HTTP/1.1\r\nHost: a:+80\r\n\r\n"),
        // RFC 3986 §3.2.2: a registered name is unreserved characters, sub-delims and
        // percent-escapes; these bytes would be read differently by rules, logs and upstreams.
        bad("angle bracket in host", "GET / HTTP/1.1\r\nHost: a<b\r\n\r\n"),
        bad("pipe in host", "GET / HTTP/1.1\r\nHost: a|b.example\r\n\r\n"),
        bad("backtick in host", "GET / HTTP/1.1\r\nHost: a`b\r\n\r\n"),
        bad("brace in host", "GET / HTTP/1.1\r\nHost: {a}\r\n\r\n"),
        bad("lone percent in host", "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n"),
        bad("bad percent in absolute-form", "GET http://a%g0/ HTTP/1.1\r\nHost: a\r\n\r\n"),
        bad("text after an ipv6 literal", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n"),
        bad("name in ipv6 brackets", "GET / HTTP/1.1\r\nHost: [a:b:example]\r\n\r\n"),
        bad("port not a number", "GET / HTTP/1.1\r\nHost: a:8O\r\n\r\n"),
        bad("invalid method character", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n"),
        bad("non-ascii target", "GET /caf\u00e9 HTTP/1.1\r\nHost: a\r\n\r\n"),
        bad("fragment in origin-form", "GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n"),
        bad("dot-segments across a fragment", "GET /public#/../admin/x HTTP/1.1\r\nHost: a\r\n\r\n"));
  }

  private static Arguments bad(String name, String request) {
    return Arguments.of(name, request);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void rejectsWith400AndCloses(String name, String request) throws Exception {
    int before = origin.getRequestCount();
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send(request);
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.status()).as(name).isEqualTo(400);
      assertThat(response.header("Connection")).isEqualTo("close");
      assertThat(response.header("Date")).as("RFC 9110 §6.6.1: the proxy's own answers are dated too").isNotNull();
      assertThat(response.bodyText()).startsWith("Bad request: ").hasSizeLessThan(120);
      assertThat(raw.isClosedByPeer()).isTrue();
    }
    assertThat(origin.getRequestCount()).as("requests that reached the origin").isEqualTo(before);
    assertNextClientServed();
  }

  /**
   * The 400 names what is wrong with a field: its name or its value. Each field is checked once,
   * by {@code Headers} as the parser adds it, and the parser tells the two failures apart.
   */
  @Test
  void namesWhetherAFieldsNameOrItsValueIsInvalid() throws Exception {
    assertThat(badRequestDetail("GET / HTTP/1.1\r\nHost: a\r\nX-Bad : x\r\n\r\n"))
        .isEqualTo("Bad request: invalid character in field name (whitespace before colon?)");
    assertThat(badRequestDetail("GET / HTTP/1.1\r\nHost: a\r\nX-Bad: a\u0001b\r\n\r\n"))
        .isEqualTo("Bad request: control character in field value");
    assertThat(badRequestDetail("GET / HTTP/1.1\r\nHost: a\r\nX\u00e9: a\u0001b\r\n\r\n"))
        .as("a name and a value both invalid: the name is named")
        .isEqualTo("Bad request: invalid character in field name (whitespace before colon?)");
    assertNextClientServed();
  }

  private String badRequestDetail(String request) throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send(request);
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.status()).isEqualTo(400);
      return response.bodyText().strip();
    }
  }

  /**
   * A body framed by a final chunked but in a coding applied before it that the proxy does not
   * implement is answered 501, as RFC 9112 §6.1 has a server do, not 400 (the framing is not
   * in doubt), and closed; it never goes upstream. Before, it was a 400.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"gzip, chunked", "deflate,chunked", "br , chunked", "gzip\r\nTransfer-Encoding: chunked"})
  void answers501ForATransferCodingItDoesNotImplementBeforeAFinalChunked(String codings) throws Exception {
    int before = origin.getRequestCount();
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + codings + "\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.status()).isEqualTo(501);
      assertThat(response.header("Connection")).isEqualTo("close");
      assertThat(response.bodyText()).startsWith("Transfer coding not implemented");
      assertThat(raw.isClosedByPeer()).isTrue();
    }
    assertThat(origin.getRequestCount()).as("requests that reached the origin").isEqualTo(before);
    assertThat(proxy.stats().failures()).containsEntry("CODING_NOT_IMPLEMENTED", 1L);
    assertNextClientServed();
  }

  /**
   * A head the client has not finished but that is already broken is refused at once, not after
   * the request-header timeout: the wait for the rest of a slow head (which parks it) stops at
   * the first line the parser refuses. The client's read would time out long before the 30 s.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("unfinished")
  void refusesAnUnfinishedButAlreadyBrokenHeadAtOnce(String name, String request) throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send(request);
      assertThat(raw.readResponse().status()).as(name).isEqualTo(400);
      assertThat(raw.isClosedByPeer()).isTrue();
    }
    assertNextClientServed();
  }

  static Stream<Arguments> unfinished() {
    return Stream.of(
        bad("request line without version (HTTP/0.9)", "GET /\r\n"),
        bad("field line without colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n"),
        bad("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n"),
        bad("bare cr", "GET / HTTP/1.1\r\nHost: a\r\nX-Bad: a\rb\r\n"),
        bad("nul", "GET / HTTP/1.1\r\nHost: a\r\nX-Bad: a\u0000b\r\n"));
  }

  /**
   * A chunked body that has arrived broken by the time its exchange begins is refused before
   * any of it goes upstream (it used to be forwarded up to the broken chunk, and up to the
   * trailers when only they were broken: folded, a bad field name, too large).
   */
  @ParameterizedTest(name = "forward={0}")
  @ValueSource(booleans = {false, true})
  void refusesABrokenChunkedBodyBeforeForwardingAnyOfIt(boolean forward) throws Exception {
    TinyOrigin upstream = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    ProxyServer strict = ferry.start(forward ? ProxyServer.builder()
        : ProxyServer.builder().upstream(Upstream.of(upstream.url("/"))));
    String target = forward ? upstream.url("/echo") : "/echo";
    Map<String, Integer> refused = new LinkedHashMap<>();
    refused.put("5\r\nhello\r\nzz\r\n\r\n", 400);
    refused.put("5\r\nhello\r\n3\r\nabcX\r\n0\r\n\r\n", 400);
    refused.put("5\r\nhello\r\n0\r\nX-Trailer: a\u0000b\r\n\r\n", 400);
    refused.put("5\r\nhello\r\n0\r\nX: a\r\n b\r\n\r\n", 400);
    refused.put("5\r\nhello\r\n0\r\nX Y: 1\r\n\r\n", 400);
    refused.put("5\r\nhello\r\n0\r\nX: " + "a".repeat(70_000) + "\r\n\r\n", 431);
    for (Map.Entry<String, Integer> entry : refused.entrySet()) {
      String body = entry.getKey();
      try (RawClient raw = new RawClient(strict.address())) {
        raw.send("POST " + target + " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
        assertThat(raw.readResponse().status()).as(body.substring(0, Math.min(40, body.length())))
            .isEqualTo(entry.getValue());
        assertThat(raw.isClosedByPeer()).isTrue();
      }
      assertThat(upstream.connectionCount()).as("connections to the upstream after %s",
          body.substring(0, Math.min(40, body.length()))).isZero();
    }
    try (RawClient raw = new RawClient(strict.address())) {
      raw.send("POST " + target + " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
      assertThat(raw.readResponse().status()).as("a well-framed body").isEqualTo(200);
    }
  }

  /** RFC 9110 §9.3.2: the proxy's own answer to a HEAD it refuses has no body (it had one). */
  @Test
  void answersARefusedHeadWithoutABody() throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("HEAD /x HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n");
      RawClient.RawResponse response = raw.readResponse(true);
      assertThat(response.status()).isEqualTo(400);
      assertThat(Integer.parseInt(response.header("Content-Length"))).isPositive();
      assertThat(raw.input().readAllBytes()).as("bytes after the head").isEmpty();
    }
  }

  @Test
  void rejectsHttp2RequestLineWith505() throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/2.0\r\nHost: a\r\n\r\n");
      assertThat(raw.readResponse().status()).isEqualTo(505);
    }
  }

  @Test
  void acceptsIdenticalRepeatedContentLength() throws Exception {
    origin.enqueue(new MockResponse().setBody("ok"));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
      assertThat(raw.readResponse().bodyText()).isEqualTo("ok");
    }
    assertThat(origin.takeRequest().getBody().readUtf8()).isEqualTo("abc");
  }

  @Test
  void neverTurnsBodyBytesIntoASecondRequest() throws Exception {
    int before = origin.getRequestCount();
    String smuggled = "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n";
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + (smuggled.length() + 5)
          + "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled);
      assertThat(raw.readResponse().status()).isEqualTo(400);
      assertThat(raw.isClosedByPeer()).isTrue();
    }
    assertThat(origin.getRequestCount()).isEqualTo(before);
  }

  @Test
  void ignoresLeadingEmptyLine() throws Exception {
    origin.enqueue(new MockResponse().setBody("ok"));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("ok");
    }
    origin.takeRequest();
  }

  private void assertNextClientServed() throws Exception {
    origin.enqueue(new MockResponse().setBody("still serving"));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("still serving");
    }
    origin.takeRequest();
  }
}
