package dev.ferry.proxy.testkit;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.Charset;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Writes recorded exchanges as a HAR 1.2 log (http://www.softwareishard.com/blog/har-12-spec/),
 * streaming with Jackson's {@link JsonGenerator}: only the body being written is held besides the
 * recording, never the whole document.
 *
 * <p>Bodies: {@code content.text} holds the decoded content, as the spec and viewers expect;
 * text when it round-trips through its charset exactly, else base64 with
 * {@code encoding: "base64"} ({@code _encoding} in {@code postData}, where HAR 1.2 has no such
 * field). When a gzip or deflate Content-Encoding was undone, the exact wire
 * bytes are kept in the custom field {@code _ferryRaw} (base64). A body whose encoding the
 * testkit cannot undo ({@code br}, a damaged gzip) is written as its wire bytes, in base64, with
 * {@code _ferryEncoded: true}: import then keeps the bytes and the Content-Encoding together.
 * {@code postData} has {@code params} when the body is a form whose parameters re-encode to
 * exactly its bytes, and {@code text} otherwise, never both. Trailers go in {@code _trailers}.
 * A CONNECT's URL is written {@code https://host:port/} (the tunnel's authority).
 * {@code headersSize} is -1: the testkit sees parsed heads, not their bytes. Ferry's own facts
 * (connection, sequence, failure, fault) go in {@code _ferry}; custom fields start with an
 * underscore as the spec asks.
 */
final class HarWriter {
  static final ObjectMapper JSON = new ObjectMapper();
  /**
   * HAR 1.2's {@code YYYY-MM-DDThh:mm:ss.sTZD}, always with milliseconds: {@code Instant.toString()}
   * leaves out a zero fraction, which strict readers refuse and string sorting misplaces.
   */
  private static final DateTimeFormatter STARTED =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSX", Locale.ROOT).withZone(ZoneOffset.UTC);

  private HarWriter() {}

  static void write(List<RecordedExchange> exchanges, Writer writer) throws IOException {
    try (JsonGenerator json = JSON.getFactory().createGenerator(writer)) {
      json.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
      json.useDefaultPrettyPrinter();
      json.writeStartObject();
      json.writeObjectFieldStart("log");
      json.writeStringField("version", "1.2");
      json.writeObjectFieldStart("creator");
      json.writeStringField("name", "Ferry testkit");
      json.writeStringField("version", version());
      json.writeEndObject();
      json.writeArrayFieldStart("pages");
      json.writeEndArray();
      json.writeArrayFieldStart("entries");
      // HAR 1.2 prefers entries by startedDateTime; a recording holds them as they completed.
      List<RecordedExchange> byStart = new ArrayList<>(exchanges);
      byStart.sort(Comparator.comparing(RecordedExchange::startTime));
      for (RecordedExchange exchange : byStart) {
        entry(json, exchange);
      }
      json.writeEndArray();
      json.writeEndObject();
      json.writeEndObject();
    }
    writer.flush();
  }

  private static String version() {
    String version = HarWriter.class.getPackage().getImplementationVersion();
    return version != null ? version : "dev";
  }

  private static void entry(JsonGenerator json, RecordedExchange e) throws IOException {
    json.writeStartObject();
    json.writeStringField("startedDateTime", STARTED.format(e.startTime()));
    json.writeNumberField("time", e.timings().total());
    request(json, e.request());
    response(json, e.response());
    json.writeObjectFieldStart("cache");
    json.writeEndObject();
    timings(json, e.timings());
    String server = e.upstream().map(HarWriter::hostOf).orElse("");
    if (isIpLiteral(server)) {
      // HAR 1.2 defines it as the IP address the name resolved to: a host name is left out.
      json.writeStringField("serverIPAddress", server);
    }
    if (e.connectionId() > 0) {
      json.writeStringField("connection", Long.toString(e.connectionId()));
    }
    HarFerryFields.write(json, e);
    json.writeEndObject();
  }

  /** HAR requires send, wait and receive to be known (no -1): an unobserved one counts as 0. */
  private static void timings(JsonGenerator json, ExchangeTimings t) throws IOException {
    json.writeObjectFieldStart("timings");
    json.writeNumberField("blocked", t.blocked());
    json.writeNumberField("dns", -1);
    json.writeNumberField("connect", t.connect());
    json.writeNumberField("send", Math.max(0, t.send()));
    json.writeNumberField("wait", Math.max(0, t.waitTime()));
    json.writeNumberField("receive", Math.max(0, t.receive()));
    json.writeNumberField("ssl", -1);
    json.writeEndObject();
  }

