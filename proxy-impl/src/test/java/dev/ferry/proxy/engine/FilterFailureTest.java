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
