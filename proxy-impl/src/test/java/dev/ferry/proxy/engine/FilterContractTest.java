package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.Upstream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The filter contract the engine enforces, with messages that name the filter. */
class FilterContractTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private MockWebServer origin;
  private ProxyServer proxy;

  @BeforeEach
  void start() throws Exception {
    origin = ferry.mockOrigin();
  }

  private RawClient.RawResponse get(Filter... filters) throws Exception {
    ProxyServer.Builder builder = ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()));
    for (Filter filter : filters) {
      builder.filter(filter);
    }
    proxy = ferry.start(builder);
    try (RawClient raw = new RawClient(proxy.address())) {
      return raw.send("GET /f HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
    }
  }

  @Test
  void runsFiltersInOrderInAndReverseOut() throws Exception {
    origin.enqueue(new MockResponse().setBody("origin"));
    List<String> calls = new CopyOnWriteArrayList<>();
    Filter first = (exchange, chain) -> {
      calls.add("first-in");
      Response response = chain.proceed(exchange.request().withHeader("X-Seen", "first"));
      calls.add("first-out");
      return response.withHeader("X-Out", response.headers().first("X-Out").orElse("") + "first");
    };
    Filter second = (exchange, chain) -> {
      calls.add("second-in:" + exchange.request().headers().first("X-Seen").orElse(""));
      Response response = chain.proceed(exchange.request());
      calls.add("second-out");
      return response.withHeader("X-Out", "second,");
    };
    RawClient.RawResponse response = get(first, second);
    assertThat(calls).containsExactly("first-in", "second-in:first", "second-out", "first-out");
    assertThat(response.header("X-Out")).isEqualTo("second,first");
    assertThat(origin.takeRequest().getHeader("X-Seen")).isEqualTo("first");
  }

  @Test
  void letsFilterAnswerWithoutTheUpstream() throws Exception {
    RawClient.RawResponse response = get((exchange, chain) -> Response.text(418, "short and stout\n"));
    assertThat(response.status()).isEqualTo(418);
    assertThat(response.bodyText()).isEqualTo("short and stout\n");
    assertThat(origin.getRequestCount()).isZero();
  }

  @Test
  void letsFilterTransformStreamingBody() throws Exception {
    origin.enqueue(new MockResponse().setChunkedBody("lower case body", 3));
    RawClient.RawResponse response = get((exchange, chain) -> {
      Response upstream = chain.proceed(exchange.request());
      java.io.InputStream source = upstream.body().stream();
      java.io.InputStream upper = new java.io.FilterInputStream(source) {
        @Override
        public int read(byte[] b, int off, int len) throws java.io.IOException {
          int n = super.read(b, off, len);
          for (int i = off; i < off + Math.max(n, 0); i++) {
            b[i] = (byte) Character.toUpperCase(b[i]);
          }
          return n;
        }
      };
      return upstream.withBody(Body.of(upper, -1));
    });
    assertThat(response.bodyText()).isEqualTo("LOWER CASE BODY");
  }

  @Test
  void answers500WhenFilterThrowsAndKeepsServing() throws Exception {
    origin.enqueue(new MockResponse().setBody("fine"));
    Filter boom = new Filter() {
      @Override
      public Response handle(dev.ferry.proxy.Exchange exchange, Chain chain) {
        if (exchange.sequence() == 1) {
          throw new IllegalStateException("boom");
        }
        try {
          return chain.proceed(exchange.request());
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }

      @Override
      public String toString() {
        return "BoomFilter";
      }
    };
    RawClient.RawResponse response = get(boom);
    assertThat(response.status()).isEqualTo(500);
    assertThat(response.bodyText()).contains("BoomFilter").doesNotContain("Exception\n\tat");
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /f HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(500);
    }
    assertThat(proxy.stats().failures()).containsEntry("FILTER_FAILED", 2L);
  }

  /** A filter's failure is the exchange's, not the connection's: the next request on it is served. */
  @Test
  void keepsTheConnectionAfterAFilterFails() throws Exception {
    origin.enqueue(new MockResponse().setBody("fine"));
    origin.enqueue(new MockResponse().setBody("fine"));
    Filter boom = (exchange, chain) -> {
      if (exchange.request().path().equals("/boom")) {
        throw new IllegalStateException("boom");
      }
      return chain.proceed(exchange.request());
    };
    get(boom).status();
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse failed = raw.send("GET /boom HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(failed.status()).isEqualTo(500);
      assertThat(failed.bodyText()).as("a lambda named by its place and class, not $$Lambda$123/0x...")
          .contains("filter #1 (a lambda in FilterContractTest) failed");
      assertThat(failed.header("Connection")).isNull();
      assertThat(raw.send("GET /fine HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("fine");
    }
  }

  @Test
  void answers500NamingFilterThatReturnsNull() throws Exception {
    Filter nullFilter = new Filter() {
      @Override
      public Response handle(dev.ferry.proxy.Exchange exchange, Chain chain) {
        return null;
      }

      @Override
      public String toString() {
        return "NullFilter";
      }
    };
    RawClient.RawResponse response = get(nullFilter);
    assertThat(response.status()).isEqualTo(500);
    assertThat(response.bodyText()).contains("filter NullFilter returned null");
  }

  /**
   * A filter's response body whose stream yields more bytes than it declared, none of it sent
   * yet, is the filter's mistake: answered 500 and counted so. The client got a close while the
   * summary and stats said 200 (probe e25). (One that yields fewer has sent its head by the
   * time its end shows: the client sees the body end short, as of an upstream cut midway.)
   */
  @Test
  void answers500ForAFilterBodyLongerThanItDeclared() throws Exception {
    Filter lying = (exchange, chain) -> Response.builder().status(200)
        .body(Body.of(new java.io.ByteArrayInputStream("fifteen bytes!!".getBytes(StandardCharsets.US_ASCII)), 10))
        .build();
    RawClient.RawResponse response = get(lying);
    assertThat(response.status()).isEqualTo(500);
    assertThat(proxy.stats().responsesByStatus()).containsEntry(500, 1L).doesNotContainKey(200);
    assertThat(proxy.stats().failures()).containsEntry("FILTER_FAILED", 1L);
  }

  /**
   * A 1xx is never an exchange's final answer: written as one, a keep-alive client waited
   * forever, or paired the next request's answer with this one.
   */
  @Test
  void answers500NamingFilterThatAnswersAnInterimStatus() throws Exception {
    Filter earlyHints = new Filter() {
      @Override
      public Response handle(dev.ferry.proxy.Exchange exchange, Chain chain) {
        return Response.builder().status(103).build();
      }

      @Override
      public String toString() {
        return "EarlyHints";
      }
    };
    RawClient.RawResponse response = get(earlyHints);
    assertThat(response.status()).isEqualTo(500);
    assertThat(response.bodyText()).contains("filter EarlyHints returned the interim status 103");
  }

  @Test
  void answers500WhenFilterProceedsTwice() throws Exception {
    origin.enqueue(new MockResponse().setBody("once"));
    RawClient.RawResponse response = get((exchange, chain) -> {
      chain.proceed(exchange.request());
      return chain.proceed(exchange.request());
    });
    assertThat(response.status()).isEqualTo(500);
    assertThat(response.bodyText()).contains("called proceed() twice");
    assertThat(origin.getRequestCount()).isEqualTo(1);
  }

  @Test
  void refusesAProceedAfterTheFilterReturned() throws Exception {
    AtomicReference<Filter.Chain> kept = new AtomicReference<>();
    AtomicReference<Request> request = new AtomicReference<>();
    RawClient.RawResponse response = get((exchange, chain) -> {
      // A chain left to another thread, used once the filter has answered by itself.
      kept.set(chain);
      request.set(exchange.request());
      return Response.text(200, "answered\n");
    });
    assertThat(response.bodyText()).isEqualTo("answered\n");
    assertThatThrownBy(() -> kept.get().proceed(request.get()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("called proceed() after it returned");
    assertThat(origin.getRequestCount()).isZero();
    ferry.assertNoLeaks(proxy);
  }

  /**
   * A 101 is the upstream's acceptance of an upgrade: one a filter made up went out without
   * {@code Upgrade}, and the connection went on as HTTP (probe e14).
   */
  @Test
  void answers500WhenAFilterMakesUpA101() throws Exception {
    RawClient.RawResponse response = get(new Filter() {
      @Override
      public Response handle(dev.ferry.proxy.Exchange exchange, Filter.Chain chain) {
        return Response.builder().status(101).build();
      }

      @Override
      public String toString() {
        return "Switcher";
      }
    });
    assertThat(response.status()).isEqualTo(500);
    assertThat(response.bodyText()).contains("filter Switcher returned 101 Switching Protocols without an upgrade");
    assertThat(origin.getRequestCount()).isZero();
  }

  /**
   * A CONNECT a filter made (a method override) opens no tunnel: a reverse proxy connected to
   * whatever host and port the client's Host named (probe e14).
   */
  @Test
  void opensNoTunnelForACONNECTAFilterMade() throws Exception {
    TinyOrigin elsewhere = ferry.track(TinyOrigin.answering("HTTP/1.1 204 No Content\r\n\r\n"));
    RawClient.RawResponse response;
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .filter((exchange, chain) -> chain.proceed(exchange.request().toBuilder().method("CONNECT").build())));
    try (RawClient raw = new RawClient(proxy.address())) {
      response = raw.send("GET / HTTP/1.1\r\nHost: 127.0.0.1:" + elsewhere.port() + "\r\n\r\n").readResponse();
    }
    assertThat(response.status()).isEqualTo(500);
    assertThat(response.bodyText()).contains("only a client's own CONNECT opens a tunnel");
    assertThat(elsewhere.connectionCount()).isZero();
    assertThat(origin.getRequestCount()).isZero();
    ferry.assertNoLeaks(proxy);
  }
}
