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
