package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Request, Response and Body: immutable values with validating builders. */
class MessageValuesTest {

  @Test
  void splitsAbsoluteUrlIntoSchemeAuthorityAndTarget() {
    Request request = Request.builder().url("https://[::1]:8443/a/b?x=1").build();
    assertThat(request.scheme()).isEqualTo("https");
    assertThat(request.authority()).isEqualTo("[::1]:8443");
    assertThat(request.host()).isEqualTo("::1");
    assertThat(request.port()).isEqualTo(8443);
    assertThat(request.path()).isEqualTo("/a/b");
    assertThat(request.query()).hasValue("x=1");
    assertThat(request.url()).isEqualTo("https://[::1]:8443/a/b?x=1");
    assertThat(Request.builder().url("http://example.com").build().target()).isEqualTo("/");
    assertThat(Request.builder().url("http://example.com?q").build().target()).isEqualTo("/?q");
    assertThat(Request.builder().url("http://example.com").build().port()).isEqualTo(80);
  }

  /** Every spelling some server resolves to /admin/panel reads so, for filters to match on. */
  @Test
  void resolvesPathsAsTheMostLiberalOriginWould() {
    for (String spelling : new String[] {"/admin/panel", "/%61dmin/panel", "//admin//panel", "/x/../admin/panel",
        "/admin;jsessionid=1/panel", "/x/..;/admin/panel", "/admin%2Fpanel", "/admin%2fpanel", "/admin\\panel",
        "/admin%5Cpanel", "/./admin/./panel", "/../../admin/panel", "/%2E%2E/admin/panel", "/admin/panel;x"}) {
      assertThat(Request.builder().url("http://h" + spelling + "?q=1").build().resolvedPath()).as(spelling)
          .isEqualTo("/admin/panel");
    }
    assertThat(Request.builder().url("http://h/a/b/").build().resolvedPath()).isEqualTo("/a/b/");
    assertThat(Request.builder().url("http://h/a/b/..").build().resolvedPath()).isEqualTo("/a/");
    assertThat(Request.builder().url("http://h/..").build().resolvedPath()).isEqualTo("/");
    assertThat(Request.builder().url("http://h/a%20b/%c3%a9/%zz").build().resolvedPath())
        .as("other escapes upper-cased, a broken one kept").isEqualTo("/a%20b/%C3%A9/%zz");
    assertThat(Request.builder().url("http://h/plain/path").build().resolvedPath()).isEqualTo("/plain/path");
    Request connect = Request.builder().method("CONNECT").authority("example.com:443").target("example.com:443").build();
    assertThat(connect.resolvedPath()).isEqualTo("example.com:443");
    assertThat(Request.builder().url("http://h/%61dmin").build().path()).as("path() unchanged").isEqualTo("/%61dmin");
  }

  @Test
  void describesConnectByItsAuthority() {
    Request connect = Request.builder().method("CONNECT").authority("example.com:443")
        .target("example.com:443").build();
    assertThat(connect.url()).isEqualTo("example.com:443");
    assertThat(connect.toString()).isEqualTo("CONNECT example.com:443 HTTP/1.1");
  }

  @Test
  void withersReturnCopies() {
    Request original = Request.builder().url("http://a/x").header("X-A", "1").build();
    Request changed = original.withHeader("X-A", "2").withTarget("/y").withoutHeader("X-B");
    assertThat(original.headers().first("X-A")).hasValue("1");
    assertThat(changed.headers().first("X-A")).hasValue("2");
    assertThat(changed.target()).isEqualTo("/y");
    // Not origin-form: it named no route, and a catch-all answered 404 (probe e25).
    for (String target : new String[] {"items?id=1", "http://a/y", "*"}) {
      assertThatThrownBy(() -> original.withTarget(target)).as(target).isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("withTarget needs an origin-form target starting with /");
    }
    assertThat(Request.builder().method("OPTIONS").url("http://a/x").build().withTarget("*").target()).isEqualTo("*");
  }

