package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.Filters;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import java.util.List;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ReverseProxyTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private MockWebServer origin;
  private ProxyServer proxy;

  @BeforeEach
  void start() throws Exception {
    origin = ferry.mockOrigin();
  }

  private RawClient.RawResponse get(Upstream upstream, String request) throws Exception {
    proxy = ferry.start(ProxyServer.builder().upstream(upstream));
    try (RawClient raw = new RawClient(proxy.address())) {
      return raw.send(request).readResponse();
    }
  }

  /** Fields the client's Connection lists were for its hop only (RFC 9110 §7.6.1): none goes on. */
  @Test
  void dropsForwardedForAndViaTheClientListedInConnection() throws Exception {
    origin.enqueue(new MockResponse().setBody("users"));
    get(Upstream.of(origin.url("/").toString()), "GET / HTTP/1.1\r\nHost: shop.example\r\n"
        + "Connection: X-Forwarded-For, Via\r\nX-Forwarded-For: 6.6.6.6\r\nVia: 1.1 hop\r\n\r\n");
    RecordedRequest recorded = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(recorded.getHeader("X-Forwarded-For")).isEqualTo("127.0.0.1");
    assertThat(recorded.getHeader("Via")).isEqualTo("1.1 ferry");
  }

  /**
   * A field spelled with underscores for hyphens reads, to a CGI-style server, as the one the
   * proxy removed or set itself: it goes the same way, other underscore fields stay.
   */
  @Test
  void dropsUnderscoreSpellingsOfFieldsTheProxyManages() throws Exception {
    origin.enqueue(new MockResponse().setBody("users"));
    RawClient.RawResponse response = get(Upstream.of(origin.url("/").toString()),
        "POST / HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 5\r\nTransfer_Encoding: chunked\r\n"
            + "Content_Length: 0\r\nX_Forwarded_For: 6.6.6.6\r\nKeep_Alive: 1\r\nApi_Key: k\r\n\r\nhello");
    assertThat(response.status()).isEqualTo(200);
    RecordedRequest recorded = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(recorded.getHeaders().names()).doesNotContain("Transfer_Encoding", "Content_Length",
        "X_Forwarded_For", "Keep_Alive").contains("Api_Key");
    assertThat(recorded.getHeader("X-Forwarded-For")).isEqualTo("127.0.0.1");
    assertThat(recorded.getBody().readUtf8()).isEqualTo("hello");
  }

  @Test
  void sendsForwardedHeadersAndUpstreamHost() throws Exception {
    origin.enqueue(new MockResponse().setBody("users"));
    RawClient.RawResponse response = get(Upstream.of(origin.url("/").toString()),
        "GET /users?id=7 HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: 10.1.1.1\r\n\r\n");
    assertThat(response.bodyText()).isEqualTo("users");
    assertThat(response.header("Via")).isEqualTo("1.1 ferry");
    RecordedRequest recorded = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(recorded.getRequestLine()).isEqualTo("GET /users?id=7 HTTP/1.1");
    assertThat(recorded.getHeader("Host")).isEqualTo(origin.getHostName() + ":" + origin.getPort());
    assertThat(recorded.getHeader("X-Forwarded-For")).isEqualTo("10.1.1.1, 127.0.0.1");
    assertThat(recorded.getHeader("X-Forwarded-Proto")).isEqualTo("http");
    assertThat(recorded.getHeader("X-Forwarded-Host")).isEqualTo("shop.example");
    assertThat(recorded.getHeader("Forwarded")).isEqualTo("for=127.0.0.1;host=\"shop.example\";proto=http");
  }

  /**
   * A client that names no host (HTTP/1.0 without Host, an empty Host) is not said to have asked
   * for the upstream's own address: no X-Forwarded-Host, no Forwarded host, and a pool that
   * preserves the Host sends its endpoint's.
   */
  @Test
  void reportsNoHostWhenTheClientNamedNone() throws Exception {
    TinyOrigin other = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.of(other.url("/")).preserveHost()).pathPrefix("/kept/"))
        .upstream(Upstream.of(origin.url("/").toString())));
    origin.enqueue(new MockResponse().setBody("a"));
    origin.enqueue(new MockResponse().setBody("b"));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").readResponse().bodyText()).isEqualTo("a");
      assertThat(raw.send("GET /b HTTP/1.1\r\nHost:\r\n\r\n").readResponse().bodyText()).isEqualTo("b");
      assertThat(raw.send("GET /kept/c HTTP/1.1\r\nHost:\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
    }
    for (int i = 0; i < 2; i++) {
      RecordedRequest recorded = origin.takeRequest(5, TimeUnit.SECONDS);
      assertThat(recorded.getHeader("X-Forwarded-Host")).as(recorded.getPath()).isNull();
      assertThat(recorded.getHeader("Forwarded")).as(recorded.getPath()).isEqualTo("for=127.0.0.1;proto=http");
    }
    assertThat(other.takeRequest().header("Host")).isEqualTo("127.0.0.1:" + other.port());
  }

  /**
   * RFC 9112 §3.2.4: a server-wide OPTIONS goes to the upstream as {@code OPTIONS *}, in reverse
   * mode through the catch-all pool (it was 404, no route), and from a forward proxy when the
   * absolute-form URI has an empty path.
   */
  @Test
  void forwardsTheServerWideOptionsRequest() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 204 No Content\r\nAllow: GET, OPTIONS\r\n\r\n"));
    ProxyServer reverse = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(reverse.address())) {
      assertThat(raw.send("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(204);
    }
    assertThat(origin.takeRequest().requestLine()).isEqualTo("OPTIONS * HTTP/1.1");
    ProxyServer forward = ferry.start(ProxyServer.builder().allowPrivateDestinations(true));
    try (RawClient raw = new RawClient(forward.address())) {
      assertThat(raw.send("OPTIONS http://127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: a\r\n\r\n")
          .readResponse().status()).isEqualTo(204);
    }
    assertThat(origin.takeRequest().requestLine()).isEqualTo("OPTIONS * HTTP/1.1");
  }

  /**
   * {@code OPTIONS *} names no resource, so neither a pool's base path nor a route's stripped
   * prefix applies to it: it went up as {@code OPTIONS /app*} and {@code OPTIONS /*}, requests
   * for resources of those names (probes s12, g12).
   */
  @Test
  void forwardsTheServerWideOptionsRequestWithoutBasePathOrStrippedPrefix() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 204 No Content\r\nAllow: GET, OPTIONS\r\n\r\n"));
    ProxyServer basePath = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/app"))));
    ProxyServer stripping = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.of(origin.url("/"))).pathPrefix("/").stripPrefix()));
    for (ProxyServer proxy : List.of(basePath, stripping)) {
      try (RawClient raw = new RawClient(proxy.address())) {
        assertThat(raw.send("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(204);
      }
      assertThat(origin.takeRequest().requestLine()).isEqualTo("OPTIONS * HTTP/1.1");
    }
  }

  /** Nothing a client sends reaches into this hop's Forwarded element. */
  @Test
  void keepsTheClientOutOfItsOwnForwardedElement() throws Exception {
    origin.enqueue(new MockResponse().setBody("users"));
    origin.enqueue(new MockResponse().setBody("users"));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET http://x\";for=\"6.6.6.6/ HTTP/1.1\r\nHost: x\r\n\r\n").readResponse().status())
          .as("a quote in the authority").isEqualTo(400);
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.1\r\nHost: x\r\nForwarded: for=6.6.6.6;x=\"\r\n\r\n").readResponse();
    }
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("Forwarded"))
        .as("an unclosed quote, which would swallow this hop's element, is dropped")
        .isEqualTo("for=127.0.0.1;host=\"x\";proto=http");
  }

  /**
   * A client's Forwarded elements are replaced by this hop's, as its X-Forwarded-Host and -Proto
   * are: backends read the first element (Spring does), which the client would otherwise write.
   * Forwarding fields the proxy does not set are dropped, underscore spellings too; a filter
   * may still set them.
   */
  @Test
  void replacesForwardingFieldsAClientForged() throws Exception {
    origin.enqueue(new MockResponse().setBody("users"));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .filter(Filters.setRequestHeader("X-Forwarded-Prefix", "/shop")));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.1\r\nHost: shop.example\r\nForwarded: for=1.2.3.4;host=evil.example;proto=https\r\n"
          + "X-Forwarded-Port: 8443\r\nX-Real-IP: 6.6.6.6\r\nX_Real_IP: 6.6.6.6\r\nx-forwarded-server: evil\r\n"
          + "X-Forwarded-Prefix: /evil\r\n\r\n").readResponse();
    }
    RecordedRequest recorded = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(recorded.getHeader("Forwarded")).isEqualTo("for=127.0.0.1;host=\"shop.example\";proto=http");
    assertThat(recorded.getHeaders().names()).doesNotContain("X-Forwarded-Port", "X-Real-IP", "X_Real_IP",
        "x-forwarded-server");
    assertThat(recorded.getHeaders().values("X-Forwarded-Prefix")).containsExactly("/shop");
  }

  /**
   * The fields backends read the scheme from before {@code X-Forwarded-Proto} (Rack's
   * {@code X-Forwarded-Ssl}, {@code -Scheme}) are a client's to forge too: a plain-http client
   * passed for https (probe g14).
   */
  @Test
  void dropsTheSchemeFieldsAClientForged() throws Exception {
    origin.enqueue(new MockResponse());
    get(Upstream.of(origin.url("/").toString()), "GET / HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-Ssl: on\r\n"
        + "X-Forwarded-Scheme: https\r\nX_Forwarded_Ssl: on\r\nFront-End-Https: on\r\nX-Url-Scheme: https\r\n"
        + "X-Forwarded-Protocol: https\r\nX_Forwarded_Proto: https\r\nX-Scheme: https\r\n"
        + "X-Forwarded-Https: on\r\nX-Original-URL: /admin\r\nX-Rewrite-URL: /admin\r\n\r\n");
    RecordedRequest recorded = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(recorded.getHeaders().names()).doesNotContain("X-Forwarded-Ssl", "X-Forwarded-Scheme",
        "X_Forwarded_Ssl", "Front-End-Https", "X-Url-Scheme", "X-Forwarded-Protocol", "X_Forwarded_Proto",
        "X-Scheme", "X-Forwarded-Https", "X-Original-URL", "X-Rewrite-URL");
    assertThat(recorded.getHeader("X-Forwarded-Proto")).isEqualTo("http");
  }

  /**
   * The other host, URL and address claims proxies and CDNs set are a client's to forge too: an
   * origin building its answer from a client's {@code X-Original-Host} had it cached for all
   * (probe p24).
   */
  @Test
  void dropsTheHostUrlAndAddressClaimsAClientForged() throws Exception {
    origin.enqueue(new MockResponse());
    String[] forged = {"X-Original-Host", "X-Host", "X-HTTP-Host-Override", "X-Original-URI", "X-Forwarded-Uri",
        "X-Forwarded-Path", "X-Envoy-Original-Path", "Client-IP", "True-Client-IP", "X-Client-IP",
        "X-Cluster-Client-IP", "X-Forwarded", "Forwarded-For", "X-Arr-Ssl", "CF-Visitor", "X_Original_Host",
        "CF-Connecting-IP", "Fastly-Client-IP", "X-Azure-ClientIP", "X-Envoy-External-Address", "X-Originating-IP",
        "X-Remote-Addr", "X-Original-Forwarded-For", "X-Forwarded-Url"};
    StringBuilder head = new StringBuilder("GET / HTTP/1.1\r\nHost: shop.example\r\n");
    for (String name : forged) {
      head.append(name).append(": evil.example\r\n");
    }
    get(Upstream.of(origin.url("/").toString()), head.append("\r\n").toString());
    RecordedRequest recorded = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(recorded.getHeaders().names()).doesNotContainAnyElementsOf(List.of(forged));
  }

  /**
   * The host goes upstream in the spelling the cache keys on: lower case, without a trailing dot
   * or the default port. {@code SITE.TEST.} was stored under {@code site.test} from an answer
   * the origin built for {@code SITE.TEST.} (probe p24).
   */
  @Test
  void tellsTheUpstreamTheHostInOneSpelling() throws Exception {
    for (String host : new String[] {"SHOP.Example.", "shop.example:80", "shop.example:"}) {
      origin.enqueue(new MockResponse());
      get(Upstream.of(origin.url("/").toString()), "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
      RecordedRequest recorded = origin.takeRequest(5, TimeUnit.SECONDS);
      assertThat(recorded.getHeader("X-Forwarded-Host")).as(host).isEqualTo("shop.example");
      assertThat(recorded.getHeader("Forwarded")).as(host).contains("host=\"shop.example\"");
    }
  }

  /**
   * A filter that rewrites the host leaves the client's going upstream in {@code X-Forwarded-Host}
   * and {@code Forwarded}, from which origins build links and redirects: the cache keeps a copy
   * per client host. One client's {@code Host: evil.example} was stored under the rewritten host
   * and served to every client, whatever {@code Vary} said (probe filtercache F1).
   */
  @Test
  void cachesACopyPerClientHostWhenAFilterRewritesTheHost() throws Exception {
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .filter(Filters.rewriteHost("app.internal"))
        .cache(CacheSpec.inMemory()));
    for (String host : new String[] {"evil.example", "www.example"}) {
      origin.enqueue(new MockResponse().setHeader("Cache-Control", "public, max-age=60")
          .setHeader("Vary", "X-Forwarded-Host").setBody("<a href=\"https://" + host + "/login\">"));
    }
    assertThat(getThroughCache("evil.example").bodyText()).contains("evil.example");
    RawClient.RawResponse victim = getThroughCache("www.example");
    assertThat(victim.bodyText()).contains("www.example");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("X-Forwarded-Host")).isEqualTo("evil.example");
    RecordedRequest second = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(second.getHeader("Host")).isEqualTo("app.internal");
    assertThat(second.getHeader("X-Forwarded-Host")).isEqualTo("www.example");
    RawClient.RawResponse again = getThroughCache("WWW.example");
    assertThat(again.header("X-Cache")).as("the client host's own copy, in any spelling").isEqualTo("HIT");
    assertThat(again.bodyText()).contains("www.example");
  }

  /**
   * With the host rewritten, a client that named none (HTTP/1.0 without {@code Host}) has a copy
   * of its own: it stands for the first endpoint's authority but the upstream is told no host, and
   * its copy answered a client whose {@code Host} was that authority (probe filtercache2).
   */
  @Test
  void keepsTheCopyOfAClientThatNamedNoHostApartWhenAFilterRewritesTheHost() throws Exception {
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .filter(Filters.rewriteHost("app.internal"))
        .cache(CacheSpec.inMemory()));
    origin.enqueue(new MockResponse().setHeader("Cache-Control", "public, max-age=60").setBody("no host"));
    origin.enqueue(new MockResponse().setHeader("Cache-Control", "public, max-age=60").setBody("named"));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /home HTTP/1.0\r\n\r\n").readResponse().bodyText()).isEqualTo("no host");
    }
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("X-Forwarded-Host")).isNull();
    String standIn = origin.getHostName() + ":" + origin.getPort();
    assertThat(getThroughCache(standIn).bodyText()).isEqualTo("named");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("X-Forwarded-Host")).isEqualTo(standIn);
  }

  private RawClient.RawResponse getThroughCache(String host) throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      return raw.send("GET /home HTTP/1.1\r\nHost: " + host + "\r\n\r\n").readResponse();
    }
  }

  /**
   * A filter's {@code X-Forwarded-Proto}, {@code -Host} or {@code Forwarded} (what a TLS-terminating
   * load balancer in front would say) goes upstream; the proxy put its own in their place without
   * a word (probe g14). A client's are still replaced.
   */
  @Test
  void forwardsTheForwardingFieldsAFilterSet() throws Exception {
    origin.enqueue(new MockResponse());
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .filter(Filters.setRequestHeader("X-Forwarded-Proto", "https"))
        .filter(Filters.setRequestHeader("X-Forwarded-Host", "www.example"))
        .filter(Filters.setRequestHeader("Forwarded", "for=10.0.0.1;proto=https")));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-Proto: ftp\r\n\r\n").readResponse();
    }
    RecordedRequest recorded = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(recorded.getHeaders().values("X-Forwarded-Proto")).containsExactly("https");
    assertThat(recorded.getHeaders().values("X-Forwarded-Host")).containsExactly("www.example");
    assertThat(recorded.getHeaders().values("Forwarded")).containsExactly("for=10.0.0.1;proto=https");
  }

  /**
   * The proxy's own Forwarded says what a filter's X-Forwarded-Proto and -Host say: it said
   * {@code proto=http} beside a filter's {@code X-Forwarded-Proto: https} (probe v14).
   */
  @Test
  void saysInItsForwardedWhatAFiltersForwardingFieldsSay() throws Exception {
    origin.enqueue(new MockResponse());
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .filter(Filters.setRequestHeader("X-Forwarded-Proto", "https"))
        .filter(Filters.setRequestHeader("X-Forwarded-Host", "www.example")));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n").readResponse();
    }
    RecordedRequest recorded = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(recorded.getHeaders().values("Forwarded")).containsExactly("for=127.0.0.1;host=\"www.example\";proto=https");
  }

  @Test
  void preservesClientHostWhenAsked() throws Exception {
    origin.enqueue(new MockResponse());
    get(Upstream.of(origin.url("/").toString()).preserveHost(),
        "GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("Host")).isEqualTo("shop.example");
  }

  @Test
  void prefixesUpstreamBasePath() throws Exception {
    origin.enqueue(new MockResponse());
    get(Upstream.of(origin.url("/api/").toString()), "GET /users HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getPath()).isEqualTo("/api/users");
  }

  @Test
  void acceptsAbsoluteFormAndUsesItsPath() throws Exception {
    origin.enqueue(new MockResponse());
    get(Upstream.of(origin.url("/").toString()),
        "GET http://shop.example/a/b HTTP/1.1\r\nHost: other\r\n\r\n");
    RecordedRequest recorded = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(recorded.getPath()).isEqualTo("/a/b");
    assertThat(recorded.getHeader("X-Forwarded-Host")).isEqualTo("shop.example");
  }

  @Test
  void refusesConnectWith405() throws Exception {
    RawClient.RawResponse response = get(Upstream.of(origin.url("/").toString()),
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    assertThat(response.status()).isEqualTo(405);
    assertThat(response.header("Allow")).as("RFC 9110 §15.5.6").contains("GET").doesNotContain("CONNECT");
    assertThat(origin.getRequestCount()).isZero();
  }

  @Test
  void answersAnUpstreamThatIsTheProxyItselfWith508() throws Exception {
    try (RefusingPort placeholder = new RefusingPort()) {
      proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(placeholder.url("/"))));
      for (String host : new String[] {"127.0.0.1", "localhost", "0.0.0.0"}) {
        proxy.reconfigure(proxy.config().toBuilder()
            .upstream(Upstream.of("http://" + host + ":" + proxy.port() + "/")).buildConfig());
        try (RawClient raw = new RawClient(proxy.address())) {
          RawClient.RawResponse response = raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
          assertThat(response.status()).as(host).isEqualTo(508);
          assertThat(response.statusLine()).endsWith("508 Loop Detected");
          assertThat(response.bodyText()).contains("loop");
          raw.send("GET /again HTTP/1.1\r\nHost: a\r\n\r\n");
          assertThat(raw.readResponse().status()).as("next request on the connection").isEqualTo(508);
        }
      }
      // One exchange per request sent, none forwarded back to the proxy itself.
      assertThat(proxy.stats().exchanges()).isEqualTo(6);
    }
  }

  /**
   * RFC 9110 §7.6.2: TRACE and OPTIONS with Max-Forwards 0 are answered by the proxy; above 0
   * it goes on one less; other methods ignore it (it was passed on unchanged).
   */
  @Test
  void answersTraceAndOptionsAtMaxForwardsZeroAndDecrementsOtherwise() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("traced"));
    origin.enqueue(new MockResponse().setBody("got"));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .filter(Filters.setRequestHeader("X-Upstream-Token", "filter-secret")));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse trace = raw.send("TRACE /t HTTP/1.1\r\nHost: a\r\nMax-Forwards: 0\r\n"
          + "X-Custom: seen\r\nCookie: secret=1\r\n\r\n").readResponse();
      assertThat(trace.status()).isEqualTo(200);
      assertThat(trace.header("Content-Type")).isEqualTo("message/http");
      assertThat(trace.bodyText()).as("as the client sent it, without credentials")
          .startsWith("TRACE /t HTTP/1.1\r\n").contains("X-Custom: seen").doesNotContain("secret");
      RawClient.RawResponse options = raw.send("OPTIONS * HTTP/1.1\r\nHost: a\r\nMax-Forwards: 0\r\n\r\n")
          .readResponse();
      assertThat(options.status()).isEqualTo(200);
      assertThat(options.header("Allow")).contains("GET").doesNotContain("CONNECT");
      assertThat(origin.getRequestCount()).as("answered by the proxy").isZero();
      assertThat(raw.send("TRACE /t HTTP/1.1\r\nHost: a\r\nMax-Forwards: 3\r\n\r\n").readResponse().status())
          .isEqualTo(200);
      // A body a TRACE should not have is dropped, and so is its length (probe sem F4).
      RawClient.RawResponse withBody = raw.send("TRACE /b HTTP/1.1\r\nHost: a\r\nMax-Forwards: 0\r\n"
          + "Content-Length: 5\r\n\r\nHELLO").readResponse();
      assertThat(withBody.bodyText()).startsWith("TRACE /b HTTP/1.1\r\n").doesNotContain("Content-Length")
          .doesNotContain("HELLO").endsWith("\r\n\r\n");
      assertThat(raw.send("GET /g HTTP/1.1\r\nHost: a\r\nMax-Forwards: 0\r\n\r\n").readResponse().bodyText())
          .isEqualTo("got");
    }
    assertThat(origin.takeRequest().getHeader("Max-Forwards")).isEqualTo("2");
    assertThat(origin.takeRequest().getHeader("Max-Forwards")).as("GET ignores it").isEqualTo("0");
  }

  /**
   * RFC 9110 §7.6.1: a client's Connection options name its own hop-by-hop fields; the fields
   * the proxy's filters set under those names are not the client's, and go upstream.
   */
  @Test
  void keepsFilterSetFieldsThatTheClientsConnectionNames() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setBody("got"));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .filter(Filters.setRequestHeader("X-Internal-Auth", "from-ferry")));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /g HTTP/1.1\r\nHost: a\r\nConnection: X-Internal-Auth, X-Hop, Authorization, keep-alive\r\n"
          + "X-Internal-Auth: forged\r\nX-Hop: 1\r\nX-End: 2\r\nAuthorization: Basic dTpw\r\n\r\n").readResponse().status())
          .isEqualTo(200);
    }
    RecordedRequest received = origin.takeRequest();
    assertThat(received.getHeaders().values("X-Internal-Auth")).containsExactly("from-ferry");
    assertThat(received.getHeader("Authorization")).as("named by Connection: for this hop only").isNull();
    assertThat(received.getHeader("X-Hop")).as("the client's hop-by-hop field").isNull();
    assertThat(received.getHeader("X-End")).isEqualTo("2");
    assertThat(received.getHeader("Connection")).isNull();
  }

  /**
   * RFC 9110 §7.6.2: the proxy sends on the lesser of the value less one and its maximum, and a
   * value that is not one number is refused rather than sent on unbounded or ignored.
   */
  @Test
  void capsMaxForwardsAndRefusesOneThatIsNotANumber() throws Exception {
    origin.enqueue(new MockResponse().setBody("traced"));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("TRACE /t HTTP/1.1\r\nHost: a\r\nMax-Forwards: 99999999999999999999\r\n\r\n")
          .readResponse().status()).isEqualTo(200);
    }
    assertThat(origin.takeRequest().getHeader("Max-Forwards")).isEqualTo("2147483647");
    for (String fields : new String[] {"Max-Forwards: 0\r\nMax-Forwards: 5", "Max-Forwards: 1, 0",
        "Max-Forwards: -1", "Max-Forwards: ", "Max-Forwards: abc"}) {
      try (RawClient raw = new RawClient(proxy.address())) {
        assertThat(raw.send("OPTIONS /o HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n\r\n").readResponse().status())
            .as(fields).isEqualTo(400);
      }
    }
    assertThat(origin.getRequestCount()).isEqualTo(1);
  }

  /** RFC 9110 §10.1.4: a client that takes trailers says so, and the proxy relays trailers. */
  @Test
  void passesOnThatTheClientTakesTrailers() throws Exception {
    origin.enqueue(new MockResponse().setBody("a"));
    origin.enqueue(new MockResponse().setBody("b"));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET /t HTTP/1.1\r\nHost: a\r\nTE: trailers\r\nConnection: TE\r\n\r\n").readResponse();
      raw.send("GET /t HTTP/1.1\r\nHost: a\r\nTE: gzip\r\nConnection: TE\r\n\r\n").readResponse();
    }
    RecordedRequest trailers = origin.takeRequest();
    assertThat(trailers.getHeader("TE")).isEqualTo("trailers");
    assertThat(trailers.getHeader("Connection")).isEqualTo("TE");
    assertThat(origin.takeRequest().getHeader("TE")).as("no coding but trailers is relayed").isNull();
  }

  /** RFC 9110 §5.6.1: no empty list member is generated, whatever Via came. */
  @Test
  void leavesEmptyMembersOutOfVia() throws Exception {
    origin.enqueue(new MockResponse().setBody("v").addHeader("Via", ""));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString())));
    RawClient.RawResponse response;
    try (RawClient raw = new RawClient(proxy.address())) {
      response = raw.send("GET / HTTP/1.1\r\nHost: a\r\nVia: \r\nVia: 1.0 a, ,1.1 b\r\n\r\n").readResponse();
    }
    assertThat(origin.takeRequest().getHeader("Via")).isEqualTo("1.0 a, 1.1 b, 1.1 ferry");
    assertThat(response.header("Via")).isEqualTo("1.1 ferry");
  }
  /**
   * Probe poison1: a reverse proxy took an absolute-form target's scheme as written while the
   * upstream heard the connection's ({@code X-Forwarded-Proto: http}), and the cache keyed the
   * answer on the written one: one request in the clear stored, under the https URL, the answer
   * meant for http (an origin's redirect to https, served to every https client from a shared
   * store). Now it is 421 (and a close, as for every refused head), nothing goes upstream or into
   * the cache, and the next connection is served.
   */
  @Test
  void answers421ToAnAbsoluteFormTargetOfAnotherScheme() throws Exception {
    origin.enqueue(new MockResponse().setHeader("Cache-Control", "public, max-age=60").setBody("plain"));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .cache(CacheSpec.inMemory().maxSizeBytes(1 << 20)));
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse misdirected = raw.send("GET https://site.test/home HTTP/1.1\r\nHost: site.test\r\n\r\n")
          .readResponse();
      assertThat(misdirected.status()).isEqualTo(421);
      assertThat(misdirected.header("connection")).isEqualTo("close");
      assertThat(raw.input().read()).isEqualTo(-1);
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET http://site.test/home HTTP/1.1\r\nHost: site.test\r\n\r\n").readResponse().bodyText())
          .isEqualTo("plain");
    }
    assertThat(origin.getRequestCount()).isEqualTo(1);
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("X-Forwarded-Proto")).isEqualTo("http");
    assertThat(proxy.stats().failures()).containsEntry("MISDIRECTED_REQUEST", 1L);
    assertThat(proxy.cache().orElseThrow().stats().entries()).as("the http answer alone").isEqualTo(1);
  }
}
