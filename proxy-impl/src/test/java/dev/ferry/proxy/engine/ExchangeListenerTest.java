package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Exchange;
import dev.ferry.proxy.ExchangeListener;
import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.Upstream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ExchangeListenerTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @Test
  void reportsEachStageOnceInOrder() throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    BlockingQueue<ExchangeSummary> summaries = new LinkedBlockingQueue<>();
    ExchangeListener listener = new ExchangeListener() {
      @Override
      public void exchangeStarted(Exchange exchange) {
        events.add("started " + exchange.request().path() + " seq=" + exchange.sequence());
      }

      @Override
      public void upstreamConnected(Exchange exchange, InetSocketAddress upstream, boolean reused) {
        events.add("connected reused=" + reused);
      }

      @Override
      public void responseHeaders(Exchange exchange, Response response) {
        events.add("headers " + response.status());
      }

      @Override
      public void exchangeCompleted(ExchangeSummary summary) {
        events.add("completed");
        summaries.add(summary);
      }
    };
    ExchangeListener throwing = new ExchangeListener() {
      @Override
      public void exchangeStarted(Exchange exchange) {
        throw new IllegalStateException("listener bug");
      }

      @Override
      public void responseHeaders(Exchange exchange, Response response) {
        throw new AssertionError("a test's failed assertion");
      }
    };
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("first"));
    origin.enqueue(new MockResponse().setBody("second!"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .listener(throwing).listener(listener));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc").readResponse();
      assertThat(raw.send("GET /b HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("second!");

      ExchangeSummary first = summaries.poll(5, TimeUnit.SECONDS);
      ExchangeSummary second = summaries.poll(5, TimeUnit.SECONDS);
      assertThat(events).containsExactly(
          "started /a seq=1", "connected reused=false", "headers 200", "completed",
          "started /b seq=2", "connected reused=true", "headers 200", "completed");
      assertThat(first.method()).isEqualTo("POST");
      assertThat(first.requestBodyBytes()).isEqualTo(3);
      assertThat(first.responseBodyBytes()).isEqualTo(5);
      assertThat(first.failure()).isEmpty();
      assertThat(second.url()).endsWith("/b");
      assertThat(second.status()).isEqualTo(200);
      assertThat(second.connectionId()).isEqualTo(first.connectionId());
      assertThat(second.upstream()).hasValue(origin.getHostName() + ":" + origin.getPort());
      assertThat(second.duration()).isPositive();
    }
  }

  @Test
  void reportsFailureInSummary() throws Exception {
    BlockingQueue<ExchangeSummary> summaries = new LinkedBlockingQueue<>();
    RefusingPort origin = ferry.track(new RefusingPort());
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .listener(new ExchangeListener() {
          @Override
          public void exchangeCompleted(ExchangeSummary summary) {
            summaries.add(summary);
          }
        }));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(502);
      ExchangeSummary summary = summaries.poll(5, TimeUnit.SECONDS);
      assertThat(summary.status()).isEqualTo(502);
      assertThat(summary.failure()).hasValue("UPSTREAM_UNREACHABLE");
    }
  }

  @Test
  void reportsRequestsRejectedWhileParsingTheHead() throws Exception {
    BlockingQueue<ExchangeSummary> summaries = new LinkedBlockingQueue<>();
    ProxyServer proxy = ferry.start(ProxyServer.builder().listener(new ExchangeListener() {
      @Override
      public void exchangeCompleted(ExchangeSummary summary) {
        summaries.add(summary);
      }
    }));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost : a\r\n\r\n").readResponse().status()).isEqualTo(400);
      ExchangeSummary summary = summaries.poll(5, TimeUnit.SECONDS);
      assertThat(summary.status()).isEqualTo(400);
      assertThat(summary.method()).as("its request line was read").isEqualTo("GET");
      assertThat(summary.url()).isEqualTo("/");
      assertThat(summary.failure()).hasValue("MALFORMED_REQUEST");
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET  / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(400);
      ExchangeSummary summary = summaries.poll(5, TimeUnit.SECONDS);
      assertThat(summary.method()).as("a broken request line names nothing").isEqualTo("-");
      assertThat(summary.url()).isEqualTo("-");
    }
  }
  /**
   * A well-formed head the proxy refuses (a declared body over the limit, an expectation it
   * cannot meet) is an exchange like any: started with its request, its answer's head reported.
   */
  @Test
  void reportsHeadsRefusedForTheirBodyOrExpectationAsExchanges() throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of("http://127.0.0.1:9"))
        .maxRequestBodyBytes(10).listener(new ExchangeListener() {
      @Override
      public void exchangeStarted(Exchange exchange) {
        events.add("started " + exchange.request().method() + " " + exchange.request().headers().first("X-Kind").orElse(""));
      }

      @Override
      public void responseHeaders(Exchange exchange, Response response) {
        events.add("headers " + response.status());
      }

      @Override
      public void exchangeCompleted(ExchangeSummary summary) {
        events.add("completed " + summary.status());
      }
    }));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse tooLarge = raw.send("POST / HTTP/1.1\r\nHost: a\r\nX-Kind: large\r\n"
          + "Content-Length: 100\r\n\r\n").readResponse();
      assertThat(tooLarge.status()).isEqualTo(413);
      assertThat(tooLarge.header("Connection")).isEqualTo("close");
    }
    Await.until(() -> events.size() == 3, "three events for the 413");
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\nX-Kind: expect\r\nExpect: something\r\n\r\n")
          .readResponse().status()).isEqualTo(417);
    }
    Await.until(() -> events.size() == 6, "three events for the 417");
    assertThat(events).containsExactly("started POST large", "headers 413", "completed 413",
        "started GET expect", "headers 417", "completed 417");
  }

  /**
   * A body awaited whole whose client leaves, or stalls past the idle timeout, before it is all
   * there: the request was read and parsed, so the exchange starts and is reported with its
   * absolute URL and the body bytes that came. Listeners saw it complete without a start, its URL
   * relative and its body 0 bytes, unlike the same body streamed (probe e26).
   */
  @Test
  void startsAndReportsWholeAnExchangeWhoseAwaitedBodyNeverCame() throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    BlockingQueue<ExchangeSummary> summaries = new LinkedBlockingQueue<>();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of("http://127.0.0.1:1/"))
        .idleTimeout(java.time.Duration.ofMillis(500))
        .listener(new ExchangeListener() {
          @Override
          public void exchangeStarted(Exchange exchange) {
            events.add("started " + exchange.request().url());
          }

          @Override
          public void exchangeCompleted(ExchangeSummary summary) {
            events.add("completed " + summary.url());
            summaries.add(summary);
          }
        }));
    try (RawClient leaving = new RawClient(proxy.address())) {
      leaving.send("POST /echo HTTP/1.1\r\nHost: site.test\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(40_000));
      Await.until(() -> proxy.stats().requestBufferBytes() + proxy.stats().requestSpoolBytes() > 0,
          "the body to be awaited whole");
    }
    ExchangeSummary left = summaries.poll(10, TimeUnit.SECONDS);
    assertThat(left).isNotNull();
    assertThat(left.failure()).hasValue("CLIENT_CLOSED");
    assertThat(left.requestBodyBytes()).isEqualTo(40_000);
    try (RawClient stalling = new RawClient(proxy.address())) {
      RawClient.RawResponse timedOut = stalling.send("POST /slow HTTP/1.1\r\nHost: site.test\r\n"
          + "Content-Length: 100\r\n\r\n" + "y".repeat(30)).readResponse();
      assertThat(timedOut.status()).isEqualTo(408);
    }
    ExchangeSummary stalled = summaries.poll(10, TimeUnit.SECONDS);
    assertThat(stalled.failure()).hasValue("REQUEST_TIMEOUT");
    assertThat(stalled.requestBodyBytes()).isEqualTo(30);
    // Chunked, its data bytes count, not its framing's (probe v32: 20 for 10).
    try (RawClient chunking = new RawClient(proxy.address())) {
      assertThat(chunking.send("POST /chunks HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nabcde\r\n5\r\nfghij\r\n").readResponse().status()).isEqualTo(408);
    }
    assertThat(summaries.poll(10, TimeUnit.SECONDS).requestBodyBytes()).isEqualTo(10);
    assertThat(events).containsExactly(
        "started http://site.test/echo", "completed http://site.test/echo",
        "started http://site.test/slow", "completed http://site.test/slow",
        "started http://site.test/chunks", "completed http://site.test/chunks");
  }

  /**
   * A body received whole before its exchange was read from the client, though a filter answered
   * without reading it: it was reported as 0 bytes (probe e25, a 3 MB upload answered 403).
   */
  @Test
  void countsABodyReceivedWholeThatAFilterLeftUnread() throws Exception {
    BlockingQueue<ExchangeSummary> summaries = new LinkedBlockingQueue<>();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of("http://127.0.0.1:1/"))
        .filter((exchange, chain) -> Response.builder().status(403).build())
        .listener(new ExchangeListener() {
          @Override
          public void exchangeCompleted(ExchangeSummary summary) {
            summaries.add(summary);
          }
        }));
    try (RawClient uploading = new RawClient(proxy.address())) {
      uploading.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 200000\r\n\r\n" + "x".repeat(50_000));
      Await.until(() -> proxy.stats().requestBufferBytes() + proxy.stats().requestSpoolBytes() > 0,
          "the body to be received whole");
      uploading.send("y".repeat(150_000));
      assertThat(uploading.readResponse().status()).isEqualTo(403);
    }
    ExchangeSummary summary = summaries.poll(10, TimeUnit.SECONDS);
    assertThat(summary).isNotNull();
    assertThat(summary.requestBodyBytes()).isEqualTo(200_000);
    // All of it in the head's own write, never awaited: counted alike, not 0 (probe v31).
    for (String framing : new String[] {"Content-Length: 5000\r\nConnection: close",
        "Transfer-Encoding: chunked"}) {
      String body = framing.startsWith("Content") ? "z".repeat(5000) : "1388\r\n" + "z".repeat(5000) + "\r\n0\r\n\r\n";
      try (RawClient oneWrite = new RawClient(proxy.address())) {
        oneWrite.send("POST /upload HTTP/1.1\r\nHost: a\r\n" + framing + "\r\n\r\n" + body);
        assertThat(oneWrite.readResponse().status()).isEqualTo(403);
      }
      ExchangeSummary whole = summaries.poll(10, TimeUnit.SECONDS);
      assertThat(whole.requestBodyBytes()).as(framing).isEqualTo(5000);
    }
  }
}
