package dev.ferry.proxy.engine.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.AccessLogFormat;
import dev.ferry.proxy.Filters;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.Await;
import dev.ferry.proxy.engine.HoldingFilter;
import dev.ferry.proxy.engine.ProxyTestExtension;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Issue #10: routes and pools replaced on a running proxy, with no failed request. */
class ReconfigureTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @Test
  void swapsRoutesUnderLoadWithoutAFailedRequest() throws Exception {
    Origins blue = ferry.track(new Origins("blue"));
    Origins green = ferry.track(new Origins("green"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(blue.url()).name("app")));
    HttpClient client = HttpClient.newHttpClient();
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger sent = new AtomicInteger();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    CountDownLatch done = new CountDownLatch(4);
    List<Thread> load = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread thread = new Thread(() -> {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        try {
          while (running.get() && System.nanoTime() < deadline) {
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + proxy.port() + "/x")).build(), HttpResponse.BodyHandlers.ofString());
            sent.incrementAndGet();
            if (response.statusCode() != 200) {
              failures.add(response.statusCode() + " " + response.body());
            }
          }
        } catch (Exception e) {
          failures.add(e.toString());
        } finally {
          done.countDown();
        }
      }, "load-" + t);
      thread.setDaemon(true);
      load.add(thread);
      thread.start();
    }
    Await.until(() -> blue.requests() >= 50, "traffic to blue");
    ProxyConfig next = proxy.config().toBuilder().upstream(Upstream.of(green.url()).name("app")).buildConfig();
    proxy.reconfigure(next);
    int greenBefore = green.requests();
    Await.until(() -> green.requests() >= greenBefore + 50, "traffic to green");
    int blueAfterSwitch = blue.requests();
    Await.until(() -> green.requests() >= greenBefore + 100, "more traffic to green");
    running.set(false);
    assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
    assertThat(failures).isEmpty();
    // Once the swap is done, nothing more goes to the old pool (in-flight exchanges aside).
    assertThat(blue.requests() - blueAfterSwitch).isLessThanOrEqualTo(4);
    assertThat(proxy.config().upstream()).hasValueSatisfying(u -> assertThat(u.endpoints().get(0).port()).isEqualTo(green.port()));
  }

  /**
   * A reload keeps the state of built-in filters whose settings it keeps, proxy-wide and per
   * route: every SIGHUP (and so every log rotation) gave each client a fresh burst (probe g22).
   * One whose settings change starts afresh.
   */
  @Test
  void keepsRateLimitsAcrossAReloadThatKeepsTheirSettings() throws Exception {
    Origins app = ferry.track(new Origins("app"));
    // Proxy-wide: three per tenant (or per address without one); on /limited/, one per address.
    UnaryOperator<ProxyServer.Builder> limits = builder -> builder
        .filter(Filters.rateLimit().perSecond(0.01).burst(3).keyHeader("X-Tenant").build())
        .route(Route.to(Upstream.of(app.url()).name("app")).pathPrefix("/limited/")
            .filter(Filters.rateLimit().perSecond(0.01).burst(1).build()))
        .upstream(Upstream.of(app.url()).name("app"));
    ProxyServer proxy = ferry.start(limits.apply(ProxyServer.builder()));
    HttpClient client = HttpClient.newHttpClient();
    UnaryOperator<String> status = path -> {
      try {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path));
        if (path.startsWith("/c")) {
          request.header("X-Tenant", "t1");
        }
        return Integer.toString(client.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    assertThat(List.of(status.apply("/limited/a"), status.apply("/limited/b"))).containsExactly("200", "429");
    assertThat(List.of(status.apply("/c"), status.apply("/c"), status.apply("/c"), status.apply("/c")))
        .containsExactly("200", "200", "200", "429");
    proxy.reconfigure(ferry.config(limits.apply(ProxyServer.builder())));
    assertThat(status.apply("/c")).as("the proxy-wide bucket, kept").isEqualTo("429");
    assertThat(status.apply("/limited/a")).as("the route's bucket, kept").isEqualTo("429");
    proxy.reconfigure(ferry.config(ProxyServer.builder()
        .filter(Filters.rateLimit().perSecond(0.01).burst(4).keyHeader("X-Tenant").build())
        .upstream(Upstream.of(app.url()).name("app"))));
    assertThat(status.apply("/c")).as("new settings, a new bucket").isEqualTo("200");
  }

  /**
   * Two routes that share their pattern, and so their name, each keep their own limiter over a
   * reload (probe v23: both took the first one's).
   */
  @Test
  void keepsTheRateLimitsOfRoutesThatShareAPatternApart() throws Exception {
    Origins app = ferry.track(new Origins("app"));
    UnaryOperator<ProxyServer.Builder> routes = builder -> builder
        .route(Route.to(Upstream.of(app.url()).name("app")).pathPrefix("/v1/").header("X-A", "1")
            .filter(Filters.rateLimit().perSecond(0.01).burst(1).build()))
        .route(Route.to(Upstream.of(app.url()).name("app")).pathPrefix("/v1/")
            .filter(Filters.rateLimit().perSecond(0.01).burst(1).build()));
    ProxyServer proxy = ferry.start(routes.apply(ProxyServer.builder()));
    HttpClient client = HttpClient.newHttpClient();
    HttpRequest flagged = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/v1/x"))
        .header("X-A", "1").build();
    HttpRequest plain = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/v1/x")).build();
    assertThat(client.send(flagged, HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
    assertThat(client.send(flagged, HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(429);
    proxy.reconfigure(ferry.config(routes.apply(ProxyServer.builder())));
    assertThat(client.send(plain, HttpResponse.BodyHandlers.discarding()).statusCode())
        .as("the second route's own bucket, untouched").isEqualTo(200);
    assertThat(client.send(flagged, HttpResponse.BodyHandlers.discarding()).statusCode())
        .as("the first route's, kept").isEqualTo(429);
  }

  /**
   * A reload that removes an endpoint closes the idle connections to it at once (probe g8), as
   * nginx and Envoy do; they stayed open until their keep-alive ran out. Those to the endpoint
   * that stays are kept.
   */
  @Test
  void closesIdleConnectionsToAnEndpointTheReloadRemoved() throws Exception {
    Origins kept = ferry.track(new Origins("kept"));
    Origins removed = ferry.track(new Origins("removed"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstreamKeepAlive(Duration.ofSeconds(30))
        .upstream(Upstream.pool(kept.url(), removed.url()).name("app")));
    HttpClient client = HttpClient.newHttpClient();
    for (int i = 0; i < 4; i++) {
      client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/" + i)).build(),
          HttpResponse.BodyHandlers.discarding());
    }
    Await.until(() -> proxy.stats().upstreamConnectionsIdle() == 2, "one idle connection to each endpoint");

    proxy.reconfigure(proxy.config().toBuilder().upstream(Upstream.of(kept.url()).name("app")).buildConfig());

    assertThat(proxy.stats().upstreamConnectionsIdle()).isEqualTo(1);
    assertThat(proxy.stats().upstreamConnectionsOpen()).isEqualTo(1);
  }

  /**
   * A connection busy with an exchange when the reload removed its endpoint finishes the exchange
   * and is closed as it comes back, not pooled again to an endpoint no pool leads to (probe
   * g25: it stayed open for the whole keep-alive). An endpoint removed and then added again is
   * pooled again.
   */
  @Test
  void closesTheBusyConnectionToARemovedEndpointWhenItsExchangeEnds() throws Exception {
    Origins kept = ferry.track(new Origins("kept"));
    Origins removed = ferry.track(new Origins("removed"));
    CountDownLatch answered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstreamKeepAlive(Duration.ofSeconds(30))
        .upstream(Upstream.of(removed.url()).name("app"))
        .filter((exchange, chain) -> {
          // Holds the exchange with its answer's body still unread: the connection is busy.
          var response = chain.proceed(exchange.request());
          answered.countDown();
          try {
            release.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return response;
        }));
    HttpClient client = HttpClient.newHttpClient();
    var answer = client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/x"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(answered.await(10, TimeUnit.SECONDS)).isTrue();

    proxy.reconfigure(proxy.config().toBuilder().upstream(Upstream.of(kept.url()).name("app")).buildConfig());
    release.countDown();

    assertThat(answer.get(10, TimeUnit.SECONDS).body()).isEqualTo("removed /x");
    Await.until(() -> proxy.stats().upstreamConnectionsOpen() == 0, "the connection to the removed endpoint closed");
    assertThat(proxy.stats().upstreamConnectionsIdle()).isZero();

    proxy.reconfigure(proxy.config().toBuilder().upstream(Upstream.of(removed.url()).name("app")).buildConfig());
    client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/y")).build(),
        HttpResponse.BodyHandlers.discarding());
    Await.until(() -> proxy.stats().upstreamConnectionsIdle() == 1, "the endpoint back in the pool is pooled again");
  }

  /**
   * The event loops keep idle upstream connections of their own: a reload that removes an
   * endpoint closes theirs too (they stayed open for the whole keep-alive). HTTP/1.1 clients,
   * whose requests the loops serve.
   */
  @Test
  void closesTheLoopsIdleConnectionsToAnEndpointTheReloadRemoved() throws Exception {
    Origins kept = ferry.track(new Origins("kept"));
    Origins removed = ferry.track(new Origins("removed"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstreamKeepAlive(Duration.ofSeconds(30))
        .upstream(Upstream.pool(kept.url(), removed.url()).name("app")));
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    for (int i = 0; i < 4; i++) {
      client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/" + i)).build(),
          HttpResponse.BodyHandlers.discarding());
    }
    Await.until(() -> proxy.stats().upstreamConnectionsIdle() == 2, "one idle connection to each endpoint");

    proxy.reconfigure(proxy.config().toBuilder().upstream(Upstream.of(kept.url()).name("app")).buildConfig());

    Await.until(() -> proxy.stats().upstreamConnectionsOpen() == 1, "the idle connection to the removed endpoint closed");
    assertThat(proxy.stats().upstreamConnectionsIdle()).isEqualTo(1);
  }

  /**
   * A loop's connection busy when the reload removed its endpoint closes as its exchange ends,
   * rather than go back to the loop's idle ones.
   */
  @Test
  void closesALoopsBusyConnectionToARemovedEndpointWhenItsExchangeEnds() throws Exception {
    Origins kept = ferry.track(new Origins("kept"));
    Origins removed = ferry.track(new Origins("removed"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstreamKeepAlive(Duration.ofSeconds(30))
        .upstream(Upstream.of(removed.url()).name("app")));
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    removed.hold();
    var busy = client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/busy"))
        .build(), HttpResponse.BodyHandlers.ofString());
    Await.until(() -> removed.requestsInFlight() == 1, "the request held by the endpoint about to be removed");

    proxy.reconfigure(proxy.config().toBuilder().upstream(Upstream.of(kept.url()).name("app")).buildConfig());
    removed.release();

    assertThat(busy.get(10, TimeUnit.SECONDS).body()).isEqualTo("removed /busy");
    Await.until(() -> proxy.stats().upstreamConnectionsOpen() == 0, "the connection to the removed endpoint closed");
    assertThat(proxy.stats().upstreamConnectionsIdle()).isZero();
  }

  /**
   * An exchange goes through the filters and the routes of one configuration: one that began in
   * the old filters is routed by the old table. Before, it took the new routes after the old
   * filters, and a reload that added authentication and a route to an admin pool together let
   * unauthenticated requests reach that pool.
   */
  @Test
  void routesAnExchangeByTheConfigurationWhoseFiltersItRan() throws Exception {
    Origins blue = ferry.track(new Origins("blue"));
    Origins green = ferry.track(new Origins("green"));
    CountDownLatch inFilter = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(blue.url()).name("app"))
        .filter(HoldingFilter.holding(null, inFilter, release)));
    HttpClient client = HttpClient.newHttpClient();
    var answer = client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/x"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(inFilter.await(10, TimeUnit.SECONDS)).isTrue();

    proxy.reconfigure(ferry.config(ProxyServer.builder().upstream(Upstream.of(green.url()).name("app"))));
    release.countDown();

    assertThat(answer.get(10, TimeUnit.SECONDS).body()).isEqualTo("blue /x");
    assertThat(green.requests()).isZero();
  }

  /** A route and a filter are taken out of a running proxy's configuration through its builder. */
  @Test
  void takesARouteAndAFilterOutOfTheRunningConfiguration() throws Exception {
    Origins stable = ferry.track(new Origins("stable"));
    Origins canary = ferry.track(new Origins("canary"));
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.of(canary.url()).name("canary")).name("canary").pathPrefix("/new/"))
        .upstream(Upstream.of(stable.url()).name("stable"))
        .filter(Filters.setRequestHeader("X-Stage", "canary")));
    HttpClient client = HttpClient.newHttpClient();
    URI uri = URI.create("http://127.0.0.1:" + proxy.port() + "/new/x");
    assertThat(client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body())
        .isEqualTo("canary /new/x");

    ProxyConfig current = proxy.config();
    proxy.reconfigure(current.toBuilder()
        .routes(current.routes().stream().filter(r -> !"canary".equals(r.name())).toList())
        .filters(List.of()).buildConfig());

    assertThat(client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body())
        .isEqualTo("stable /new/x");
    assertThat(proxy.config().routes()).isEmpty();
    assertThat(proxy.config().filters()).isEmpty();
  }

  @Test
  void refusesToChangeWhatARunningProxyCannot() throws Exception {
    Origins blue = ferry.track(new Origins("blue"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(blue.url())));
    assertThatThrownBy(() -> proxy.reconfigure(proxy.config().toBuilder().idleTimeout(Duration.ofSeconds(3)).buildConfig()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("idleTimeout cannot change");
    assertThatThrownBy(() -> proxy.reconfigure(proxy.config().toBuilder().requestBufferBytes(0).buildConfig()))
        .hasMessageStartingWith("requestBufferBytes cannot change");
    assertThatThrownBy(() -> proxy.reconfigure(proxy.config().toBuilder().requestSpoolBytes(0).buildConfig()))
        .hasMessageStartingWith("requestSpoolBytes cannot change");
    Path spool = Path.of(System.getProperty("java.io.tmpdir"));
    assertThatThrownBy(() -> proxy.reconfigure(proxy.config().toBuilder().requestSpoolDirectory(spool).buildConfig()))
        .hasMessageStartingWith("requestSpoolDirectory cannot change on a running proxy (was none, asked " + spool + ")");
    // Bound into the running logger, error renderer, admin listener and connections: refused
    // by name instead of accepted and ignored.
    for (UnaryOperator<ProxyServer.Builder> change : List.<UnaryOperator<ProxyServer.Builder>>of(
        b -> b.accessLog(AccessLogFormat.JSON), b -> b.quietLogs(true), b -> b.errorPage(502, "<p>down</p>"),
        b -> b.requestIdHeader("X-Trace-Id"), b -> b.admin(new InetSocketAddress("127.0.0.1", 0)),
        b -> b.eventLoop(!proxy.config().eventLoop()))) {
      assertThatThrownBy(() -> proxy.reconfigure(change.apply(proxy.config().toBuilder()).buildConfig()))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot change on a running proxy");
    }
    // Every cache option counts: a new status header was taken, shown by config(), and never
    // applied (probe e25).
    ProxyServer cached = ferry.start(ProxyServer.builder().upstream(Upstream.of(blue.url()))
        .cache(dev.ferry.proxy.CacheSpec.inMemory()));
    assertThatThrownBy(() -> cached.reconfigure(cached.config().toBuilder()
        .cache(dev.ferry.proxy.CacheSpec.inMemory().statusHeader("X-My-Cache")).buildConfig()))
        .hasMessageStartingWith("cache cannot change on a running proxy").hasMessageContaining("statusHeader=X-My-Cache");
    assertThat(cached.config().cache().orElseThrow().statusHeader()).isEqualTo("X-Cache");
    cached.reconfigure(cached.config().toBuilder().cache(dev.ferry.proxy.CacheSpec.inMemory()).buildConfig());
    ProxyServer forward = ferry.start(ProxyServer.builder());
    assertThatThrownBy(() -> forward.reconfigure(forward.config().toBuilder().statsOnProxyPort(false).buildConfig()))
        .hasMessageStartingWith("statsOnProxyPort cannot change on a running proxy");
    assertThatThrownBy(() -> forward.reconfigure(forward.config().toBuilder()
        .route(Route.to(Upstream.of(blue.url()))).buildConfig()))
        .hasMessageStartingWith("mode (forward or reverse) cannot change on a running proxy (was forward, asked reverse)");
    assertThatThrownBy(() -> ProxyServer.builder().build().reconfigure(proxy.config()))
        .isInstanceOf(IllegalStateException.class);
  }
}
