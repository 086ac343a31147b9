package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.Filters;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A reverse proxy's built-in access control, rate limits and credentials on the event loops,
 * shown there by the proxy's one thread being held (a thread's request is refused 503: no thread,
 * no queue): a request they pass goes upstream from the loop; one they would answer is handed to
 * the threads, which answer it (403, 429, 401), and never reaches the origin from the loop.
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

  /** Holds the proxy's one thread with a chunked POST carrying {@code fields}, until the origin lets it go. */
  private static void hold(RawClient client, String fields, AtomicInteger requests) throws IOException {
    client.send("POST /hold HTTP/1.1\r\nHost: a\r\n" + fields + "Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n");
    Await.until(() -> requests.get() >= 1, "the POST to reach the origin");
  }

  private static String get(String target, String fields) {
    return "GET " + target + " HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n";
  }

  /**
   * Requests that the access rules, the rate limit and the credentials pass are served while
   * the one thread is held, the credentials passed on to the origin; ones without credentials or
   * to a denied host are handed over (503 while the thread is held), and answered 401 and 403
   * once it is free; none of them reaches the origin.
   */
  @Test
  void servesWhatItsFiltersPassOnTheLoopsAndHandsOverWhatTheyWouldAnswer() throws Exception {
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
      try (RawClient anonymous = new RawClient(proxy.address())) {
        assertThat(anonymous.send(get("/anonymous", "")).readResponse().status()).isEqualTo(503);
      }
      try (RawClient blocked = new RawClient(proxy.address())) {
        assertThat(blocked.send("GET /blocked HTTP/1.1\r\nHost: blocked.example\r\n" + ALICE + "\r\n")
            .readResponse().status()).isEqualTo(503);
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse anonymous = raw.send(get("/anonymous", "")).readResponse();
      assertThat(anonymous.status()).isEqualTo(401);
      assertThat(anonymous.header("www-authenticate")).startsWith("Basic realm=");
      assertThat(raw.send("GET /blocked HTTP/1.1\r\nHost: blocked.example\r\n" + ALICE + "\r\n")
          .readResponse().status()).isEqualTo(403);
    }
    origin.origin().takeRequest(); // the held POST
    for (int i = 0; i < 3; i++) {
      TinyOrigin.Received passed = origin.origin().takeRequest();
      assertThat(passed.requestLine()).isEqualTo("GET /passed HTTP/1.1");
      assertThat(passed.header("authorization")).isEqualTo(ALICE.substring(15).trim());
    }
    assertThat(origin.requests().get()).as("requests the origin got").isEqualTo(4);
  }

  /**
   * A rate limit's token is taken once for each request a loop serves: with a burst of four, the
   * held POST and three GETs on the loop pass, and the next GET is handed over and answered 429
   * by the thread, free again.
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
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
      RawClient.RawResponse limited = raw.send(get("/limited", "")).readResponse();
      assertThat(limited.status()).isEqualTo(429);
      assertThat(limited.header("retry-after")).isNotNull();
    }
    assertThat(origin.requests().get()).isEqualTo(4);
  }

  /**
   * A route's own filters are asked on the loop too, after the proxy's, and with what they pass
   * on: the route's access rules deny a method the proxy's credentials check let through.
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
      try (RawClient denied = new RawClient(proxy.address())) {
        assertThat(denied.send("PATCH /denied HTTP/1.1\r\nHost: a\r\n" + ALICE + "Content-Length: 1\r\n\r\nx")
            .readResponse().status()).as("a denied method, handed over").isEqualTo(503);
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("PATCH /denied HTTP/1.1\r\nHost: a\r\n" + ALICE + "Content-Length: 1\r\n\r\nx")
          .readResponse().status()).isEqualTo(403);
    }
    origin.origin().takeRequest(); // the held POST
    assertThat(origin.origin().takeRequest().requestLine()).isEqualTo("GET /routed HTTP/1.1");
    assertThat(origin.requests().get()).isEqualTo(2);
  }

  /**
   * Filters a loop may not ask keep the requests on the threads: a credentials check that calls
   * the application's checker (which may block), and a filter of the application's own.
   */
  @Test
  void leavesFiltersThatMayBlockToTheThreads() throws Exception {
    Filter checker = Filters.authentication().checker((user, password) -> password.equals("s3cret")).build();
    Filter own = (exchange, chain) -> chain.proceed(exchange.request());
    for (Filter filter : new Filter[] {checker, own}) {
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
