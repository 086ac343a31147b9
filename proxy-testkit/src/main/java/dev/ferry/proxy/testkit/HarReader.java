package dev.ferry.proxy.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Request;
import java.io.IOException;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.nio.charset.Charset;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * Reads a HAR 1.2 log into recorded exchanges: Ferry's own files losslessly (using the
 * {@code _ferry*} fields), and those of browsers and other tools as far as HTTP/1 can express
 * them. Entries that are not http(s) (data:, blob:, extensions) are skipped, as are HTTP/2
 * pseudo-header fields. A body whose text a tool stored decoded (no {@code _ferryRaw}) loses its
 * Content-Encoding field, so that replaying it stays consistent.
 */
final class HarReader {
  private HarReader() {}

  static List<RecordedExchange> read(Reader reader) throws IOException {
    JsonNode root = HarWriter.JSON.readTree(reader);
    JsonNode entries = root == null ? null : root.path("log").get("entries");
    if (entries == null || !entries.isArray()) {
      throw new IOException("not a HAR log: no log.entries array");
    }
    List<RecordedExchange> exchanges = new ArrayList<>();
    int index = 0;
    for (JsonNode entry : entries) {
      String url = entry.path("request").path("url").asText("");
      if (url.startsWith("http://") || url.startsWith("https://")) {
        try {
          exchanges.add(entry(entry));
        } catch (IllegalArgumentException e) {
          throw new IOException("HAR entry " + index + " (" + url + ") is not valid: "
              + e.getMessage(), e);
        }
      }
      index++;
    }
    return exchanges;
  }

  private static RecordedExchange entry(JsonNode entry) {
    RecordedExchange.Builder b = RecordedExchange.builder();
    b.startTime = instant(entry.path("startedDateTime").asText(""));
    JsonNode ferry = entry.path("_ferry");
    b.id = ferry.path("id").asLong(0);
    b.connectionId = ferry.path("connectionId").asLong(entry.path("connection").asLong(0));
    b.sequence = ferry.path("sequence").asInt(0);
    b.duration = ferry.has("durationNanos") ? Duration.ofNanos(ferry.get("durationNanos").asLong())
        : Duration.ofNanos((long) (entry.path("time").asDouble(0) * 1_000_000));
    b.clientAddress = address(ferry.path("clientAddress").asText(null));
    b.upstream = ferry.path("upstream").asText(null);
    b.cache = ferry.path("cache").asText(null);
    b.failure = ferry.path("failure").asText(null);
    b.fault = ferry.path("fault").asText(null);
    b.replayed = ferry.path("replayed").asBoolean(false);
    b.unmatched = ferry.path("unmatched").asBoolean(false);
    b.request = request(entry.path("request"));
    b.response = response(entry.path("response"));
    JsonNode t = entry.path("timings");
    b.timings = ExchangeTimings.of(t.path("blocked").asDouble(-1), t.path("connect").asDouble(-1), t.path("send").asDouble(-1),
        t.path("wait").asDouble(-1), t.path("receive").asDouble(-1));
    return b.build();
  }

  private static RecordedRequest request(JsonNode node) {
    String version = node.path("httpVersion").asText("").toUpperCase(Locale.ROOT);
    Headers headers = headers(node.path("headers"));
    Request request = Request.builder()
        .method(node.path("method").asText("GET"))
        .url(node.path("url").asText())
        .version(version.equals("HTTP/1.0") ? "HTTP/1.0" : "HTTP/1.1")
        .headers(headers)
        .build();
    JsonNode post = node.path("postData");
    if (post.isMissingNode() || post.isNull()) {
      return RecordedRequest.of(request, RecordedBody.empty());
    }
    return RecordedRequest.of(request, body(post, headers, post.path("mimeType").asText("")));
  }

  private static RecordedResponse response(JsonNode node) {
    int status = node.path("status").asInt(0);
    if (status < 100 || status > 599) {
      return RecordedResponse.none();
    }
    Headers headers = headers(node.path("headers"));
    JsonNode content = node.path("content");
    if (!content.has("_ferryRaw") && headers.contains("Content-Encoding")) {
      headers = headers.without("Content-Encoding");
    }
    RecordedBody body = body(content, headers, content.path("mimeType").asText(""));
    return RecordedResponse.of(status, node.path("statusText").asText(""), headers, body);
  }

  private static RecordedBody body(JsonNode content, Headers headers, String mimeType) {
    byte[] bytes;
    if (content.has("_ferryRaw")) {
      bytes = Base64.getDecoder().decode(content.get("_ferryRaw").asText());
    } else {
      String text = content.path("text").asText("");
      if ("base64".equalsIgnoreCase(content.path("encoding").asText(""))) {
        bytes = Base64.getDecoder().decode(text.replaceAll("\\s", ""));
      } else {
        Headers typed = headers.contains("Content-Type") || mimeType.isEmpty() ? headers
            : headers.plus("Content-Type", mimeType);
        Charset charset = RecordedBody.of(new byte[0], 0, typed).charset();
        bytes = text.getBytes(charset);
      }
    }
    long size = content.path("_ferrySize").asLong(bytes.length);
    return RecordedBody.of(bytes, size, headers);
  }

  private static Headers headers(JsonNode array) {
    Headers.Builder headers = Headers.builder();
    for (JsonNode header : array) {
      String name = header.path("name").asText("");
      if (name.isEmpty() || name.startsWith(":")) {
        continue;
      }
      headers.add(name, header.path("value").asText(""));
    }
    return headers.build();
  }

  private static Instant instant(String text) {
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      return Instant.EPOCH;
    }
  }

  private static InetSocketAddress address(String text) {
    if (text == null) {
      return null;
    }
    int colon = text.lastIndexOf(':');
    try {
      return new InetSocketAddress(java.net.InetAddress.getByName(text.substring(0, colon)),
          Integer.parseInt(text.substring(colon + 1)));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
