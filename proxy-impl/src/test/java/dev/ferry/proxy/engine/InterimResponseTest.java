package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Expect: 100-continue and 1xx responses (RFC 9110 §10.1.1, §15.2). */
class InterimResponseTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private ProxyServer proxy;

  @Test
  void answers100ContinueBeforeReadingTheBody() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("stored"));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
      RawClient.RawResponse interim = raw.readResponse();
      assertThat(interim.status()).isEqualTo(100);
      raw.send("data");
      assertThat(raw.readResponse().bodyText()).isEqualTo("stored");
    }
    okhttp3.mockwebserver.RecordedRequest recorded = origin.takeRequest();
    assertThat(recorded.getBody().readUtf8()).isEqualTo("data");
    assertThat(recorded.getHeader("Expect")).isNull();
  }

  /** RFC 9110 §10.1.1, §5.3: Expect is a list; 100-continue named twice is still only that (probe hostile F2). */
  @ParameterizedTest
  @ValueSource(strings = {"Expect: 100-continue, 100-continue\r\n",
      "Expect: 100-continue\r\nExpect: 100-Continue\r\n", "Expect: , 100-continue,\r\n"})
  void answers100ContinueToAnExpectationListOfOnly100Continue(String expect) throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("stored"));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n" + expect + "\r\n");
      assertThat(raw.readResponse().status()).isEqualTo(100);
      raw.send("data");
      assertThat(raw.readResponse().bodyText()).isEqualTo("stored");
    }
    assertThat(origin.takeRequest().getBody().readUtf8()).isEqualTo("data");
  }

  /** An empty Expect field asks for nothing (RFC 9110 §5.6.1.2): the request is served, not refused 417. */
  @Test
  void servesARequestWithAnEmptyExpect() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("stored"));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect:\r\n\r\ndata");
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("stored");
    }
    assertThat(origin.takeRequest().getBody().readUtf8()).isEqualTo("data");
  }

  @ParameterizedTest
  @ValueSource(strings = {"Expect: teapot\r\n", "Expect: 100-continue, teapot\r\n",
      "Expect: 100-continue\r\nExpect: teapot\r\n"})
  void rejectsAListWithAnUnknownExpectation(String expect) throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n" + expect + "\r\ndata");
      assertThat(raw.readResponse().status()).isEqualTo(417);
    }
    assertThat(origin.getRequestCount()).isZero();
  }

  @Test
  void relaysEarlyHintsBeforeTheFinalResponse() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 103 Early Hints\r\n"
        + "Link: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npage"));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      RawClient.RawResponse hints = raw.readResponse();
      assertThat(hints.status()).isEqualTo(103);
      assertThat(hints.header("Link")).isEqualTo("</style.css>; rel=preload");
      assertThat(hints.header("Via")).as("RFC 9110 §7.6.3: every message forwarded").isEqualTo("1.1 ferry");
      assertThat(hints.header("Date")).as("RFC 9110 §6.6.1: added when forwarded without (probe sem F2)")
          .matches("[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT");
      RawClient.RawResponse page = raw.readResponse();
      assertThat(page.status()).isEqualTo(200);
      assertThat(page.bodyText()).isEqualTo("page");
    }
  }

  /** A 1xx has no content: a Content-Length an upstream put in one (RFC 9110 §8.6) is not passed on. */
  @Test
  void dropsAContentLengthFromAnInterimResponse() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      RawClient.RawResponse interim = raw.readResponse();
      assertThat(interim.status()).isEqualTo(100);
      assertThat(interim.header("Content-Length")).isNull();
      assertThat(raw.readResponse().bodyText()).isEqualTo("ok");
    }
  }

  /** An upstream cannot stream interim responses forever: past 32 the exchange is a 502. */
  @Test
  void answers502ToAStormOfInterimResponses() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 100 Continue\r\n\r\n".repeat(40)
        + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      int interim = 0;
      RawClient.RawResponse response = raw.readResponse();
      while (response.status() == 100) {
        interim++;
        response = raw.readResponse();
      }
      assertThat(interim).isEqualTo(32);
      assertThat(response.status()).isEqualTo(502);
    }
  }

  /** Interim responses do not stretch the wait for the final one past the upstream timeout. */
  @Test
  void timesOutAFinalResponseThatTrickledInterimOnes() throws Exception {
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      if (self[0].readRequest(in) != null) {
        for (int i = 0; i < 30 && !socket.isClosed(); i++) {
          out.write("HTTP/1.1 102 Processing\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
          out.flush();
          self[0].awaitQuiet(200); // a keep-alive interim every 200 ms, each under the timeout
        }
      }
    }));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(self[0].url("/")))
        .upstreamTimeout(java.time.Duration.ofMillis(1000)));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      RawClient.RawResponse response = raw.readResponse();
      while (response.status() == 102) {
        response = raw.readResponse();
      }
      assertThat(response.status()).as("the whole wait, not each 1xx, is bounded").isEqualTo(504);
    }
  }

  /** A final head trickled a byte at a time is bounded as a whole (each byte restarted the wait). */
  @Test
  void timesOutAFinalHeadTrickledAByteAtATime() throws Exception {
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      if (self[0].readRequest(in) != null) {
        byte[] head = ("HTTP/1.1 200 OK\r\n" + "X-Slow: y\r\n".repeat(30) + "Content-Length: 2\r\n\r\nok")
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        for (int i = 0; i < head.length && !socket.isClosed(); i++) {
          out.write(head[i]);
          out.flush();
          self[0].awaitQuiet(100); // a byte every 100 ms, each well under the timeout
        }
      }
    }));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(self[0].url("/")))
        .upstreamTimeout(java.time.Duration.ofMillis(1000)));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(response.status()).as("the whole head, not each byte, is bounded").isEqualTo(504);
    }
  }

  @Test
  void withholdsInterimResponsesFromHttp10Clients() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 103 Early Hints\r\nLink: <a>\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npage"));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.0\r\n\r\n");
      assertThat(raw.readResponse().status()).isEqualTo(200);
    }
  }
}
