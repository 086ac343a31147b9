package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Filters;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Response;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ForwardProxyTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private MockWebServer origin;
  private ProxyServer proxy;
  private HttpClient client;

  @BeforeEach
  void start() throws Exception {
    origin = ferry.mockOrigin();
    proxy = ferry.start(ProxyServer.builder());
    client = HttpClient.newBuilder().proxy(ProxySelector.of(proxy.address())).build();
  }

  @ParameterizedTest
  @ValueSource(strings = {"GET", "DELETE", "OPTIONS", "POST", "PUT", "PATCH", "PURGE"})
  void forwardsEveryMethodWithItsBody(String method) throws Exception {
    origin.enqueue(new MockResponse().setBody("answer to " + method));
    boolean withBody = !method.equals("GET") && !method.equals("DELETE") && !method.equals("OPTIONS");
    HttpRequest.BodyPublisher body = withBody
        ? HttpRequest.BodyPublishers.ofString("payload-" + method) : HttpRequest.BodyPublishers.noBody();
    HttpResponse<String> response = client.send(
        HttpRequest.newBuilder(URI.create(origin.url("/m?x=1").toString())).method(method, body).build(),
        HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("answer to " + method);
    RecordedRequest recorded = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(recorded.getMethod()).isEqualTo(method);
    assertThat(recorded.getRequestLine()).isEqualTo(method + " /m?x=1 HTTP/1.1");
    assertThat(recorded.getBody().readUtf8()).isEqualTo(withBody ? "payload-" + method : "");
  }

  /**
   * A forward proxy passes paths on as spelled, so a rule on path() alone let /%61dmin/ through to
   * an origin that reads /admin/ (probe acl F1); one on resolvedPath() holds for every spelling.
   */
  @Test
  void holdsAPathRuleOnTheResolvedPathForEverySpelling() throws Exception {
    ProxyServer guarded = ferry.start(ProxyServer.builder().filter(Filters.when(
        request -> request.resolvedPath().startsWith("/admin/"),
        (exchange, chain) -> Response.text(403, "Forbidden\n"))));
    try (RawClient raw = new RawClient(guarded.address())) {
      for (String spelling : new String[] {"/admin/x", "/%61dmin/x", "//admin/x", "/public/../admin/x",
          "/admin;v=1/x", "/public/..;/admin/x", "/admin%2Fx"}) {
        raw.send("GET " + origin.url("/").toString().replaceAll("/$", "") + spelling + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(raw.readResponse().status()).as(spelling).isEqualTo(403);
      }
      origin.enqueue(new MockResponse().setBody("public"));
      raw.send("GET " + origin.url("/").toString().replaceAll("/$", "") + "/%7Epublic//page HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("public");
    }
    assertThat(origin.getRequestCount()).isEqualTo(1);
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getPath()).as("passed on as spelled").isEqualTo("/%7Epublic//page");
  }

  /**
   * RFC 9112 §9.3: a proxy must not keep a connection with an HTTP/1.0 client persistent, its
   * Connection: keep-alive notwithstanding (probe sem F1: the next request was served on it);
   * the proxy's own /_stats, answered as an origin, keeps the client's opt-in.
   */
  @Test
  void closesAnHttp10ClientsConnectionAfterAForwardedRequest() throws Exception {
    origin.enqueue(new MockResponse().setBody("once"));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET " + origin.url("/ten") + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.bodyText()).isEqualTo("once");
      assertThat(response.header("Connection")).isNotEqualToIgnoringCase("keep-alive");
      assertThat(raw.isClosedByPeer()).isTrue();
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse stats = raw.send("GET /_stats HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").readResponse();
      assertThat(stats.status()).isEqualTo(200);
      assertThat(stats.header("Connection")).isEqualToIgnoringCase("keep-alive");
      assertThat(raw.send("GET /_stats HTTP/1.0\r\n\r\n").readResponse().status()).isEqualTo(200);
    }
  }

  @Test
  void forwardsHeadWithoutBody() throws Exception {
    origin.enqueue(new MockResponse().setHeader("Content-Length", "1234"));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("HEAD " + origin.url("/h") + " HTTP/1.1\r\nHost: x\r\n\r\n");
      RawClient.RawResponse response = raw.readResponse(true);
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.header("Content-Length")).isEqualTo("1234");
      origin.enqueue(new MockResponse().setBody("next"));
      raw.send("GET " + origin.url("/n") + " HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("next");
    }
  }

  @Test
  void rewritesAbsoluteFormToOriginFormWithHostFromTarget() throws Exception {
    origin.enqueue(new MockResponse().setBody("ok"));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET " + origin.url("/path?q=1") + " HTTP/1.1\r\nHost: somewhere.else\r\n"
          + "Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic dTpw\r\nX-Custom: kept\r\n\r\n");
      assertThat(raw.readResponse().bodyText()).isEqualTo("ok");
    }
    RecordedRequest recorded = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(recorded.getRequestLine()).isEqualTo("GET /path?q=1 HTTP/1.1");
    assertThat(recorded.getHeader("Host")).isEqualTo(origin.getHostName() + ":" + origin.getPort());
    assertThat(recorded.getHeader("Proxy-Connection")).isNull();
    assertThat(recorded.getHeader("Proxy-Authorization")).isNull();
    assertThat(recorded.getHeader("X-Custom")).isEqualTo("kept");
    assertThat(recorded.getHeader("Via")).isEqualTo("1.1 ferry");
  }

  /** RFC 3986 §3.2.2: an IPv6 literal is bracketed; unbracketed it went on with an invalid Host. */
  @Test
  void rejectsAnIpv6TargetWithoutBrackets() throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET http://::1:" + origin.getPort() + "/a HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.readResponse().status()).isEqualTo(400);
    }
    assertThat(origin.getRequestCount()).isZero();
  }

  @Test
  void rejectsOriginFormRequests() throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET /local HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      RawClient.RawResponse response = raw.readResponse();
      assertThat(response.status()).isEqualTo(400);
      assertThat(response.bodyText()).contains("absolute-form");
    }
    assertThat(origin.getRequestCount()).isZero();
  }

  /** RFC 9110 §9.3.7: OPTIONS * to a forward proxy asks about the proxy, which answers it. */
  @Test
  void answersOptionsAsteriskItself() throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.header("Allow")).contains("GET", "CONNECT");
      raw.send("OPTIONS * HTTP/1.0\r\n\r\n");
      assertThat(raw.readResponse().status()).as("no Host names no server").isEqualTo(400);
    }
    assertThat(origin.getRequestCount()).isZero();
  }

  /** RFC 9110 §9.3.8: TRACE at Max-Forwards 0 reflects the request-target as it came. */
  @Test
  void reflectsTheAbsoluteFormTargetOfATrace() throws Exception {
    String target = origin.url("/t?q=1").toString();
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("TRACE " + target + " HTTP/1.1\r\nHost: x\r\n"
          + "Max-Forwards: 0\r\n\r\n").readResponse();
      assertThat(response.bodyText()).startsWith("TRACE " + target + " HTTP/1.1\r\n");
    }
    assertThat(origin.getRequestCount()).isZero();
  }

  @Test
  void answers502NamingTheHostAndPortWhenOriginIsUnreachable() throws Exception {
    RefusingPort origin = ferry.track(new RefusingPort());
    HttpResponse<String> response = client.send(
        HttpRequest.newBuilder(URI.create(origin.url("/"))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(response.body()).isEqualTo("Could not connect to origin server: 127.0.0.1:" + origin.port() + "\n");
    assertThat(proxy.stats().failures()).containsEntry("UPSTREAM_UNREACHABLE", 1L);
  }
}
