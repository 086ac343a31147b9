package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Filter;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #8 item 8: an IOException a filter makes itself is the filter's failure (500 naming it),
 * not a bad upstream response; one coming out of {@code proceed()} stays an upstream failure. No
 * error body echoes an exception message.
 */
class FilterFailureTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  private static final class ReadsConfig implements Filter {
    @Override
    public dev.ferry.proxy.Response handle(dev.ferry.proxy.Exchange exchange, Chain chain)
        throws IOException {
      throw new IOException("secret-path /etc/ferry.conf unreadable");
    }

    @Override
    public String toString() {
      return "ReadsConfig";
    }
  }

  @Test
  void answers500NamingFilterForItsOwnIoException() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .filter(new ReadsConfig()));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(response.status()).isEqualTo(500);
      assertThat(response.bodyText()).contains("ReadsConfig").doesNotContain("secret-path");
    }
    assertThat(proxy.stats().failures()).containsKey("FILTER_FAILED").doesNotContainKey("UPSTREAM_BAD_RESPONSE");
  }

  /**
   * An OutOfMemoryError ends its connection's thread, where the JVM's handler (the CLI's exits,
   * so that a supervisor restarts it) sees it; the proxy serves the next connection. Before, it
   * was logged as a crashed connection and went no further (probe resources F2).
   */
  @Test
  void letsAnOutOfMemoryErrorEndItsThread() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .filter((exchange, chain) -> {
          if (exchange.request().path().equals("/oom")) {
            throw new OutOfMemoryError("test heap");
          }
          return chain.proceed(exchange.request());
        }));
    java.util.List<Throwable> uncaught = new java.util.concurrent.CopyOnWriteArrayList<>();
    Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler((thread, failure) -> uncaught.add(failure));
    try {
      try (RawClient raw = new RawClient(proxy.address())) {
        raw.send("GET /oom HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(raw.input().read()).as("the connection closed unanswered").isEqualTo(-1);
      }
      Await.until(() -> !uncaught.isEmpty(), "the error to reach the thread's end");
      assertThat(uncaught).singleElement().isInstanceOf(OutOfMemoryError.class);
    } finally {
      Thread.setDefaultUncaughtExceptionHandler(before);
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
    }
  }

  /** A test's filter that asserts: its failure is a 500 too, and the connection carries on. */
  @Test
  void answers500ForAnErrorAFilterThrows() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .filter((exchange, chain) -> {
          if (exchange.request().path().equals("/assert")) {
            throw new AssertionError("expected a header");
          }
          if (exchange.request().path().equals("/recurse")) {
            throw new StackOverflowError();
          }
          return chain.proceed(exchange.request());
        }));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /assert HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(500);
      assertThat(raw.send("GET /recurse HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(500);
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
    }
    assertThat(proxy.stats().failures()).containsEntry("FILTER_FAILED", 2L);
  }

  /**
   * A filter's response body that throws unchecked fails the response, as its IOException would
   * (RESPONSE_ABORTED, the connection closed), and the next client is served. It ended the
   * connection's thread as a crash, with the exchange reported a success (probe e13).
   */
  @Test
  void reportsAResponseBodyThatThrowsUncheckedAsAborted() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    java.util.concurrent.BlockingQueue<dev.ferry.proxy.ExchangeSummary> summaries =
        new java.util.concurrent.LinkedBlockingQueue<>();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .listener(new dev.ferry.proxy.ExchangeListener() {
          @Override
          public void exchangeCompleted(dev.ferry.proxy.ExchangeSummary summary) {
            summaries.add(summary);
          }
        })
        .filter((exchange, chain) -> {
          if (!exchange.request().path().equals("/broken")) {
            return chain.proceed(exchange.request());
          }
          return dev.ferry.proxy.Response.builder().status(200).body(new dev.ferry.proxy.Body() {
            @Override
            public long contentLength() {
              return -1;
            }

            @Override
            public java.io.InputStream stream() {
              return new java.io.InputStream() {
                @Override
                public int read() {
                  throw new java.io.UncheckedIOException(new IOException("generator failed"));
                }
              };
            }
          }).build();
        }));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET /broken HTTP/1.1\r\nHost: a\r\n\r\n");
      // Read to the close: the head may have gone out, but never the end of the chunked body.
      String got = new String(raw.input().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
      assertThat(got).doesNotEndWith("0\r\n\r\n");
    }
    dev.ferry.proxy.ExchangeSummary broken = summaries.poll(5, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(broken).isNotNull();
    assertThat(broken.failure()).hasValue("RESPONSE_ABORTED");
    assertThat(proxy.stats().failures()).containsKey("RESPONSE_ABORTED");
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
    }
  }

  /**
   * A request body a filter supplied that fails with its own IOException is the filter's failure:
   * it was taken for the upstream resetting (502 UPSTREAM_RESET), a GET was retried, and five of
   * them ejected a healthy endpoint (probe e26).
   */
  @Test
  void answers500ForARequestBodyAFilterSuppliedThatFails() throws Exception {
    TinyOrigin first = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    TinyOrigin second = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.pool(first.url("/"), second.url("/")))
        .filter((exchange, chain) -> chain.proceed(exchange.request().withBody(
            dev.ferry.proxy.Body.of(new FailingAfter(5000), 10_000)))));
    for (String method : new String[] {"GET", "POST", "PUT", "GET", "POST", "GET"}) {
      try (RawClient raw = new RawClient(proxy.address())) {
        RawClient.RawResponse response = raw.send(method + " / HTTP/1.1\r\nHost: a\r\n"
            + "Content-Length: 1\r\n\r\nx").readResponse();
        assertThat(response.status()).as(method).isEqualTo(500);
      }
    }
    assertThat(proxy.stats().failures()).containsEntry("FILTER_FAILED", 6L).doesNotContainKey("UPSTREAM_RESET");
    assertThat(proxy.stats().upstreamEndpoints().values()).allSatisfy(
        endpoints -> assertThat(endpoints.values()).containsOnly("healthy"));
  }

  /**
   * The proxy's own body limit reaches a filter reading the body as the public
   * ContentTooLargeException, so that it can answer it: it was an engine-internal exception,
   * told apart only by its class name (probe e26). Buffered and streamed bodies alike.
   */
  @Test
  void letsAFilterCatchTheProxysBodyLimitAsContentTooLarge() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    for (int buffer : new int[] {64 * 1024, 0}) {
      ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
          .maxRequestBodyBytes(1000).requestBufferBytes(buffer).requestSpoolBytes(0)
          .filter((exchange, chain) -> {
            try {
              exchange.request().body().bytes(10_000_000);
            } catch (dev.ferry.proxy.ContentTooLargeException e) {
              return dev.ferry.proxy.Response.builder().status(413).body(dev.ferry.proxy.Body.of("{\"error\":\"too big\"}")).build();
            }
            return chain.proceed(exchange.request());
          }));
      try (RawClient raw = new RawClient(proxy.address())) {
        RawClient.RawResponse response = raw.send("POST / HTTP/1.1\r\nHost: a\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n1388\r\n" + "b".repeat(5000) + "\r\n0\r\n\r\n").readResponse();
        assertThat(response.status()).as("buffer %d", buffer).isEqualTo(413);
        assertThat(response.bodyText()).as("buffer %d", buffer).isEqualTo("{\"error\":\"too big\"}");
      }
    }
  }

  /** A body source that fails after {@code good} bytes, as a decompressor or a file may. */
  private static final class FailingAfter extends java.io.InputStream {
    private int left;

    FailingAfter(int good) {
      this.left = good;
    }

    @Override
    public int read() throws IOException {
      if (left-- <= 0) {
        throw new IOException("source failed");
      }
      return 'z';
    }
  }

  @Test
  void keepsUpstreamFailurePassedOnByAFilterAsAGatewayError() throws Exception {
    RefusingPort origin = ferry.track(new RefusingPort());
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .filter((exchange, chain) -> chain.proceed(exchange.request())));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(response.status()).isEqualTo(502);
    }
  }
}
