package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Request;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Assertions over hand-made exchanges: no sockets needed to check messages. */
class AssertionsTest {
  private final Recording recording = Recording.of(java.util.List.of(
      exchange(1, "POST", "http://shop.test/orders", 201, "{\"order\":{\"id\":42,\"total\":9.5}}",
          "Content-Type", "application/json", "Location", "/orders/42"),
      exchange(2, "GET", "http://cdn.test/logo.png", 200, "png", "Content-Type", "image/png")));

  @Test
  void passesReadableChains() {
    FerryAssertions.assertThat(recording)
        .hasExchangeCount(2)
        .hasExchange(e -> e.method("POST").path("/orders"))
        .hasExchangeCount(1, e -> e.host("cdn.test"))
        .hasNoExchangeTo("tracking.test")
        .allExchangesMatch(e -> e.pathMatches("/.*"));
    FerryAssertions.assertThat(recording).exchange(e -> e.method("POST"))
        .hasStatus(201)
        .hasRequestHeader("X-Req")
        .hasRequestHeader("X-Req", "r1")
        .hasResponseHeader("Location", "/orders/42")
        .hasResponseHeaderMatching("Content-Type", "application/.*")
        .responseBodyContains("\"id\":42")
        .hasResponseJsonField("order.id", 42L)
        .hasResponseJsonField("order.total", 9.5)
        .hasRequestBody("request 1")
        .requestBodyContains("quest");
  }