  private static void request(JsonGenerator json, RecordedRequest r) throws IOException {
    json.writeObjectFieldStart("request");
    json.writeStringField("method", r.method());
    // HAR needs an absolute URL: a CONNECT's is that of the origin it opens.
    json.writeStringField("url", r.url());
    json.writeStringField("httpVersion", r.version());
    HarFields.cookies(json, r.headers().all("Cookie"), false);
    HarFields.headers(json, "headers", r.headers());
    HarFields.queryString(json, r.method().equals("CONNECT") ? null : r.query().orElse(null));
    RecordedBody body = r.body();
    if (!body.isEmpty()) {
      json.writeObjectFieldStart("postData");
      json.writeStringField("mimeType", body.contentType().orElse(""));
      if (!HarFields.formParams(json, body)) {
        content(json, body, "_encoding");
      }
      json.writeEndObject();
    }
    if (!r.trailers().isEmpty()) {
      HarFields.headers(json, "_trailers", r.trailers());
    }
    json.writeNumberField("headersSize", -1);
    json.writeNumberField("bodySize", body.size());
    json.writeEndObject();
  }

  private static void response(JsonGenerator json, RecordedResponse r) throws IOException {
    json.writeObjectFieldStart("response");
    json.writeNumberField("status", r.status());
    json.writeStringField("statusText", r.reason());
    json.writeStringField("httpVersion", "HTTP/1.1");
    HarFields.cookies(json, r.headers().all("Set-Cookie"), true);
    HarFields.headers(json, "headers", r.headers());
    RecordedBody body = r.body();
    json.writeObjectFieldStart("content");
    byte[] decoded = body.isEncoded() ? body.decoded() : null;
    json.writeNumberField("size", decoded == null || body.truncated() ? body.size() : decoded.length);
    if (decoded != null && !body.truncated()) {
      json.writeNumberField("compression", decoded.length - body.size());
    }
    json.writeStringField("mimeType", body.contentType().orElse(""));
    content(json, body, "encoding");
    json.writeEndObject();
    if (!r.trailers().isEmpty()) {
      HarFields.headers(json, "_trailers", r.trailers());
    }
    json.writeStringField("redirectURL", r.header("Location").orElse(""));
    json.writeNumberField("headersSize", -1);
    json.writeNumberField("bodySize", r.status() == 0 ? -1 : body.size());
    json.writeEndObject();
  }

  /**
   * Fills text and its encoding, plus _ferryRaw, _ferryEncoded and truncation marks where needed.
   * HAR 1.2 defines {@code encoding} for a response's content only; a request's {@code postData}
   * carries it as the custom {@code _encoding}.
   */
  private static void content(JsonGenerator json, RecordedBody body, String encodingField)
      throws IOException {
    if (body.isUndecodable()) {
      json.writeFieldName("text");
      json.writeBinary(body.bytes());
      json.writeStringField(encodingField, "base64");
      json.writeBooleanField("_ferryEncoded", true);
    } else {
      byte[] decoded = body.decoded();
      Charset charset = body.charset();
      String text = new String(decoded, charset);
      if (isText(text) && Arrays.equals(text.getBytes(charset), decoded)) {
        json.writeStringField("text", text);
      } else {
        json.writeFieldName("text");
        json.writeBinary(decoded);
        json.writeStringField(encodingField, "base64");
      }
      if (body.isEncoded()) {
        json.writeFieldName("_ferryRaw");
        json.writeBinary(body.bytes());
      }
    }
    if (body.truncated()) {
      json.writeBooleanField("_ferryTruncated", true);
      json.writeNumberField("_ferrySize", body.size());
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

  private static boolean isIpLiteral(String host) {
    return host.indexOf(':') >= 0 || (!host.isEmpty() && host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9')));
  }

  private static String hostOf(String authority) {
    if (authority.startsWith("[")) {
      int close = authority.indexOf(']');
      return close > 0 ? authority.substring(1, close) : authority;
    }
    int colon = authority.lastIndexOf(':');
    return colon > 0 ? authority.substring(0, colon) : authority;
  }
}