  /**
   * No request-target has a fragment (RFC 9112 §3.2): the proxy answers a client's 400, and a
   * filter's went upstream in the request line (probe e26). A URL's fragment is dropped.
   */
  @Test
  void refusesAFragmentInTheTargetAndDropsAUrls() {
    Request original = Request.builder().url("http://a/x").build();
    assertThatThrownBy(() -> original.withTarget("/echo#section-2")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("target must not hold a fragment (at 5 in /echo#section-2)");
    assertThatThrownBy(() -> Request.builder().target("/#")).hasMessageContaining("percent-encode a # meant as data");
    Request fromUrl = Request.builder().url("http://127.0.0.1:8080/echo?q=1#top").build();
    assertThat(fromUrl.target()).isEqualTo("/echo?q=1");
    assertThat(fromUrl.authority()).isEqualTo("127.0.0.1:8080");
    assertThat(Request.builder().url("http://a#top").build().url()).isEqualTo("http://a/");
    assertThat(original.withTarget("/a%23b").target()).isEqualTo("/a%23b");
  }

  @Test
  void validatesRequestParts() {
    assertThatThrownBy(() -> Request.builder().method("GE T"))
        .hasMessage("method must be a token such as GET (was GE T)");
    assertThatThrownBy(() -> Request.builder().url("/relative"))
        .hasMessageContaining("url must be absolute");
    assertThatThrownBy(() -> Request.builder().url("ftp://a/")).hasMessage("scheme must be http or https (was ftp)");
    assertThatThrownBy(() -> Request.builder().target("/a b")).hasMessageContaining("0x20 at 2 in target");
    assertThatThrownBy(() -> Request.builder().version("HTTP/2")).hasMessageContaining("(was HTTP/2)");
    assertThatThrownBy(() -> Request.builder().authority("a/b")).hasMessageContaining("in authority");
    assertThatThrownBy(() -> Request.builder().authority("a:99999"))
        .hasMessageContaining("port must be between 0 and 65535");
  }

  @Test
  void followsStatusWithReasonPhrase() {
    Response response = Response.builder().status(404).build();
    assertThat(response.reason()).isEqualTo("Not Found");
    assertThat(response.toBuilder().status(200).build().reason()).isEqualTo("OK");
    assertThat(Response.builder().status(200).reason("Fine").build().reason()).isEqualTo("Fine");
    assertThatThrownBy(() -> Response.builder().status(99)).hasMessage("status must be between 100 and 599 (was 99)");
    assertThatThrownBy(() -> Response.builder().reason("a\r\nb")).hasMessageContaining("0x0d at 1");
  }

  @Test
  void makesShortTextResponses() throws IOException {
    Response response = Response.text(403, "denied\n");
    assertThat(response.headers().first("Content-Type")).hasValue("text/plain; charset=utf-8");
    assertThat(new String(response.body().bytes(100), StandardCharsets.UTF_8)).isEqualTo("denied\n");
  }

  @Test
  void copiesByteBodiesAndReadsThemAgain() throws IOException {
    byte[] bytes = {1, 2, 3};
    Body body = Body.of(bytes);
    bytes[0] = 9;
    assertThat(body.bytes(10)).containsExactly(1, 2, 3);
    assertThat(body.bytes(10)).containsExactly(1, 2, 3);
    assertThat(Body.empty().isEmpty()).isTrue();
  }

  @Test
  void opensStreamBodiesOnce() throws IOException {
    Body body = Body.of(new ByteArrayInputStream(new byte[5]), -1);
    assertThat(body.contentLength()).isEqualTo(-1);
    body.stream();
    assertThatThrownBy(body::stream).isInstanceOf(IllegalStateException.class).hasMessageContaining("one-shot");
    assertThatThrownBy(() -> Body.of(new ByteArrayInputStream(new byte[0]), -2))
        .hasMessageContaining("(was -2)");
  }

  @Test
  void refusesToBufferBodiesOverTheLimit() {
    assertThatThrownBy(() -> Body.of("too long").bytes(3)).isInstanceOf(IOException.class)
        .hasMessageContaining("larger than maxBytes (was 3)");
    assertThatThrownBy(() -> Body.of(new ByteArrayInputStream(new byte[10]), -1).bytes(3))
        .isInstanceOf(IOException.class);
  }

  /** What a listener logs with toString: the request id, route, upstream and cache verdict too. */
  @Test
  void describesAnExchangeSummaryWithItsRouteAndRequestId() {
    ExchangeSummary summary = ExchangeSummary.builder().id(7).connectionId(3)
        .clientAddress(new java.net.InetSocketAddress("127.0.0.1", 5000)).startTime(java.time.Instant.EPOCH).method("GET")
        .url("http://a/x").status(200).duration(java.time.Duration.ofMillis(4)).requestId("rid-1")
        .route("api").upstream("10.0.0.5:8080").cache("HIT").build();
    org.assertj.core.api.Assertions.assertThat(summary.toString()).isEqualTo("exchange id=7 conn=3 method=GET "
        + "url=http://a/x status=200 latency_ms=4 rid=rid-1 route=api upstream=10.0.0.5:8080 cache=HIT");
  }

  /**
   * The summary's line is for logs: no userinfo, path-parameter or query value in it, as in the
   * access log; {@code url()} keeps them (probe e24: the listener example logged tokens).
   */
  @Test
  void describesAnExchangeWithoutTheCredentialsItsUrlMayCarry() {
    String[][] cases = {
        {"http://a/x?access_token=SECRET&debug", "http://a/x?access_token=***&debug"},
        {"http://alice:hunter2@a:8080/y", "http://***@a:8080/y"},
        {"http://a/app;jsessionid=S3/p?q=1=2&r=", "http://a/app;***/p?q=***&r=***"},
        {"/origin?x=1", "/origin?x=***"}, {"alice:pw@a:443", "***@a:443"}};
    for (String[] c : cases) {
      ExchangeSummary summary = ExchangeSummary.builder().id(1).connectionId(1)
          .clientAddress(new java.net.InetSocketAddress("127.0.0.1", 5000)).startTime(java.time.Instant.EPOCH)
          .method("GET").url(c[0]).status(200).duration(java.time.Duration.ZERO).build();
      org.assertj.core.api.Assertions.assertThat(summary.toString()).as(c[0]).contains(" url=" + c[1] + " ");
      org.assertj.core.api.Assertions.assertThat(summary.url()).isEqualTo(c[0]);
    }
  }
}
