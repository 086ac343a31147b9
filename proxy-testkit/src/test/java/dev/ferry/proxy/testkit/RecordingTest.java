package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import okio.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RecordingTest {
  private final MockWebServer origin = new MockWebServer();
  private RecordingProxy proxy;
  private HttpClient client;

  @BeforeEach
  void start() throws Exception {
    origin.start();
  }

  @AfterEach
  void stop() throws Exception {
    if (proxy != null) {
      proxy.close();
      assertThat(proxy.server().stats().activeConnections()).isZero();
    }
    origin.close();
  }

  private void startProxy(RecordingProxy.Builder builder) {
    proxy = builder.start();
    client = proxy.httpClientBuilder().build();
  }

  private HttpResponse<byte[]> send(HttpRequest.Builder request) throws Exception {
    return client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private URI url(String path) {
    return URI.create("http://127.0.0.1:" + origin.getPort() + path);
  }

  @Test
  void recordsRequestResponseAndWhereItWent() throws Exception {
    startProxy(RecordingProxy.forward());
    origin.enqueue(new MockResponse().setResponseCode(201).setHeader("X-Order", "7")
        .setBody("{\"id\":7}"));
    send(HttpRequest.newBuilder(url("/orders?x=1")).header("X-Trace", "abc")
        .POST(HttpRequest.BodyPublishers.ofString("{\"sku\":\"a\"}")));

    RecordedExchange e = proxy.recording().awaitExchanges(1, Duration.ofSeconds(5)).get(0);
    assertThat(e.request().method()).isEqualTo("POST");
    assertThat(e.request().url()).isEqualTo(url("/orders?x=1").toString());
    assertThat(e.request().path()).isEqualTo("/orders");
    assertThat(e.request().version()).isEqualTo("HTTP/1.1");
    assertThat(e.request().header("X-Trace")).contains("abc");
    assertThat(e.request().body().text()).isEqualTo("{\"sku\":\"a\"}");
    assertThat(e.response().status()).isEqualTo(201);
    assertThat(e.response().header("X-Order")).contains("7");
    assertThat(e.response().body().text()).isEqualTo("{\"id\":7}");
    assertThat(e.upstream()).contains("127.0.0.1:" + origin.getPort());
    assertThat(e.requestId()).hasValueSatisfying(id -> assertThat(e.request().header("X-Request-Id")).contains(id));
    assertThat(e.traceId()).hasValueSatisfying(id -> assertThat(id).matches("[0-9a-f]{32}"));
    assertThat(e.clientAddress()).isPresent();
    assertThat(e.cache()).isEmpty();
    assertThat(e.failure()).isEmpty();
    assertThat(e.timings().connect()).as("fresh upstream connection, timed").isNotNegative();
    assertThat(e.timings().waitTime()).as("the origin's answer took time").isPositive();
    assertThat(e.timings().blocked()).as("from the exchange's start to upstream (probe testkit F4)").isNotNegative();
    assertThat(e.timings().total()).as("phases fit in the exchange")
        .isLessThanOrEqualTo(e.duration().toNanos() / 1e6 + 0.001);
    assertThat(e.connectionId()).isPositive();
    assertThat(e.sequence()).isEqualTo(1);
  }

  @Test
  void recordsConnectionReuseBySequence() throws Exception {
    startProxy(RecordingProxy.forward());
    origin.enqueue(new MockResponse().setBody("a"));
    origin.enqueue(new MockResponse().setBody("b"));
    send(HttpRequest.newBuilder(url("/a")));
    send(HttpRequest.newBuilder(url("/b")));

    List<RecordedExchange> two = proxy.recording().awaitExchanges(2, Duration.ofSeconds(5));
    assertThat(two.get(1).connectionId()).isEqualTo(two.get(0).connectionId());
    assertThat(two.get(1).sequence()).isEqualTo(2);
    assertThat(two.get(1).timings().connect()).as("reused upstream connection").isEqualTo(-1);
  }

  @Test
  void keepsGzipBytesExactAndDecodesThemForAssertions() throws Exception {
    startProxy(RecordingProxy.forward());
    byte[] gzipped = gzip("hello, compressed world");
    origin.enqueue(new MockResponse().setHeader("Content-Encoding", "gzip")
        .setHeader("Content-Type", "text/plain; charset=utf-8")
        .setBody(new Buffer().write(gzipped)));

    HttpResponse<byte[]> response = send(HttpRequest.newBuilder(url("/z")));

    assertThat(response.body()).as("client gets the exact gzip bytes").isEqualTo(gzipped);
    RecordedBody body = proxy.recording().awaitExchanges(1, Duration.ofSeconds(5)).get(0)
        .response().body();
    assertThat(body.bytes()).isEqualTo(gzipped);
    assertThat(body.contentEncoding()).contains("gzip");
    assertThat(body.isEncoded()).isTrue();
    assertThat(body.text()).isEqualTo("hello, compressed world");
    assertThat(body.truncated()).isFalse();
  }

  /**
   * A body condition cannot pass a negative check on the part of a body the recording did not
   * keep: bodyContains refuses it, saying how much was kept, as requestBodyContains does (probe t24).
   */
  @Test
  void failsANegativeBodyMatchOnATruncatedBody() throws Exception {
    startProxy(RecordingProxy.forward().maxBodyBytes(1024));
    origin.enqueue(new MockResponse().setResponseCode(204));
    String upload = "x".repeat(2000) + "password=hunter2";
    send(HttpRequest.newBuilder(url("/upload")).POST(HttpRequest.BodyPublishers.ofString(upload)));
    RecordingAssert recorded = FerryAssertions.assertThat(proxy.recording()).eventually();
    recorded.hasExchangeCount(1);

    assertThatThrownBy(() -> recorded.hasNoExchange(e -> e.bodyContains("hunter2")))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("Cannot check that the request body contains <hunter2>: only its first"
            + " 1024 of 2016 bytes were recorded (raise maxBodyBytes");
    assertThatThrownBy(() -> recorded.allExchangesMatch(e -> e.bodyContains("hunter2")))
        .hasMessageContaining("only its first 1024 of 2016 bytes");
    // What the kept part shows is a sound answer.
    recorded.hasExchange(e -> e.bodyContains("xxx")).allExchangesMatch(e -> e.bodyContains("xxx"));
  }

  /**
   * A positive look-up finds the exchange that matches even when another's body cannot be
   * judged (a truncated upload): it failed at once on the first such body, under eventually()
   * too, blaming the unrelated upload (probe t26). With no match known it still says why.
   */
  @Test
  void findsAMatchBesideABodyItCannotJudge() throws Exception {
    startProxy(RecordingProxy.forward().maxBodyBytes(1024));
    origin.enqueue(new MockResponse().setResponseCode(204));
    origin.enqueue(new MockResponse().setResponseCode(204));
    send(HttpRequest.newBuilder(url("/upload")).POST(HttpRequest.BodyPublishers.ofByteArray(new byte[4096])));
    Recording recording = proxy.recording();
    RecordingAssert recorded = FerryAssertions.assertThat(recording).eventually(Duration.ofSeconds(10));
    recorded.hasExchangeCount(1);
    assertThatThrownBy(() -> FerryAssertions.assertThat(recording).hasExchange(e -> e.bodyContains("uploaded")))
        .hasMessageContaining("none is known to have it")
        .hasMessageContaining("only its first 1024 of 4096 bytes were recorded");
    assertThatThrownBy(() -> recording.first(e -> e.bodyContains("uploaded")))
        .hasMessageContaining("only its first 1024 of 4096 bytes were recorded");

    // Sent after the waits below have begun: they wait for it instead of failing on the upload.
    Thread notifier = new Thread(() -> {
      try {
        recording.awaitExchanges(1, Duration.ofSeconds(5));
        send(HttpRequest.newBuilder(url("/notify"))
            .POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"uploaded\"}")));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    notifier.start();
    recorded.hasExchange(e -> e.bodyContains("uploaded"));
    notifier.join();

    // The upload's truncated body would refuse requestBodyContains: the exchange is /notify's.
    recorded.exchange(e -> e.bodyContains("uploaded")).requestBodyContains("uploaded");
    assertThat(recording.awaitExchange(e -> e.bodyContains("uploaded"), Duration.ofSeconds(1))
        .request().path()).isEqualTo("/notify");
    assertThat(recording.first(e -> e.bodyContains("uploaded"))).get()
        .extracting(e -> e.request().path()).isEqualTo("/notify");
    // Negative checks still refuse to judge the upload.
    assertThatThrownBy(() -> recorded.hasNoExchange(e -> e.bodyContains("uploaded")))
        .hasMessageContaining("only its first 1024 of 4096 bytes were recorded");
  }

  /**
   * A body whose Content-Encoding the recorder could not undo (stacked codings, or one it never
   * decodes) shows only encoded bytes: a negative bodyContains cannot pass on them, and the body
   * assertions refuse to judge them, naming the encoding (probe v24).
   */
  @Test
  void failsBodyChecksOnABodyItCouldNotDecode() throws Exception {
    startProxy(RecordingProxy.forward());
    String json = "{\"token\":\"the-secret-value\"}";
    // The testkit never decodes br, so gzip bytes stand in for brotli ones.
    Map<String, byte[]> uploads = Map.of("gzip, gzip", gzip(gzip(json)), "br", gzip(json));
    for (Map.Entry<String, byte[]> upload : uploads.entrySet()) {
      origin.enqueue(new MockResponse().setResponseCode(204));
      send(HttpRequest.newBuilder(url("/upload/" + upload.getKey().replace(", ", "-")))
          .header("Content-Encoding", upload.getKey())
          .POST(HttpRequest.BodyPublishers.ofByteArray(upload.getValue())));
    }
    FerryAssertions.assertThat(proxy.recording()).eventually().hasExchangeCount(2);

    for (String coding : uploads.keySet()) {
      String path = "/upload/" + coding.replace(", ", "-");
      String undecoded = "its Content-Encoding " + coding + " could not be decoded";
      assertThatThrownBy(() -> FerryAssertions.assertThat(proxy.recording())
          .hasNoExchange(e -> e.path(path).bodyContains("the-secret-value")))
          .as(coding).isInstanceOf(AssertionError.class)
          .hasMessageContaining("Cannot check that the request body contains <the-secret-value>: "
              + undecoded);
      ExchangeAssert exchange =
          FerryAssertions.assertThat(proxy.recording()).exchange(e -> e.path(path));
      assertThatThrownBy(() -> exchange.requestBodyContains("the-secret-value")).as(coding)
          .hasMessageContaining(undecoded);
      assertThatThrownBy(() -> exchange.hasRequestBody(json)).as(coding)
          .hasMessageContaining(undecoded);
      assertThatThrownBy(() -> exchange.hasRequestJsonField("token", "the-secret-value")).as(coding)
          .hasMessageContaining("Cannot check that the request body has JSON field token: "
              + undecoded + " (the testkit undoes a single gzip, x-gzip or deflate coding only),"
              + " so the recorded bytes are still encoded");
    }
  }

  @Test
  void truncatesCaptureAtTheCapButForwardsEveryByte() throws Exception {
    startProxy(RecordingProxy.forward().maxBodyBytes(1000));
    byte[] big = new byte[300_000];
    new Random(1).nextBytes(big);
    origin.enqueue(new MockResponse().setBody(new Buffer().write(big)));
    byte[] upload = new byte[5000];
    new Random(2).nextBytes(upload);

    HttpResponse<byte[]> response = send(HttpRequest.newBuilder(url("/big"))
        .POST(HttpRequest.BodyPublishers.ofByteArray(upload)));

    assertThat(response.body()).isEqualTo(big);
    RecordedRequest atOrigin = origin.takeRequest();
    assertThat(atOrigin.getBody().readByteArray()).isEqualTo(upload);
    RecordedExchange e = proxy.recording().awaitExchanges(1, Duration.ofSeconds(5)).get(0);
    assertThat(e.response().body().truncated()).isTrue();
    assertThat(e.response().body().size()).isEqualTo(big.length);
    assertThat(e.response().body().bytes()).isEqualTo(java.util.Arrays.copyOf(big, 1000));
    assertThat(e.request().body().truncated()).isTrue();
    assertThat(e.request().body().size()).isEqualTo(upload.length);
    assertThat(e.request().body().bytes()).isEqualTo(java.util.Arrays.copyOf(upload, 1000));
  }

  @Test
  void filtersByMatcherAndPredicate() throws Exception {
    startProxy(RecordingProxy.forward());
    origin.enqueue(new MockResponse().setBody("1"));
    origin.enqueue(new MockResponse().setBody("2"));
    send(HttpRequest.newBuilder(url("/items/1")).header("X-Role", "admin"));
    send(HttpRequest.newBuilder(url("/other")).DELETE());
    proxy.recording().awaitExchanges(2, Duration.ofSeconds(5));

    assertThat(proxy.recording().exchanges(e -> e.method("GET").pathStartsWith("/items")))
        .hasSize(1);
    assertThat(proxy.recording().exchanges(e -> e.header("X-Role", "admin").host("127.0.0.1")))
        .hasSize(1);
    assertThat(proxy.recording().exchanges(e -> e.method("DELETE")))
        .extracting(e -> e.request().path()).containsExactly("/other");
  }

  @Test
  void awaitExchangesFailsListingWhatWasRecorded() throws Exception {
    startProxy(RecordingProxy.forward());
    origin.enqueue(new MockResponse().setBody("1"));
    send(HttpRequest.newBuilder(url("/only")));
    proxy.recording().awaitExchanges(1, Duration.ofSeconds(5));

    assertThatThrownBy(() -> proxy.recording().awaitExchanges(2, Duration.ofMillis(50)))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("expected 2 exchanges within 50 ms")
        .hasMessageContaining("GET " + url("/only"));
  }

  @Test
  void recordsAProxyAnswerWhenTheUpstreamIsDown() throws Exception {
    startProxy(RecordingProxy.forward());
    URI dead = url("/gone");
    origin.close();

    HttpResponse<byte[]> response = send(HttpRequest.newBuilder(dead));

    assertThat(response.statusCode()).isEqualTo(502);
    RecordedExchange e = proxy.recording().awaitExchanges(1, Duration.ofSeconds(5)).get(0);
    assertThat(e.response().status()).isEqualTo(502);
    assertThat(e.failure()).isPresent();
  }

  /**
   * The proxy answers 502 without forwarding the body when the origin is down. Nothing read the
   * body through the recorder, so it was recorded as 0 of its 11 bytes (the engine drained it
   * unseen), with assertions telling the user to raise maxBodyBytes and no HAR postData.
   */
  @Test
  void recordsTheBodyOfARequestTheOriginNeverRead() throws Exception {
    startProxy(RecordingProxy.forward());
    URI dead = url("/orders");
    origin.close();

    HttpResponse<byte[]> response = send(HttpRequest.newBuilder(dead)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"order\":1}")));

    assertThat(response.statusCode()).isEqualTo(502);
    RecordedExchange e = proxy.recording().awaitExchanges(1, Duration.ofSeconds(5)).get(0);
    assertThat(e.request().body().text()).isEqualTo("{\"order\":1}");
    assertThat(e.request().body().truncated()).isFalse();
    FerryAssertions.assertThat(e).hasRequestJsonField("order", 1);
    JsonNode postData = new ObjectMapper().readTree(proxy.recording().toHar())
        .at("/log/entries/0/request/postData");
    assertThat(postData.path("text").asText()).isEqualTo("{\"order\":1}");
  }

  /**
   * A client that awaits {@code 100 Continue} sends its body only once asked. Reading an unread
   * body into the recording must not be what asks: the proxy answers such a request, refused
   * before its body was wanted, with no 100, as it does without the testkit.
   */
  @Test
  void asksNoClientAwaitingContinueForABodyTheProxyNeverForwarded() throws Exception {
    startProxy(RecordingProxy.forward());
    URI dead = url("/orders");
    origin.close();

    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", proxy.port())) {
      socket.getOutputStream().write(("POST " + dead + " HTTP/1.1\r\nHost: " + dead.getAuthority()
          + "\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      var in = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
          java.nio.charset.StandardCharsets.ISO_8859_1));
      assertThat(in.readLine()).startsWith("HTTP/1.1 502");
    }
    RecordedExchange e = proxy.recording().awaitExchanges(1, Duration.ofSeconds(5)).get(0);
    assertThat(e.request().body().isEmpty()).as("the client never sent it").isTrue();
  }

  /**
   * Probe t6, defect 2: the docs said recorded requests are what the origin received; they are
   * what the client sent, with the proxy's ids, as {@link dev.ferry.proxy.testkit.RecordedRequest}
   * now says. The origin's side is shown for contrast. The fields the client's Connection names
   * are taken as the request arrives (probe p11: else they could stand for a filter's).
   */
  @Test
  void recordsTheRequestAsTheClientSentItBeforeHopByHopFieldsGo() throws Exception {
    startProxy(RecordingProxy.forward());
    origin.enqueue(new MockResponse().setBody("ok"));
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", proxy.port())) {
      socket.getOutputStream().write(("GET " + url("/hops") + " HTTP/1.1\r\n"
          + "Host: 127.0.0.1:" + origin.getPort() + "\r\nProxy-Connection: keep-alive\r\n"
          + "Connection: close, X-Hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\n"
          + "X-Keep: yes\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      socket.getInputStream().readAllBytes();
    }

    RecordedRequest atOrigin = origin.takeRequest();
    assertThat(atOrigin.getHeader("X-Hop")).isNull();
    assertThat(atOrigin.getHeader("Via")).isEqualTo("1.1 ferry");
    RecordedExchange e = proxy.recording().awaitExchanges(1, Duration.ofSeconds(5)).get(0);
    assertThat(e.request().header("X-Keep")).contains("yes");
    assertThat(e.request().header("X-Hop")).as("taken as it arrived").isEmpty();
    assertThat(e.request().header("Connection")).contains("close");
    assertThat(e.request().header("Proxy-Connection")).contains("keep-alive");
    assertThat(e.request().header("Via")).isEmpty();
    assertThat(e.request().header("X-Request-Id")).isEqualTo(
        java.util.Optional.ofNullable(atOrigin.getHeader("X-Request-Id")));
    assertThat(e.request().header("traceparent")).isEqualTo(
        java.util.Optional.ofNullable(atOrigin.getHeader("traceparent")));
  }

  /** Probe t6, defect 5: such an answer over the cap was recorded with none of its bytes. */
  @Test
  void keepsTheFirstBytesOfAProxyAnswerLongerThanTheCap() throws Exception {
    startProxy(RecordingProxy.forward().maxBodyBytes(20));
    URI dead = url("/gone");
    origin.close();

    HttpResponse<byte[]> response = send(HttpRequest.newBuilder(dead));

    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(response.body().length).isGreaterThan(20);
    RecordedExchange e = proxy.recording().awaitExchanges(1, Duration.ofSeconds(5)).get(0);
    assertThat(e.proxyMade()).isTrue();
    assertThat(e.response().body().truncated()).isTrue();
    assertThat(e.response().body().size()).isEqualTo(response.body().length);
    assertThat(e.response().body().bytes()).isEqualTo(java.util.Arrays.copyOf(response.body(), 20));
  }

  @Test
  void capturesAChunkedUploadAndForwardsItExactly() throws Exception {
    startProxy(RecordingProxy.forward());
    origin.enqueue(new MockResponse().setBody("stored"));
    byte[] upload = new byte[70_000];
    new Random(5).nextBytes(upload);

    send(HttpRequest.newBuilder(url("/upload")).POST(HttpRequest.BodyPublishers.ofInputStream(
        () -> new java.io.ByteArrayInputStream(upload))));

    assertThat(origin.takeRequest().getBody().readByteArray()).isEqualTo(upload);
    RecordedExchange e = proxy.recording().awaitExchanges(1, Duration.ofSeconds(5)).get(0);
    assertThat(e.request().header("Transfer-Encoding")).contains("chunked");
    assertThat(e.request().body().bytes()).isEqualTo(upload);
    assertThat(e.request().body().truncated()).isFalse();
  }

  @Test
  void recordsATunnelAsOneConnectExchange() throws Exception {
    startProxy(RecordingProxy.forward());
    origin.enqueue(new MockResponse().setBody("through the tunnel"));
    String authority = "127.0.0.1:" + origin.getPort();

    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", proxy.port())) {
      var out = socket.getOutputStream();
      var in = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
          java.nio.charset.StandardCharsets.ISO_8859_1));
      out.write(("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      assertThat(in.readLine()).startsWith("HTTP/1.1 200");
      while (!in.readLine().isEmpty()) {
        // Skip the rest of the CONNECT response head.
      }
      out.write(("GET /tunnelled HTTP/1.1\r\nHost: " + authority + "\r\nConnection: close\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      assertThat(in.readLine()).startsWith("HTTP/1.1 200");
    }

    RecordedExchange e = proxy.recording().awaitExchanges(1, Duration.ofSeconds(5)).get(0);
    assertThat(e.request().method()).isEqualTo("CONNECT");
    assertThat(e.response().status()).isEqualTo(200);
    assertThat(e.upstream()).contains(authority);
  }

  static byte[] gzip(String text) throws Exception {
    return gzip(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  static byte[] gzip(byte[] content) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
      out.write(content);
    }
    return bytes.toByteArray();
  }
}
