package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.Upstream;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #8 item 4: a body whose stream yields more or fewer bytes than its declared length never
 * puts wrong bytes on a keep-alive connection (request smuggling through a filter).
 */
class DeclaredLengthTest {
  private static final String SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";

  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  private static Body lyingBody(String bytes, long declared) {
    return Body.of(new ByteArrayInputStream(bytes.getBytes(StandardCharsets.ISO_8859_1)), declared);
  }

  @Test
  void failsRequestWhoseFilterBodyIsLongerThanDeclared() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .filter((exchange, chain) -> exchange.request().method().equals("POST")
            // Past the 16 KiB copy buffer, so unchecked extra bytes would reach the socket.
            ? chain.proceed(exchange.request().withBody(lyingBody("0123456789" + SMUGGLED.repeat(600), 10)))
            : chain.proceed(exchange.request())));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      RawClient.RawResponse response = raw.send("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx").readResponse();
      assertThat(response.status()).isEqualTo(500);
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
    }
    assertThat(origin.takeRequest().requestLine()).startsWith("GET /first");
    assertThat(origin.takeRequest().requestLine()).startsWith("GET /next");
    // The stray bytes never reached the origin as a request of their own.
    assertThat(origin.pollRequest()).isNull();
  }

  @Test
  void failsRequestWhoseFilterBodyIsShorterThanDeclared() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .filter((exchange, chain) -> chain.proceed(exchange.request().withBody(lyingBody("0123", 10)))));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx").readResponse();
      assertThat(response.status()).isEqualTo(500);
    }
    // The origin never got a complete request: the proxy closed the connection mid-body.
    assertThat(origin.pollRequest()).isNull();
    assertThat(proxy.stats().upstreamConnectionsOpen()).isZero();
  }

  @Test
  void closesClientConnectionWhenResponseBodyIsLongerThanDeclared() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .filter((exchange, chain) -> {
          Response response = chain.proceed(exchange.request());
          response.body().close();
          String lie = "0123456789HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged";
          return response.withBody(lyingBody(lie, 10));
        }));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      // The connection is closed rather than carry the extra bytes as a (forged) next response.
      String received = new String(raw.input().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(received).doesNotContain("forged");
    }
  }
}
