package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ExchangeListener;
import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue #11: request IDs and trace context on the way through, /_stats in the documented shape on
 * the admin listener and the proxy port, HTML or text error answers.
 */
class ObservabilityTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private final HttpClient client = HttpClient.newHttpClient();

  private HttpResponse<String> get(InetSocketAddress address, String path, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + address.getPort() + path));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void keepsTheClientsRequestIdAndGeneratesOneOtherwise() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("a"));
    origin.enqueue(new MockResponse().setBody("b"));
    BlockingQueue<ExchangeSummary> summaries = new LinkedBlockingQueue<>();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .listener(new ExchangeListener() {
          @Override
          public void exchangeCompleted(ExchangeSummary summary) {
            summaries.add(summary);
          }
        }));
    HttpResponse<String> kept = get(proxy.address(), "/a", "X-Request-Id", "client-id-42");
    assertThat(kept.headers().firstValue("X-Request-Id")).hasValue("client-id-42");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("X-Request-Id")).isEqualTo("client-id-42");
    HttpResponse<String> generated = get(proxy.address(), "/b");
    String id = generated.headers().firstValue("X-Request-Id").orElseThrow();
    assertThat(id).matches("[0-9a-f-]{36}");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("X-Request-Id")).isEqualTo(id);
    assertThat(summaries.poll(5, TimeUnit.SECONDS).requestId()).hasValue("client-id-42");
    assertThat(summaries.poll(5, TimeUnit.SECONDS).requestId()).hasValue(id);
  }

  /**
   * Two request ID field lines are one list ({@code one, two}, RFC 9110 §5.3), which is no usable
   * ID: the proxy makes its own, as for a repeated traceparent, and the upstream gets that one
   * alone. Before, the first was kept and the second silently dropped (probe o3).
   */
  @Test
  void generatesARequestIdWhenTheClientSentTwo() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("a"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    String id;
    try (RawClient raw = new RawClient(proxy.address())) {
      id = raw.send("GET /two HTTP/1.1\r\nHost: a\r\nX-Request-Id: one\r\nX-Request-Id: two\r\n\r\n")
          .readResponse().header("X-Request-Id");
    }
    assertThat(id).matches("[0-9a-f-]{36}");
    okhttp3.mockwebserver.RecordedRequest received = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(received.getHeaders().values("X-Request-Id")).containsExactly(id);
  }

  /**
   * A client listing the request ID or traceparent in Connection does not strip the proxy's own
   * from the upstream request (they went missing there while the client still got an ID back);
   * the other fields it lists are dropped as before.
   */
  @Test
  void keepsItsOwnRequestIdAndTraceparentWhenTheClientListsThemInConnection() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("a"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET /hide HTTP/1.1\r\nHost: a\r\nX-Request-Id: rid-9\r\n"
          + "X-Other: 1\r\nConnection: X-Request-Id, traceparent, X-Other\r\n\r\n").readResponse();
      assertThat(response.header("X-Request-Id")).isEqualTo("rid-9");
    }
    okhttp3.mockwebserver.RecordedRequest received = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(received.getHeader("X-Request-Id")).isEqualTo("rid-9");
    assertThat(received.getHeader("traceparent")).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]");
    assertThat(received.getHeader("X-Other")).isNull();
  }

  /**
   * A client's underscore spelling of the request ID or a B3 field goes: a CGI-style backend
   * reads it as the proxy's own field, and got {@code spoofed,<the proxy's ID>} (probe c28).
   */
  @Test
  void dropsUnderscoreSpellingsOfTheFieldsItSets() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("a"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /u HTTP/1.1\r\nHost: a\r\nX_Request_Id: spoofed\r\n"
          + "X_B3_TraceId: 11111111111111111111111111111111\r\nx_b3_spanid: 2222222222222222\r\n"
          + "X_Other: kept\r\n\r\n").readResponse().status()).isEqualTo(200);
    }
    okhttp3.mockwebserver.RecordedRequest received = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(received.getHeaders().names()).doesNotContain("X_Request_Id", "X_B3_TraceId", "x_b3_spanid")
        .contains("X_Other");
    assertThat(received.getHeader("X-Request-Id")).isNotEqualTo("spoofed").isNotEmpty();
  }

  /** A request ID header named with underscores drops the client's hyphen spelling (probe v36). */
  @Test
  void dropsTheHyphenSpellingOfAnUnderscoreRequestIdHeader() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("a"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().requestIdHeader("Req_Id")
        .upstream(Upstream.of(origin.url("/").toString())));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /u HTTP/1.1\r\nHost: a\r\nReq-Id: spoof4\r\n\r\n").readResponse().status())
          .isEqualTo(200);
    }
    okhttp3.mockwebserver.RecordedRequest received = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(received.getHeaders().names()).doesNotContain("Req-Id").contains("Req_Id");
    assertThat(received.getHeader("Req_Id")).isNotEqualTo("spoof4");
  }

  /**
   * A request with no trace field at all (the common case, which skips the parsing) starts a
   * sampled trace of random ids, sent upstream as one traceparent; one whose only trace field is
   * spelled in capitals still goes the parsing way.
   */
  @Test
  void startsASampledTraceForARequestWithoutTraceFields() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    origin.enqueue(new MockResponse());
    origin.enqueue(new MockResponse());
    origin.enqueue(new MockResponse());
    get(proxy.address(), "/none", "X-Other", "1");
    get(proxy.address(), "/none-again");
    RecordedRequest first = origin.takeRequest(5, TimeUnit.SECONDS);
    RecordedRequest second = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(first.getHeaders().values("traceparent")).singleElement().asString()
        .matches("00-[0-9a-f]{32}-[0-9a-f]{16}-03");
    assertThat(first.getHeader("tracestate")).isNull();
    assertThat(first.getHeader("traceparent").split("-")[1])
        .isNotEqualTo(second.getHeader("traceparent").split("-")[1]);
    get(proxy.address(), "/capitals", "TRACEPARENT", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("traceparent"))
        .startsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-");
  }

  /**
   * A tracestate goes on only with the valid traceparent it belongs to (W3C Trace Context §3.3);
   * a B3 "do not sample" decision holds; a continued B3 trace's headers name the proxy's span.
   */
  @Test
  void propagatesTracestateOnlyWithItsTraceparentAndB3WithItsOwnSpan() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    for (int i = 0; i < 9; i++) {
      origin.enqueue(new MockResponse());
    }
    get(proxy.address(), "/alone", "tracestate", "vendor=abc");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("tracestate")).isNull();
    get(proxy.address(), "/invalid", "traceparent", "garbage", "tracestate", "vendor=abc");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("tracestate")).isNull();
    get(proxy.address(), "/deny", "b3", "0");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("traceparent")).endsWith("-02");
    get(proxy.address(), "/deny-multi", "X-B3-Sampled", "0", "X-B3-Flags", "0");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("traceparent"))
        .as("X-B3-Flags: 0 is no debug flag").endsWith("-02");

    get(proxy.address(), "/single", "b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1");
    RecordedRequest single = origin.takeRequest(5, TimeUnit.SECONDS);
    String span = single.getHeader("traceparent").split("-")[2];
    assertThat(single.getHeader("b3"))
        .isEqualTo("80f198ee56343ba864fe8b2a57d3eff7-" + span + "-1-e457b5a2e4d86bd1");

    get(proxy.address(), "/multi", "X-B3-TraceId", "a3ce929d0e0e4736", "X-B3-SpanId", "00f067aa0ba902b7",
        "X-B3-Sampled", "1");
    RecordedRequest multi = origin.takeRequest(5, TimeUnit.SECONDS);
    String[] parent = multi.getHeader("traceparent").split("-");
    assertThat(parent[1]).isEqualTo("0000000000000000a3ce929d0e0e4736");
    assertThat(multi.getHeader("X-B3-TraceId")).as("as long as it came").isEqualTo("a3ce929d0e0e4736");
    assertThat(multi.getHeader("X-B3-SpanId")).isEqualTo(parent[2]);
    assertThat(multi.getHeader("X-B3-ParentSpanId")).isEqualTo("00f067aa0ba902b7");
    assertThat(multi.getHeader("X-B3-Sampled")).isEqualTo("1");

    get(proxy.address(), "/both", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "b3", "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1");
    RecordedRequest both = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(both.getHeader("b3")).as("the b3 an OpenTelemetry client sends beside it names the proxy's span too")
        .isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736-" + both.getHeader("traceparent").split("-")[2]
            + "-1-00f067aa0ba902b7");
    get(proxy.address(), "/deferred", "b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1");
    RecordedRequest deferred = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(deferred.getHeader("b3")).as("no decision was made, none is sent")
        .isEqualTo("80f198ee56343ba864fe8b2a57d3eff7-" + deferred.getHeader("traceparent").split("-")[2]);
    get(proxy.address(), "/debug", "b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("b3")).contains("-d-e457b5a2e4d86bd1");
  }

  /**
   * B3 ids the proxy cannot continue start a trace of its own, and do not go upstream beside its
   * traceparent, which would name another trace.
   */
  @Test
  void dropsB3IdsItCouldNotContinue() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    for (int i = 0; i < 5; i++) {
      origin.enqueue(new MockResponse());
    }
    get(proxy.address(), "/zero", "X-B3-TraceId", "0000000000000000", "X-B3-SpanId", "00f067aa0ba902b7");
    RecordedRequest zero = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(zero.getHeader("X-B3-TraceId")).isNull();
    assertThat(zero.getHeader("X-B3-SpanId")).isNull();
    get(proxy.address(), "/nospan", "X-B3-TraceId", "a3ce929d0e0e4736", "X-B3-Sampled", "0");
    RecordedRequest noSpan = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(noSpan.getHeader("X-B3-TraceId")).isNull();
    assertThat(noSpan.getHeader("X-B3-Sampled")).as("a decision alone stays").isEqualTo("0");
    get(proxy.address(), "/garbage", "b3", "hello-world");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("b3")).isNull();
    get(proxy.address(), "/state", "b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-x");
    RecordedRequest state = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(state.getHeader("b3")).as("x is no sampling state").isNull();
    assertThat(state.getHeader("traceparent")).doesNotContain("80f198ee56343ba864fe8b2a57d3eff7");
    // Before, any X-B3-Sampled other than 0 or false was taken as "sample this".
    get(proxy.address(), "/multi-state", "X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7",
        "X-B3-SpanId", "e457b5a2e4d86bd1", "X-B3-Sampled", "2");
    RecordedRequest multiState = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(multiState.getHeader("X-B3-TraceId")).as("2 is no sampling state").isNull();
    assertThat(multiState.getHeader("X-B3-Sampled")).as("nor sent on as one").isNull();
    assertThat(multiState.getHeader("traceparent")).doesNotContain("80f198ee56343ba864fe8b2a57d3eff7");
  }

  /**
   * W3C Trace Context §3.3: a malformed tracestate (more than 32 members, a key twice, a key
   * outside the grammar) is dropped, its traceparent continued. Before, it went on verbatim.
   */
  @Test
  void dropsAMalformedTracestate() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    String traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    StringBuilder members = new StringBuilder();
    for (int i = 0; i < 33; i++) {
      members.append(i == 0 ? "" : ",").append("k").append(i).append("=v");
    }
    String thirtyTwo = members.substring(0, members.lastIndexOf(","));
    Map<String, Boolean> kept = new LinkedHashMap<>();
    kept.put(members.toString(), false);
    kept.put("foo=1,foo=2", false);
    kept.put("FOO BAR=1,ok=2", false);
    kept.put("a=b=c", false);
    kept.put(thirtyTwo, true);
    kept.put("tenant@system=x, ,rojo=00f067aa0ba902b7", true);
    for (Map.Entry<String, Boolean> entry : kept.entrySet()) {
      origin.enqueue(new MockResponse());
      get(proxy.address(), "/state", "traceparent", traceparent, "tracestate", entry.getKey());
      RecordedRequest received = origin.takeRequest(5, TimeUnit.SECONDS);
      assertThat(received.getHeader("traceparent")).contains("4bf92f3577b34da6a3ce929d0e0e4736");
      assertThat(received.getHeader("tracestate")).as(entry.getKey())
          .isEqualTo(entry.getValue() ? entry.getKey() : null);
    }
  }

  @Test
  void continuesTheTraceWithItsOwnSpanAsParent() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse());
    origin.enqueue(new MockResponse());
    origin.enqueue(new MockResponse());
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    String incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    get(proxy.address(), "/w3c", "traceparent", incoming, "tracestate", "vendor=opaque");
    RecordedRequest w3c = origin.takeRequest(5, TimeUnit.SECONDS);
    String[] parts = w3c.getHeader("traceparent").split("-");
    assertThat(parts[1]).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(parts[2]).matches("[0-9a-f]{16}").isNotEqualTo("00f067aa0ba902b7");
    assertThat(parts[3]).isEqualTo("01");
    assertThat(w3c.getHeader("tracestate")).isEqualTo("vendor=opaque");
    get(proxy.address(), "/b3", "b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0");
    String[] fromB3 = origin.takeRequest(5, TimeUnit.SECONDS).getHeader("traceparent").split("-");
    assertThat(fromB3[1]).isEqualTo("80f198ee56343ba864fe8b2a57d3eff7");
    assertThat(fromB3[3]).as("the sampled flag is respected").isEqualTo("00");
    get(proxy.address(), "/new", "traceparent", "garbage");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("traceparent"))
        .as("sampled, its trace id random (Level 2)").matches("00-[0-9a-f]{32}-[0-9a-f]{16}-03");
  }

  /**
   * Trace Context Level 2: a traceparent's random-trace-id flag stays (the trace id is kept, so
   * it is still random), and a tracestate whose keys only Level 2 allows (a digit first, several
   * {@code @}) is passed on. Before, the flag was cleared and such a tracestate dropped whole.
   * B3 ids with {@code X-B3-Flags: 0} keep their deny decision (it forced sampling before).
   */
  @Test
  void keepsLevelTwoFlagsAndKeysAndTheB3DecisionBesideFlagsZero() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    for (int i = 0; i < 2; i++) {
      origin.enqueue(new MockResponse());
    }
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    String state = "1vendor=abc,tenant@abcdefghijklmnop=x,a@b@c=1";
    get(proxy.address(), "/l2", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03",
        "tracestate", state);
    RecordedRequest level2 = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(level2.getHeader("traceparent")).endsWith("-03");
    assertThat(level2.getHeader("tracestate")).isEqualTo(state);
    get(proxy.address(), "/b3", "X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7",
        "X-B3-SpanId", "e457b5a2e4d86bd1", "X-B3-Sampled", "0", "X-B3-Flags", "0");
    RecordedRequest b3 = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(b3.getHeader("traceparent")).endsWith("-00");
    assertThat(b3.getHeader("X-B3-Sampled")).isEqualTo("0");
  }

  @Test
  void servesStatsAsJsonOnTheAdminListenerAndToLocalClientsOfAForwardProxy() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder().admin(new InetSocketAddress("127.0.0.1", 0)));
    HttpResponse<String> onProxyPort = get(proxy.address(), "/_stats");
    assertThat(onProxyPort.statusCode()).isEqualTo(200);
    assertThat(onProxyPort.headers().firstValue("Content-Type")).hasValue("application/json");
    String body = onProxyPort.body();
    for (String key : new String[] {"\"uptime_seconds\":", "\"total_requests\":", "\"active_connections\":",
        "\"cache\":{", "\"size_bytes\":", "\"entry_count\":", "\"hits\":", "\"misses\":", "\"hit_rate\":",
        "\"thread_pool\":{", "\"workers\":", "\"active\":", "\"queue_depth\":", "\"max_queue_depth\":",
        "\"latency_p50_ms\":", "\"latency_p95_ms\":", "\"latency_p99_ms\":", "\"request_buffer_bytes\":0",
        "\"request_spool_bytes\":0"}) {
      assertThat(body).contains(key);
    }
    HttpResponse<String> onAdmin = get(proxy.adminAddress().orElseThrow(), "/_stats");
    assertThat(onAdmin.statusCode()).isEqualTo(200);
    assertThat(onAdmin.body()).matches("(?s)\\{\"uptime_seconds\":\\d+,\"total_requests\":\\d+,.*\\}\\s*");
    assertThat(get(proxy.adminAddress().orElseThrow(), "/nothing").statusCode()).isEqualTo(404);
    HttpResponse<String> dashboard = get(proxy.adminAddress().orElseThrow(), "/_dashboard");
    assertThat(dashboard.body()).contains("<title>Ferry dashboard</title>").doesNotContain("http://", "https://");
  }

  /**
   * A status is counted as its head leaves: counted up front, the 200 of an upstream that reset
   * before its first body byte showed in the statistics until the 502 replaced it, and then its
   * count went down (probe metrics F1).
   */
  @Test
  void neverCountsAStatusWhoseHeadDidNotLeave() throws Exception {
    CountDownLatch headRead = new CountDownLatch(1);
    TinyOrigin[] origin = new TinyOrigin[1];
    origin[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      origin[0].readRequest(in);
      out.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      out.flush();
      try {
        headRead.await(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      socket.setSoLinger(true, 0);
    }));
    List<Map<Integer, Long>> seenWithTheHead = new java.util.concurrent.CopyOnWriteArrayList<>();
    ProxyServer[] proxy = new ProxyServer[1];
    proxy[0] = ferry.start(ProxyServer.builder().upstream(Upstream.of("http://127.0.0.1:" + origin[0].port()))
        .listener(new ExchangeListener() {
          @Override
          public void responseHeaders(dev.ferry.proxy.Exchange exchange, dev.ferry.proxy.Response response) {
            seenWithTheHead.add(proxy[0].stats().responsesByStatus());
            headRead.countDown();
          }
        }));
    assertThat(get(proxy[0].address(), "/reset").statusCode()).isEqualTo(502);
    assertThat(seenWithTheHead).containsExactly(Map.of());
    assertThat(proxy[0].stats().responsesByStatus()).isEqualTo(Map.of(502, 1L));
    origin[0].close();
    assertThat(get(proxy[0].address(), "/gone").statusCode()).isEqualTo(502);
    assertThat(proxy[0].stats().responsesByStatus()).isEqualTo(Map.of(502, 2L));
  }

  /**
   * Reads of a forward proxy's own endpoints on its port are no proxied traffic: they were
   * counted as exchanges, statuses and latencies, and passed to listeners, so an idle proxy's
   * dashboard showed its own polls as a request a second (probe metrics F2). They are still
   * access-logged.
   */
  @Test
  void leavesReadsOfItsOwnEndpointsOutOfTheTrafficItCounts() throws Exception {
    List<ExchangeSummary> completed = new java.util.concurrent.CopyOnWriteArrayList<>();
    ProxyServer proxy = ferry.start(ProxyServer.builder().accessLog(dev.ferry.proxy.AccessLogFormat.JSON)
        .listener(new ExchangeListener() {
          @Override
          public void exchangeCompleted(ExchangeSummary summary) {
            completed.add(summary);
          }
        }));
    try (LogCapture logs = new LogCapture()) {
      for (int i = 0; i < 3; i++) {
        assertThat(get(proxy.address(), "/_stats").statusCode()).isEqualTo(200);
      }
      assertThat(get(proxy.address(), "/_dashboard").statusCode()).isEqualTo(200);
      Await.until(() -> logs.lines("dev.ferry.access").size() >= 4, java.time.Duration.ofSeconds(5),
          () -> "four access lines in " + logs.lines(""));
    }
    dev.ferry.proxy.ProxyStats stats = proxy.stats();
    assertThat(stats.exchanges()).isZero();
    assertThat(stats.activeExchanges()).isZero();
    assertThat(stats.responsesByStatus()).isEmpty();
    assertThat(stats.latencyP99Millis()).isZero();
    assertThat(completed).isEmpty();
  }

  /**
   * The admin endpoints have no authentication: requests a web page could have sent (a form
   * posted cross-site, a DNS-rebound name) are refused; curl and scrapers are not.
   */
  @Test
  void refusesAdminRequestsFromWebPages() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder().admin(new InetSocketAddress("127.0.0.1", 0))
        .cache(dev.ferry.proxy.CacheSpec.inMemory()));
    InetSocketAddress admin = proxy.adminAddress().orElseThrow();
    String host = "127.0.0.1:" + admin.getPort();
    try (RawClient raw = new RawClient(admin)) {
      assertThat(raw.send("POST /_cache/purge?url=http://a/ HTTP/1.1\r\nHost: " + host
          + "\r\nOrigin: http://evil.example\r\nContent-Length: 0\r\n\r\n").readResponse().status()).isEqualTo(403);
    }
    try (RawClient raw = new RawClient(admin)) {
      assertThat(raw.send("GET /_stats HTTP/1.1\r\nHost: rebind.evil.example:" + admin.getPort() + "\r\n\r\n")
          .readResponse().status()).isEqualTo(403);
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /_stats HTTP/1.1\r\nHost: x\r\nSec-Fetch-Site: cross-site\r\n\r\n")
          .readResponse().status()).as("on the proxy port too").isEqualTo(403);
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      // The proxy port answers stats and the dashboard only: a purge there would be answered
      // before its authentication and access control.
      assertThat(raw.send("POST /_cache/purge?prefix=http:// HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
          .readResponse().status()).as("no purge on the proxy port").isEqualTo(400);
    }
    try (RawClient raw = new RawClient(admin)) {
      assertThat(raw.send("GET /_stats HTTP/1.1\r\nHost: localhost:" + admin.getPort() + "\r\nOrigin: http://localhost:"
          + admin.getPort() + "\r\n\r\n").readResponse().status()).as("the dashboard's own fetch").isEqualTo(200);
    }
    for (String name : new String[] {"localhost.localdomain", "ip6-localhost", java.net.InetAddress.getLocalHost().getHostName()}) {
      try (RawClient raw = new RawClient(admin)) {
        assertThat(raw.send("GET /_stats HTTP/1.1\r\nHost: " + name + ":" + admin.getPort() + "\r\n\r\n")
            .readResponse().status()).as("this machine's own name " + name).isEqualTo(200);
      }
    }
    assertThat(get(admin, "/_stats").statusCode()).isEqualTo(200);
  }

  /**
   * Clients trickling their heads cannot keep a scrape out: a connection past the sixteen slots
   * takes the slot of the one waiting longest for its head, and a head not in within the header
   * timeout is answered 408. The seventeenth was closed unanswered and unlogged, and a byte every
   * few seconds kept the listener taken for ever (probe o14).
   */
  @Test
  void servesAScrapeWhileSlowHeadsHoldEveryAdminSlot() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder().admin(new InetSocketAddress("127.0.0.1", 0))
        .requestHeaderTimeout(java.time.Duration.ofSeconds(5)));
    InetSocketAddress admin = proxy.adminAddress().orElseThrow();
    List<RawClient> slow = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 16; i++) {
        slow.add(new RawClient(admin).send("GET /_stats HTTP/1.1\r\n"));
      }
      for (int i = 0; i < 3; i++) {
        try (RawClient scrape = new RawClient(admin)) {
          assertThat(scrape.send("GET /_stats HTTP/1.1\r\nHost: localhost\r\n\r\n").readResponse().status())
              .as("scrape %d beside sixteen slow heads", i).isEqualTo(200);
        }
      }
      int timedOut = 0;
      for (RawClient client : slow) {
        try {
          timedOut += client.readResponse().status() == 408 ? 1 : 0;
        } catch (java.io.IOException evicted) {
          // one of those that gave its slot up
        }
      }
      assertThat(timedOut).as("heads not sent in time, answered 408").isPositive();
    } finally {
      RawClient.closeAll(slow);
    }
  }

  /**
   * With all sixteen slots answering, a seventeenth request gets its 503 even when it was sent
   * at once: closed with the request unread, the socket sent a reset and the 503 was lost
   * (probe v15).
   */
  @Test
  void answersARequestPastSixteenBeingAnswered503() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch holding = new CountDownLatch(16);
    ProxyServer proxy = ferry.start(ProxyServer.builder().admin(new InetSocketAddress("127.0.0.1", 0))
        .adminFilter(HoldingFilter.holding(null, holding, release)));
    InetSocketAddress admin = proxy.adminAddress().orElseThrow();
    List<RawClient> held = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 16; i++) {
        held.add(new RawClient(admin).send("GET /_stats HTTP/1.1\r\nHost: localhost\r\n\r\n"));
      }
      assertThat(holding.await(10, TimeUnit.SECONDS)).as("sixteen requests being answered").isTrue();
      // Sent at once, ahead of the refusals: requests that wait unread in the accept queue.
      List<RawClient> extra = new java.util.ArrayList<>();
      try {
        for (int i = 0; i < 10; i++) {
          extra.add(new RawClient(admin).send("GET /_stats HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        }
        for (RawClient client : extra) {
          RawClient.RawResponse busy = client.readResponse();
          assertThat(busy.status()).isEqualTo(503);
          assertThat(busy.header("Retry-After")).isEqualTo("1");
        }
      } finally {
        RawClient.closeAll(extra);
      }
    } finally {
      release.countDown();
      RawClient.closeAll(held);
    }
  }

  /**
   * RFC 9112 §3.2: an HTTP/1.1 request without Host, or with two, is answered 400 by the admin
   * listener and the forward proxy's own endpoints too (they answered 200, and the rebinding
   * check read only the first of two Host fields).
   */
  @Test
  void refusesAdminRequestsWithoutOneHost() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder().admin(new InetSocketAddress("127.0.0.1", 0)));
    for (InetSocketAddress address : List.of(proxy.adminAddress().orElseThrow(), proxy.address())) {
      for (String hosts : new String[] {"", "Host: localhost\r\nHost: rebind.evil.example\r\n"}) {
        try (RawClient raw = new RawClient(address)) {
          assertThat(raw.send("GET /_stats HTTP/1.1\r\n" + hosts + "\r\n").readResponse().status())
              .as("%s to %s", hosts, address).isEqualTo(400);
        }
      }
      try (RawClient raw = new RawClient(address)) {
        assertThat(raw.send("GET /_stats HTTP/1.0\r\n\r\n").readResponse().status()).as("HTTP/1.0 needs none")
            .isEqualTo(200);
      }
    }
  }

  @Test
  void answersHtmlToBrowsersAndTextToOthersWithEscapedDetail() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder());
    String target = "http://unknown-host-<b>.invalid/";
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse html = raw.send("GET http://no-such-host.invalid/ HTTP/1.1\r\nHost: x\r\n"
          + "Accept: text/html,*/*\r\n\r\n").readResponse();
      assertThat(html.status()).isEqualTo(502);
      assertThat(html.header("Content-Type")).startsWith("text/html");
      assertThat(html.bodyText()).contains("<h1>502 Bad Gateway</h1>")
          .contains("<p>Could not connect to origin server: no-such-host.invalid (unknown host)</p>");
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse text = raw.send("GET http://no-such-host.invalid/ HTTP/1.1\r\nHost: x\r\n\r\n").readResponse();
      assertThat(text.header("Content-Type")).startsWith("text/plain");
      assertThat(text.bodyText()).startsWith("Could not connect to origin server");
    }
    assertThat(ErrorPages.escape(target)).isEqualTo("http://unknown-host-&lt;b&gt;.invalid/");
  }

  /**
   * HTML goes to a client that accepts it above nothing and above plain text: one that said
   * {@code text/html;q=0} (not acceptable), or preferred {@code text/plain}, got the page (probe h14).
   */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "text/html;q=0, */*|text/plain",
      "text/html; q=0.0, application/json|text/plain",
      "text/plain, text/html;q=0.5|text/plain",
      "text/html;q=0.5, text/plain;q=0.4|text/html",
      "TEXT/HTML;Q=1|text/html"})
  void answersHtmlOnlyToClientsThatPreferIt(String accept, String expected) throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder());
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET http://no-such-host.invalid/ HTTP/1.1\r\nHost: x\r\n"
          + "Accept: " + accept + "\r\n\r\n").readResponse();
      assertThat(response.header("Content-Type")).as(accept).startsWith(expected);
    }
  }

  @Test
  void usesAConfiguredErrorPage() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .errorPage(502, "<html><body>Sorry: {status} {reason} ({detail})</body></html>"));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse html = raw.send("GET http://no-such-host.invalid/ HTTP/1.1\r\nHost: x\r\n"
          + "Accept: text/html\r\n\r\n").readResponse();
      assertThat(html.bodyText()).startsWith("<html><body>Sorry: 502 Bad Gateway (Could not connect");
    }
  }
}
