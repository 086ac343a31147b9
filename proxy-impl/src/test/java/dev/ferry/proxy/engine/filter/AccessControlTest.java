package dev.ferry.proxy.engine.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.Filters;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Access control in forward mode, where destinations vary per request. */
class AccessControlTest {
  private final MockWebServer origin = new MockWebServer();
  private ProxyServer proxy;

  @BeforeEach
  void start() throws Exception {
    origin.start(InetAddress.getByName("127.0.0.1"), 0);
  }

  @AfterEach
  void stop() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    origin.shutdown();
  }

  private String get(String target) throws IOException {
    try (Raw raw = new Raw(proxy.port())) {
      return raw.exchange("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    }
  }

  private String originUrl(String host, String path) {
    return "http://" + host + ":" + origin.getPort() + path;
  }

  @Test
  void deniesHostsByGlobAndNamesTheRule() throws Exception {
    proxy = ProxyServer.builder()
        .filter(Filters.accessControl().denyHosts("*.localhost", "LOCALHOST").build()).build().start();
    origin.enqueue(new MockResponse().setBody("allowed"));
    assertThat(get(originUrl("localhost", "/"))).startsWith("HTTP/1.1 403").endsWith("rule deny host LOCALHOST\n");
    assertThat(get(originUrl("ads.localhost", "/"))).startsWith("HTTP/1.1 403").contains("deny host *.localhost");
    assertThat(get(originUrl("127.0.0.1", "/"))).startsWith("HTTP/1.1 200").endsWith("allowed");
    assertThat(origin.getRequestCount()).isEqualTo(1);
  }

  @Test
  void letsTheFirstMatchingRuleDecide() throws Exception {
    proxy = ProxyServer.builder().filter(Filters.accessControl()
        .allowClients("127.0.0.0/8").denyHosts("127.0.0.1").build()).build().start();
    origin.enqueue(new MockResponse().setBody("client rule came first"));
    assertThat(get(originUrl("127.0.0.1", "/"))).endsWith("client rule came first");
  }

  @Test
  void refusesACachedResponseToAClientTheRulesDeny() throws Exception {
    // The address rule cannot be decided on a name before DNS, and a hit connects nowhere.
    proxy = ProxyServer.builder().cache(CacheSpec.inMemory()).filter(Filters.accessControl()
        .denyHosts("169.254.0.0/16").allowClients("127.0.0.1").denyByDefault().build()).build().start();
    origin.enqueue(new MockResponse().setHeader("Cache-Control", "max-age=60").setBody("secret"));
    String url = originUrl("localhost", "/secret");
    assertThat(get(url)).startsWith("HTTP/1.1 200").endsWith("secret");
    assertThat(get(url)).as("the allowed client is served from the cache").startsWith("HTTP/1.1 200")
        .endsWith("secret");
    try (Raw other = new Raw(proxy.port(), InetAddress.getByName("127.0.0.2"))) {
      assertThat(other.exchange("GET " + url + " HTTP/1.1\r\nHost: x\r\n\r\n"))
          .startsWith("HTTP/1.1 403").contains("deny by default").doesNotContain("secret");
    }
    assertThat(origin.getRequestCount()).isEqualTo(1);
  }

  @Test
  void checksTheHostsAddressesBeforeServingACachedResponse() throws Exception {
    proxy = ProxyServer.builder().cache(CacheSpec.inMemory()).build().start();
    origin.enqueue(new MockResponse().setHeader("Cache-Control", "max-age=60").setBody("cached"));
    String url = originUrl("localhost", "/cached");
    assertThat(get(url)).startsWith("HTTP/1.1 200").endsWith("cached");
    // Whether the first rule matches (and denies) hangs on what localhost resolves to.
    proxy.reconfigure(proxy.config().toBuilder().filter(Filters.accessControl()
        .denyHosts("127.0.0.0/8").allowClients("127.0.0.1").build()).buildConfig());
    assertThat(get(url)).startsWith("HTTP/1.1 403").contains("deny host 127.0.0.0/8");
    assertThat(origin.getRequestCount()).isEqualTo(1);
  }

  /** Clients send IDNA2008 names (xn--strae-oqa); IDNA2003 made the rule strasse and missed them. */
  @Test
  void matchesInternationalNamesAsClientsEncodeThem() throws Exception {
    proxy = ProxyServer.builder().filter(Filters.accessControl()
        .denyHosts("straße.localhost", "*.straße.localhost").build()).build().start();
    assertThat(get(originUrl("xn--strae-oqa.localhost", "/"))).startsWith("HTTP/1.1 403")
        .contains("deny host straße.localhost");
    assertThat(get(originUrl("a.xn--strae-oqa.localhost", "/"))).startsWith("HTTP/1.1 403");
    assertThat(origin.getRequestCount()).isZero();
  }

  @Test
  void deniesByDefaultWhenNoRuleMatches() throws Exception {
    proxy = ProxyServer.builder().filter(Filters.accessControl()
        .allowClients("10.0.0.0/8").denyByDefault().build()).build().start();
    assertThat(get(originUrl("127.0.0.1", "/"))).startsWith("HTTP/1.1 403").contains("deny by default");
    assertThat(origin.getRequestCount()).isZero();
  }

  @Test
  void filtersByMethodAndPort() throws Exception {
    int otherPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      otherPort = socket.getLocalPort();
    }
    proxy = ProxyServer.builder().filter(Filters.accessControl()
        .denyMethods("DELETE").allowPorts(origin.getPort()).denyByDefault().build()).build().start();
    origin.enqueue(new MockResponse().setBody("ok"));
    try (Raw raw = new Raw(proxy.port())) {
      assertThat(raw.exchange("DELETE " + originUrl("127.0.0.1", "/") + " HTTP/1.1\r\nHost: x\r\n\r\n"))
          .contains("deny method DELETE");
      // A server that upper-cases methods would run "delete" as DELETE.
      assertThat(raw.exchange("delete " + originUrl("127.0.0.1", "/") + " HTTP/1.1\r\nHost: x\r\n\r\n"))
          .startsWith("HTTP/1.1 403");
    }
    assertThat(get("http://127.0.0.1:" + otherPort + "/")).startsWith("HTTP/1.1 403");
    assertThat(get(originUrl("127.0.0.1", "/"))).endsWith("ok");
  }

  /**
   * An allow rule names exactly the method it lets through: under an allow-list of GET, "get"
   * was let through and went upstream as it was, to servers that run it as GET or send it to a
   * catch-all (probe a24).
   */
  @Test
  void allowsOnlyTheMethodAsWritten() throws Exception {
    proxy = ProxyServer.builder().filter(Filters.accessControl().allowMethods("GET").denyByDefault().build())
        .build().start();
    origin.enqueue(new MockResponse().setBody("ok"));
    try (Raw raw = new Raw(proxy.port())) {
      for (String method : new String[] {"get", "gEt"}) {
        assertThat(raw.exchange(method + " " + originUrl("127.0.0.1", "/") + " HTTP/1.1\r\nHost: x\r\n\r\n"))
            .as(method).startsWith("HTTP/1.1 403");
      }
    }
    assertThat(get(originUrl("127.0.0.1", "/"))).endsWith("ok");
    assertThat(origin.getRequestCount()).isEqualTo(1);
  }

  /**
   * Method-override middleware runs a POST with {@code X-HTTP-Method-Override: DELETE} as a
   * DELETE: the rules apply to each method an override field names, as to the request's own
   * (probe v27: the DELETE a rule denied went through as a POST).
   */
  @Test
  void appliesMethodRulesToTheMethodsOverrideFieldsName() throws Exception {
    proxy = ProxyServer.builder().filter(Filters.accessControl().denyMethods("DELETE")
        .allowPorts(origin.getPort()).denyByDefault().build()).build().start();
    for (int i = 0; i < 2; i++) {
      origin.enqueue(new MockResponse().setBody("ok"));
    }
    String post = "POST " + originUrl("127.0.0.1", "/users/1") + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n";
    try (Raw raw = new Raw(proxy.port())) {
      for (String override : new String[] {"X-HTTP-Method-Override: DELETE", "X_HTTP_Method: delete",
          "x-method-override: PUT, DELETE", "X-HTTP-Method-Override:  DELETE "}) {
        assertThat(raw.exchange(post + override + "\r\n\r\n")).as(override).startsWith("HTTP/1.1 403")
            .contains("deny method DELETE");
      }
      // Symfony and Laravel read ?_method= on a POST the same way.
      String postQuery = post.replace("/users/1", "/users/1?a=1&_method=delete");
      assertThat(raw.exchange(postQuery + "\r\n")).startsWith("HTTP/1.1 403");
      for (String query : new String[] {"?%5Fmethod=DEL%45TE", "?.method=DELETE", "?x&+method=DELETE", "?_METHOD=DELETE",
          "?_%6Dethod=DELETE", "?_%4D%45THOD=DELETE", "?%20_method=DELETE", "?+_method=DELETE",
          "?_method%00x=DELETE", "?_method=GET,DELETE",
          // A bad escape beside the NUL: PHP decodes what it can and cuts at the NUL (probe v31).
          "?_method%00%=DELETE", "?_method%00%zz=DELETE", "?%20_method%00%-1=delete"}) {
        assertThat(raw.exchange(post.replace("/users/1", "/users/1" + query) + "\r\n")).as(query)
            .startsWith("HTTP/1.1 403");
      }
      assertThat(raw.exchange(post + "X-HTTP-Method-Override: PUT\r\n\r\n")).endsWith("ok");
      assertThat(raw.exchange(post + "X-HTTP-Method-Override:\r\n\r\n")).endsWith("ok");
    }
    proxy.close();
    proxy = ProxyServer.builder().filter(Filters.accessControl().allowMethods("GET", "POST").denyByDefault()
        .build()).build().start();
    origin.enqueue(new MockResponse().setBody("ok"));
    try (Raw raw = new Raw(proxy.port())) {
      assertThat(raw.exchange(post + "X-HTTP-Method: PATCH\r\n\r\n")).startsWith("HTTP/1.1 403");
      assertThat(raw.exchange(post + "X-HTTP-Method: GET\r\n\r\n")).endsWith("ok");
    }
    assertThat(origin.getRequestCount()).isEqualTo(3);
  }

  @Test
  void deniesIpv6ClientsByBlock() throws Exception {
    boolean ipv6;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("::1"))) {
      ipv6 = true;
    } catch (IOException e) {
      ipv6 = false;
    }
    assumeTrue(ipv6, "no IPv6 loopback on this machine");
    proxy = ProxyServer.builder().bindAddress("::1")
        .filter(Filters.accessControl().denyClients("::1/128").build()).build().start();
    try (java.net.Socket socket = new java.net.Socket("::1", proxy.port())) {
      socket.getOutputStream().write(("GET " + originUrl("127.0.0.1", "/") + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes());
      String answer = new String(socket.getInputStream().readNBytes(12));
      assertThat(answer).isEqualTo("HTTP/1.1 403");
    }
  }

  @Test
  void deniesNamesThatResolveToADeniedBlock() throws Exception {
    proxy = ProxyServer.builder().filter(Filters.accessControl().denyHosts("127.0.0.0/8").build()).build().start();
    assertThat(get(originUrl("localhost", "/"))).startsWith("HTTP/1.1 403").endsWith("rule deny host 127.0.0.0/8\n");
    try (Raw raw = new Raw(proxy.port())) {
      assertThat(raw.exchange("CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n"))
          .startsWith("HTTP/1.1 403");
    }
    assertThat(origin.getRequestCount()).isZero();
  }

  @Test
  void ordersAddressRulesWithNameRules() throws Exception {
    proxy = ProxyServer.builder().filter(Filters.accessControl()
        .allowHosts("localhost").denyHosts("127.0.0.0/8").build()).build().start();
    origin.enqueue(new MockResponse().setBody("named first"));
    assertThat(get(originUrl("localhost", "/"))).endsWith("named first");
    assertThat(get(originUrl("127.0.0.1", "/"))).startsWith("HTTP/1.1 403").contains("deny host 127.0.0.0/8");
    assertThat(origin.getRequestCount()).isEqualTo(1);
  }

  @Test
  void servesReverseProxyWithEveryRuleKind() throws Exception {
    proxy = ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .filter(Filters.accessControl().denyClients("10.0.0.0/8").denyHosts("*.ads.example", "10.0.0.0/8")
            .denyMethods("DELETE").denyPorts(25).allowClients("127.0.0.0/8", "::1").build())
        .filter(Filters.accessControl().allowHosts("127.0.0.1").allowMethods("GET").denyByDefault().build())
        .build().start();
    origin.enqueue(new MockResponse().setBody("reverse ok"));
    try (Raw raw = new Raw(proxy.port())) {
      assertThat(raw.exchange("GET / HTTP/1.1\r\nHost: 127.0.0.1:" + proxy.port() + "\r\n\r\n"))
          .startsWith("HTTP/1.1 200").endsWith("reverse ok");
    }
  }

  @Test
  void matchesHostRulesOnTheRequestedHostInReverseMode() throws Exception {
    proxy = ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .filter(Filters.accessControl().denyHosts("blocked.example").build()).build().start();
    origin.enqueue(new MockResponse().setBody("served"));
    try (Raw raw = new Raw(proxy.port())) {
      assertThat(raw.exchange("GET / HTTP/1.1\r\nHost: BLOCKED.example.\r\n\r\n"))
          .startsWith("HTTP/1.1 403").contains("deny host blocked.example");
      assertThat(raw.exchange("GET / HTTP/1.1\r\nHost: open.example\r\n\r\n")).endsWith("served");
    }
  }
}
