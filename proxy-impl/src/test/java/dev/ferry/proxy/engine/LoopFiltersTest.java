package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.Filters;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A reverse proxy's built-in access control, rate limits and credentials on the event loops,
 * shown there by the proxy's one thread being held (a thread's request is refused 503: no thread,
 * no queue): a request they pass goes upstream from the loop; one they refuse is answered there
 * (403, 429, 401) as the threads would answer it, and never reaches the origin.
 */
@DisabledIfSystemProperty(named = "ferry.test.eventLoop", matches = "false",
    disabledReason = "these tests are of the event loops, which -Dferry.test.eventLoop=false turns off")
class LoopFiltersTest {
  private static final String ALICE = "Authorization: Basic "
      + Base64.getEncoder().encodeToString("alice:s3cret".getBytes()) + "\r\n";

  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  private static ProxyServer.Builder oneThread() {
    return ProxyServer.builder().concurrency(Concurrency.boundedPool(1, 0));
  }

  /** Holds the proxy's one thread with a chunked POST carrying {@code fields}, the origin's first request. */
  private static void hold(RawClient client, String fields, AtomicInteger requests) throws IOException {
    HoldingOrigin.hold(client, "/hold", fields, requests, 1);
  }

  /**
   * Lets the held POST be answered and waits until the proxy's one thread is free again, for a
   * request the loop hands over next: the thread finishes its exchange after the answer is sent.
   */
  private static void release(HoldingOrigin origin, RawClient held, ProxyServer proxy) throws IOException {
    assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    Await.until(() -> proxy.stats().activeWorkers() == 0, "the proxy's one thread to be free");
  }

  private static String get(String target, String fields) {
    return "GET " + target + " HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n";
  }

