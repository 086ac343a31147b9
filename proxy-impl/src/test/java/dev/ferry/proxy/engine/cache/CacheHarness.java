package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.ExchangeListener;
import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.ProxyCache;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.ProxyTestExtension;
import dev.ferry.proxy.engine.http1.HttpDates;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;

/**
 * A caching reverse proxy in front of a MockWebServer, with a clock the test moves. Both are
 * owned by the test's {@link ProxyTestExtension}, which stops them and checks for leaks.
 */
final class CacheHarness {
  final MockWebServer origin;
  final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  final ProxyServer proxy;
  /** What listeners were told of each exchange, in completion order. */
  final List<ExchangeSummary> summaries = new CopyOnWriteArrayList<>();
  private final HttpClient client = HttpClient.newHttpClient();

  CacheHarness(ProxyTestExtension ferry) throws IOException {
    this(ferry, CacheSpec.inMemory());
  }

  CacheHarness(ProxyTestExtension ferry, CacheSpec spec, Filter... filters) throws IOException {
    origin = ferry.mockOrigin();
    ProxyServer.Builder builder = ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .cache(spec.clock(clock)).listener(new ExchangeListener() {
          @Override
          public void exchangeCompleted(ExchangeSummary summary) {
            summaries.add(summary);
          }
        });
    for (Filter filter : filters) {
      builder.filter(filter);
    }
    proxy = ferry.start(builder);
  }

  ProxyCache cache() {
    return proxy.cache().orElseThrow();
  }

  /** An origin response dated by the test clock. */
  MockResponse response(String body) {
    return new MockResponse().setHeader("Date", HttpDates.format(clock.instant())).setBody(body);
  }

  HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A request with any method and no body, and header name/value pairs. */
  HttpResponse<String> request(String method, String path, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).method(method, HttpRequest.BodyPublishers.noBody());
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String verdict(HttpResponse<String> response) {
    return response.headers().firstValue("X-Cache").orElse("none");
  }

  HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + proxy.port() + path);
  }

  void advance(Duration duration) {
    clock.advance(duration);
  }

  /** A clock tests move by hand instead of sleeping. */
  static final class MutableClock extends Clock {
    private volatile Instant now;

    MutableClock(Instant start) {
      now = start;
    }

    void advance(Duration duration) {
      now = now.plus(duration);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
