package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ExchangeListener;
import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #8 item 6: limits answer instead of hanging. A connection past {@code maxConnections} is
 * answered 503; a connection that sends nothing is closed after the header timeout counted from
 * accept; a body that trickles below the minimum rate is cut off with 408.
 */
class ConnectionLimitsTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  /**
   * The 503 is accounted for like any answer the proxy makes: an exchange in the stats, a
   * summary for listeners (the access log and request metrics). Before, only the status count
   * and the connection_rejected warning had it, so error rates from the access log missed
   * overload.
   */
  @Test
  void answers503WithRetryAfterPastMaxConnections() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    List<ExchangeSummary> summaries = new CopyOnWriteArrayList<>();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .maxConnections(2).listener(new ExchangeListener() {
          @Override
          public void exchangeCompleted(ExchangeSummary summary) {
            summaries.add(summary);
          }
        }));
    try (RawClient first = new RawClient(proxy.address());
        RawClient second = new RawClient(proxy.address())) {
      assertThat(first.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      assertThat(second.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      try (RawClient third = new RawClient(proxy.address())) {
        RawClient.RawResponse refused = third.readResponse();
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.header("Retry-After")).isNotNull();
        assertThat(refused.header("Connection")).isEqualTo("close");
        assertThat(third.input().read()).isEqualTo(-1);
      }
    }
    assertThat(proxy.stats().connectionsRejected()).isEqualTo(1);
    Await.until(() -> summaries.size() == 3, "three exchanges reported");
    assertThat(summaries).filteredOn(summary -> summary.status() == 503).singleElement().satisfies(refused -> {
      assertThat(refused.failure()).hasValue("OVERLOADED");
      assertThat(refused.method()).isEqualTo("-");
      assertThat(refused.responseBodyBytes()).isEqualTo("Proxy overloaded\n".length());
    });
    assertThat(proxy.stats().exchanges()).isEqualTo(3);
    // Once a connection closes, a new one is served.
    Await.until(() -> proxy.stats().activeConnections() == 0, "connections to close");
    try (RawClient again = new RawClient(proxy.address())) {
      assertThat(again.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
    }
  }

  @Test
  void closesSilentConnectionAfterHeaderTimeoutFromAccept() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .concurrency(Concurrency.boundedPool(2, 0))
        .requestHeaderTimeout(Duration.ofMillis(300)).idleTimeout(Duration.ofSeconds(60)));
    try (Socket silent = new Socket()) {
      silent.connect(proxy.address(), 5000);
      silent.setSoTimeout(10_000);
      // Closed long before the 60 s idle timeout: the header deadline started at accept.
      assertThat(silent.getInputStream().read()).isEqualTo(-1);
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the silent connection to end");
  }

  @Test
  void cutsTricklingRequestBodyWith408() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .minRequestBodyRate(1000));
    try (Socket socket = new Socket()) {
      socket.connect(proxy.address(), 5000);
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      out.write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      // A byte every 100 ms is 10 bytes/s, far below 1000 bytes/s: cut after the 5 s grace.
      String response = "";
      for (int i = 0; i < 150 && response.isEmpty(); i++) {
        try {
          out.write('x');
          out.flush();
        } catch (java.io.IOException cut) {
          break;
        }
        socket.setSoTimeout(100);
        try {
          byte[] head = new byte[12];
          int n = in.read(head);
          response = n > 0 ? new String(head, 0, n, StandardCharsets.ISO_8859_1) : "closed";
        } catch (java.net.SocketTimeoutException stillWaiting) {
          // Nothing yet: keep trickling.
        }
      }
      assertThat(response).startsWith("HTTP/1.1 408");
    }
    assertThat(proxy.stats().failures()).containsKey("REQUEST_TIMEOUT");
  }
}
