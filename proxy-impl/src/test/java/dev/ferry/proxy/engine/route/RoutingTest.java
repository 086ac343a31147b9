package dev.ferry.proxy.engine.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.ExchangeListener;
import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.ProxyTestExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Issue #10: host and path routing, first match wins, 404 without a match, per-route options. */
class RoutingTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private final HttpClient client = HttpClient.newHttpClient();

  private Origins origin(String name) throws Exception {
    return ferry.track(new Origins(name));
  }

  private HttpResponse<String> get(ProxyServer proxy, String path) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * java.net.http sets Host itself, so tests choose the host by a raw request instead; the
   * status and the body, after any {@code fieldLines} ("Name: value").
   */
  private static String raw(ProxyServer proxy, String host, String path, String... fieldLines) throws Exception {
    StringBuilder fields = new StringBuilder();
    for (String line : fieldLines) {
      fields.append(line).append("\r\n");
    }
    try (var socket = new java.net.Socket("127.0.0.1", proxy.port())) {
      socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host
          + "\r\nConnection: close\r\n" + fields + "\r\n").getBytes());
      String response = new String(socket.getInputStream().readAllBytes());
      return response.substring(9, 12) + " " + response.substring(response.indexOf("\r\n\r\n") + 4);
    }
  }

  @Test
  void routesByHostAndPathFirstMatchWinsAndCatchAllComesLast() throws Exception {
    Origins api = origin("api");
    Origins staticFiles = origin("static");
    Origins web = origin("web");
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of(web.url()))
        .route(Route.to(Upstream.of(api.url()).name("api")).host("api.example.test").pathPrefix("/v1/"))
        .route(Route.to(Upstream.of(staticFiles.url()).name("static")).pathPrefix("/static/")));
    assertThat(raw(proxy, "api.example.test", "/v1/users")).isEqualTo("200 api /v1/users");
    assertThat(raw(proxy, "API.example.test:8080", "/v1/users")).isEqualTo("200 api /v1/users");
    assertThat(raw(proxy, "other.test", "/v1/users")).isEqualTo("200 web /v1/users");
    assertThat(raw(proxy, "api.example.test", "/static/a.css")).isEqualTo("200 static /static/a.css");
    assertThat(raw(proxy, "x", "/")).isEqualTo("200 web /");
  }

  /**
   * Routes match the normalised path, which is also what goes upstream: dot-segments, encoded
   * dots and doubled slashes cannot name one route to the proxy and another to the backend.
   */
  @Test
  void routesAndForwardsTheNormalisedPath() throws Exception {
    Origins api = origin("api");
    Origins staticFiles = origin("static");
    Origins web = origin("web");
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of(web.url()))
        .route(Route.to(Upstream.of(api.url())).pathPrefix("/api/"))
        .route(Route.to(Upstream.of(staticFiles.url())).pathPrefix("/static/"))
        .route(Route.to(Upstream.of(api.url())).pathPrefix("/v1/").stripPrefix())
        .route(Route.to(Upstream.of(api.url())).pathPrefix("/v2").stripPrefix()));
    assertThat(raw(proxy, "x", "/static/../api/secret")).isEqualTo("200 api /api/secret");
    assertThat(raw(proxy, "x", "/static/%2e%2E/api/secret?q=%2e")).isEqualTo("200 api /api/secret?q=%2e");
    assertThat(raw(proxy, "x", "//static/./a.css")).isEqualTo("200 static /static/a.css");
    assertThat(raw(proxy, "x", "/%73tatic/a.css")).isEqualTo("200 static /static/a.css");
    assertThat(raw(proxy, "x", "/v1/../admin")).as("not under the stripped prefix").isEqualTo("200 web /admin");
    assertThat(raw(proxy, "x", "/v1/users/..")).isEqualTo("200 api /");
    assertThat(raw(proxy, "x", "/v2/users")).isEqualTo("200 api /users");
    assertThat(raw(proxy, "x", "/v2../admin")).as("what is left of /v2 is not ../admin").startsWith("400");
    assertThat(raw(proxy, "x", "/static/../../etc/passwd")).startsWith("400");
    assertThat(raw(proxy, "x", "/static/..%2Fapi/secret")).startsWith("400");
    assertThat(raw(proxy, "x", "/static/a%zz")).startsWith("400");
    assertThat(raw(proxy, "x", "/static/..;/api/secret")).as("servlet path parameters").startsWith("400");
    assertThat(raw(proxy, "x", "/api%2Fsecret")).as("an escaped slash").startsWith("400");
  }

  /**
   * A servlet container reads {@code /api;x/secret} as {@code /api/secret}: path parameters that
   * would pass by the {@code /api/} route for the catch-all in front of the same application
   * are refused; those that leave the route as it is are served as they came (probe h24).
   */
  @Test
  void refusesPathParametersThatWouldPassARouteBy() throws Exception {
    Origins api = origin("api");
    Origins web = origin("web");
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of(web.url()))
        .route(Route.to(Upstream.of(api.url())).pathPrefix("/api/")));
    for (String path : new String[] {"/api;x/secret", "/api;/secret", "/;x/api/secret", "/x/../api;jsessionid=1/s"}) {
      assertThat(raw(proxy, "x", path)).as(path).startsWith("400");
    }
    assertThat(raw(proxy, "x", "/api/secret;jsessionid=1")).isEqualTo("200 api /api/secret;jsessionid=1");
    assertThat(raw(proxy, "x", "/home;jsessionid=1?a=;b")).isEqualTo("200 web /home;jsessionid=1?a=;b");
    assertThat(raw(proxy, "x", "/api/x;v=1/y")).isEqualTo("200 api /api/x;v=1/y");
    assertThat(api.requests() + web.requests()).isEqualTo(3);
  }

  /**
   * A Host of two names, {@code evil.test,app.good.test}, matched a route for {@code *.good.test}
   * and reached its backend as an {@code X-Forwarded-Host} list whose first element is
   * {@code evil.test} (probe h25): a host is a DNS name or an address, so sub-delims and
   * percent-escapes in it are refused.
   */
  @Test
  void refusesAHostNoNameOrAddressCouldBe() throws Exception {
    Origins good = origin("good");
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.of(good.url())).host("*.good.test")));
    for (String host : new String[] {"evil.test,app.good.test", "evil.test;x=app.good.test", "a'b.good.test",
        "evil.test%2capp.good.test", "*.good.test", "a=b.good.test"}) {
      assertThat(raw(proxy, host, "/")).as(host).startsWith("400");
    }
    assertThat(raw(proxy, "App.Good.Test", "/")).isEqualTo("200 good /");
    assertThat(raw(proxy, "app_1.good.test:80", "/")).isEqualTo("200 good /");
    assertThat(good.requests()).isEqualTo(2);
  }

  /**
   * A route for the fully qualified {@code api.example.} matched no request: a request's Host
   * loses its trailing dot before matching, the route's kept it (probe e26).
   */
  @Test
  void routesAFullyQualifiedHostAsTheSameName() throws Exception {
    Origins api = origin("api");
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.of(api.url())).host("API.example.").name("api"))
        .route(Route.to(Upstream.of(api.url())).host("*.wild.example.").name("wild")));
    assertThat(raw(proxy, "api.example", "/")).isEqualTo("200 api /");
    assertThat(raw(proxy, "api.example.", "/")).isEqualTo("200 api /");
    assertThat(raw(proxy, "a.wild.example.", "/")).isEqualTo("200 api /");
    for (String host : new String[] {"api..example", ".api.example", "api.example..", "*..example"}) {
      assertThatThrownBy(() -> Route.to(Upstream.of(api.url())).host(host)).as(host)
          .hasMessageStartingWith("route host must be a host name or *.domain");
    }
  }

  @Test
  void answers404WhenNoRouteMatches() throws Exception {
    Origins api = origin("api");
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.of(api.url())).pathPrefix("/api/")));
    HttpResponse<String> response = get(proxy, "/other");
    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.body()).startsWith("No route for this request");
    assertThat(api.requests()).isZero();
    assertThat(proxy.stats().failures()).containsEntry("NO_ROUTE", 1L);
  }

  /**
   * A request for a prefix route's path without its last slash ({@code /v1} for {@code /v1/})
   * that no route matches is redirected to the path with the slash, its query kept, as nginx
   * answers for a prefix location written with its slash: 301 for GET and HEAD, 308 for other
   * methods, which must not turn into a GET. It was a 404, the "base" of a stripped API answering
   * that no route exists (gateway probe F2). A route that does match the path keeps it.
   */
  @Test
  void redirectsThePathOfAPrefixRouteWithoutItsSlashToTheRoute() throws Exception {
    Origins api = origin("api");
    Origins exact = origin("exact");
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.of(api.url()).name("api")).pathPrefix("/v1/").stripPrefix())
        .route(Route.to(Upstream.of(exact.url()).name("exact")).path("/v2"))
        .route(Route.to(Upstream.of(exact.url()).name("v2")).pathPrefix("/v2/")));
    HttpResponse<String> get = get(proxy, "/v1?page=2");
    assertThat(get.statusCode()).isEqualTo(301);
    assertThat(get.headers().firstValue("Location")).hasValue("/v1/?page=2");
    HttpResponse<String> post = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/v1"))
        .POST(HttpRequest.BodyPublishers.ofString("order")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(308);
    assertThat(post.headers().firstValue("Location")).hasValue("/v1/");
    assertThat(get(proxy, "/v2").body()).as("a route for the path itself").isEqualTo("exact /v2");
    assertThat(get(proxy, "/v3").statusCode()).isEqualTo(404);
    assertThat(api.requests()).isZero();
  }

  @Test
  void stripsPrefixAndAppliesRouteFiltersOnlyToItsRoute() throws Exception {
    Origins api = origin("api");
    Origins web = origin("web");
    List<String> seen = new ArrayList<>();
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.of(api.url())).name("api").pathPrefix("/api/").stripPrefix()
            .filter((exchange, chain) -> {
              seen.add(exchange.route().map(Route::name).orElse("none") + " " + exchange.request().path());
              return chain.proceed(exchange.request()).withHeader("X-Route", "api");
            }))
        .upstream(Upstream.of(web.url())));
    HttpResponse<String> response = get(proxy, "/api/users?id=1");
    assertThat(response.body()).isEqualTo("api /users?id=1");
    assertThat(response.headers().firstValue("X-Route")).hasValue("api");
    assertThat(seen).containsExactly("api /api/users");
    HttpResponse<String> other = get(proxy, "/home");
    assertThat(other.body()).isEqualTo("web /home");
    assertThat(other.headers().firstValue("X-Route")).isEmpty();
  }

  @Test
  void matchesMethodsAndHeaders() throws Exception {
    Origins canary = origin("canary");
    Origins stable = origin("stable");
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.of(canary.url()).name("canary")).method("GET").header("X-Canary", "1"))
        .upstream(Upstream.of(stable.url()).name("stable")));
    HttpResponse<String> flagged = client.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + proxy.port() + "/x")).header("X-Canary", "1").build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(flagged.body()).isEqualTo("canary /x");
    assertThat(get(proxy, "/x").body()).isEqualTo("stable /x");
  }

  /**
   * A header sent on several lines is matched as one line of its values joined (RFC 9110 §5.3):
   * "X-Canary: 0" beside "X-Canary: 1" is "0, 1", which a route for "1" does not take, the same
   * as one line "0, 1". Any line equal to the value used to be enough (probe g28).
   */
  @Test
  void matchesAHeaderSentOnSeveralLinesAsTheirJoinedValue() throws Exception {
    Origins canary = origin("canary");
    Origins both = origin("both");
    Origins stable = origin("stable");
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.of(canary.url()).name("canary")).header("X-Canary", "1"))
        .route(Route.to(Upstream.of(both.url()).name("both")).header("X-Canary", "0, 1"))
        .upstream(Upstream.of(stable.url()).name("stable")));
    assertThat(raw(proxy, "a", "/x", "X-Canary: 1")).isEqualTo("200 canary /x");
    assertThat(raw(proxy, "a", "/x", "X-Canary: 0", "X-Canary: 1")).isEqualTo("200 both /x");
    assertThat(raw(proxy, "a", "/x", "X-Canary: 0, 1")).isEqualTo("200 both /x");
    assertThat(raw(proxy, "a", "/x", "X-Canary: 1", "X-Canary: 0")).isEqualTo("200 stable /x");
  }

  /**
   * Routes that pick pools by a header send one URL to two pools: their answers are two entries,
   * never one served for the other (the cache's key is the URL; the pool tells them apart).
   */
  @Test
  void keepsTheCachedAnswersOfPoolsThatHeaderRoutesPickApart() throws Exception {
    Origins canary = cacheableOrigin("canary");
    Origins stable = cacheableOrigin("stable");
    ProxyServer proxy = ferry.start(ProxyServer.builder().cache(CacheSpec.inMemory())
        .route(Route.to(Upstream.of(canary.url()).name("canary")).header("X-Canary", "1"))
        .upstream(Upstream.of(stable.url()).name("stable")));
    HttpRequest flagged = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/home"))
        .header("X-Canary", "1").build();
    assertThat(client.send(flagged, HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("canary /home");
    assertThat(get(proxy, "/home").body()).isEqualTo("stable /home");
    assertThat(get(proxy, "/home").body()).isEqualTo("stable /home");
    assertThat(client.send(flagged, HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("canary /home");
    assertThat(canary.requests()).isEqualTo(1);
    assertThat(stable.requests()).isEqualTo(1);
  }

  /**
   * Two routes to one pool, one stripping its prefix: one URL is two upstream requests, and
   * their answers two entries (probe v22: the partition was the pool, and the second route was
   * answered with the first one's entry, Location rewritten for the first).
   */
  @Test
  void keepsTheCachedAnswersOfTwoRoutesToOnePoolApart() throws Exception {
    Origins api = cacheableOrigin("api");
    Upstream pool = Upstream.of(api.url()).name("api");
    ProxyServer proxy = ferry.start(ProxyServer.builder().cache(CacheSpec.inMemory())
        .route(Route.to(pool).name("v1").pathPrefix("/v1/").header("X-Api", "1").stripPrefix())
        .upstream(pool));
    HttpRequest flagged = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/v1/loc"))
        .header("X-Api", "1").build();
    assertThat(client.send(flagged, HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("api /loc");
    assertThat(get(proxy, "/v1/loc").body()).isEqualTo("api /v1/loc");
    assertThat(client.send(flagged, HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("api /loc");
    assertThat(get(proxy, "/v1/loc").body()).isEqualTo("api /v1/loc");
    assertThat(api.requests()).as("one fetch per route").isEqualTo(2);
  }

  /** As above, with two routes that share their pattern and so their name (probe v23). */
  @Test
  void keepsTheCachedAnswersOfTwoRoutesWithOnePatternApart() throws Exception {
    Origins api = cacheableOrigin("api");
    Upstream pool = Upstream.of(api.url()).name("api");
    ProxyServer proxy = ferry.start(ProxyServer.builder().cache(CacheSpec.inMemory())
        .route(Route.to(pool).pathPrefix("/v1/").header("X-Strip", "1").stripPrefix())
        .route(Route.to(pool).pathPrefix("/v1/")));
    HttpRequest flagged = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/v1/a"))
        .header("X-Strip", "1").build();
    assertThat(client.send(flagged, HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("api /a");
    assertThat(get(proxy, "/v1/a").body()).isEqualTo("api /v1/a");
    assertThat(api.requests()).isEqualTo(2);
  }

  @Test
  void reportsRouteAndEndpointInSummaries() throws Exception {
    Origins api = origin("api");
    BlockingQueue<ExchangeSummary> summaries = new LinkedBlockingQueue<>();
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.of(api.url())).name("api-route"))
        .listener(new ExchangeListener() {
          @Override
          public void exchangeCompleted(ExchangeSummary summary) {
            summaries.add(summary);
          }
        }));
    get(proxy, "/a");
    ExchangeSummary summary = summaries.poll(5, TimeUnit.SECONDS);
    assertThat(summary).isNotNull();
    assertThat(summary.route()).hasValue("api-route");
    assertThat(summary.upstream()).hasValue("127.0.0.1:" + api.port());
  }

  @Test
  void turnsTheCacheOffPerRoute() throws Exception {
    Origins cached = cacheableOrigin("cached");
    Origins live = cacheableOrigin("live");
    ProxyServer proxy = ferry.start(ProxyServer.builder().cache(CacheSpec.inMemory())
        .route(Route.to(Upstream.of(live.url()).name("live")).pathPrefix("/live/").cache(false))
        .upstream(Upstream.of(cached.url()).name("cached")));
    for (int i = 0; i < 3; i++) {
      get(proxy, "/page");
      get(proxy, "/live/page");
    }
    assertThat(cached.requests()).isEqualTo(1);
    assertThat(live.requests()).isEqualTo(3);
  }

  /**
   * RFC 9111 §4.4: a write invalidates what the cache holds for its target though its own route
   * does not cache (the common split of reads and writes); it went by, and the stale page stayed
   * (probe k12).
   */
  @Test
  void invalidatesTheCacheOnAWriteThroughARouteThatDoesNotCache() throws Exception {
    Origins reads = cacheableOrigin("reads");
    Origins writes = cacheableOrigin("writes");
    ProxyServer proxy = ferry.start(ProxyServer.builder().cache(CacheSpec.inMemory())
        .route(Route.to(Upstream.of(writes.url()).name("writes")).method("PUT", "POST", "PATCH", "DELETE").cache(false))
        .upstream(Upstream.of(reads.url()).name("reads")));
    get(proxy, "/items/1");
    get(proxy, "/items/1");
    assertThat(reads.requests()).isEqualTo(1);
    HttpResponse<String> put = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port()
        + "/items/1")).PUT(HttpRequest.BodyPublishers.ofString("new")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).isEqualTo(200);
    assertThat(writes.requests()).isEqualTo(1);
    get(proxy, "/items/1");
    assertThat(reads.requests()).as("the read after the write goes to the origin").isEqualTo(2);
  }

  /** An origin whose answers may be cached for a minute. */
  private Origins cacheableOrigin(String name) throws Exception {
    Origins origin = origin(name);
    origin.answer(200, "Cache-Control: max-age=60\r\n");
    return origin;
  }
}
