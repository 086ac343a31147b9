package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import okhttp3.Headers;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import okio.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 §2: a mixed session (binary, gzip, br, 204, 304, redirect, form post, trailers, a
 * failed connect, CONNECT) exports as valid HAR 1.2 and imports back with every body's bytes
 * intact.
 */
class HarMixedSessionTest {
  private static final MockWebServer origin = new MockWebServer();
  private static final byte[] BINARY = new byte[5000];
  private static final byte[] BROTLI = new byte[300];
  private static RecordingProxy proxy;
  private static String base;
  private static String downUrl;

  @BeforeAll
  static void record() throws Exception {
    new Random(1).nextBytes(BINARY);
    new Random(2).nextBytes(BROTLI);
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return answer(request);
      }
    });
    origin.start();
    base = "http://127.0.0.1:" + origin.getPort();
    try (ServerSocket closed = new ServerSocket(0)) {
      downUrl = "http://127.0.0.1:" + closed.getLocalPort() + "/down";
    }
    proxy = RecordingProxy.forward().start();
    HttpClient client = proxy.httpClientBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    for (String path : List.of("/binary", "/gzip", "/br", "/empty", "/cached", "/redirect", "/trailers")) {
      client.send(HttpRequest.newBuilder(URI.create(base + path)).build(),
          HttpResponse.BodyHandlers.ofByteArray());
    }
    client.send(HttpRequest.newBuilder(URI.create(base + "/form"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("q=a+b&lang=en")).build(),
        HttpResponse.BodyHandlers.ofString());
    client.send(HttpRequest.newBuilder(URI.create(downUrl)).build(),
        HttpResponse.BodyHandlers.ofString());
    tunnel();
    proxy.recording().awaitExchanges(10, Duration.ofSeconds(5));
  }

  private static MockResponse answer(RecordedRequest request) {
    switch (request.getPath()) {
      case "/binary":
        return new MockResponse().setHeader("Content-Type", "application/octet-stream")
            .setBody(new Buffer().write(BINARY));
      case "/gzip":
        try {
          return new MockResponse().setHeader("Content-Encoding", "gzip")
              .setHeader("Content-Type", "text/plain").setBody(new Buffer().write(
                  RecordingTest.gzip("zipped text")));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      case "/br":
        return new MockResponse().setHeader("Content-Encoding", "br")
            .setHeader("Content-Type", "text/html").setBody(new Buffer().write(BROTLI));
      case "/empty":
        return new MockResponse().setResponseCode(204);
      case "/cached":
        return new MockResponse().setResponseCode(304).setHeader("ETag", "\"v1\"");
      case "/redirect":
        return new MockResponse().setResponseCode(302).setHeader("Location", "/binary");
      case "/trailers":
        return new MockResponse().setChunkedBody("chunked body", 4)
            .setTrailers(Headers.of("X-Checksum", "abc123"));
      default:
        return new MockResponse().setBody("posted " + request.getBody().readUtf8());
    }
  }

  /** CONNECT to the origin, then one request through the tunnel. */
  private static void tunnel() throws Exception {
    String authority = "127.0.0.1:" + origin.getPort();
    try (Socket socket = new Socket("127.0.0.1", proxy.port())) {
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      out.write(("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String head = readHead(in);
      assertThat(head).startsWith("HTTP/1.1 200");
      out.write(("GET /empty HTTP/1.1\r\nHost: " + authority + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      assertThat(readHead(in)).startsWith("HTTP/1.1 204");
    }
  }

  private static String readHead(InputStream in) throws Exception {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.append((char) b);
    }
    return head.toString();
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    origin.close();
  }

  private static RecordedExchange exchange(String path) {
    return proxy.recording().first(e -> e.path(path).method("GET")).orElseThrow();
  }

  @Test
  void exportsValidHar12ForEveryKindOfExchange() throws Exception {
    JsonNode log = new ObjectMapper().readTree(proxy.recording().toHar()).get("log");
    assertThat(log.get("version").asText()).isEqualTo("1.2");
    assertThat(log.get("entries")).hasSize(proxy.recording().size());
    for (JsonNode entry : log.get("entries")) {
      JsonNode request = entry.get("request");
      URI url = URI.create(request.get("url").asText());
      assertThat(url.isAbsolute()).as(request.toString()).isTrue();
      assertThat(url.getScheme()).isIn("http", "https");
      JsonNode post = request.get("postData");
      if (post != null) {
        assertThat(post.has("text") != post.has("params")).as("text or params").isTrue();
        assertOnlyHarFields(post, "mimeType", "params", "text", "comment");
      }
      JsonNode response = entry.get("response");
      JsonNode content = response.get("content");
      assertOnlyHarFields(content, "size", "compression", "mimeType", "text", "encoding", "comment");
      assertThat(content.get("size").isNumber()).isTrue();
      assertThat(content.get("mimeType").isTextual()).isTrue();
      byte[] text = content.has("text") ? contentBytes(content) : new byte[0];
      if (!content.has("compression") && !content.path("_ferryTruncated").asBoolean()) {
        assertThat(content.get("size").asLong()).as(entry.toString()).isEqualTo(text.length);
      }
      for (String phase : List.of("send", "wait", "receive")) {
        assertThat(entry.get("timings").get(phase).asDouble()).isGreaterThanOrEqualTo(0);
      }
    }
  }

  @Test
  void recordsTheProxysOwnAnswerWithItsBody() {
    RecordedExchange down = proxy.recording().first(e -> e.url(downUrl)).orElseThrow();
    assertThat(down.response().status()).isEqualTo(502);
    assertThat(down.proxyMade()).isTrue();
    assertThat(down.response().body().truncated()).isFalse();
    assertThat(down.response().body().text()).isNotEmpty();
    assertThat(down.response().body().size()).isEqualTo(down.response().body().capturedSize());
  }

  @Test
  void keepsBrotliBytesAndTheirEncodingThroughExportImportAndReplay(@TempDir Path dir)
      throws Exception {
    Path har = dir.resolve("mixed.har");
    proxy.recording().writeHar(har);
    Recording imported = Recording.fromHar(har);
    RecordedResponse br = imported.first(e -> e.path("/br")).orElseThrow().response();
    assertThat(br.header("Content-Encoding")).contains("br");
    assertThat(br.body().bytes()).isEqualTo(BROTLI);

    try (RecordingProxy replay = RecordingProxy.forward().replay(har).start()) {
      HttpResponse<byte[]> answer = replay.httpClientBuilder().build().send(
          HttpRequest.newBuilder(URI.create(base + "/br")).build(),
          HttpResponse.BodyHandlers.ofByteArray());
      assertThat(answer.headers().firstValue("Content-Encoding")).contains("br");
      assertThat(answer.body()).isEqualTo(BROTLI);

      HttpResponse<String> down = replay.httpClientBuilder().build().send(
          HttpRequest.newBuilder(URI.create(downUrl)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(down.statusCode()).isEqualTo(502);
      assertThat(down.body()).isEqualTo(
          proxy.recording().first(e -> e.url(downUrl)).orElseThrow().response().body().text());
    }
  }

  @Test
  void importsEveryBodyHeaderAndTrailerIntact(@TempDir Path dir) {
    Path har = dir.resolve("mixed.har");
    proxy.recording().writeHar(har);
    // A recording holds exchanges as they completed, a HAR by when they started: under load a
    // CONNECT reported at its 200 may complete before the exchange ahead of it is recorded.
    List<RecordedExchange> original = new ArrayList<>(proxy.recording().exchanges());
    original.sort(Comparator.comparing(RecordedExchange::startTime));
    List<RecordedExchange> imported = Recording.fromHar(har).exchanges();

    assertThat(imported).hasSize(original.size());
    for (int i = 0; i < original.size(); i++) {
      RecordedExchange a = original.get(i);
      RecordedExchange b = imported.get(i);
      assertThat(b.request().method()).isEqualTo(a.request().method());
      assertThat(b.request().url()).isEqualTo(a.request().url());
      assertThat(b.request().headers()).isEqualTo(a.request().headers());
      assertThat(b.request().body().bytes()).as(a.toString()).isEqualTo(a.request().body().bytes());
      assertThat(b.response().status()).isEqualTo(a.response().status());
      assertThat(b.response().headers()).as(a.toString()).isEqualTo(a.response().headers());
      assertThat(b.response().body().bytes()).as(a.toString()).isEqualTo(a.response().body().bytes());
      assertThat(b.response().trailers()).isEqualTo(a.response().trailers());
      assertThat(b.proxyMade()).isEqualTo(a.proxyMade());
    }
    assertThat(exchange("/trailers").response().trailers().first("X-Checksum")).contains("abc123");
    assertThat(exchange("/binary").response().body().bytes()).isEqualTo(BINARY);
    RecordedExchange connect = imported.stream()
        .filter(e -> e.request().method().equals("CONNECT")).findFirst().orElseThrow();
    assertThat(connect.request().authority()).isEqualTo("127.0.0.1:" + origin.getPort());
    assertThat(connect.request().url()).isEqualTo("https://127.0.0.1:" + origin.getPort() + "/");
  }

  @Test
  void writesAFormPostAsParamsThatImportToTheSameBytes() throws Exception {
    JsonNode entries = new ObjectMapper().readTree(proxy.recording().toHar()).get("log").get("entries");
    JsonNode post = null;
    for (JsonNode entry : entries) {
      if (entry.get("request").get("method").asText().equals("POST")) {
        post = entry.get("request").get("postData");
      }
    }
    assertThat(post.has("text")).isFalse();
    assertThat(post.get("params").get(0).get("value").asText()).isEqualTo("a b");
    RecordedExchange imported = Recording.fromHar(new java.io.StringReader(
        proxy.recording().toHar())).first(e -> e.method("POST")).orElseThrow();
    assertThat(imported.request().body().text()).isEqualTo("q=a+b&lang=en");
  }

  /** HAR 1.2's fields of the object, and custom ones, which must start with an underscore. */
  private static void assertOnlyHarFields(JsonNode object, String... defined) {
    object.fieldNames().forEachRemaining(name -> assertThat(name.startsWith("_") || List.of(defined).contains(name))
        .as(name + " in " + object).isTrue());
  }

  private static byte[] contentBytes(JsonNode content) {
    String text = content.get("text").asText();
    return "base64".equals(content.path("encoding").asText())
        ? Base64.getDecoder().decode(text) : text.getBytes(StandardCharsets.UTF_8);
  }
}