  /** Order and query parameters had no assertion of their own (probe testkit F6). */
  @Test
  void assertsTheOrderOfExchangesAndTheirQueryParameters() {
    Recording three = Recording.of(java.util.List.of(
        exchange(1, "POST", "http://shop.test/login", 200, "", "Content-Type", "text/plain"),
        exchange(2, "GET", "http://shop.test/search?q=red+shoes&page=2&tag=a&tag=b", 200, "", "Content-Type", "text/plain"),
        exchange(3, "GET", "http://shop.test/account", 200, "", "Content-Type", "text/plain")));
    FerryAssertions.assertThat(three)
        .hasExchangesInOrder(e -> e.path("/login"), e -> e.path("/account"))
        .hasExchangesInOrder(e -> e.path("/login"), e -> e.path("/search"), e -> e.path("/account"))
        .hasExchange(e -> e.queryParameter("q", "red shoes").queryParameter("page", "2"))
        .hasExchange(e -> e.queryParameter("tag", "b"))
        .hasNoExchange(e -> e.queryParameter("page", "3"))
        .hasNoExchange(e -> e.queryParameter("q", "red+shoes"));
    assertThatThrownBy(() -> FerryAssertions.assertThat(three)
        .hasExchangesInOrder(e -> e.path("/account"), e -> e.path("/login")))
        .hasMessageContaining("Expected exchanges in this order: [path=/account], [path=/login]")
        .hasMessageContaining("none with path=/login came after one with path=/account")
        .hasMessageContaining("3 exchanges were recorded:");
    assertThatThrownBy(() -> FerryAssertions.assertThat(three).hasExchangesInOrder(e -> e.path("/logout")))
        .hasMessageContaining("but none has path=/logout");
    assertThatThrownBy(() -> FerryAssertions.assertThat(three).hasExchangesInOrder())
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void listsTheRecordedExchangesWhenNoneMatches() {
    assertThatThrownBy(() -> FerryAssertions.assertThat(recording)
        .hasExchange(e -> e.method("DELETE").path("/orders")))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("Expected an exchange with method=DELETE path=/orders")
        .hasMessageContaining("2 exchanges were recorded:")
        .hasMessageContaining("POST http://shop.test/orders -> 201 Created")
        .hasMessageContaining("GET http://cdn.test/logo.png -> 200 OK");
  }

  @Test
  void namesTheUnwantedHost() {
    assertThatThrownBy(() -> FerryAssertions.assertThat(recording).hasNoExchangeTo("cdn.test"))
        .hasMessageContaining("Expected no exchange with host=cdn.test but found 1");
    // Spelled with a trailing dot or another case, it is the same host, as the proxy's access rules have it.
    assertThatThrownBy(() -> FerryAssertions.assertThat(recording).hasNoExchangeTo("CDN.test."))
        .hasMessageContaining("but found 1");
    Recording dotted = Recording.of(java.util.List.of(
        exchange(1, "GET", "http://tracking.test./pixel", 200, "", "Content-Type", "image/gif"),
        exchange(2, "GET", "http://[::1]:8080/", 200, "", "Content-Type", "text/plain")));
    assertThatThrownBy(() -> FerryAssertions.assertThat(dotted).hasNoExchangeTo("tracking.test"))
        .hasMessageContaining("but found 1");
    FerryAssertions.assertThat(dotted).hasExchangeCount(1, e -> e.host("[::1]")).hasExchangeCount(1, e -> e.host("::1"));
  }

  /** Two origins on one host tell apart by port, which no matcher had (probe testkit2). */
  @Test
  void matchesByPortAndScheme() {
    Recording two = Recording.of(java.util.List.of(
        exchange(1, "GET", "http://localhost:8081/a", 200, "", "Content-Type", "text/plain"),
        exchange(2, "GET", "https://localhost:8443/b", 200, "", "Content-Type", "text/plain"),
        exchange(3, "GET", "http://localhost/c", 200, "", "Content-Type", "text/plain")));
    FerryAssertions.assertThat(two).hasExchangeCount(1, e -> e.host("localhost").port(8081))
        .hasExchangeCount(1, e -> e.scheme("HTTPS").port(8443).path("/b"))
        .hasExchangeCount(1, e -> e.port(80).path("/c"))
        .hasNoExchange(e -> e.scheme("https").port(8081));
    assertThatThrownBy(() -> FerryAssertions.assertThat(two).hasNoExchange(e -> e.port(8443)))
        .hasMessageContaining("Expected no exchange with port=8443 but found 1");
    assertThatThrownBy(() -> ExchangeMatcher.build(e -> e.port(0))).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port must be between 1 and 65535 (was 0)");
  }

  @Test
  void reportsTheCountThatWasRecorded() {
    assertThatThrownBy(() -> FerryAssertions.assertThat(recording).hasExchangeCount(3))
        .hasMessageContaining("Expected 3 exchanges but 2 exchanges were recorded");
  }

  @Test
  void explainsStatusHeaderAndJsonMismatches() {
    ExchangeAssert post = FerryAssertions.assertThat(recording).exchange(e -> e.method("POST"));
    assertThatThrownBy(() -> post.hasStatus(200))
        .hasMessageContaining("Expected status 200 but was 201");
    assertThatThrownBy(() -> post.hasResponseHeader("Location", "/x"))
        .hasMessageContaining("Expected response header Location: /x but had [/orders/42]");
    assertThatThrownBy(() -> post.hasResponseJsonField("order.id", 7))
        .hasMessageContaining("Expected response JSON field order.id = 7 but was 42");
    assertThatThrownBy(() -> post.hasResponseJsonField("order.id", "42"))
        .as("a string is not the number it spells, and the message says so")
        .hasMessageContaining("Expected response JSON field order.id = \"42\" but was 42");
    assertThatThrownBy(() -> post.hasResponseJsonField("order.missing", 1))
        .hasMessageContaining("no such field");
    assertThatThrownBy(() -> post.hasResponseBody("nope"))
        .hasMessageContaining("Expected response body");
  }

  /** Content after the first JSON value, or a broken value, is not a JSON body (probe t24). */
  @Test
  void failsAJsonFieldOfABodyThatIsNotJson() {
    for (String body : new String[] {"{\"status\":\"ok\"} <html>error page</html>",
        "{\"status\":\"ok\"}{\"status\":\"failed\"}", "{\"status\":\"ok\"", ""}) {
      ExchangeAssert e = FerryAssertions.assertThat(exchange(3, "GET", "http://shop.test/s", 200, body,
          "Content-Type", "application/json"));
      assertThatThrownBy(() -> e.hasResponseJsonField("status", "ok")).as(body)
          .hasMessageContaining("Expected response JSON field status = \"ok\" but the response body is"
              + " not valid JSON")
          .hasMessageNotContaining("no such field");
    }
    FerryAssertions.assertThat(exchange(3, "GET", "http://shop.test/s", 200, " {\"status\":\"ok\"}\n",
        "Content-Type", "application/json")).hasResponseJsonField("status", "ok");
  }

  /** Numbers compare by value inside an expected object or list too (probe t24). */
  @Test
  void comparesNestedNumbersByValue() {
    ExchangeAssert e = FerryAssertions.assertThat(exchange(3, "GET", "http://shop.test/s", 200,
        "{\"id\":7.0,\"item\":{\"qty\":2.0,\"sizes\":[1,2.50]},\"price\":0.1}",
        "Content-Type", "application/json"));
    e.hasResponseJsonField("id", 7)
        .hasResponseJsonField("item", java.util.Map.of("qty", 2, "sizes", java.util.List.of(1.0, 2.5f)))
        .hasResponseJsonField("item.sizes", java.util.List.of(1L, new java.math.BigDecimal("2.5")))
        .hasResponseJsonField("price", 0.1f);
    assertThatThrownBy(() -> e.hasResponseJsonField("item", java.util.Map.of("qty", 3, "sizes",
        java.util.List.of(1, 2.5)))).hasMessageContaining("but was {\"qty\":2.0");
    assertThatThrownBy(() -> e.hasResponseJsonField("item.sizes", java.util.List.of("1", 2.5)))
        .as("a string is not the number it spells, nested either").hasMessageContaining("but was [1,2.50]");
  }

  /**
   * A decimal compares by the value the body writes, not by the double nearest it, and one too
   * large for a double is still a number: a mismatch is an AssertionError (probe v24).
   */
  @Test
  void comparesJsonDecimalsByTheirWrittenValue() {
    ExchangeAssert e = FerryAssertions.assertThat(exchange(3, "GET", "http://shop.test/pay", 200,
        "{\"amount\":1.00000000000000001,\"order\":{\"amount\":1.00000000000000001},"
            + "\"huge\":1e400}",
        "Content-Type", "application/json"));
    BigDecimal exact = new BigDecimal("1.00000000000000001");
    e.hasResponseJsonField("amount", exact)
        .hasResponseJsonField("order", Map.of("amount", exact))
        .hasResponseJsonField("huge", new BigDecimal("1e400"))
        .hasResponseJsonField("order", Map.of("amount", new BigDecimal("1.000000000000000010")));
    assertThatThrownBy(() -> e.hasResponseJsonField("amount", 1))
        .hasMessageContaining(
            "Expected response JSON field amount = 1 but was 1.00000000000000001");
    assertThatThrownBy(() -> e.hasResponseJsonField("order", Map.of("amount", 1)))
        .hasMessageContaining("but was {\"amount\":1.00000000000000001}");
    assertThatThrownBy(() -> e.hasResponseJsonField("huge", 1))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("Expected response JSON field huge = 1 but was 1E+400");
    assertThatThrownBy(() -> e.hasResponseJsonField("huge", Double.POSITIVE_INFINITY))
        .as("JSON cannot write Infinity").isInstanceOf(AssertionError.class)
        .hasMessageContaining("huge = Infinity but was 1E+400");
    assertThatThrownBy(() -> e.hasResponseJsonField("order", Map.of("amount", Double.NaN)))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("but was {\"amount\":1.00000000000000001}");
  }

  @Test
  void saysABodyWasTruncatedRatherThanJudgeItsPrefix() {
    String whole = "{\"items\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],\"total\":61}";
    RecordedExchange cut = exchange(3, "GET", "http://shop.test/cart", 200, whole,
        "Content-Type", "application/json");
    RecordedExchange.Builder b = RecordedExchange.builder();
    b.id = 3;
    b.connectionId = 1;
    b.sequence = 3;
    b.startTime = cut.startTime();
    b.duration = Duration.ofMillis(3);
    b.clientAddress = cut.clientAddress().orElseThrow();
    b.request = cut.request();
    b.response = RecordedResponse.of(200, "OK", cut.response().headers(), RecordedBody.of(
        whole.substring(0, 20).getBytes(StandardCharsets.UTF_8), whole.length(), cut.response().headers()));
    ExchangeAssert truncated = FerryAssertions.assertThat(b.build());

    assertThatThrownBy(() -> truncated.hasResponseJsonField("total", 61))
        .hasMessageContaining("Cannot check that the response body has JSON field total: only its first 20 of "
            + whole.length() + " bytes were recorded");
    assertThatThrownBy(() -> truncated.hasResponseBody(whole))
        .hasMessageContaining("only its first 20 of");
    assertThatThrownBy(() -> truncated.responseBodyContains("\"total\""))
        .hasMessageContaining("only its first 20 of");
    // What the kept bytes show still passes.
    truncated.responseBodyContains("\"items\"");
  }

  /**
   * A large body shows in a failure message as a window with its size, around the first
   * difference for an equality check: messages held the whole decoded body, megabytes of it
   * (probe t27).
   */
  @Test
  void showsAWindowOfALargeBodyInFailureMessages() {
    String big = "a".repeat(400_000) + "B" + "c".repeat(400_000);
    ExchangeAssert e = FerryAssertions.assertThat(exchange(3, "GET", "http://shop.test/big", 200, big,
        "Content-Type", "text/plain"));
    String expected = "a".repeat(400_000) + "X" + "c".repeat(400_000);

    assertThatThrownBy(() -> e.hasResponseBody(expected))
        .hasMessageContaining("first difference at character 400000")
        .hasMessageContaining("aaaB" + "c".repeat(100))
        .hasMessageContaining("aaaX" + "c".repeat(100))
        .hasMessageContaining("of 800001)")
        .satisfies(thrown -> assertThat(thrown.getMessage().length()).isLessThan(5_000));
    assertThatThrownBy(() -> e.responseBodyContains("needle"))
        .hasMessageContaining("(800001 characters in all)")
        .satisfies(thrown -> assertThat(thrown.getMessage().length()).isLessThan(5_000));
    assertThatThrownBy(() -> e.hasResponseJsonField("id", 1))
        .hasMessageContaining("not valid JSON")
        .satisfies(thrown -> assertThat(thrown.getMessage().length()).isLessThan(5_000));
    // A small body still shows whole.
    assertThatThrownBy(() -> FerryAssertions.assertThat(exchange(4, "GET", "http://shop.test/s", 200, "short one",
        "Content-Type", "text/plain")).hasResponseBody("short two"))
        .hasMessageContaining("<short two>").hasMessageContaining("<short one>");
  }

  private static RecordedExchange exchange(long id, String method, String url, int status,
      String responseBody, String... responseHeaders) {
    RecordedExchange.Builder b = RecordedExchange.builder();
    b.id = id;
    b.connectionId = 1;
    b.sequence = (int) id;
    b.startTime = Instant.parse("2026-01-01T00:00:00Z");
    b.duration = Duration.ofMillis(3);
    b.clientAddress = new InetSocketAddress("127.0.0.1", 5000);
    Request request = Request.builder().method(method).url(url).header("X-Req", "r" + id).build();
    b.request = RecordedRequest.of(request, RecordedBody.of(
        ("request " + id).getBytes(StandardCharsets.UTF_8), 9, request.headers()));
    Headers headers = Headers.of(responseHeaders);
    b.response = RecordedResponse.of(status, status == 201 ? "Created" : "OK", headers,
        RecordedBody.of(responseBody.getBytes(StandardCharsets.UTF_8), responseBody.length(), headers));
    return b.build();
  }
}
