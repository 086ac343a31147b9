package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class LimitsTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private MockWebServer origin;
  private ProxyServer proxy;

  @BeforeEach
  void start() throws Exception {
    origin = ferry.mockOrigin();
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .maxRequestLineBytes(1024).maxHeaderBytes(2048).maxHeaderCount(10)
        .maxRequestBodyBytes(100));
  }

  private RawClient.RawResponse send(String request) throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send(request).readResponse();
      if (response.status() >= 400) {
        assertThat(raw.isClosedByPeer()).as("connection closed after %s", response.status()).isTrue();
      }
      return response;
    }
  }

  @Test
  void rejectsLongRequestLineWith414() throws Exception {
    RawClient.RawResponse response = send("GET /" + "a".repeat(1100) + " HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(response.status()).isEqualTo(414);
    assertThat(response.bodyText()).doesNotContain("aaaa");
    assertThat(proxy.stats().failures()).containsEntry("URI_TOO_LONG", 1L);
  }

  /** A HEAD refused before its head could be read (414, 431) gets an answer without a body too. */
  @Test
  void answersARefusedHeadWithoutABodyEvenWhenItsHeadIsTooLong() throws Exception {
    for (String request : new String[] {"HEAD /" + "a".repeat(1100) + " HTTP/1.1\r\nHost: a\r\n\r\n",
        "HEAD / HTTP/1.1\r\nHost: a\r\nX-Big: " + "b".repeat(3000) + "\r\n\r\n"}) {
      try (RawClient raw = new RawClient(proxy.address())) {
        RawClient.RawResponse response = raw.send(request).readResponse(true);
        assertThat(response.status()).isIn(414, 431);
        assertThat(raw.input().readAllBytes()).as("bytes after the %s head", response.status()).isEmpty();
      }
    }
  }

  @Test
  void acceptsRequestLineAtExactlyTheLimitAndRejectsOneByteMore() throws Exception {
    // The limit is the request-line's, without CRLF (RFC 9112 §3): 5 + n + 9 bytes for
    // "GET /a..a HTTP/1.1" (it used to count the CR too, one byte short).
    origin.enqueue(new MockResponse().setBody("at limit"));
    assertThat(send("GET /" + "a".repeat(1010) + " HTTP/1.1\r\nHost: a\r\n\r\n").bodyText())
        .isEqualTo("at limit");
    assertThat(send("GET /" + "a".repeat(1011) + " HTTP/1.1\r\nHost: a\r\n\r\n").status())
        .isEqualTo(414);
  }

  @Test
  void parsesAHeadThatArrivesAFewBytesAtATime() throws Exception {
    origin.enqueue(new MockResponse().setBody("pieced"));
    byte[] head = ("GET /pieces HTTP/1.1\r\nHost: a\r\nX-Long: " + "v".repeat(300)
        + "\r\nAccept: */*\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    try (RawClient raw = new RawClient(proxy.address())) {
      for (int i = 0; i < head.length; i += 7) {
        raw.send(java.util.Arrays.copyOfRange(head, i, Math.min(head.length, i + 7)));
      }
      assertThat(raw.readResponse().bodyText()).isEqualTo("pieced");
    }
    assertThat(origin.takeRequest().getHeader("X-Long")).isEqualTo("v".repeat(300));
  }

  @Test
  void rejectsLargeHeaderSectionWith431() throws Exception {
    assertThat(send("GET / HTTP/1.1\r\nHost: a\r\nCookie: " + "c".repeat(2100) + "\r\n\r\n").status())
        .isEqualTo(431);
  }

  @Test
  void rejectsTooManyHeaderFieldsWith431() throws Exception {
    StringBuilder request = new StringBuilder("GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 11; i++) {
      request.append("X-H").append(i).append(": v\r\n");
    }
    assertThat(send(request + "\r\n").status()).isEqualTo(431);
  }

  @Test
  void rejectsDeclaredOversizeBodyBeforeReadingIt() throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n");
      assertThat(raw.readResponse().status()).isEqualTo(413);
    }
    assertThat(origin.getRequestCount()).isZero();
  }

  @Test
  void cutsOffChunkedBodyGrowingPastTheLimit() throws Exception {
    String chunk = "40\r\n" + "x".repeat(64) + "\r\n";
    RawClient.RawResponse response = send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunk + chunk + "0\r\n\r\n");
    assertThat(response.status()).isEqualTo(413);
  }

  @Test
  void acceptsRequestsWithinTheLimits() throws Exception {
    origin.enqueue(new MockResponse().setBody("fine"));
    assertThat(send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n" + "b".repeat(100))
        .bodyText()).isEqualTo("fine");
    assertThat(origin.takeRequest().getBodySize()).isEqualTo(100);
  }
}
