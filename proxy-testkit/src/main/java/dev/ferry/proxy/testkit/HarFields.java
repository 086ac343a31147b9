package dev.ferry.proxy.testkit;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.ferry.proxy.Headers;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The HAR arrays the writer builds from header fields, queries and form bodies. */
final class HarFields {
  static final String FORM = "application/x-www-form-urlencoded";

  private HarFields() {}

  static void headers(JsonGenerator json, String field, Headers headers) throws IOException {
    json.writeArrayFieldStart(field);
    for (int i = 0; i < headers.size(); i++) {
      pair(json, headers.name(i), headers.value(i));
    }
    json.writeEndArray();
  }

  /** Cookie: a=1; b=2 → two cookies; each Set-Cookie → one, its attributes left in the header. */
  static void cookies(JsonGenerator json, List<String> values, boolean setCookie)
      throws IOException {
    json.writeArrayFieldStart("cookies");
    for (String value : values) {
      String[] parts = setCookie ? new String[] {value.split(";", 2)[0]} : value.split(";");
      for (String part : parts) {
        int eq = part.indexOf('=');
        if (eq > 0) {
          pair(json, part.substring(0, eq).trim(), part.substring(eq + 1).trim());
        }
      }
    }
    json.writeEndArray();
  }

  static void queryString(JsonGenerator json, String query) throws IOException {
    json.writeArrayFieldStart("queryString");
    if (query != null) {
      for (String[] pair : queryPairs(query, StandardCharsets.UTF_8)) {
        pair(json, pair[0], pair[1]);
      }
    }
    json.writeEndArray();
  }

  /**
   * Writes {@code params} for a form body whose parameters re-encode to exactly its bytes, so
   * import restores it; returns false, writing nothing, for any other body.
   */
  static boolean formParams(JsonGenerator json, RecordedBody body) throws IOException {
    String type = body.contentType().orElse("").toLowerCase(Locale.ROOT);
    if (!type.startsWith(FORM) || body.truncated() || body.contentEncoding().isPresent()) {
      return false;
    }
    Charset charset = body.charset();
    String text = new String(body.bytes(), charset);
    List<String[]> params = queryPairs(text, charset);
    if (params.isEmpty() || !encode(params, charset).equals(text)
        || !java.util.Arrays.equals(text.getBytes(charset), body.bytes())) {
      return false;
    }
    json.writeArrayFieldStart("params");
    for (String[] pair : params) {
      pair(json, pair[0], pair[1]);
    }
    json.writeEndArray();
    return true;
  }

  /** {@code name=value&...}, each part form-encoded; the inverse of {@link #split}. */
  static String encode(List<String[]> params, Charset charset) {
    StringBuilder text = new StringBuilder();
    for (String[] pair : params) {
      if (text.length() > 0) {
        text.append('&');
      }
      text.append(URLEncoder.encode(pair[0], charset)).append('=')
          .append(URLEncoder.encode(pair[1], charset));
    }
    return text.toString();
  }

  /** The name=value pairs of a query or form body, each form-decoded ({@code +} a space). */
  static List<String[]> queryPairs(String query, Charset charset) {
    List<String[]> pairs = new ArrayList<>();
    for (String pair : query.split("&")) {
      if (!pair.isEmpty()) {
        int eq = pair.indexOf('=');
        pairs.add(new String[] {decode(eq < 0 ? pair : pair.substring(0, eq), charset),
            eq < 0 ? "" : decode(pair.substring(eq + 1), charset)});
      }
    }
    return pairs;
  }

  private static void pair(JsonGenerator json, String name, String value) throws IOException {
    json.writeStartObject();
    json.writeStringField("name", name);
    json.writeStringField("value", value);
    json.writeEndObject();
  }

  private static String decode(String s, Charset charset) {
    try {
      return URLDecoder.decode(s, charset);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }
}
