package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.AccessLogFormat;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #11: one access-log line per exchange on {@code dev.ferry.access}, combined or JSON, with
 * request ID and trace id, and never a credential.
 */
class AccessLogTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  private static final String SECRET_REQUEST = "GET /a?x=1 HTTP/1.1\r\nHost: a\r\nX-Request-Id: rid-7\r\n"
      + "Authorization: Bearer top-secret-token\r\nCookie: session=cookie-secret\r\n"
      + "User-Agent: test-agent/1\r\nReferer: http://ref.example/\r\n\r\n";

  private List<String> run(AccessLogFormat format) throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("hello").addHeader("Set-Cookie", "id=set-cookie-secret"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .accessLog(format));
    try (LogCapture logs = new LogCapture(); RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send(SECRET_REQUEST).readResponse().status()).isEqualTo(200);
      raw.send("GET /b HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n").readResponse();
      Await.until(() -> logs.lines("dev.ferry.access").size() >= 2, Duration.ofSeconds(5),
          () -> "two access lines in " + logs.lines(""));
      List<String> lines = logs.lines("dev.ferry.access");
      for (String line : logs.lines("")) {
        assertThat(line).doesNotContain("top-secret-token", "cookie-secret", "set-cookie-secret");
      }
      return lines;
    }
  }

  @Test
  void writesOneCombinedLinePerExchange() throws Exception {
    List<String> lines = run(AccessLogFormat.COMBINED);
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).matches(".*dev\\.ferry\\.access - 127\\.0\\.0\\.1 - - \\[\\d\\d/\\w{3}/\\d{4}:\\d\\d:\\d\\d:\\d\\d \\+0000\\] "
        + "\"GET http://a/a\\?x=1 HTTP/1\\.1\" 200 5 \"http://ref\\.example/\" \"test-agent/1\" rid=rid-7 ms=\\d+ route=default upstream=localhost:\\d+");
    assertThat(lines.get(1)).contains("\"GET /b HTTP/1.1\" 400 ").contains("failure=MALFORMED_REQUEST");
  }

  /**
   * A route's name (its pattern by default) is quoted where it holds a space or {@code =}: a
   * route named {@code a b=x upstream=forged} logged unquoted as a second upstream field.
   */
  @Test
  void quotesARouteNameThatWouldForgeFields() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("ok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().route(dev.ferry.proxy.Route
        .to(Upstream.of(origin.url("/").toString())).name("a b=x upstream=forged")));
    try (LogCapture logs = new LogCapture(); RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      Await.until(() -> logs.lines("dev.ferry.access").size() >= 1, "an access line");
      assertThat(logs.lines("dev.ferry.access").get(0))
          .endsWith(" route=\"a b=x upstream=forged\" upstream=localhost:" + origin.getPort());
    }
  }

  @Test
  void writesOneJsonObjectPerExchange() throws Exception {
    List<String> lines = run(AccessLogFormat.JSON);
    assertThat(lines).hasSize(2);
    String json = lines.get(0).substring(lines.get(0).indexOf('{'));
    assertThat(json).startsWith("{\"time\":\"").contains("\"client\":\"127.0.0.1\"", "\"method\":\"GET\"",
        "\"url\":\"http://a/a?x=1\"", "\"status\":200", "\"bytes\":5", "\"latency_ms\":",
        "\"upstream\":\"localhost:", "\"route\":\"default\"", "\"cache\":null", "\"request_id\":\"rid-7\"")
        .containsPattern("\"trace_id\":\"[0-9a-f]{32}\"").endsWith("}");
  }

  /** Credentials in a query (pre-signed URLs, OAuth redirects) never reach a log line, as header values do not. */
  @Test
  void redactsSecretQueryValues() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("hello"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .accessLog(AccessLogFormat.COMBINED));
    try (LogCapture logs = new LogCapture(); RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /p?page=2&access_token=AT1&X-Amz-Signature=S2&password=PW3 HTTP/1.1\r\nHost: a\r\n\r\n")
          .readResponse().status()).isEqualTo(200);
      // The line is written once the response has gone: wait for it, do not race it.
      Await.until(() -> !logs.lines("dev.ferry.access").isEmpty(), "the access log line");
      assertThat(logs.lines("dev.ferry.access")).singleElement().asString()
          .contains("GET http://a/p?page=2&access_token=***&X-Amz-Signature=***&password=*** HTTP/1.1")
          .doesNotContain("AT1", "S2", "PW3");
    }
    assertThat(origin.takeRequest().getPath()).as("the upstream gets them").isEqualTo(
        "/p?page=2&access_token=AT1&X-Amz-Signature=S2&password=PW3");
  }

  /** A parameter name with a broken escape is logged as it came, and the connection goes on. */
  @Test
  void logsAQueryWithABrokenEscapeAndServesTheNextRequest() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("one"));
    origin.enqueue(new MockResponse().setBody("two"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .accessLog(AccessLogFormat.COMBINED));
    try (LogCapture logs = new LogCapture(); RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /a?%25zz=1 HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("one");
      assertThat(raw.send("GET /b HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("two");
      Await.until(() -> logs.lines("dev.ferry.access").size() == 2, "two access log lines");
      assertThat(logs.lines("dev.ferry.access").get(0)).contains("GET http://a/a?%25zz=1 HTTP/1.1");
    }
  }

  /** A CONNECT's userinfo and a Referer's credentials are redacted in every line, as a URL's are. */
  @Test
  void redactsCredentialsInConnectTargetsAndReferers() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder().accessLog(AccessLogFormat.COMBINED));
    try (LogCapture logs = new LogCapture()) {
      try (RawClient raw = new RawClient(proxy.address())) {
        raw.send("CONNECT alice:CONNECTPW@127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n")
            .readResponse();
      }
      try (RawClient raw = new RawClient(proxy.address())) {
        raw.send("GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: x\r\n"
            + "Referer: http://u:REFPW@ref.example/?token=REFTOKEN&page=2\r\n\r\n").readResponse();
      }
      Await.until(() -> logs.lines("dev.ferry.access").size() >= 2, "two access log lines");
      assertThat(logs.lines("dev.ferry.access")).anySatisfy(line -> assertThat(line)
          .contains("\"CONNECT ***@127.0.0.1:443 HTTP/1.1\""));
      assertThat(logs.lines("dev.ferry.access")).anySatisfy(line -> assertThat(line)
          .contains("\"http://***@ref.example/?token=***&page=2\""));
      assertThat(logs.lines("")).allSatisfy(line -> assertThat(line).doesNotContain("CONNECTPW", "REFPW", "REFTOKEN"));
    }
  }

  /** A response whose body broke off midway is logged with the body bytes the client got, not 0. */
  @Test
  void logsTheBodyBytesOfAResponseCutOffMidway() throws Exception {
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      if (self[0].readRequest(in) != null) {
        out.write(("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + "A".repeat(50))
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        out.flush();
      }
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(self[0].url("/")))
        .accessLog(AccessLogFormat.COMBINED));
    try (LogCapture logs = new LogCapture(); RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET /cut HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(new String(raw.input().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1))
          .endsWith("A".repeat(50));
      Await.until(() -> !logs.lines("dev.ferry.access").isEmpty(), "the access log line");
      assertThat(logs.lines("dev.ferry.access")).singleElement().asString().contains("\" 200 50 ");
    }
  }

  /** A chunked response broken off midway is logged with its body bytes, not its chunk framing. */
  @Test
  void logsTheBodyBytesOfAChunkedResponseCutOffMidway() throws Exception {
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      if (self[0].readRequest(in) != null) {
        out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
            .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      }
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(self[0].url("/")))
        .accessLog(AccessLogFormat.COMBINED));
    try (LogCapture logs = new LogCapture(); RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET /cut HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(new String(raw.input().readAllBytes(), StandardCharsets.ISO_8859_1)).contains("hello");
      Await.until(() -> !logs.lines("dev.ferry.access").isEmpty(), "the access log line");
      assertThat(logs.lines("dev.ferry.access")).singleElement().asString().contains("\" 200 5 ");
    }
  }

  /**
   * A request refused after its head was read (here 413) keeps its request ID on the answer and
   * in the log, and is logged with the bytes of the answer.
   */
  @Test
  void keepsTheRequestIdAndBytesOfARequestRefusedAfterItsHead() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .maxRequestBodyBytes(100).accessLog(AccessLogFormat.COMBINED));
    try (LogCapture logs = new LogCapture(); RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("POST /big HTTP/1.1\r\nHost: a\r\nX-Request-Id: rid=413\r\n"
          + "Content-Length: 200\r\n\r\n" + "x".repeat(200)).readResponse();
      assertThat(response.status()).isEqualTo(413);
      assertThat(response.header("X-Request-Id")).isEqualTo("rid=413");
      Await.until(() -> !logs.lines("dev.ferry.access").isEmpty(), "the access log line");
      assertThat(logs.lines("dev.ferry.access")).singleElement().asString()
          .contains("\" 413 " + response.body().length + " ").contains("rid=\"rid=413\""); // quoted for its =, so a key=value parser reads it whole
    }
    assertThat(origin.getRequestCount()).isZero();
  }

  /**
   * A head refused at a malformed field, after its request line and request ID: the answer and
   * the log keep what was read (they said nothing of the request, its ID lost).
   */
  @Test
  void keepsWhatWasReadOfAHeadRefusedAtABadField() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .accessLog(AccessLogFormat.COMBINED));
    try (LogCapture logs = new LogCapture(); RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET /orders?id=7 HTTP/1.1\r\nHost: a\r\n"
          + "X-Request-Id: rid-400\r\nX-Bad: a\u0001b\r\n\r\n").readResponse();
      assertThat(response.status()).isEqualTo(400);
      assertThat(response.header("X-Request-Id")).isEqualTo("rid-400");
      Await.until(() -> !logs.lines("dev.ferry.access").isEmpty(), "the access log line");
      assertThat(logs.lines("dev.ferry.access")).singleElement().asString()
          .contains("\"GET /orders?id=7 HTTP/1.1\" 400 ").contains("rid=rid-400");
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse unknown = raw.send("G(T / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(unknown.status()).as("a broken request line names nothing").isEqualTo(400);
      assertThat(unknown.header("X-Request-Id")).isNull();
    }
    assertThat(origin.getRequestCount()).isZero();
  }

  /**
   * Latency counts from the request's first byte, like nginx's {@code $request_time}: a body
   * received whole before the exchange took a thread (the default) is in it, as is a head that
   * never completed (408).
   */
  @Test
  void countsLatencyFromTheRequestsFirstByte() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("ok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .requestHeaderTimeout(Duration.ofSeconds(1)).accessLog(AccessLogFormat.JSON));
    try (LogCapture logs = new LogCapture()) {
      try (RawClient raw = new RawClient(proxy.address())) {
        raw.send("POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345");
        Thread.sleep(1200); // the slow upload under test
        assertThat(raw.send("67890").readResponse().status()).isEqualTo(200);
      }
      try (RawClient raw = new RawClient(proxy.address())) {
        assertThat(raw.send("GET /never-ends HTTP/1.1\r\nHost: a\r\n").readResponse().status()).isEqualTo(408);
      }
      Await.until(() -> logs.lines("dev.ferry.access").size() == 2, "two access log lines");
      for (String line : logs.lines("dev.ferry.access")) {
        Matcher latency = Pattern.compile("\"latency_ms\":(\\d+)").matcher(line);
        assertThat(latency.find()).as(line).isTrue();
        assertThat(Long.parseLong(latency.group(1))).as(line).isGreaterThanOrEqualTo(900);
      }
    }
  }

  @Test
  void writesNothingWhenOff() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("hello"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .accessLog(AccessLogFormat.OFF));
    try (LogCapture logs = new LogCapture(); RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      ferry.assertNoLeaks(proxy);
      assertThat(logs.lines("dev.ferry.access")).isEmpty();
    }
  }
}