  /**
   * Requests that the access rules, the rate limit and the credentials pass are served while
   * the one thread is held, the credentials passed on to the origin; ones without credentials or
   * to a denied host are answered on the loop too (401 with the challenge, 403), a HEAD's without
   * a body, the connection kept for the next request; none of them reaches the origin, and each
   * is counted as the failure it is.
   */
  @Test
  void answersWhatItsFiltersRefuseOnTheLoops() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread().upstream(Upstream.of(origin.origin().url("/")))
        .filter(Filters.accessControl().denyHosts("blocked.example").allowClients("127.0.0.0/8", "::1/128").build())
        .filter(Filters.rateLimit().perSecond(1000).burst(1000).build())
        .filter(Filters.authentication().credentials(Map.of("alice", "s3cret")).build()));
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      hold(held, ALICE, origin.requests());
      for (int i = 0; i < 3; i++) {
        assertThat(raw.send(get("/passed", ALICE)).readResponse().bodyText()).isEqualTo("ok");
      }
      RawClient.RawResponse anonymous = raw.send(get("/anonymous", "")).readResponse();
      assertThat(anonymous.status()).isEqualTo(401);
      assertThat(anonymous.header("www-authenticate")).startsWith("Basic realm=");
      assertThat(anonymous.bodyText()).isEqualTo("Authentication required\n");
      RawClient.RawResponse blocked = raw.send("GET /blocked HTTP/1.1\r\nHost: blocked.example\r\n" + ALICE + "\r\n")
          .readResponse();
      assertThat(blocked.status()).isEqualTo(403);
      assertThat(blocked.bodyText()).contains("blocked.example");
      RawClient.RawResponse head = raw.send("HEAD /anonymous HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(true);
      assertThat(head.status()).isEqualTo(401);
      assertThat(raw.send(get("/passed", ALICE)).readResponse().bodyText()).as("the next request").isEqualTo("ok");
      assertThat(origin.requests().get()).as("requests the origin got while the thread was held").isEqualTo(5);
      release(origin, held, proxy);
    }
    origin.origin().takeRequest(); // the held POST
    for (int i = 0; i < 4; i++) {
      TinyOrigin.Received passed = origin.origin().takeRequest();
      assertThat(passed.requestLine()).isEqualTo("GET /passed HTTP/1.1");
      assertThat(passed.header("authorization")).isEqualTo(ALICE.substring(15).trim());
    }
    assertThat(proxy.stats().failures()).containsEntry("AUTHENTICATION_REQUIRED", 2L).containsEntry("DENIED", 1L);
  }

  /**
   * Requests pipelined behind one the loop refuses are served in turn on the loop: a refused GET,
   * then a refused POST whose small body came with it (read, not taken for a request), then a GET
   * that passes, written at once while the one thread is held.
   */
  @Test
  void servesWhatIsPipelinedBehindARefusal() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread().upstream(Upstream.of(origin.origin().url("/")))
        .filter(Filters.authentication().credentials(Map.of("alice", "s3cret")).build()));
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      hold(held, ALICE, origin.requests());
      raw.send(get("/first", "") + "POST /second HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nGET "
          + get("/third", ALICE));
      assertThat(raw.readResponse().status()).isEqualTo(401);
      assertThat(raw.readResponse().status()).isEqualTo(401);
      assertThat(raw.readResponse().bodyText()).isEqualTo("ok");
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    origin.origin().takeRequest(); // the held POST
    assertThat(origin.origin().takeRequest().requestLine()).isEqualTo("GET /third HTTP/1.1");
    assertThat(origin.requests().get()).isEqualTo(2);
  }

  /**
   * A rate limit's token is taken once for each request a loop serves: with a burst of four, the
   * held POST and three GETs on the loop pass, and the loop answers the next GET 429, with
   * {@code Retry-After}, the thread still held.
   */
  @Test
  void takesOneTokenForEachRequestALoopServes() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread().upstream(Upstream.of(origin.origin().url("/")))
        .filter(Filters.rateLimit().perSecond(0.001).burst(4).build()));
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      hold(held, "", origin.requests());
      for (int i = 0; i < 3; i++) {
        assertThat(raw.send(get("/limited", "")).readResponse().status()).as("GET %d", i).isEqualTo(200);
      }
      RawClient.RawResponse limited = raw.send(get("/limited", "")).readResponse();
      assertThat(limited.status()).isEqualTo(429);
      assertThat(limited.header("retry-after")).isNotNull();
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(origin.requests().get()).isEqualTo(4);
    assertThat(proxy.stats().failures()).containsEntry("RATE_LIMITED", 1L);
  }

  /**
   * A cached answer a rate limit refuses is no hit: with a burst of three, the held POST, a miss
   * and a hit pass, and the next request, which the store would answer, is answered 429 and
   * counted as nothing but the refusal, as on the threads, where the limit runs before the cache.
   */
  @Test
  void countsNoHitForAStoredAnswerARateLimitRefuses() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger requests = new AtomicInteger();
    HoldingOrigin origin = new HoldingOrigin(release, requests, HoldingOrigin.start(ferry, release, requests,
        "Cache-Control: max-age=600\r\n", line -> HoldingOrigin.OK));
    ProxyServer proxy = ferry.start(oneThread().upstream(Upstream.of(origin.origin().url("/")))
        .cache(CacheSpec.inMemory()).filter(Filters.rateLimit().perSecond(0.001).burst(3).build()));
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      hold(held, "", origin.requests());
      assertThat(raw.send(get("/page", "")).readResponse().header("x-cache")).isEqualTo("MISS");
      assertThat(raw.send(get("/page", "")).readResponse().header("x-cache")).isEqualTo("HIT");
      assertThat(raw.send(get("/page", "")).readResponse().status()).isEqualTo(429);
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(proxy.cache().orElseThrow().stats().hits()).isEqualTo(1);
    assertThat(proxy.cache().orElseThrow().stats().misses()).isEqualTo(1);
  }

  /**
   * A stale entry's background refresh (stale-while-revalidate) starts when the stale answer is
   * sent, not when the loop finds it: a request a rate limit then refuses starts none, as on the
   * threads, where the limit runs before the cache. Client a's third request is refused; b's,
   * answered stale, starts the only refresh, which carries b's fields (the loop started one
   * for a's refused request, whose conditional GET came first, carrying a's).
   */
  @Test
  void startsNoStaleWhileRevalidateRefreshForARequestARateLimitRefuses() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger requests = new AtomicInteger();
    java.util.concurrent.BlockingQueue<String> refreshedFor = new java.util.concurrent.LinkedBlockingQueue<>();
    TinyOrigin origin = HoldingOrigin.answeringRequests(ferry, release, requests, request -> {
      if (request.header("if-none-match") != null) {
        refreshedFor.add(request.header("x-client"));
        return "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nCache-Control: max-age=0, stale-while-revalidate=600\r\n\r\n"
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
      }
      return ("HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nCache-Control: max-age=0, stale-while-revalidate=600\r\n"
          + "Content-Length: 2\r\n\r\nok").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    });
    ProxyServer proxy = ferry.start(oneThread().upstream(Upstream.of(origin.url("/"))).cache(CacheSpec.inMemory())
        .filter(Filters.rateLimit().perSecond(0.001).burst(2).keyHeader("X-Client").build()));
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      hold(held, "", requests);
      assertThat(raw.send(get("/page", "X-Client: a\r\n")).readResponse().header("x-cache")).isEqualTo("MISS");
      assertThat(raw.send(get("/other", "X-Client: a\r\n")).readResponse().status()).isEqualTo(200);
      assertThat(raw.send(get("/page", "X-Client: a\r\n")).readResponse().status()).isEqualTo(429);
      assertThat(raw.send(get("/page", "X-Client: b\r\n")).readResponse().header("x-cache")).isEqualTo("STALE");
      assertThat(refreshedFor.poll(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("b");
      release.countDown();
      assertThat(held.readResponse().status()).isEqualTo(200);
    }
  }

  /**
   * A miss a rate limit refuses once the cache was asked gives up the lead on its URL it took
   * there: another client's miss of that URL is then fetched on the loop, not handed to a thread
   * to wait for a fetch that never comes (here the one thread is held: it would be 503).
   */
  @Test
  void withdrawsTheLeadOfAMissARateLimitRefuses() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger requests = new AtomicInteger();
    TinyOrigin origin = HoldingOrigin.answeringRequests(ferry, release, requests, request ->
        "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: 2\r\n\r\nok"
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    ProxyServer proxy = ferry.start(oneThread().upstream(Upstream.of(origin.url("/"))).cache(CacheSpec.inMemory())
        .filter(Filters.rateLimit().perSecond(0.001).burst(1).keyHeader("X-Client").build()));
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      hold(held, "X-Client: h\r\n", requests);
      assertThat(raw.send(get("/other", "X-Client: a\r\n")).readResponse().status()).isEqualTo(200);
      assertThat(raw.send(get("/page", "X-Client: a\r\n")).readResponse().status()).isEqualTo(429);
      RawClient.RawResponse missed = raw.send(get("/page", "X-Client: b\r\n")).readResponse();
      assertThat(missed.status()).isEqualTo(200);
      assertThat(missed.header("x-cache")).isEqualTo("MISS");
      release.countDown();
      assertThat(held.readResponse().status()).isEqualTo(200);
    }
    assertThat(proxy.cache().orElseThrow().stats().misses()).as("misses: /other and b's /page").isEqualTo(2);
  }

  /**
   * A request a later filter refuses still costs what the filters before it took, as on the
   * threads: with a burst of three, the held POST and two requests to a denied host (403) spend
   * the tokens, and the next request is answered 429.
   */
  @Test
  void takesTheTokensOfTheChecksBeforeTheOneThatRefuses() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread().upstream(Upstream.of(origin.origin().url("/")))
        .filter(Filters.rateLimit().perSecond(0.001).burst(3).build())
        .filter(Filters.accessControl().denyHosts("blocked.example").build()));
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      hold(held, "", origin.requests());
      for (int i = 0; i < 2; i++) {
        assertThat(raw.send("GET /blocked HTTP/1.1\r\nHost: blocked.example\r\n\r\n").readResponse().status())
            .as("denied %d", i).isEqualTo(403);
      }
      assertThat(raw.send(get("/allowed", "")).readResponse().status()).isEqualTo(429);
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(origin.requests().get()).isEqualTo(1);
  }

  /**
   * A route's own filters are asked on the loop too, after the proxy's, and with what they pass
   * on: the route's access rules deny a method the proxy's credentials check let through, and the
   * loop answers it 403, its small body read, the connection kept.
   */
  @Test
  void asksARoutesFiltersAfterTheProxys() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread()
        .filter(Filters.authentication().credentials(Map.of("alice", "s3cret")).build())
        .route(Route.to(Upstream.of(origin.origin().url("/"))).pathPrefix("/")
            .filter(Filters.accessControl().denyMethods("PATCH").build())));
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      hold(held, ALICE, origin.requests());
      assertThat(raw.send(get("/routed", ALICE)).readResponse().bodyText()).isEqualTo("ok");
      assertThat(raw.send("PATCH /denied HTTP/1.1\r\nHost: a\r\n" + ALICE + "Content-Length: 1\r\n\r\nx")
          .readResponse().status()).as("a denied method").isEqualTo(403);
      assertThat(raw.send(get("/routed", ALICE)).readResponse().bodyText()).isEqualTo("ok");
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    origin.origin().takeRequest(); // the held POST
    assertThat(origin.origin().takeRequest().requestLine()).isEqualTo("GET /routed HTTP/1.1");
    assertThat(origin.origin().takeRequest().requestLine()).isEqualTo("GET /routed HTTP/1.1");
    assertThat(origin.requests().get()).isEqualTo(3);
  }

  /**
   * What the loop answers for a filter is what the threads answer, field for field and byte for
   * byte: a 401 rewritten by the proxy's response rewrite before the credentials check but not
   * by the route's after it, as a page to a client that reads HTML, and a route's 403, which no
   * rewrite sees (an exception on the threads), and the 400 for a host the route's access rules
   * cannot read, after which the connection closes.
   */
  @Test
  void answersRefusalsAsTheThreadsDo() throws Exception {
    String[] requests = {
        get("/anonymous", ""),
        get("/anonymous", "Accept: text/html\r\n"),
        "GET /blocked HTTP/1.1\r\nHost: blocked.example\r\n" + ALICE + "\r\n",
        "GET /blocked HTTP/1.1\r\nHost: blocked.example\r\nAccept: text/html\r\n" + ALICE + "\r\n",
        "GET /ambiguous HTTP/1.1\r\nHost: 0x7f.1\r\n" + ALICE + "\r\n"};
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer loops = ferry.start(refusing(oneThread(), origin));
    ProxyServer threads = ferry.start(refusing(ProxyServer.builder().eventLoop(false), origin));
    try (RawClient held = new RawClient(loops.address()); RawClient onLoop = new RawClient(loops.address());
        RawClient onThread = new RawClient(threads.address())) {
      hold(held, ALICE, origin.requests());
      List<RawClient.RawResponse> answers = LoopParity.sameAnswers(onLoop, onThread, requests);
      assertThat(answers).extracting(RawClient.RawResponse::status).containsExactly(401, 401, 403, 403, 400);
      assertThatThrownBy(() -> onLoop.send(get("/next", ALICE)).readResponse())
          .as("closed after the 400, as the threads close it").isInstanceOf(IOException.class);
      assertThat(answers.get(0).header("x-tier")).isEqualTo("edge");
      assertThat(answers.get(0).header("x-route")).isNull();
      assertThat(answers.get(1).header("content-type")).startsWith("text/html");
      assertThat(answers.get(2).header("x-tier")).isNull();
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(loops.stats().failures()).isEqualTo(threads.stats().failures());
    assertThat(origin.requests().get()).isEqualTo(1);
  }

  /**
   * A gateway's answer to a request no route matches is the loop's too, as the threads give it:
   * a redirect to the path with its slash where that is a prefix route's (301 to a GET, 308 to a
   * POST), through the proxy's response rewrite, and a 404 otherwise, a HEAD's without a body.
   */
  @Test
  void answersRequestsNoRouteMatchesAsTheThreadsDo() throws Exception {
    String[] requests = {
        get("/v1", ""),
        "POST /v1?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
        get("/nothing", ""),
        get("/nothing", "Accept: text/html\r\n"),
        "HEAD /nothing HTTP/1.1\r\nHost: a\r\n\r\n"};
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer loops = ferry.start(gateway(oneThread(), origin));
    ProxyServer threads = ferry.start(gateway(ProxyServer.builder().eventLoop(false), origin));
    try (RawClient held = new RawClient(loops.address()); RawClient onLoop = new RawClient(loops.address());
        RawClient onThread = new RawClient(threads.address())) {
      HoldingOrigin.hold(held, "/v1/hold", "", origin.requests(), 1);
      List<RawClient.RawResponse> answers = LoopParity.sameAnswers(onLoop, onThread, requests);
      assertThat(answers).extracting(RawClient.RawResponse::status).containsExactly(301, 308, 404, 404, 404);
      assertThat(answers.get(0).header("location")).isEqualTo("/v1/");
      assertThat(answers.get(0).header("x-tier")).isEqualTo("edge");
      assertThat(answers.get(1).header("location")).isEqualTo("/v1/?q=1");
      assertThat(answers.get(2).header("x-tier")).isNull();
      assertThat(answers.get(4).body()).isEmpty();
      assertThat(onLoop.send(get("/v1/passed", "")).readResponse().bodyText()).as("the next request, routed")
          .isEqualTo("ok");
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(loops.stats().failures()).isEqualTo(threads.stats().failures()).containsEntry("NO_ROUTE", 3L);
    assertThat(origin.requests().get()).isEqualTo(2);
  }

  private static ProxyServer.Builder gateway(ProxyServer.Builder builder, HoldingOrigin origin) {
    return builder
        .filter(Filters.setResponseHeader("X-Tier", "edge"))
        .route(Route.to(Upstream.of(origin.origin().url("/"))).pathPrefix("/v1/"));
  }

  private static ProxyServer.Builder refusing(ProxyServer.Builder builder, HoldingOrigin origin) {
    return builder
        .filter(Filters.setResponseHeader("X-Tier", "edge"))
        .filter(Filters.authentication().credentials(Map.of("alice", "s3cret")).build())
        .route(Route.to(Upstream.of(origin.origin().url("/"))).pathPrefix("/")
            .filter(Filters.addResponseHeader("X-Route", "r1"))
            .filter(Filters.accessControl().denyHosts("blocked.example").build()));
  }

  /**
   * Rewrites of the request's header fields run on the loop in the threads' order: the proxy's
   * set and remove before the route is matched (the route matches the header set), the route's
   * add and rename after, each given what the one before passed on.
   */
  @Test
  void rewritesRequestHeadersOnTheLoops() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(oneThread()
        .filter(Filters.setRequestHeader("X-Env", "test"))
        .filter(Filters.removeRequestHeader("X-Debug"))
        .route(Route.to(Upstream.of(origin.origin().url("/"))).pathPrefix("/").header("X-Env", "test")
            .filter(Filters.addRequestHeader("X-Via-Route", "yes"))
            .filter(Filters.renameRequestHeader("X-Env", "X-Environment"))));
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      hold(held, "", origin.requests());
      assertThat(raw.send(get("/rewritten", "X-Env: production\r\nX-Debug: 1\r\n")).readResponse().bodyText())
          .isEqualTo("ok");
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    origin.origin().takeRequest(); // the held POST
    TinyOrigin.Received rewritten = origin.origin().takeRequest();
    assertThat(rewritten.requestLine()).isEqualTo("GET /rewritten HTTP/1.1");
    assertThat(rewritten.header("x-environment")).isEqualTo("test");
    assertThat(rewritten.header("x-env")).isNull();
    assertThat(rewritten.header("x-debug")).isNull();
    assertThat(rewritten.header("x-via-route")).isEqualTo("yes");
  }

  /**
   * Rewrites of the response's header fields run on the loop, in the reverse of their order, as
   * the threads' chain returns through them (the route's first, then the proxy's), on an answer
   * from upstream and on one from the cache alike.
   */
  @Test
  void rewritesResponseHeadersOnTheLoops() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger requests = new AtomicInteger();
    HoldingOrigin origin = new HoldingOrigin(release, requests, HoldingOrigin.start(ferry, release, requests,
        "X-Origin: o1\r\nCache-Control: max-age=60\r\n", line -> HoldingOrigin.OK));
    ProxyServer proxy = ferry.start(oneThread()
        .cache(CacheSpec.inMemory())
        .filter(Filters.setResponseHeader("X-Tier", "edge"))
        .filter(Filters.renameResponseHeader("X-Origin", "X-Upstream"))
        .route(Route.to(Upstream.of(origin.origin().url("/"))).pathPrefix("/fresh").cache(false)
            .filter(Filters.addResponseHeader("X-Route", "r1"))
            .filter(Filters.setResponseHeader("X-Tier", "route")))
        .route(Route.to(Upstream.of(origin.origin().url("/"))).pathPrefix("/")
            .filter(Filters.addResponseHeader("X-Route", "r2"))));
    try (RawClient first = new RawClient(proxy.address())) {
      assertThat(first.send(get("/stored", "")).readResponse().status()).isEqualTo(200); // stored, on a thread
    }
    Await.until(() -> proxy.stats().activeWorkers() == 0, "the thread that stored it to be free");
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", "", requests, 2);
      RawClient.RawResponse fresh = raw.send(get("/fresh", "")).readResponse();
      assertThat(fresh.status()).isEqualTo(200);
      assertThat(fresh.header("x-tier")).isEqualTo("edge");
      assertThat(fresh.header("x-route")).isEqualTo("r1");
      assertThat(fresh.header("x-upstream")).isEqualTo("o1");
      assertThat(fresh.header("x-origin")).isNull();
      RawClient.RawResponse hit = raw.send(get("/stored", "")).readResponse();
      assertThat(hit.header("x-cache")).isEqualTo("HIT");
      assertThat(hit.header("x-tier")).isEqualTo("edge");
      assertThat(hit.header("x-route")).isEqualTo("r2");
      assertThat(hit.header("x-upstream")).isEqualTo("o1");
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(requests.get()).isEqualTo(3);
  }

  /**
   * Filters a loop may not run keep the requests on the threads: a credentials check that calls
   * the application's checker (which may block), a filter of the application's own, and a
   * regular expression's rewrite (which a hostile value can make slow).
   */
  @Test
  void leavesFiltersThatMayBlockToTheThreads() throws Exception {
    Filter checker = Filters.authentication().checker((user, password) -> password.equals("s3cret")).build();
    Filter own = (exchange, chain) -> chain.proceed(exchange.request());
    Filter regex = Filters.replaceRequestHeader("X-Env", "(a+)+b", "c");
    for (Filter filter : new Filter[] {checker, own, regex}) {
      HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
      ProxyServer proxy = ferry.start(oneThread().upstream(Upstream.of(origin.origin().url("/"))).filter(filter));
      try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
        hold(held, ALICE, origin.requests());
        assertThat(raw.send(get("/threads", ALICE)).readResponse().status()).as("%s", filter).isEqualTo(503);
        assertThat(origin.releaseHeld(held)).isEqualTo("ok");
      }
      assertThat(origin.requests().get()).isEqualTo(1);
    }
  }
}
