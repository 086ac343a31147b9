package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Request heads that arrive in pieces (larger than a network segment, or sent slowly) are awaited
 * on the event loops and served there, shown by the proxy's one thread being held (a thread's
 * request is refused 503: no thread, no queue); one still in pieces at the request-header
 * timeout is answered 408, as the threads answer it.
 */
@DisabledIfSystemProperty(named = "ferry.test.eventLoop", matches = "false",
    disabledReason = "these tests are of the event loops, which -Dferry.test.eventLoop=false turns off")
class LoopHeadInPiecesTest {
  /** A pause between a head's pieces, as a client on a slow network leaves them: the input's shape. */
  private static final long PAUSE_MILLIS = 60;

  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  private ProxyServer start(HoldingOrigin origin, Duration headerTimeout) {
    return ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.origin().url("/")))
        .concurrency(Concurrency.boundedPool(1, 0)).requestHeaderTimeout(headerTimeout));
  }

  private static void sendInPieces(RawClient client, String request, int pieceBytes) throws Exception {
    for (int at = 0; at < request.length(); at += pieceBytes) {
      client.send(request.substring(at, Math.min(request.length(), at + pieceBytes)));
      Thread.sleep(PAUSE_MILLIS);
    }
  }

  /**
   * A head sent in three pieces, and one with a 6 KB cookie in segments of 1,400 bytes, are
   * answered from the loop while the thread is held, the cookie reaching the origin whole; the
   * connection's next request too.
   */
  @Test
  void servesHeadsThatArriveInPiecesOnTheLoop() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = start(origin, Duration.ofSeconds(10));
    String cookie = "c".repeat(6000);
    try (RawClient held = new RawClient(proxy.address()); RawClient client = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 1);
      sendInPieces(client, "GET /pieces HTTP/1.1\r\nHost: a\r\n\r\n", 12);
      RawClient.RawResponse first = client.readResponse();
      assertThat(first.status()).isEqualTo(200);
      assertThat(first.bodyText()).isEqualTo("ok");
      sendInPieces(client, "GET /cookie HTTP/1.1\r\nHost: a\r\nCookie: session=" + cookie + "\r\n\r\n", 1400);
      assertThat(client.readResponse().status()).isEqualTo(200);
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    }
    origin.origin().takeRequest(); // the held POST
    assertThat(origin.origin().takeRequest().requestLine()).isEqualTo("GET /pieces HTTP/1.1");
    assertThat(origin.origin().takeRequest().header("Cookie")).isEqualTo("session=" + cookie);
  }

  /**
   * Twenty clients that send part of a head and stop hold no thread: a client whose head came
   * whole is answered meanwhile, while the one thread is held, and each of the twenty is answered
   * once it sends the rest.
   */
  @Test
  void keepsHeadsStillArrivingOffTheThreads() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = start(origin, Duration.ofSeconds(10));
    List<RawClient> slow = new ArrayList<>();
    try (RawClient held = new RawClient(proxy.address()); RawClient whole = new RawClient(proxy.address())) {
      HoldingOrigin.hold(held, "/hold", origin.requests(), 1);
      for (int i = 0; i < 20; i++) {
        RawClient client = new RawClient(proxy.address());
        slow.add(client);
        client.send("GET /slow/" + i + " HTTP/1.1\r\nHo");
      }
      Await.until(() -> proxy.stats().activeConnections() == 22, "the twenty to be read");
      assertThat(whole.send("GET /whole HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      for (RawClient client : slow) {
        client.send("st: a\r\n\r\n");
      }
      for (RawClient client : slow) {
        assertThat(client.readResponse().status()).isEqualTo(200);
      }
      assertThat(origin.releaseHeld(held)).isEqualTo("ok");
    } finally {
      for (RawClient client : slow) {
        client.close();
      }
    }
    assertThat(proxy.stats().failures()).isEmpty();
  }

  /**
   * A head still in pieces at the request-header timeout is answered 408 and its connection
   * closed, as the threads answer it (counted from accept for a new connection, and from its
   * first byte for a kept-alive one's next request); the next client is served.
   */
  @Test
  void answers408ToAHeadStillInPiecesAtTheHeaderTimeout() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.origin().url("/")))
        .requestHeaderTimeout(Duration.ofMillis(400)));
    try (RawClient client = new RawClient(proxy.address())) {
      client.send("GET /never HTTP/1.1\r\nHo");
      RawClient.RawResponse timedOut = client.readResponse();
      assertThat(timedOut.status()).isEqualTo(408);
      assertThat(client.input().read()).as("closed after the 408").isEqualTo(-1);
    }
    try (RawClient client = new RawClient(proxy.address())) {
      assertThat(client.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      client.send("GET /second HTTP/1.1\r\nHo");
      assertThat(client.readResponse().status()).isEqualTo(408);
    }
    try (RawClient client = new RawClient(proxy.address())) {
      assertThat(client.send("GET /after HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
    }
    assertThat(proxy.stats().failures()).containsEntry("REQUEST_TIMEOUT", 2L);
    assertThat(origin.requests().get()).isEqualTo(2);
  }

  /**
   * A client that ends its stream in the middle of a head is no request: the connection ends,
   * with nothing sent upstream, and holds nothing on the loop (no read of its end over and over).
   */
  @Test
  void endsAConnectionWhoseClientLeftMidHead() throws Exception {
    HoldingOrigin origin = HoldingOrigin.answeringOk(ferry);
    ProxyServer proxy = start(origin, Duration.ofSeconds(10));
    try (RawClient client = new RawClient(proxy.address())) {
      client.send("GET /cut HTTP/1.1\r\nHo");
      client.socket().shutdownOutput();
      assertThat(new String(client.input().readAllBytes(), StandardCharsets.ISO_8859_1)).isEmpty();
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the connection to end");
    assertThat(origin.requests().get()).isZero();
  }
}
