package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A gateway route that strips its path prefix ({@code Route.stripPrefix()}) is served on the
 * event loops, as one that strips nothing is, shown there by the proxy's one thread being held;
 * what goes upstream and what the client gets back are what the threads send and answer.
 */
@DisabledIfSystemProperty(named = "ferry.test.eventLoop", matches = "false",
    disabledReason = "these tests are of the event loops, which -Dferry.test.eventLoop=false turns off")
class LoopStrippedPrefixTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  /** Routes {@code /v1/} and {@code /v2}, both stripped, to {@code origin}'s base path {@code /app}. */
  private static ProxyServer.Builder stripping(TinyOrigin origin) {
    Upstream app = Upstream.of(origin.url("/app"));
    return ProxyServer.builder()
        .route(Route.to(app).pathPrefix("/v1/").stripPrefix())
        .route(Route.to(app).pathPrefix("/v2").stripPrefix());
  }

  /**
   * With the one thread held, a GET, a HEAD and a POST with a small body on a stripped route are
   * answered: the origin gets what is left of the path under its base path, the query as it
   * came, and the route's {@code X-Forwarded-Prefix}, a client's own dropped.
   */
  @Test
  void stripsARoutesPrefixOnTheLoopWhileEveryThreadIsBusy() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(stripping(origin.origin()).concurrency(Concurrency.boundedPool(1, 0)));
    try (RawClient held = new RawClient(proxy.address()); RawClient raw = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/v1/hold", origin.requests(), 1);
      RawClient.RawResponse got = raw.send(
          "GET /v1/users?q=%2e HTTP/1.1\r\nHost: a\r\nX-Forwarded-Prefix: /forged\r\n\r\n").readResponse();
      assertThat(got.status()).isEqualTo(200);
      assertThat(got.bodyText()).isEqualTo("ok");
      assertThat(raw.send("HEAD /v2 HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(true).status()).isEqualTo(200);
      assertThat(raw.send("POST /v2/items HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello").readResponse()
          .status()).isEqualTo(200);
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    assertThat(origin.origin().takeRequest().requestLine()).isEqualTo("POST /app/hold HTTP/1.1");
    TinyOrigin.Received users = origin.origin().takeRequest();
    assertThat(users.requestLine()).isEqualTo("GET /app/users?q=%2e HTTP/1.1");
    assertThat(users.header("x-forwarded-prefix")).isEqualTo("/v1");
    TinyOrigin.Received head = origin.origin().takeRequest();
    assertThat(head.requestLine()).isEqualTo("HEAD /app/ HTTP/1.1");
    assertThat(head.header("x-forwarded-prefix")).isEqualTo("/v2");
    TinyOrigin.Received items = origin.origin().takeRequest();
    assertThat(items.requestLine()).isEqualTo("POST /app/items HTTP/1.1");
    assertThat(new String(items.body(), StandardCharsets.ISO_8859_1)).isEqualTo("hello");
  }

  /**
   * The loop answers a stripped route as the threads do, field for field: a redirect naming the
   * endpoint under its base path reaches the client as the path it would ask for, under the
   * prefix; and a path that would climb out of the prefix ({@code /v2../admin} leaves
   * {@code ../admin}) is handed to the threads, which refuse it 400, nothing sent upstream.
   */
  @Test
  void answersAStrippedRouteAsTheThreadsDo() throws Exception {
    TinyOrigin[] origin = new TinyOrigin[1];
    AtomicInteger requests = new AtomicInteger();
    origin[0] = HoldingOrigin.answering(ferry, new CountDownLatch(0), requests, line ->
        ("HTTP/1.1 302 Found\r\nLocation: " + origin[0].url("/app/login?next=%2F")
            + "\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    ProxyServer loops = ferry.start(stripping(origin[0]));
    ProxyServer threads = ferry.start(stripping(origin[0]).eventLoop(false));
    try (RawClient onLoop = new RawClient(loops.address()); RawClient onThread = new RawClient(threads.address())) {
      List<RawClient.RawResponse> answers = LoopParity.sameAnswers(onLoop, onThread,
          "GET /v1/account HTTP/1.1\r\nHost: a\r\n\r\n", "GET /v2../admin HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(answers.get(0).status()).isEqualTo(302);
      assertThat(answers.get(0).header("location")).isEqualTo("/v1/login?next=%2F");
      assertThat(answers.get(1).status()).isEqualTo(400);
    }
    for (int i = 0; i < 2; i++) {
      TinyOrigin.Received sent = origin[0].takeRequest();
      assertThat(sent.requestLine()).isEqualTo("GET /app/account HTTP/1.1");
      assertThat(sent.header("x-forwarded-prefix")).isEqualTo("/v1");
    }
    assertThat(requests.get()).isEqualTo(2);
  }
}
