package dev.ferry.proxy.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.proxy.Headers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.URLDecoder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Writes recorded exchanges as a HAR 1.2 log (http://www.softwareishard.com/blog/har-12-spec/).
 *
 * <p>Bodies: {@code content.text} holds the decoded content, as the spec and viewers expect;
 * text when it round-trips through its charset exactly, else base64 with
 * {@code encoding: "base64"}. When a Content-Encoding was undone, the exact wire bytes are kept
 * in the custom field {@code _ferryRaw} (base64), so import is lossless. {@code headersSize} is
 * -1: the testkit sees parsed heads, not their bytes. Ferry's own facts (connection, sequence,
 * failure, fault) go in {@code _ferry}; custom fields start with an underscore as the spec asks.
 */
final class HarWriter {
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private HarWriter() {}

  static String write(List<RecordedExchange> exchanges) {
    try {
      return JSON.writeValueAsString(log(exchanges));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void write(List<RecordedExchange> exchanges, Writer writer) throws IOException {
    JSON.writer().with(SerializationFeature.INDENT_OUTPUT)
        .without(com.fasterxml.jackson.core.JsonGenerator.Feature.AUTO_CLOSE_TARGET)
        .writeValue(writer, log(exchanges));
    writer.flush();
  }

  static JsonNode log(List<RecordedExchange> exchanges) {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode log = root.putObject("log");
    log.put("version", "1.2");
    log.putObject("creator").put("name", "Ferry testkit").put("version", version());
    log.putArray("pages");
    ArrayNode entries = log.putArray("entries");
    exchanges.forEach(e -> entries.add(entry(e)));
    return root;
  }

  private static String version() {
    String version = HarWriter.class.getPackage().getImplementationVersion();
    return version != null ? version : "dev";
  }

  private static ObjectNode entry(RecordedExchange e) {
    ObjectNode entry = JSON.createObjectNode();
    entry.put("startedDateTime", e.startTime().truncatedTo(ChronoUnit.MILLIS).toString());
    entry.put("time", e.timings().total());
    entry.set("request", request(e.request()));
    entry.set("response", response(e.response()));
    entry.putObject("cache");
    ExchangeTimings t = e.timings();
    // HAR requires send, wait and receive to be known (no -1): an unobserved one counts as 0.
    entry.putObject("timings").put("blocked", t.blocked()).put("dns", -1).put("connect", t.connect())
        .put("send", Math.max(0, t.send())).put("wait", Math.max(0, t.waitTime()))
        .put("receive", Math.max(0, t.receive())).put("ssl", -1);
    e.upstream().ifPresent(u -> entry.put("serverIPAddress", hostOf(u)));
    if (e.connectionId() > 0) {
      entry.put("connection", Long.toString(e.connectionId()));
    }
    ObjectNode ferry = entry.putObject("_ferry");
    ferry.put("id", e.id()).put("connectionId", e.connectionId()).put("sequence", e.sequence())
        .put("durationNanos", e.duration().toNanos());
    e.clientAddress().ifPresent(a -> ferry.put("clientAddress",
        a.getAddress().getHostAddress() + ":" + a.getPort()));
    e.upstream().ifPresent(u -> ferry.put("upstream", u));
    e.cache().ifPresent(c -> ferry.put("cache", c));
    e.failure().ifPresent(f -> ferry.put("failure", f));
    e.fault().ifPresent(f -> ferry.put("fault", f));
    if (e.replayed()) {
      ferry.put("replayed", true);
    }
    if (e.unmatched()) {
      ferry.put("unmatched", true);
    }
    return entry;
  }

  private static ObjectNode request(RecordedRequest r) {
    ObjectNode request = JSON.createObjectNode();
    request.put("method", r.method()).put("url", r.url()).put("httpVersion", r.version());
    request.set("cookies", cookies(r.headers().all("Cookie"), false));
    request.set("headers", headers(r.headers()));
    ArrayNode query = request.putArray("queryString");
    r.query().ifPresent(q -> {
      for (String pair : q.split("&")) {
        if (!pair.isEmpty()) {
          int eq = pair.indexOf('=');
          query.addObject().put("name", decode(eq < 0 ? pair : pair.substring(0, eq)))
              .put("value", eq < 0 ? "" : decode(pair.substring(eq + 1)));
        }
      }
    });
    RecordedBody body = r.body();
    if (!body.isEmpty()) {
      ObjectNode post = request.putObject("postData");
      post.put("mimeType", body.contentType().orElse(""));
      post.putArray("params");
      content(post, body);
    }
    request.put("headersSize", -1).put("bodySize", body.size());
    return request;
  }

  private static ObjectNode response(RecordedResponse r) {
    ObjectNode response = JSON.createObjectNode();
    response.put("status", r.status()).put("statusText", r.reason()).put("httpVersion", "HTTP/1.1");
    response.set("cookies", cookies(r.headers().all("Set-Cookie"), true));
    response.set("headers", headers(r.headers()));
    RecordedBody body = r.body();
    ObjectNode content = response.putObject("content");
    byte[] decoded = body.decoded();
    content.put("size", body.truncated() || !body.isEncoded() ? body.size() : decoded.length);
    if (body.isEncoded() && !body.truncated()) {
      content.put("compression", decoded.length - body.size());
    }
    content.put("mimeType", body.contentType().orElse(""));
    content(content, body);
    response.put("redirectURL", r.header("Location").orElse(""));
    response.put("headersSize", -1).put("bodySize", r.status() == 0 ? -1 : body.size());
    return response;
  }

  /** Fills text/encoding, plus _ferryRaw and truncation marks where needed. */
  private static void content(ObjectNode node, RecordedBody body) {
    byte[] decoded = body.decoded();
    Charset charset = body.charset();
    String text = new String(decoded, charset);
    if (Arrays.equals(text.getBytes(charset), decoded) && isText(text)) {
      node.put("text", text);
    } else {
      node.put("text", Base64.getEncoder().encodeToString(decoded)).put("encoding", "base64");
    }
    if (body.isEncoded()) {
      node.put("_ferryRaw", Base64.getEncoder().encodeToString(body.bytes()));
    }
    if (body.truncated()) {
      node.put("_ferryTruncated", true).put("_ferrySize", body.size());
    }
  }

  /** Control characters other than tab and line ends mean binary, whatever it decodes as. */
  private static boolean isText(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f) {
        return false;
      }
    }
    return true;
  }

  private static ArrayNode headers(Headers headers) {
    ArrayNode array = JSON.createArrayNode();
    for (int i = 0; i < headers.size(); i++) {
      array.addObject().put("name", headers.name(i)).put("value", headers.value(i));
    }
    return array;
  }

  /** Cookie: a=1; b=2 → two cookies; each Set-Cookie → one, its attributes left in the header. */
  private static ArrayNode cookies(List<String> values, boolean setCookie) {
    ArrayNode array = JSON.createArrayNode();
    for (String value : values) {
      String[] parts = setCookie ? new String[] {value.split(";", 2)[0]} : value.split(";");
      for (String part : parts) {
        int eq = part.indexOf('=');
        if (eq > 0) {
          array.addObject().put("name", part.substring(0, eq).trim())
              .put("value", part.substring(eq + 1).trim());
        }
      }
    }
    return array;
  }

  private static String hostOf(String authority) {
    if (authority.startsWith("[")) {
      int close = authority.indexOf(']');
      return close > 0 ? authority.substring(1, close) : authority;
    }
    int colon = authority.lastIndexOf(':');
    return colon > 0 ? authority.substring(0, colon) : authority;
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }
}
