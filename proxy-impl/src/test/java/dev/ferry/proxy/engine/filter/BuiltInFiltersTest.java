package dev.ferry.proxy.engine.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.Filter;
import dev.ferry.proxy.Filters;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.RateLimit;
import dev.ferry.proxy.Upstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Header rewriting, authentication and limits through a real proxy. */
class BuiltInFiltersTest {
  private final MockWebServer origin = new MockWebServer();
  private final HttpClient client = HttpClient.newHttpClient();
  private ProxyServer proxy;

  @BeforeEach
  void start() throws Exception {
    origin.start();
  }

  @AfterEach
  void stop() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    origin.shutdown();
  }

  private void proxyWith(Filter... filters) {
    ProxyServer.Builder builder = ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()));
    for (Filter filter : filters) {
      builder.filter(filter);
    }
    proxy = builder.build().start();
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest.Builder get(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path));
  }

  @Test
  void rewritesRequestAndResponseHeaders() throws Exception {
    origin.enqueue(new MockResponse().setHeader("Server", "origin/1.0").setHeader("X-Internal", "secret")
        .setHeader("X-Old", "v").setHeader("Link", "</a.css>; rel=preload"));
    proxyWith(Filters.setRequestHeader("X-Env", "test"), Filters.addRequestHeader("X-Tag", "b"),
        Filters.removeRequestHeader("X-Drop"), Filters.renameRequestHeader("X-From", "X-To"),
        Filters.replaceRequestHeader("User-Agent", "^(\\w+).*", "agent=$1"),
        Filters.setResponseHeader("Server", "ferry"), Filters.removeResponseHeader("X-Internal"),
        Filters.renameResponseHeader("X-Old", "X-New"), Filters.addResponseHeader("Link", "</b.js>; rel=preload"));
    HttpResponse<String> response = send(get("/h").header("X-Drop", "1").header("X-From", "moved")
        .header("X-Tag", "a").header("User-Agent", "curl/8.0"));
    assertThat(response.headers().firstValue("Server")).hasValue("ferry");
    assertThat(response.headers().firstValue("X-Internal")).isEmpty();
    assertThat(response.headers().firstValue("X-New")).hasValue("v");
    assertThat(response.headers().allValues("Link")).containsExactly("</a.css>; rel=preload", "</b.js>; rel=preload");
    RecordedRequest recorded = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(recorded.getHeader("X-Env")).isEqualTo("test");
    assertThat(recorded.getHeaders().values("X-Tag")).containsExactly("a", "b");
    assertThat(recorded.getHeader("X-Drop")).isNull();
    assertThat(recorded.getHeader("X-To")).isEqualTo("moved");
    assertThat(recorded.getHeader("User-Agent")).isEqualTo("agent=curl");
  }

  @Test
  void rewritesPathsAndHost() throws Exception {
    origin.enqueue(new MockResponse());
    origin.enqueue(new MockResponse());
    origin.enqueue(new MockResponse());
    proxyWith(Filters.stripPathPrefix("/api"), Filters.rewritePath("^/old/(.*)", "/new/$1"),
        Filters.when(r -> r.path().startsWith("/v"), Filters.addPathPrefix("/internal")),
        Filters.rewriteHost("backend.internal:8080"));
    send(get("/api/users?id=1"));
    send(get("/old/page"));
    send(get("/v2/x"));
    RecordedRequest first = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(first.getPath()).isEqualTo("/users?id=1");
    // The rewritten Host reaches the upstream, not the endpoint's; X-Forwarded-Host keeps the client's.
    assertThat(first.getHeader("Host")).isEqualTo("backend.internal:8080");
    assertThat(first.getHeader("X-Forwarded-Host")).isEqualTo("127.0.0.1:" + proxy.port());
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getPath()).isEqualTo("/new/page");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getPath()).isEqualTo("/internal/v2/x");
  }

  @Test
  void answers500ForAPathRewriteThatIsNotOriginForm() throws Exception {
    proxyWith(Filters.rewritePath("^/(.*)", "$1"));
    HttpResponse<String> response = send(get("/page"));
    assertThat(response.statusCode()).isEqualTo(500);
    assertThat(proxy.stats().failures()).containsEntry("FILTER_FAILED", 1L);
    assertThat(origin.getRequestCount()).isZero();
  }

  @Test
  void demandsProxyCredentialsAndNeverForwardsThem() throws Exception {
    proxy = ProxyServer.builder()
        .filter(Filters.proxyAuthentication().credentials(Map.of("alice", "s3cret")).realm("office").build())
        .build().start();
    origin.enqueue(new MockResponse().setBody("through"));
    String target = origin.url("/p").toString();
    try (dev.ferry.proxy.engine.filter.Raw raw = new Raw(proxy.port())) {
      String missing = raw.exchange("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(missing).startsWith("HTTP/1.1 407").contains("Proxy-Authenticate: Basic realm=\"office\"");
      String wrong = raw.exchange("GET " + target + " HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic "
          + basic("alice:wrong") + "\r\n\r\n");
      assertThat(wrong).startsWith("HTTP/1.1 407");
      String right = raw.exchange("GET " + target + " HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic "
          + basic("alice:s3cret") + "\r\n\r\n");
      assertThat(right).startsWith("HTTP/1.1 200").endsWith("through");
    }
    RecordedRequest recorded = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(recorded.getHeader("Proxy-Authorization")).isNull();
    assertThat(origin.getRequestCount()).isEqualTo(1);
  }

  @Test
  void demandsAuthorizationInReverseMode() throws Exception {
    origin.enqueue(new MockResponse().setBody("basic ok"));
    origin.enqueue(new MockResponse().setBody("bearer ok"));
    proxyWith(Filters.authentication().checker((user, password) -> user.equals("bob") && password.equals("pw"))
        .bearerTokens(Set.of("token-123")).build());
    HttpResponse<String> denied = send(get("/r"));
    assertThat(denied.statusCode()).isEqualTo(401);
    assertThat(denied.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Basic"));
    assertThat(send(get("/r").header("Authorization", "Basic " + basic("bob:pw"))).body()).isEqualTo("basic ok");
    assertThat(send(get("/r").header("Authorization", "Bearer token-123")).body()).isEqualTo("bearer ok");
    assertThat(send(get("/r").header("Authorization", "Bearer nope")).statusCode()).isEqualTo(401);
    // Two credentials fields: the origin might read the other one, so neither is accepted.
    assertThat(send(get("/r").header("Authorization", "Basic " + basic("bob:pw"))
        .header("Authorization", "Basic " + basic("admin:guess"))).statusCode()).isEqualTo(401);
    assertThat(origin.getRequestCount()).isEqualTo(2);
  }

  /**
   * A built-in filter's own answer (401, 429) is the configured error page for a client that
   * accepts HTML, its challenge and Retry-After kept; plain text otherwise. It was always plain
   * text, whatever page was set (probe s12).
   */
  @Test
  void answersWithTheConfiguredErrorPageForItsOwnRefusals() throws Exception {
    proxy = ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .errorPage(401, "<p>{status} {reason}: {detail}</p>").errorPage(429, "<p>slow down: {status}</p>")
        .filter(Filters.when(r -> r.path().startsWith("/private"), Filters.authentication()
            .bearerTokens(Set.of("token-123")).build()))
        .filter(Filters.rateLimit().perSecond(0.001).burst(1).build())
        .build().start();
    HttpResponse<String> page = send(get("/private").header("Accept", "text/html"));
    assertThat(page.statusCode()).isEqualTo(401);
    assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
    assertThat(page.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Basic"));
    assertThat(page.body()).isEqualTo("<p>401 Unauthorized: Authentication required</p>");
    HttpResponse<String> text = send(get("/private"));
    assertThat(text.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
    origin.enqueue(new MockResponse().setBody("first"));
    assertThat(send(get("/public")).body()).isEqualTo("first");
    HttpResponse<String> limited = send(get("/public").header("Accept", "text/html"));
    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(limited.headers().firstValue("Retry-After")).isPresent();
    assertThat(limited.body()).isEqualTo("<p>slow down: 429</p>");
  }

  @Test
  void appliesABuiltInFilterScopedByWhen() throws Exception {
    origin.enqueue(new MockResponse().setBody("first login"));
    origin.enqueue(new MockResponse().setBody("elsewhere"));
    proxyWith(Filters.when(r -> r.path().startsWith("/login"), Filters.rateLimit().perSecond(0.001).burst(1).build()));
    assertThat(send(get("/login")).body()).isEqualTo("first login");
    HttpResponse<String> limited = send(get("/login"));
    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(limited.headers().firstValue("Retry-After")).isPresent();
    assertThat(send(get("/elsewhere")).body()).isEqualTo("elsewhere");
  }

  @Test
  void limitsConcurrentRequestsPerClient() throws Exception {
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    origin.setDispatcher(new okhttp3.mockwebserver.Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
        release.await(10, TimeUnit.SECONDS);
        return new MockResponse().setBody("done");
      }
    });
    proxyWith(Filters.maxInFlightPerClient(1));
    java.util.concurrent.CompletableFuture<HttpResponse<String>> first =
        client.sendAsync(get("/slow").build(), HttpResponse.BodyHandlers.ofString());
    // Once the origin holds the first request, it is past the filter and counted in flight.
    dev.ferry.proxy.engine.filter.Raw.await(() -> origin.getRequestCount() == 1);
    HttpResponse<String> second = send(get("/slow"));
    assertThat(second.statusCode()).isEqualTo(429);
    release.countDown();
    assertThat(first.get(10, TimeUnit.SECONDS).body()).isEqualTo("done");
  }

  @Test
  void realisesBuiltInValuesOncePerProxyAndKeepsOtherFilters() {
    Filter user = (exchange, chain) -> chain.proceed(exchange.request());
    RateLimit limit = Filters.rateLimit().build();
    ProxyConfig config = ProxyServer.builder().filter(Filters.accessControl().denyHosts("x").build())
        .filter(user).filter(limit).filter(Filters.maxInFlightPerClient(2))
        .filter(Filters.proxyAuthentication().credentials(Map.of("a", "b")).build()).build().config();
    List<Filter> realised = BuiltInFilters.realise(config.filters(), config);
    assertThat(realised).hasExactlyElementsOfTypes(AccessFilter.class, user.getClass(), RateLimitFilter.class,
        InFlightLimitFilter.class, AuthenticationFilter.class);
    assertThat(realised.get(1)).isSameAs(user);
    assertThat(realised).extracting(Object::toString).isEqualTo(config.filters().stream().map(Object::toString).toList());
    assertThat(BuiltInFilters.realise(limit)).as("state belongs to each realisation").isNotSameAs(BuiltInFilters.realise(limit));
    assertThatThrownBy(() -> BuiltInFilters.realise(user)).isInstanceOf(IllegalArgumentException.class);
  }

  private static String basic(String userAndPassword) {
    return Base64.getEncoder().encodeToString(userAndPassword.getBytes(StandardCharsets.UTF_8));
  }
}
