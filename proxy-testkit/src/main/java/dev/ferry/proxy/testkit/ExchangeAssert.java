package dev.ferry.proxy.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.proxy.Headers;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.assertj.core.api.AbstractAssert;

/**
 * AssertJ assertions on one {@link RecordedExchange}: status, header fields and bodies. Body
 * assertions use the decoded text (gzip and deflate undone). A body the recording truncated
 * ({@link RecordedBody#truncated()}) fails every body assertion it cannot decide from its first
 * bytes, saying so: only {@code ...BodyContains} can pass on the part that was kept. Likewise a
 * body whose Content-Encoding the recorder could not decode ({@link RecordedBody#isUndecodable()}:
 * {@code br}, {@code zstd}, stacked codings) fails them naming the encoding, rather than being
 * judged by its encoded bytes: only {@code ...BodyContains} can pass, when the raw bytes hold the
 * text as they are, as {@link ExchangeMatcher#bodyContains} does.
 */
public final class ExchangeAssert extends AbstractAssert<ExchangeAssert, RecordedExchange> {

  ExchangeAssert(RecordedExchange actual) {
    super(actual, ExchangeAssert.class);
  }

  /** Verifies the response status. */
  public ExchangeAssert hasStatus(int status) {
    isNotNull();
    if (actual.response().status() != status) {
      failWithMessage("Expected status %d but was %d in %s", status, actual.response().status(),
          actual);
    }
    return this;
  }

  /** Verifies that the request had a header field with this name. */
  public ExchangeAssert hasRequestHeader(String name) {
    return present("request", actual.request().headers(), name);
  }

  /** Verifies that the request had this header field with exactly this value. */
  public ExchangeAssert hasRequestHeader(String name, String value) {
    return value("request", actual.request().headers(), name, value);
  }

  /** Verifies that the response had a header field with this name. */
  public ExchangeAssert hasResponseHeader(String name) {
    return present("response", actual.response().headers(), name);
  }

  /** Verifies that the response had this header field with exactly this value. */
  public ExchangeAssert hasResponseHeader(String name, String value) {
    return value("response", actual.response().headers(), name, value);
  }

  /** Verifies that a response header field's value matches this regular expression. */
  public ExchangeAssert hasResponseHeaderMatching(String name, String regex) {
    isNotNull();
    Pattern pattern = Pattern.compile(regex);
    List<String> values = actual.response().headers().all(name);
    if (values.stream().noneMatch(v -> pattern.matcher(v).matches())) {
      failWithMessage("Expected response header %s matching %s but had %s in %s", name, regex,
          values, actual);
    }
    return this;
  }

  /** Verifies the decoded request body text. */
  public ExchangeAssert hasRequestBody(String text) {
    return bodyEquals("request", actual.request().body(), text);
  }

  /** Verifies that the decoded request body text contains this. */
  public ExchangeAssert requestBodyContains(String text) {
    return bodyContains("request", actual.request().body(), text);
  }

  /**
   * Verifies a field of the JSON request body, by a path such as {@code items[0].sku}, as
   * {@link #hasResponseJsonField} does.
   */
  public ExchangeAssert hasRequestJsonField(String path, Object expected) {
    return json("request", actual.request().body(), path, expected);
  }

  /** Verifies the decoded response body text. */
  public ExchangeAssert hasResponseBody(String text) {
    return bodyEquals("response", actual.response().body(), text);
  }

  /** Verifies that the decoded response body text contains this. */
  public ExchangeAssert responseBodyContains(String text) {
    return bodyContains("response", actual.response().body(), text);
  }

  /**
   * Verifies a field of the JSON response body, by a path such as {@code order.items[0].id}.
   * Numbers compare by value, so {@code 42} equals {@code 42.0}, also inside an expected
   * {@code Map} or {@code List}. The body must be one JSON value with nothing after it: the
   * assertion fails saying so when the body is empty, malformed or followed by other content.
   */
  public ExchangeAssert hasResponseJsonField(String path, Object expected) {
    return json("response", actual.response().body(), path, expected);
  }

  /** Verifies that the exchange reused a client connection (it was not the first on it). */
  public ExchangeAssert reusedConnection() {
    isNotNull();
    if (actual.sequence() < 2) {
      failWithMessage("Expected a reused connection but %s was the first on its connection",
          actual);
    }
    return this;
  }

  private ExchangeAssert present(String side, Headers headers, String name) {
    isNotNull();
    if (!headers.contains(name)) {
      failWithMessage("Expected %s header %s but the %s headers were %s in %s", side, name, side,
          headers, actual);
    }
    return this;
  }

  private ExchangeAssert value(String side, Headers headers, String name, String value) {
    isNotNull();
    if (!headers.all(name).contains(value)) {
      failWithMessage("Expected %s header %s: %s but had %s in %s", side, name, value,
          headers.all(name), actual);
    }
    return this;
  }

  private ExchangeAssert bodyEquals(String side, RecordedBody body, String text) {
    isNotNull();
    refuseUndecidable(side, body, "equals <" + BodyExcerpt.of(text) + ">");
    String was = body.text();
    if (!was.equals(text)) {
      int at = BodyExcerpt.firstDifference(was, text);
      failWithMessage("Expected %s body%n  <%s>%nbut was%n  <%s>%n(first difference at character %s)%nin %s",
          side, BodyExcerpt.around(text, at), BodyExcerpt.around(was, at), at, actual);
    }
    return this;
  }

  private ExchangeAssert bodyContains(String side, RecordedBody body, String text) {
    isNotNull();
    if (!body.text().contains(text)) {
      refuseUndecidable(side, body, "contains <" + BodyExcerpt.of(text) + ">");
      failWithMessage("Expected %s body to contain%n  <%s>%nbut was%n  <%s>%nin %s", side,
          BodyExcerpt.of(text), BodyExcerpt.of(body.text()), actual);
    }
    return this;
  }

  /**
   * A body cut at a recording bound holds only its first bytes, and one whose Content-Encoding
   * could not be undone holds no readable content: an assertion on the whole body cannot be
   * judged from them, and saying what they lack would blame the origin (probe t24, v24).
   */
  private void refuseUndecidable(String side, RecordedBody body, String check) {
    if (!body.decidable()) {
      failWithMessage("%s%nin %s", body.undecidable(side, check), actual);
    }
  }

  private ExchangeAssert json(String side, RecordedBody body, String path, Object expected) {
    isNotNull();
    refuseUndecidable(side, body, "has JSON field " + path);
    // Written as JSON, like the actual value: the string "2" is not the number 2.
    Object shown = expected instanceof CharSequence ? "\"" + expected + "\"" : expected;
    JsonNode root;
    try {
      root = JsonField.parse(body.text());
    } catch (IOException e) {
      // "No such field" would send the reader looking for a field in what is not JSON (probe t24).
      failWithMessage("Expected %s JSON field %s = %s but the %s body is not valid JSON (%s):%n"
          + "  <%s>%nin %s", side, path, shown, side, e.getMessage(), BodyExcerpt.of(body.text()),
          actual);
      return this;
    }
    Optional<JsonNode> node = JsonField.find(root, path);
    if (node.isEmpty()) {
      failWithMessage("Expected %s JSON field %s = %s but there is no such field in%n  <%s>%nin %s",
          side, path, shown, BodyExcerpt.of(body.text()), actual);
    } else if (!JsonField.equalTo(node.get(), expected)) {
      failWithMessage("Expected %s JSON field %s = %s but was %s in %s", side, path, shown,
          BodyExcerpt.of(node.get().toString()), actual);
    }
    return this;
  }
}
