package dev.ferry.proxy.engine.route;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.HealthCheck;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.Await;
import dev.ferry.proxy.engine.LogCapture;
import dev.ferry.proxy.engine.ProxyTestExtension;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #10: a backend that goes down and comes back, seen by active checks and by passive
 * outlier detection, end to end through a proxy; panic mode when too few are healthy.
 */
class HealthAndEjectionTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private final HttpClient client = HttpClient.newHttpClient();

  private String get(ProxyServer proxy, String path) throws Exception {
    HttpResponse<String> response = client.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + proxy.port() + path)).build(), HttpResponse.BodyHandlers.ofString());
    return response.statusCode() + " " + response.body();
  }

  private static String state(ProxyServer proxy, Origins endpoint) {
    return String.valueOf(proxy.stats().upstreamEndpoints().get("app").get("127.0.0.1:" + endpoint.port()));
  }

  private static void awaitState(ProxyServer proxy, Origins endpoint, String state) {
    Await.until(() -> state(proxy, endpoint).equals(state), Duration.ofSeconds(10),
        () -> endpoint.port() + " to be " + state);
  }

  /** How many of {@code requests} GETs the origin named {@code name} answered. */
  private int servedBy(ProxyServer proxy, String name, int requests) throws Exception {
    int served = 0;
    for (int i = 0; i < requests; i++) {
      served += get(proxy, "/" + i).startsWith("200 " + name) ? 1 : 0;
    }
    return served;
  }

  /**
   * Checked every 50 ms, one answer deciding; the timeout is long, since no test here waits for
   * it and a loaded machine took 500 ms for a healthy endpoint's answer, which marked it down.
   */
  private static HealthCheck fastCheck() {
    return HealthCheck.http("/health").interval(Duration.ofMillis(50)).timeout(Duration.ofSeconds(5))
        .healthyThreshold(1).unhealthyThreshold(1);
  }

  @Test
  void takesAnEndpointOutWhileItsHealthCheckFailsAndBringsItBack() throws Exception {
    Origins a = ferry.track(new Origins("a"));
    Origins b = ferry.track(new Origins("b"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(
        Upstream.pool(a.url(), b.url()).name("app").healthCheck(fastCheck()).panicThreshold(0)));
    a.health(503);
    awaitState(proxy, a, "unhealthy");
    int aBefore = a.nonHealthRequests();
    for (int i = 0; i < 10; i++) {
      assertThat(get(proxy, "/" + i)).isEqualTo("200 b /" + i);
    }
    assertThat(a.nonHealthRequests()).isEqualTo(aBefore);
    a.health(200);
    awaitState(proxy, a, "healthy");
    assertThat(servedBy(proxy, "a", 10)).isEqualTo(5);
  }

  /**
   * A reconfiguration that removes the pool's health check brings back the endpoints it had
   * marked unhealthy: nothing would ever check them again (they stayed out until a restart).
   */
  @Test
  void bringsBackEndpointsWhenTheirHealthCheckIsRemoved() throws Exception {
    Origins a = ferry.track(new Origins("a"));
    Origins b = ferry.track(new Origins("b"));
    Upstream checked = Upstream.pool(a.url(), b.url()).name("app").healthCheck(fastCheck()).panicThreshold(0);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(checked));
    a.health(503);
    awaitState(proxy, a, "unhealthy");
    proxy.reconfigure(proxy.config().toBuilder()
        .upstream(Upstream.pool(a.url(), b.url()).name("app").panicThreshold(0)).buildConfig());
    assertThat(proxy.stats().upstreamEndpoints().get("app")).containsEntry("127.0.0.1:" + a.port(), "healthy");
    assertThat(servedBy(proxy, "a", 10)).isEqualTo(5);
  }

  /**
   * The checks' streak survives reloads as the verdict does: started over at each, reloads more
   * often than interval × threshold kept a failing endpoint in rotation for ever (probe g14).
   */
  @Test
  void takesAnEndpointOutWhoseChecksFailAcrossReloads() throws Exception {
    Origins a = ferry.track(new Origins("a"));
    Origins b = ferry.track(new Origins("b"));
    Origins c = ferry.track(new Origins("c"));
    HealthCheck check = HealthCheck.http("/health").interval(Duration.ofMillis(50)).timeout(Duration.ofSeconds(5))
        .healthyThreshold(1).unhealthyThreshold(3);
    Upstream app = Upstream.pool(a.url(), b.url()).name("app").healthCheck(check).panicThreshold(0);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(app));
    a.health(503);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    for (int reload = 0; !state(proxy, a).equals("unhealthy"); reload++) {
      assertThat(System.nanoTime()).as("a marked unhealthy while reloads follow each check").isLessThan(deadline);
      int checked = a.requests() - a.nonHealthRequests();
      Await.until(() -> a.requests() - a.nonHealthRequests() > checked, "the next check of a");
      // Each reload changes a route beside the pool, which it leaves as it was.
      proxy.reconfigure(proxy.config().toBuilder()
          .routes(List.of(Route.to(Upstream.of(c.url()).name("other")).pathPrefix("/other" + reload + "/")))
          .buildConfig());
    }
  }

  /**
   * A reload that only renames the pool keeps what its checks found: the down endpoint stays out.
   * It came back healthy under the new name, and took half the traffic (probe g12).
   */
  @Test
  void keepsAnEndpointDownWhenAReloadOnlyRenamesItsPool() throws Exception {
    Origins a = ferry.track(new Origins("a"));
    Origins b = ferry.track(new Origins("b"));
    HealthCheck slowCheck = HealthCheck.http("/health").interval(Duration.ofSeconds(30)).timeout(Duration.ofMillis(500))
        .healthyThreshold(1).unhealthyThreshold(3);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(
        Upstream.pool(a.url(), b.url()).name("app").healthCheck(fastCheck()).panicThreshold(0)));
    a.health(503);
    awaitState(proxy, a, "unhealthy");
    // The renamed pool's checks need three failures in a row, 30 s apart: until then, only what
    // the old checks found can keep a out.
    // A new pool takes the old name (v12: the old pool's state went to it, by name alone).
    Origins c = ferry.track(new Origins("c"));
    proxy.reconfigure(proxy.config().toBuilder()
        .route(Route.to(Upstream.of(c.url()).name("app")).pathPrefix("/other/"))
        .upstream(Upstream.pool(a.url(), b.url()).name("app2").healthCheck(slowCheck).panicThreshold(0))
        .buildConfig());
    assertThat(proxy.stats().upstreamEndpoints().get("app2")).containsEntry("127.0.0.1:" + a.port(), "unhealthy");
    int aBefore = a.nonHealthRequests();
    for (int i = 0; i < 10; i++) {
      assertThat(get(proxy, "/" + i)).isEqualTo("200 b /" + i);
    }
    assertThat(a.nonHealthRequests()).isEqualTo(aBefore);
  }

  /**
   * Endpoints whose checks hang until their timeout delay no other endpoint's checks: each
   * checked endpoint has a thread (two shared threads let two hanging endpoints hold up the rest).
   */
  @Test
  void checksEveryEndpointOnTimeWhileOthersHang() throws Exception {
    Origins hanging1 = ferry.track(new Origins("h1"));
    Origins hanging2 = ferry.track(new Origins("h2"));
    Origins failing = ferry.track(new Origins("f"));
    hanging1.delay(8_000);
    hanging2.delay(8_000);
    failing.health(503);
    HealthCheck check = HealthCheck.http("/health").interval(Duration.ofMillis(50))
        .timeout(Duration.ofSeconds(6)).healthyThreshold(1).unhealthyThreshold(1);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(
        Upstream.pool(hanging1.url(), hanging2.url(), failing.url()).name("app").healthCheck(check)));
    // Two shared threads held it up for the hanging ones' 6 s timeout.
    Await.until(() -> state(proxy, failing).equals("unhealthy"), Duration.ofSeconds(3),
        () -> "the failing endpoint to be marked unhealthy while two others hang");
  }

  /** A proxy over {@code a} (answering 500, ejected after three) and {@code b}, once a is ejected. */
  private ProxyServer withFailingEndpointEjected(Origins a, Origins b) throws Exception {
    a.answer(500, "");
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(
        Upstream.pool(a.url(), b.url()).name("app").ejectAfter(3, Duration.ofSeconds(60))));
    for (int i = 0; i < 6; i++) {
      get(proxy, "/warm-" + i);
    }
    assertThat(proxy.stats().upstreamEndpoints().get("app")).containsEntry("127.0.0.1:" + a.port(), "ejected");
    return proxy;
  }

  /** Ten requests all served by b, none reaching a. */
  private void servedByBOnly(ProxyServer proxy, Origins a) throws Exception {
    int aBefore = a.requests();
    for (int i = 0; i < 10; i++) {
      assertThat(get(proxy, "/" + i)).isEqualTo("200 b /" + i);
    }
    assertThat(a.requests()).isEqualTo(aBefore);
  }

  @Test
  void ejectsAnEndpointThatKeepsFailingAndServesFromTheRest() throws Exception {
    Origins a = ferry.track(new Origins("a"));
    Origins b = ferry.track(new Origins("b"));
    ProxyServer proxy = withFailingEndpointEjected(a, b);
    servedByBOnly(proxy, a);
  }

  /**
   * An endpoint that answers its heads and then breaks its bodies off fails as one answering
   * 500 does (probe u11): before, the head counted as a success and the endpoint kept its share.
   */
  @Test
  void ejectsAnEndpointWhoseBodiesBreakOff() throws Exception {
    Origins a = ferry.track(new Origins("a"));
    Origins b = ferry.track(new Origins("b"));
    a.breakBodies();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(
        Upstream.pool(a.url(), b.url()).name("app").ejectAfter(3, Duration.ofSeconds(60))));
    for (int i = 0; i < 6; i++) {
      try {
        get(proxy, "/warm-" + i);
      } catch (IOException brokenOff) {
        // a's bodies end short of their length: the client sees the cut
      }
    }
    awaitState(proxy, a, "ejected");
    servedByBOnly(proxy, a);
  }

  /**
   * A large answer relayed whole counts as the success it is, though the relay stops at its
   * length without reading the end (probe v11: sporadic 503s around 20 KB downloads ejected
   * healthy endpoints).
   */
  @Test
  void countsALargeAnswerRelayedWholeAsASuccess() throws Exception {
    Origins a = ferry.track(new Origins("a"));
    Origins b = ferry.track(new Origins("b"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(
        Upstream.pool(a.url(), b.url()).name("app").ejectAfter(3, Duration.ofSeconds(60))));
    for (int[] step : new int[][] {{503, 4}, {200, 2}, {503, 4}}) {
      a.answer(step[0], "");
      b.answer(step[0], "");
      a.bodyPadding(step[0] == 200 ? 20_000 : 0);
      b.bodyPadding(step[0] == 200 ? 20_000 : 0);
      for (int i = 0; i < step[1]; i++) {
        assertThat(get(proxy, "/" + i)).startsWith(String.valueOf(step[0]));
      }
    }
    assertThat(state(proxy, a)).isEqualTo("healthy");
    assertThat(state(proxy, b)).isEqualTo("healthy");
  }

  /**
   * A reload that only changes an endpoint's weight keeps its live state (probe g8): an ejected
   * endpoint stays out. Before, the new weight made a new endpoint, healthy and not ejected, and
   * the dead backend took its new share of traffic until it was ejected again.
   */
  @Test
  void keepsAnEndpointEjectedWhenAReloadOnlyChangesItsWeight() throws Exception {
    Origins a = ferry.track(new Origins("a"));
    Origins b = ferry.track(new Origins("b"));
    ProxyServer proxy = withFailingEndpointEjected(a, b);

    proxy.reconfigure(proxy.config().toBuilder().upstream(Upstream.weighted(a.url(), 2)
        .endpoint(b.url(), 1).name("app").ejectAfter(3, Duration.ofSeconds(60))).buildConfig());

    assertThat(proxy.stats().upstreamEndpoints().get("app")).containsEntry("127.0.0.1:" + a.port(), "ejected");
    servedByBOnly(proxy, a);
  }

  /**
   * A request that fails for the client's sake (here a broken chunked body, streamed after a
   * 100 Continue; a body slower than minRequestBodyRate is the same) says nothing about the
   * endpoint: it must not count towards ejecting it.
   */
  @Test
  void doesNotEjectAnEndpointForTheClientsFailures() throws Exception {
    Origins a = ferry.track(new Origins("a"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(
        Upstream.pool(a.url()).name("app").ejectAfter(2, Duration.ofSeconds(60))));
    // The origin gets the head at once and would answer it before the broken chunk arrives;
    // held, it leaves the failure to the client.
    a.hold();
    for (int i = 0; i < 4; i++) {
      try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
        socket.setSoTimeout(10_000);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
            + "Expect: 100-continue\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        InputStream in = socket.getInputStream();
        assertThat(new String(in.readNBytes(25), StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
        out.write("5\r\nhello\r\nzz\r\n".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 400 ");
      }
    }
    a.release();
    assertThat(state(proxy, a)).isEqualTo("healthy");
    assertThat(get(proxy, "/after")).isEqualTo("200 a /after");
  }

  /**
   * The end of an ejection is logged when it happens, not with the pool's next request: an
   * idle pool's log showed an endpoint down for good (probe gateway F1).
   */
  @Test
  void logsTheEndOfAnEjectionWithoutARequest() throws Exception {
    Origins a = ferry.track(new Origins("a"));
    Origins b = ferry.track(new Origins("b"));
    a.answer(500, "");
    try (LogCapture logs = new LogCapture()) {
      ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(
          Upstream.pool(a.url(), b.url()).name("app").ejectAfter(3, Duration.ofSeconds(1))));
      for (int i = 0; i < 6; i++) {
        get(proxy, "/warm-" + i);
      }
      assertThat(logs.lines("endpoint_down pool=app endpoint=127.0.0.1:" + a.port())).hasSize(1);
      Await.until(() -> logs.lines("endpoint_up pool=app endpoint=127.0.0.1:" + a.port()
          + " reason=ejection_ended").size() == 1, Duration.ofSeconds(10), () -> "endpoint_up without a request");
    }
  }

  /** Panic mode's start and end are logged as the health checks move endpoints, requests or none. */
  @Test
  void logsPanicModeStartingAndEndingWithoutARequest() throws Exception {
    Origins a = ferry.track(new Origins("a"));
    Origins b = ferry.track(new Origins("b"));
    a.health(503);
    b.health(503);
    try (LogCapture logs = new LogCapture()) {
      ferry.start(ProxyServer.builder().upstream(
          Upstream.pool(a.url(), b.url()).name("app").healthCheck(fastCheck())));
      Await.until(() -> logs.lines("pool_panic pool=app available=0 total=2").size() == 1,
          Duration.ofSeconds(10), () -> "pool_panic without a request");
      a.health(200);
      b.health(200);
      Await.until(() -> logs.lines("pool_panic_ended pool=app available=2 total=2").size() == 1,
          Duration.ofSeconds(10), () -> "pool_panic_ended without a request");
    }
  }

  @Test
  void balancesOverAllEndpointsInPanicAndRefusesWithoutPanic() throws Exception {
    Origins a = ferry.track(new Origins("a"));
    Origins b = ferry.track(new Origins("b"));
    a.health(503);
    b.health(503);
    ProxyServer panicking = ferry.start(ProxyServer.builder().upstream(
        Upstream.pool(a.url(), b.url()).name("app").healthCheck(fastCheck())));
    ProxyServer strict = ferry.start(ProxyServer.builder().upstream(
        Upstream.pool(a.url(), b.url()).name("app").healthCheck(fastCheck()).panicThreshold(0)));
    for (ProxyServer proxy : new ProxyServer[] {panicking, strict}) {
      Await.until(() -> !proxy.stats().upstreamEndpoints().get("app").containsValue("healthy"),
          "every endpoint to be unhealthy");
    }
    assertThat(get(panicking, "/x")).matches("200 [ab] /x");
    assertThat(get(strict, "/x")).startsWith("503 No healthy upstream");
  }
}
