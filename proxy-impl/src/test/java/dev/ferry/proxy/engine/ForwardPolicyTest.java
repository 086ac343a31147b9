package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.Filters;
import dev.ferry.proxy.ProxyServer;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #9 item 4: a forward proxy's safe defaults, decided at connect time on the resolved
 * address: CONNECT only to 443 unless configured, no private destinations when listening on a
 * public address, never a loop back to the proxy itself.
 */
class ForwardPolicyTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  private TinyOrigin origin() throws Exception {
    return ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  }

  @Test
  void refusesConnectToPortsOtherThan443ByDefaultAndClosesWithoutParsingTunnelBytes() throws Exception {
    TinyOrigin origin = origin();
    ProxyServer proxy = ferry.start(ProxyServer.builder());
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
          + "GET http://127.0.0.1:" + origin.port() + "/smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
      RawClient.RawResponse refused = raw.readResponse();
      assertThat(refused.status()).isEqualTo(403);
      assertThat(refused.bodyText()).contains("port " + origin.port());
      assertThat(refused.header("Connection")).isEqualTo("close");
      // The bytes after the CONNECT were never read as a request.
      assertThat(raw.input().read()).isEqualTo(-1);
    }
    // Not even after the refused connection's lingering close, which ends once the client has.
    Await.until(() -> proxy.stats().activeConnections() == 0, "the refused connection to end");
    assertThat(origin.connectionCount()).isZero();
    // Refused before any lookup: a name that resolves nowhere is not a 502 "unknown host".
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse refused = raw.send("CONNECT no-such-host.invalid:25 HTTP/1.1\r\nHost: x\r\n\r\n").readResponse();
      assertThat(refused.status()).isEqualTo(403);
      assertThat(refused.bodyText()).contains("port 25");
    }
  }

  @Test
  void tunnelsToPortsAllowedByConfiguration() throws Exception {
    TinyOrigin origin = origin();
    ProxyServer proxy = ferry.start(ProxyServer.builder().allowConnectPorts(origin.port()));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      assertThat(raw.readResponse(true).status()).isEqualTo(200);
      raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("ok");
    }
  }

  @Test
  void refusesLoopbackAndMetadataDestinationsWhenListeningOnAPublicAddress() throws Exception {
    TinyOrigin origin = origin();
    ProxyServer proxy = ferry.start(ProxyServer.builder().bindAddress("0.0.0.0"));
    for (String target : new String[] {"http://127.0.0.1:" + origin.port() + "/",
        "http://localhost:" + origin.port() + "/", "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:" + origin.port() + "/"}) {
      try (RawClient raw = new RawClient(new java.net.InetSocketAddress("127.0.0.1", proxy.port()))) {
        RawClient.RawResponse response = raw.send("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n").readResponse();
        assertThat(response.status()).as(target).isEqualTo(403);
      }
    }
    assertThat(origin.connectionCount()).isZero();
  }

  @Test
  void allowsPrivateDestinationsWhenAskedOrWhenListeningOnLoopback() throws Exception {
    TinyOrigin origin = origin();
    ProxyServer open = ferry.start(ProxyServer.builder().bindAddress("0.0.0.0").allowPrivateDestinations(true));
    ProxyServer local = ferry.start(ProxyServer.builder());
    for (ProxyServer proxy : new ProxyServer[] {open, local}) {
      try (RawClient raw = new RawClient(new java.net.InetSocketAddress("127.0.0.1", proxy.port()))) {
        raw.send("GET http://127.0.0.1:" + origin.port() + "/ HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(raw.readResponse().bodyText()).isEqualTo("ok");
      }
    }
  }

  @Test
  void refusesRequestLoopingBackToTheProxy() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder());
    for (String host : new String[] {"127.0.0.1", "localhost", "LOCALHOST."}) {
      try (RawClient raw = new RawClient(proxy.address())) {
        RawClient.RawResponse response = raw.send("GET http://" + host + ":" + proxy.port()
            + "/ HTTP/1.1\r\nHost: x\r\n\r\n").readResponse();
        assertThat(response.status()).as(host).isEqualTo(403);
        assertThat(response.bodyText()).contains("loop");
      }
    }
    assertThat(proxy.stats().exchanges()).isEqualTo(3);
  }

  /**
   * The admin listener is the proxy's own too (probe f9): a request through the proxy reached it
   * as the proxy's loopback client, so any proxy client could read stats and purge the cache.
   */
  @Test
  void refusesRequestsThroughTheProxyToItsAdminListener() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder().bindAddress("0.0.0.0").allowPrivateDestinations(true)
        .admin(new java.net.InetSocketAddress("127.0.0.1", 0)));
    int admin = proxy.adminAddress().orElseThrow().getPort();
    for (String target : new String[] {"GET http://127.0.0.1:" + admin + "/_stats",
        "POST http://localhost:" + admin + "/_cache/purge?prefix=http"}) {
      try (RawClient raw = new RawClient(new java.net.InetSocketAddress("127.0.0.1", proxy.port()))) {
        RawClient.RawResponse response = raw.send(target + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            .readResponse();
        assertThat(response.status()).as(target).isEqualTo(403);
        assertThat(response.bodyText()).contains("loop");
      }
    }
  }

  /**
   * The proxy's own endpoints on its port pass the proxy-wide filters like any request (probe
   * f9): a client the access rules deny, or one without the proxy's credentials, read
   * {@code /_stats} and the dashboard all the same.
   */
  @Test
  void appliesClientRulesAndCredentialsToTheProxysOwnEndpoints() throws Exception {
    ProxyServer authenticating = ferry.start(ProxyServer.builder()
        .filter(Filters.proxyAuthentication().credentials(java.util.Map.of("alice", "s3cret")).build()));
    try (RawClient raw = new RawClient(authenticating.address())) {
      assertThat(raw.send("GET /_stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").readResponse().status())
          .isEqualTo(407);
      String credentials = java.util.Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));
      assertThat(raw.send("GET /_stats HTTP/1.1\r\nHost: 127.0.0.1\r\nProxy-Authorization: Basic "
          + credentials + "\r\n\r\n").readResponse().status()).isEqualTo(200);
    }
    ProxyServer denying = ferry.start(ProxyServer.builder()
        .filter(Filters.accessControl().denyClients("127.0.0.0/8").build()));
    try (RawClient raw = new RawClient(denying.address())) {
      assertThat(raw.send("GET /_stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").readResponse().status())
          .isEqualTo(403);
    }
  }

  /**
   * A request without the proxy's credentials is answered 407 on its head, its body not awaited
   * first (probe f9): before, any client could make the proxy buffer and spool bodies it was
   * going to refuse, taking the room of those it serves.
   */
  @Test
  void answersARequestWithoutCredentialsBeforeItsBodyArrives() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .filter(Filters.proxyAuthentication().credentials(java.util.Map.of("alice", "s3cret")).build()));
    for (String credentials : new String[] {"", "Proxy-Authorization: Basic bm90OnJpZ2h0\r\n"}) {
      try (RawClient raw = new RawClient(proxy.address())) {
        raw.socket().setSoTimeout(3000);
        raw.send("POST http://127.0.0.1:9/upload HTTP/1.1\r\nHost: 127.0.0.1:9\r\n" + credentials
            + "Content-Length: 1000000\r\n\r\n" + "x".repeat(1000));
        assertThat(raw.readResponse().status()).as(credentials).isEqualTo(407);
      }
    }
    assertThat(proxy.stats().requestSpoolBytes()).isZero();
  }

  @Test
  void refusesLoopsThroughAnyLoopbackAddressWhenListeningOnTheWildcard() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder().bindAddress("0.0.0.0").allowPrivateDestinations(true));
    for (String host : new String[] {"127.0.0.2", "127.255.0.1", "0.0.0.0"}) {
      try (RawClient raw = new RawClient(new java.net.InetSocketAddress("127.0.0.1", proxy.port()))) {
        RawClient.RawResponse response = raw.send("GET http://" + host + ":" + proxy.port()
            + "/_stats HTTP/1.1\r\nHost: x\r\n\r\n").readResponse();
        assertThat(response.status()).as(host).isEqualTo(403);
        assertThat(response.bodyText()).contains("loop");
      }
    }
  }

  private static void assumeIpv6Loopback() throws Exception {
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, InetAddress.getByName("::1"))) {
      // IPv6 loopback is there.
    } catch (java.io.IOException e) {
      Assumptions.abort("no IPv6 loopback here: " + e.getMessage());
    }
  }

  /**
   * On an IPv6 listener, the proxy's own address stands in as the authority of a request that
   * names none, bracketed; an IPv6 upstream is named bracketed in a 502.
   */
  @Test
  void bracketsIpv6AddressesItNames() throws Exception {
    assumeIpv6Loopback();
    TinyOrigin origin = origin();
    ProxyServer reverse = ferry.start(ProxyServer.builder().bindAddress("::1")
        .route(dev.ferry.proxy.Route.to(dev.ferry.proxy.Upstream.of(origin.url("/"))).pathPrefix("/routed/")));
    try (RawClient raw = new RawClient(reverse.address())) {
      assertThat(raw.send("GET /elsewhere HTTP/1.0\r\n\r\n").readResponse().status()).as("no route: 404").isEqualTo(404);
    }
    int closed;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, InetAddress.getByName("::1"))) {
      closed = free.getLocalPort();
    }
    ProxyServer forward = ferry.start(ProxyServer.builder().allowAnyConnectPort());
    try (RawClient raw = new RawClient(forward.address())) {
      RawClient.RawResponse refused = raw.send("CONNECT [::1]:" + closed + " HTTP/1.1\r\nHost: x\r\n\r\n").readResponse();
      assertThat(refused.status()).isEqualTo(502);
      assertThat(refused.bodyText()).contains("[::1]:" + closed);
    }
  }

  /** The JDK turns an IPv4 wildcard on a default (IPv6) socket into ::, reachable over IPv6 too. */
  @Test
  void listensOnIpv4OnlyWhenBoundToTheIpv4Wildcard() throws Exception {
    assumeIpv6Loopback();
    TinyOrigin origin = origin();
    ProxyServer proxy = ferry.start(ProxyServer.builder().bindAddress("0.0.0.0").allowPrivateDestinations(true));
    assertThat(proxy.address().getAddress().getHostAddress()).isEqualTo("0.0.0.0");
    assertThatThrownBy(() -> new java.net.Socket("::1", proxy.port()).close())
        .isInstanceOf(java.net.ConnectException.class);
    try (RawClient raw = new RawClient(new java.net.InetSocketAddress("127.0.0.1", proxy.port()))) {
      raw.send("GET http://127.0.0.1:" + origin.port() + "/ HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("ok");
    }
  }

  @Test
  void closesAfterARejectionThatLeftTheBodyUnreadAndStillDeliversIt() throws Exception {
    TinyOrigin origin = origin();
    // Nothing awaited whole: the rest of the body is still the client's to send, not the
    // proxy's to skip, so the connection closes after the answer.
    ProxyServer proxy = ferry.start(ProxyServer.builder().requestBufferBytes(0).requestSpoolBytes(0)
        .filter((exchange, chain) -> dev.ferry.proxy.Response.text(403, "no uploads\n")));
    try (RawClient raw = new RawClient(proxy.address())) {
      int length = 4 << 20;
      raw.send("POST http://127.0.0.1:" + origin.port() + "/upload HTTP/1.1\r\nHost: x\r\n"
          + "Content-Length: " + length + "\r\n\r\n");
      Thread writer = new Thread(() -> {
        try {
          raw.output().write(new byte[length]);
        } catch (java.io.IOException expected) {
          // The proxy stops reading once it has answered.
        }
      }, "test-upload");
      writer.setDaemon(true);
      writer.start();
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.status()).isEqualTo(403);
      assertThat(response.header("Connection")).isEqualTo("close");
      assertThat(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo("no uploads\n");
      writer.join(10_000);
    }
  }
}
