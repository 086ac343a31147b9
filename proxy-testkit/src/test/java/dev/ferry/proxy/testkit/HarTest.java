package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.StringReader;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Random;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okio.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One recording of three exchanges (text, binary upload/download, gzip), checked as HAR 1.2. */
class HarTest {
  private static final MockWebServer origin = new MockWebServer();
  private static final byte[] BINARY = new byte[4096];
  private static final byte[] UPLOAD = new byte[777];
  private static RecordingProxy proxy;

  @BeforeAll
  static void record() throws Exception {
    new Random(3).nextBytes(BINARY);
    new Random(4).nextBytes(UPLOAD);
    origin.enqueue(new MockResponse().setHeader("Content-Type", "application/json")
        .addHeader("Set-Cookie", "session=s1; Path=/").setBody("{\"ok\":true}"));
    origin.enqueue(new MockResponse().setHeader("Content-Type", "application/octet-stream")
        .setBody(new Buffer().write(BINARY)));
    origin.enqueue(new MockResponse().setHeader("Content-Encoding", "gzip")
        .setHeader("Content-Type", "text/plain").setBody(new Buffer().write(
            RecordingTest.gzip("zipped text"))));
    origin.start();
    proxy = RecordingProxy.forward().start();
    HttpClient client = proxy.httpClientBuilder().build();
    String base = "http://127.0.0.1:" + origin.getPort();
    client.send(HttpRequest.newBuilder(URI.create(base + "/api?q=a%20b&flag"))
        .header("Cookie", "a=1; b=2").build(), HttpResponse.BodyHandlers.ofString());
    client.send(HttpRequest.newBuilder(URI.create(base + "/blob"))
        .header("Content-Type", "application/octet-stream")
        .PUT(HttpRequest.BodyPublishers.ofByteArray(UPLOAD)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    client.send(HttpRequest.newBuilder(URI.create(base + "/zip")).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    proxy.recording().awaitExchanges(3, Duration.ofSeconds(5));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    origin.close();
  }

  @Test
  void hasEveryFieldTheSpecRequiresWithItsType() throws Exception {
    JsonNode log = new ObjectMapper().readTree(proxy.recording().toHar()).get("log");
    assertThat(log.get("version").asText()).isEqualTo("1.2");
    assertThat(log.get("creator").get("name").isTextual()).isTrue();
    assertThat(log.get("creator").get("version").isTextual()).isTrue();
    assertThat(log.get("entries").isArray()).isTrue();
    assertThat(log.get("entries")).hasSize(3);
    for (JsonNode entry : log.get("entries")) {
      OffsetDateTime.parse(entry.get("startedDateTime").asText());
      assertThat(entry.get("time").isNumber()).isTrue();
      assertThat(entry.get("cache").isObject()).isTrue();
      checkRequest(entry.get("request"));
      checkResponse(entry.get("response"));
      JsonNode timings = entry.get("timings");
      for (String phase : List.of("blocked", "dns", "connect", "send", "wait", "receive", "ssl")) {
        assertThat(timings.get(phase)).as(phase).isNotNull();
        assertThat(timings.get(phase).isNumber()).as(phase).isTrue();
      }
      double sum = 0;
      for (String phase : List.of("blocked", "dns", "connect", "send", "wait", "receive", "ssl")) {
        sum += Math.max(0, timings.get(phase).asDouble());
      }
      assertThat(entry.get("time").asDouble()).isCloseTo(sum, org.assertj.core.data.Offset.offset(0.001));
    }
    JsonNode first = log.get("entries").get(0);
    assertThat(first.get("request").get("queryString").get(0).get("value").asText()).isEqualTo("a b");
    assertThat(first.get("request").get("cookies")).hasSize(2);
    assertThat(first.get("response").get("cookies").get(0).get("name").asText()).isEqualTo("session");
  }

  private static void checkRequest(JsonNode request) {
    assertThat(request.get("method").isTextual()).isTrue();
    assertThat(request.get("url").isTextual()).isTrue();
    assertThat(request.get("httpVersion").isTextual()).isTrue();
    assertThat(request.get("cookies").isArray()).isTrue();
    assertThat(request.get("headers").isArray()).isTrue();
    assertThat(request.get("queryString").isArray()).isTrue();
    assertThat(request.get("headersSize").isNumber()).isTrue();
    assertThat(request.get("bodySize").isNumber()).isTrue();
    JsonNode post = request.get("postData");
    if (post != null) {
      assertThat(post.get("mimeType").isTextual()).isTrue();
      assertThat(post.has("text") != post.has("params")).as("text or params, not both").isTrue();
      if (post.has("text")) {
        assertThat(post.get("text").isTextual()).isTrue();
      } else {
        assertThat(post.get("params").isArray()).isTrue();
      }
    }
    for (JsonNode header : request.get("headers")) {
      assertThat(header.get("name").isTextual()).isTrue();
      assertThat(header.get("value").isTextual()).isTrue();
    }
  }

  private static void checkResponse(JsonNode response) {
    assertThat(response.get("status").isInt()).isTrue();
    assertThat(response.get("statusText").isTextual()).isTrue();
    assertThat(response.get("httpVersion").isTextual()).isTrue();
    assertThat(response.get("cookies").isArray()).isTrue();
    assertThat(response.get("headers").isArray()).isTrue();
    assertThat(response.get("redirectURL").isTextual()).isTrue();
    assertThat(response.get("headersSize").isNumber()).isTrue();
    assertThat(response.get("bodySize").isNumber()).isTrue();
    JsonNode content = response.get("content");
    assertThat(content.get("size").isNumber()).isTrue();
    assertThat(content.get("mimeType").isTextual()).isTrue();
  }

  /** HAR 1.2's serverIPAddress is an IP address: an upstream named by host name leaves it out. */
  @Test
  void writesServerIpAddressOnlyForAnAddress() throws Exception {
    RecordedExchange byAddress = proxy.recording().exchanges().get(0);
    RecordedExchange.Builder named = byAddress.toBuilder();
    named.upstream = "localhost:" + origin.getPort();
    JsonNode entries = new ObjectMapper().readTree(Recording.of(List.of(byAddress, named.build())).toHar())
        .get("log").get("entries");
    assertThat(entries.get(0).get("serverIPAddress").asText()).isEqualTo("127.0.0.1");
    assertThat(entries.get(1).has("serverIPAddress")).isFalse();
  }

  /**
   * HAR 1.2 writes {@code startedDateTime} as {@code YYYY-MM-DDThh:mm:ss.sTZD}. A start on a whole
   * second used to be written without its fraction ({@code …:29Z}), which strict readers refuse
   * and which sorts after {@code …:29.5Z} as a string.
   */
  @Test
  void writesStartedDateTimeWithMillisecondsOnAWholeSecond() throws Exception {
    RecordedExchange.Builder onTheSecond = proxy.recording().exchanges().get(0).toBuilder();
    onTheSecond.startTime = Instant.parse("2026-12-01T23:52:29Z");
    RecordedExchange.Builder withNanos = proxy.recording().exchanges().get(0).toBuilder();
    withNanos.startTime = Instant.parse("2026-12-01T23:52:30.123456789Z");

    JsonNode entries = new ObjectMapper().readTree(
        Recording.of(List.of(onTheSecond.build(), withNanos.build())).toHar()).get("log").get("entries");

    assertThat(entries.get(0).get("startedDateTime").asText()).isEqualTo("2026-12-01T23:52:29.000Z");
    assertThat(entries.get(1).get("startedDateTime").asText()).isEqualTo("2026-12-01T23:52:30.123Z");
  }

  /** HAR 1.2 prefers entries by start; a recording holds them as they completed. */
  @Test
  void ordersEntriesByWhenTheyStarted() throws Exception {
    RecordedExchange first = proxy.recording().exchanges().get(0);
    RecordedExchange.Builder earlier = first.toBuilder();
    earlier.startTime = first.startTime().minusSeconds(5);
    earlier.upstream = "localhost:1";
    JsonNode entries = new ObjectMapper().readTree(Recording.of(List.of(first, earlier.build())).toHar())
        .get("log").get("entries");
    assertThat(entries.get(0).has("serverIPAddress")).as("the one that started first").isFalse();
    assertThat(entries.get(1).get("serverIPAddress").asText()).isEqualTo("127.0.0.1");
  }

  @Test
  void storesBinaryAsBase64AndGzipDecodedWithTheRawBytesKept() throws Exception {
    JsonNode entries = new ObjectMapper().readTree(proxy.recording().toHar()).get("log").get("entries");
    JsonNode binary = entries.get(1);
    assertThat(binary.get("request").get("postData").get("_encoding").asText()).isEqualTo("base64");
    assertThat(binary.get("request").get("postData").has("encoding")).as("not a HAR 1.2 postData field").isFalse();
    assertThat(binary.get("response").get("content").get("encoding").asText()).isEqualTo("base64");
    assertThat(binary.get("response").get("bodySize").asLong()).isEqualTo(BINARY.length);
    JsonNode zipped = entries.get(2).get("response");
    assertThat(zipped.get("content").get("text").asText()).isEqualTo("zipped text");
    assertThat(zipped.get("content").get("size").asLong()).isEqualTo("zipped text".length());
    assertThat(zipped.get("content").has("_ferryRaw")).isTrue();
    assertThat(zipped.get("bodySize").asLong())
        .isEqualTo(RecordingTest.gzip("zipped text").length);
  }

  @Test
  void roundTripsHeadersAndBodiesExactly(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("traffic.har");
    proxy.recording().writeHar(file);
    List<RecordedExchange> original = proxy.recording().exchanges();
    List<RecordedExchange> imported = Recording.fromHar(file).exchanges();

    assertThat(imported).hasSize(original.size());
    for (int i = 0; i < original.size(); i++) {
      RecordedExchange a = original.get(i);
      RecordedExchange b = imported.get(i);
      assertThat(b.request().url()).isEqualTo(a.request().url());
      assertThat(b.request().method()).isEqualTo(a.request().method());
      assertThat(b.request().headers()).isEqualTo(a.request().headers());
      assertThat(b.request().body().bytes()).isEqualTo(a.request().body().bytes());
      assertThat(b.response().status()).isEqualTo(a.response().status());
      assertThat(b.response().reason()).isEqualTo(a.response().reason());
      assertThat(b.response().headers()).isEqualTo(a.response().headers());
      assertThat(b.response().body().bytes()).isEqualTo(a.response().body().bytes());
      assertThat(b.connectionId()).isEqualTo(a.connectionId());
      assertThat(b.sequence()).isEqualTo(a.sequence());
      assertThat(b.startTime().toEpochMilli()).isEqualTo(a.startTime().toEpochMilli());
      assertThat(b.upstream()).isEqualTo(a.upstream());
    }
    assertThat(imported.get(1).request().body().bytes()).isEqualTo(UPLOAD);
    assertThat(imported.get(1).response().body().bytes()).isEqualTo(BINARY);

    StringWriter writer = new StringWriter();
    proxy.recording().writeHar(writer);
    assertThat(writer.toString()).isEqualTo(Files.readString(file));
    assertThat(Recording.fromHar(new StringReader(writer.toString())).size()).isEqualTo(3);
  }

  @Test
  void importsABrowserHarWithDecodedContent() {
    String har = "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"WebInspector\",\"version\":\"537.36\"},"
        + "\"pages\":[],\"entries\":[{\"startedDateTime\":\"2024-05-01T10:00:00.000+02:00\",\"time\":12.5,"
        + "\"request\":{\"method\":\"GET\",\"url\":\"https://example.com/a\",\"httpVersion\":\"http/2.0\","
        + "\"headers\":[{\"name\":\":authority\",\"value\":\"example.com\"},{\"name\":\"accept\",\"value\":\"*/*\"}],"
        + "\"queryString\":[],\"cookies\":[],\"headersSize\":-1,\"bodySize\":0},"
        + "\"response\":{\"status\":200,\"statusText\":\"\",\"httpVersion\":\"http/2.0\","
        + "\"headers\":[{\"name\":\"content-encoding\",\"value\":\"br\"},{\"name\":\"content-type\",\"value\":\"text/html\"}],"
        + "\"cookies\":[],\"content\":{\"size\":5,\"mimeType\":\"text/html\",\"text\":\"hello\"},"
        + "\"redirectURL\":\"\",\"headersSize\":-1,\"bodySize\":3},\"cache\":{},"
        + "\"timings\":{\"send\":1,\"wait\":10,\"receive\":1.5}},"
        + "{\"startedDateTime\":\"2024-05-01T10:00:00.000Z\",\"time\":0,\"request\":{\"method\":\"GET\","
        + "\"url\":\"data:image/png;base64,AAAA\",\"httpVersion\":\"\",\"headers\":[],\"queryString\":[],"
        + "\"cookies\":[],\"headersSize\":-1,\"bodySize\":0},\"response\":{\"status\":200,\"statusText\":\"\","
        + "\"httpVersion\":\"\",\"headers\":[],\"cookies\":[],\"content\":{\"size\":0,\"mimeType\":\"\"},"
        + "\"redirectURL\":\"\",\"headersSize\":-1,\"bodySize\":0},\"cache\":{},\"timings\":{\"send\":0,"
        + "\"wait\":0,\"receive\":0}}]}}";

    List<RecordedExchange> imported = Recording.fromHar(new StringReader(har)).exchanges();

    assertThat(imported).hasSize(1);
    RecordedExchange e = imported.get(0);
    assertThat(e.request().headers().contains(":authority")).isFalse();
    assertThat(e.response().headers().contains("content-encoding")).isFalse();
    assertThat(e.response().body().text()).isEqualTo("hello");
    assertThat(e.timings().waitTime()).isEqualTo(10);
    assertThat(e.clientAddress()).isEmpty();
  }

  /** Files written before the custom {@code _encoding} marked a base64 postData with {@code encoding}. */
  @Test
  void importsBase64RequestBodiesMarkedEitherWay() throws Exception {
    for (String field : List.of("encoding", "_encoding")) {
      String har = "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"x\",\"version\":\"1\"},"
          + "\"entries\":[{\"startedDateTime\":\"2024-05-01T10:00:00.000Z\",\"time\":1,"
          + "\"request\":{\"method\":\"POST\",\"url\":\"http://example.com/up\",\"httpVersion\":\"HTTP/1.1\","
          + "\"headers\":[],\"queryString\":[],\"cookies\":[],\"headersSize\":-1,\"bodySize\":3,"
          + "\"postData\":{\"mimeType\":\"application/octet-stream\",\"text\":\"AAEC\",\"" + field + "\":\"base64\"}},"
          + "\"response\":{\"status\":204,\"statusText\":\"\",\"httpVersion\":\"HTTP/1.1\",\"headers\":[],"
          + "\"cookies\":[],\"content\":{\"size\":0,\"mimeType\":\"\"},\"redirectURL\":\"\","
          + "\"headersSize\":-1,\"bodySize\":0},\"cache\":{},\"timings\":{\"send\":0,\"wait\":1,\"receive\":0}}]}}";

      RecordedExchange e = Recording.fromHar(new StringReader(har)).exchanges().get(0);

      assertThat(e.request().body().bytes()).as(field).containsExactly(0, 1, 2);
    }
  }
}
