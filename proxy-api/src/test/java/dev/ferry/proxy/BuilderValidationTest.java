package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The builder validates early and says what to fix; configs round-trip. */
class BuilderValidationTest {

  @Test
  void rejectsOutOfRangeOptionsWithActionableMessages() {
    ProxyServer.Builder builder = ProxyServer.builder();
    assertThatThrownBy(() -> builder.port(-1)).hasMessage("port must be between 0 and 65535 (was -1)");
    assertThatThrownBy(() -> builder.maxHeaderBytes(10))
        .hasMessage("maxHeaderBytes must be between 1024 and 1048576 (was 10)");
    assertThatThrownBy(() -> builder.maxRequestLineBytes(100))
        .hasMessage("maxRequestLineBytes must be between 256 and 1048576 (was 100)");
    assertThatThrownBy(() -> builder.maxHeaderCount(0)).hasMessageContaining("maxHeaderCount");
    assertThatThrownBy(() -> builder.maxConnections(0)).hasMessageContaining("maxConnections");
    assertThatThrownBy(() -> builder.maxRequestBodyBytes(-1)).hasMessageContaining("(was -1)");
    assertThatThrownBy(() -> builder.idleTimeout(Duration.ZERO)).hasMessage("idleTimeout must be positive (was PT0S)");
    assertThatThrownBy(() -> builder.connectTimeout(Duration.ofSeconds(-1))).hasMessageContaining("connectTimeout");
    assertThatThrownBy(() -> builder.bindAddress("no such host.invalid")).hasMessageContaining("bindAddress");
    assertThatThrownBy(() -> builder.filter(null)).isInstanceOf(NullPointerException.class).hasMessage("filter");
    // Too long to count in nanoseconds: refused when set, not an ArithmeticException from build().
    assertThatThrownBy(() -> builder.writeTimeout(Duration.ofSeconds(Long.MAX_VALUE)))
        .hasMessageStartingWith("writeTimeout must be at most 365 days");
    assertThatThrownBy(() -> Route.to(Upstream.of("http://127.0.0.1:9001")).timeout(Duration.ofDays(400)))
        .hasMessageStartingWith("route timeout must be at most 365 days");
  }

  /**
   * Texts that go to logs and banners leave out what may be a credential: a health check's query
   * values, and the query of an upstream URL refused for having one (both were shown, probe o12).
   */
  /** The second listener failed to bind at start, as if another process held the port (probe cli F1). */
  @Test
  void refusesAnAdminListenerOnTheProxysOwnPort() {
    String message = "the admin listener's port 18725 is the proxy's own port on the same address";
    assertThatThrownBy(() -> ProxyServer.builder().port(18725)
        .admin(new java.net.InetSocketAddress("127.0.0.1", 18725)).buildConfig())
        .isInstanceOf(IllegalStateException.class).hasMessageStartingWith(message);
    assertThatThrownBy(() -> ProxyServer.builder().port(18725).bindAddress("0.0.0.0")
        .admin(new java.net.InetSocketAddress("127.0.0.1", 18725)).buildConfig())
        .hasMessageStartingWith(message);
    assertThat(ProxyServer.builder().port(0).admin(new java.net.InetSocketAddress("127.0.0.1", 0)).buildConfig()
        .admin()).isPresent();
    assertThat(ProxyServer.builder().port(18725).bindAddress("127.0.0.2")
        .admin(new java.net.InetSocketAddress("127.0.0.1", 18725)).buildConfig().admin()).isPresent();
  }

  @Test
  void showsNoQueryValuesInTextsThatGoToLogs() {
    assertThat(HealthCheck.http("/health?token=S3CRET&verbose").toString())
        .isEqualTo("healthCheck(/health?token=***&verbose every 5000 ms)");
    assertThatThrownBy(() -> Upstream.of("http://127.0.0.1:9001/app?token=S3CRET"))
        .hasMessage("upstream URL must not have a query or fragment (was http://127.0.0.1:9001/app?...)");
    assertThatThrownBy(() -> Upstream.of("ftp://127.0.0.1:9001/app?token=S3CRET")).hasMessageEndingWith("?...)");
  }

  /** The same endpoint with its default port implied and written is in the pool twice (probe g12). */
  @Test
  void refusesAnEndpointGivenTwiceWithAndWithoutItsDefaultPort() {
    assertThatThrownBy(() -> Upstream.pool("http://127.0.0.1:80", "http://127.0.0.1"))
        .hasMessageContaining("is in the pool twice");
    assertThatThrownBy(() -> Upstream.weighted("https://h.test", 2).endpoint("https://H.test:443", 1))
        .hasMessageContaining("is in the pool twice");
    assertThat(Upstream.pool("http://h.test", "https://h.test:80").endpoints()).hasSize(2);
  }

  /**
   * One address written two ways is one endpoint: an IPv6 literal compressed or not, a host name
   * with its root dot. Both were taken as two, each with its own share and health state (gateway
   * probe F3).
   */
  @Test
  void refusesAnEndpointGivenTwiceUnderTwoSpellings() {
    assertThatThrownBy(() -> Upstream.pool("http://[::1]:9000", "http://[0:0:0:0:0:0:0:1]:9000"))
        .hasMessageContaining("is in the pool twice");
    assertThatThrownBy(() -> Upstream.pool("http://[2001:DB8::1]:9000", "http://[2001:db8:0::1]:9000"))
        .hasMessageContaining("is in the pool twice");
    assertThatThrownBy(() -> Upstream.pool("http://h.test:9000", "http://h.test.:9000"))
        .hasMessageContaining("is in the pool twice");
    assertThat(Upstream.pool("http://[::1]:9000", "http://[::2]:9000").endpoints()).hasSize(2);
  }

  /**
   * Request paths are matched normalised, so a route path in another form matches nothing and
   * its requests went to a later route without a word; and a catch-all pool behind a route that
   * matches everything is never used (probe g12).
   */
  @Test
  void refusesRoutePathsNoRequestPathCanMatchAndAPoolNoRequestReaches() {
    Upstream a = Upstream.of("http://127.0.0.1:9001");
    for (String path : new String[] {"/x%2Dy/", "/p//q/", "/%7Eu/", "/a/./b", "/a/../b", "/a%2fb", "/a%c3%a9", "/a%zz",
        "/\u20ac/", "/a b/", "/a?b/", "/a#b", "/a\\b"}) {
      assertThatThrownBy(() -> Route.to(a).pathPrefix(path)).as(path)
          .hasMessageStartingWith("route path must be written as request paths are matched");
    }
    assertThat(Route.to(a).pathPrefix("/a%C3%A9/").path()).isEqualTo("/a%C3%A9/");
    assertThat(Route.to(a).path("/x-y/~u").path()).isEqualTo("/x-y/~u");
    assertThat(Route.to(a).pathPrefix("/a;v=1/@me:x/").path()).isEqualTo("/a;v=1/@me:x/");
    // A health check's query stays out of the message refusing its path too (probe v12).
    assertThatThrownBy(() -> HealthCheck.http("health?token=S3CRET")).hasMessageEndingWith("(was health?token=***)");
    // A fragment, or a character no request target holds, never reaches a backend (probe g24).
    for (String path : new String[] {"/health#frag", "/health<x>", "/h{x}", "/h\u00e9", "/h x", "/h%zz", "/h%4"}) {
      assertThatThrownBy(() -> HealthCheck.http(path)).as(path)
          .hasMessageStartingWith("health check path must start with / and be a request target");
    }
    assertThat(HealthCheck.http("/h%C3%A9/x;v=1?a=b&c=/d?").path()).isEqualTo("/h%C3%A9/x;v=1?a=b&c=/d?");
    for (String url : new String[] {"http://h/app/x/..", "http://h/./app", "http://h//app", "http://h/a b", "http://h/%2e"}) {
      assertThatThrownBy(() -> Upstream.of(url)).as(url).hasMessageStartingWith("upstream base path must be written normalised");
    }
    assertThat(Upstream.of("http://h/app/v%C3%A9;v=1/").endpoints().get(0).basePath()).isEqualTo("/app/v%C3%A9;v=1");
    // A CR LF in the base path went into the request line: a header of the URL's choosing (probe e24).
    assertThatThrownBy(() -> Upstream.of("http://h/app\r\nX-Injected: 1\r\nX-Pad:"))
        .hasMessageStartingWith("upstream base path must be written normalised").hasMessageNotContaining("\r");
    Upstream b = Upstream.of("http://127.0.0.1:9002").name("b");
    assertThatThrownBy(() -> ProxyServer.builder().route(Route.to(a).pathPrefix("/")).upstream(b).buildConfig())
        .hasMessageStartingWith("the upstream(...) pool b is never used");
    assertThat(ProxyServer.builder().route(Route.to(a).pathPrefix("/api/")).upstream(b).buildConfig().routes()).hasSize(1);
  }

  /** The first match wins: a route an earlier one covers could never match. */
  @Test
  void refusesARouteThatCanNeverMatch() {
    Upstream a = Upstream.of("http://127.0.0.1:9001");
    Upstream b = Upstream.of("http://127.0.0.1:9002");
    assertThatThrownBy(() -> ProxyServer.builder().route(Route.to(a).pathPrefix("/a/"))
        .route(Route.to(b).pathPrefix("/a/")).buildConfig()).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("route /a/ (number 2) can never match: route /a/ before it");
    assertThatThrownBy(() -> ProxyServer.builder().route(Route.to(a).host("*.example.test").pathPrefix("/v1/"))
        .route(Route.to(b).host("api.example.test").path("/v1/users").method("GET")).buildConfig())
        .hasMessageContaining("can never match");
    assertThatThrownBy(() -> ProxyServer.builder().route(Route.to(a).pathPrefix("/a/"))
        .route(Route.to(b).pathPrefix("/a/").header("X-Canary", "1")).buildConfig())
        .as("a canary after its wider route").hasMessageContaining("can never match");
    // Narrower routes first, and conditions the earlier route lacks, leave every route reachable.
    ProxyServer.builder().route(Route.to(b).pathPrefix("/a/b/"))
        .route(Route.to(b).pathPrefix("/a/").header("X-Canary", "1").method("GET"))
        .route(Route.to(a).pathPrefix("/a/").method("GET", "POST"))
        .route(Route.to(a).pathPrefix("/a/")).route(Route.to(b).pathRegex("^/a/"))
        .route(Route.to(a).host("api.example.test")).buildConfig();
  }

  /** RFC 9110 §9.1: a server that supports GET supports HEAD, so a GET route takes HEAD too. */
  @Test
  void takesHeadOnAGetRoute() {
    Route gets = Route.to(Upstream.of("http://127.0.0.1:9001")).pathPrefix("/a/").method("GET");
    assertThat(gets.matches(Request.builder().method("HEAD").target("/a/x").build())).isTrue();
    assertThat(gets.matches(Request.builder().method("POST").target("/a/x").build())).isFalse();
    Route posts = Route.to(Upstream.of("http://127.0.0.1:9001")).pathPrefix("/a/").method("POST");
    assertThat(posts.matches(Request.builder().method("HEAD").target("/a/x").build())).isFalse();
    assertThat(gets.covers(Route.to(Upstream.of("http://127.0.0.1:9002")).pathPrefix("/a/").method("HEAD"))).isTrue();
  }

  @Test
  void refusesStripPrefixOnAnythingButAPathPrefixInEitherOrder() {
    Route route = Route.to(Upstream.of("http://127.0.0.1:9001"));
    assertThatThrownBy(() -> route.path("/exact").stripPrefix()).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> route.stripPrefix().path("/exact")).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("stripPrefix needs a pathPrefix route");
    assertThatThrownBy(() -> route.stripPrefix().pathRegex("^/v1/")).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> route.method("G ET")).hasMessageContaining("not a method name");
  }

  /** A request ID in a field the proxy writes would overwrite its trace context or be overwritten. */
  @Test
  void refusesARequestIdHeaderThatTheProxyWritesItself() {
    for (String name : new String[] {"traceparent", "Via", "X-Forwarded-For", "x-b3-traceid", "Forwarded"}) {
      assertThatThrownBy(() -> ProxyServer.builder().requestIdHeader(name)).as(name)
          .hasMessageStartingWith("requestIdHeader cannot be " + name);
    }
    // A field with a meaning of its own: credentials would be replaced upstream, echoed and logged.
    for (String name : new String[] {"Authorization", "Cookie", "Content-Type", "If-None-Match"}) {
      assertThatThrownBy(() -> ProxyServer.builder().requestIdHeader(name)).as(name)
          .hasMessageContaining("means something else");
    }
    // Fields the proxy acts on, or with a meaning of their own the ID would replace (probe e24).
    for (String name : new String[] {"Expect", "Max-Forwards", "Client-Cert", "X-Real-IP", "Proxy-Authenticate",
        "Retry-After", "Sec-WebSocket-Key", "Access-Control-Allow-Origin"}) {
      assertThatThrownBy(() -> ProxyServer.builder().requestIdHeader(name)).as(name)
          .hasMessageStartingWith("requestIdHeader cannot be " + name);
    }
    // Method overrides, which backends and the cache act on, in any spelling; RFC 9209's
    // Proxy-Status; underscore spellings of the proxy's own fields (probe v27); RFC 9530's
    // integrity digests, whose origin value a request ID replaced (probe o25).
    for (String name : new String[] {"X-HTTP-Method-Override", "x-http-method", "X_Method_Override",
        "Proxy-Status", "X_Forwarded_For", "Repr-Digest", "Want-Content-Digest", "Digest", "Warning"}) {
      assertThatThrownBy(() -> ProxyServer.builder().requestIdHeader(name)).as(name)
          .hasMessageStartingWith("requestIdHeader cannot be " + name);
      assertThatThrownBy(() -> CacheSpec.inMemory().statusHeader(name)).as(name)
          .hasMessageStartingWith("statusHeader cannot be " + name);
    }
    ProxyServer.builder().requestIdHeader("X-Correlation-Id");
  }

  /**
   * A cache status or a targeted cache-control field in a field with a meaning of its own
   * replaced that meaning: {@code Cache-Control: MISS} reached clients (probe e24).
   */
  @Test
  void refusesACacheStatusOrTargetedFieldThatMeansSomethingElse() {
    for (String name : new String[] {"Cache-Control", "Content-Type", "Set-Cookie", "Age", "Via", "traceparent",
        "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy", "Cache-Status",
        "CDN-Cache-Control", "Feature-Policy", "Origin-Agent-Cluster", "Expect-CT", "Cloudflare-CDN-Cache-Control"}) {
      assertThatThrownBy(() -> CacheSpec.inMemory().statusHeader(name)).as(name)
          .hasMessageStartingWith("statusHeader cannot be " + name);
    }
    for (String name : new String[] {"Cache-Control", "Content-Length", "Expires"}) {
      assertThatThrownBy(() -> CacheSpec.inMemory().targetedField(name)).as(name)
          .hasMessageStartingWith("targetedField cannot be " + name);
    }
    assertThat(CacheSpec.inMemory().statusHeader("X-Cache-Status").targetedField("Ferry-Cache-Control")
        .statusHeader()).isEqualTo("X-Cache-Status");
    assertThat(CacheSpec.inMemory().targetedField("Surrogate-Control").targetedField()).isEqualTo("Surrogate-Control");
    // Messages show control characters as ?: a CR LF would forge a log line (probe v24).
    assertThatThrownBy(() -> HealthCheck.http("/h\r\n[main] INFO forged")).hasMessageNotContaining("\r")
        .hasMessageNotContaining("\n");
    assertThatThrownBy(() -> Upstream.of("http://127.0.0.1:9\u001b[31m")).hasMessageNotContaining("\u001b");
    assertThatThrownBy(() -> ProxyServer.builder().requestIdHeader("X-\u001b[31m")).hasMessageNotContaining("\u001b");
    assertThatThrownBy(() -> Route.to(Upstream.of("http://h")).pathPrefix("/a\u001b[31m/"))
        .hasMessageNotContaining("\u001b");
    // C1 controls (a CSI) too; and values that went raw into the banner are refused (probe v25).
    assertThatThrownBy(() -> Route.to(Upstream.of("http://h")).pathPrefix("/a\u009b2J/"))
        .hasMessageNotContaining("\u009b");
    assertThatThrownBy(() -> Balancer.hashCookie("sid\r\n[WARN] forged")).hasMessageNotContaining("\n");
    assertThatThrownBy(() -> Route.to(Upstream.of("http://h")).host("h\r\n[INFO] forged\u009b2J"))
        .hasMessageStartingWith("route host must be").hasMessageNotContaining("\n").hasMessageNotContaining("\u009b");
    assertThatThrownBy(() -> Route.to(Upstream.of("http://h")).pathRegex("^/a|\r\nWARN forged"))
        .hasMessageStartingWith("pathRegex must not hold control characters").hasMessageNotContaining("\n");
    assertThatThrownBy(() -> Filters.accessControl().allowHosts("a\u001b[2Jb.test"))
        .hasMessageStartingWith("host must be a name").hasMessageNotContaining("\u001b");
  }

  /** The two would share one field, and the request ID would hide every cache verdict. */
  @Test
  void refusesARequestIdHeaderThatIsTheCachesStatusHeader() {
    assertThatThrownBy(() -> ProxyServer.builder().requestIdHeader("x-cache").cache(CacheSpec.inMemory()).buildConfig())
        .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("requestIdHeader x-cache is the cache's status header");
    ProxyServer.builder().requestIdHeader("X-Cache").cache(CacheSpec.inMemory().statusHeader("X-Cache-Status")).buildConfig();
  }

  @Test
  void refusesAnyConnectPortBesideChosenPorts() {
    assertThatThrownBy(() -> ProxyServer.builder().allowAnyConnectPort().allowConnectPorts(8443).buildConfig())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("keep one");
  }

  /** Two different pools under one name would be merged: build refuses it (start used to, leaving its port bound). */
  @Test
  void refusesTwoDifferentPoolsWithOneName() {
    ProxyServer.Builder builder = ProxyServer.builder()
        .route(Route.to(Upstream.of("http://127.0.0.1:9001").name("p")).pathPrefix("/a/"))
        .upstream(Upstream.of("http://127.0.0.1:9002").name("p"));
    assertThatThrownBy(builder::buildConfig).isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("two different pools are named p");
  }

  /**
   * A route's given name labels its traffic in logs and metrics: two routes given one name, or a
   * route named {@code default} beside the catch-all, merged their traffic (probe o22). Routes
   * left with their pattern as name may share it.
   */
  @Test
  void refusesARouteNameGivenTwiceOrTheCatchAllsName() {
    Upstream pool = Upstream.of("http://127.0.0.1:9001");
    assertThatThrownBy(() -> ProxyServer.builder().route(Route.to(pool).name("dup").pathPrefix("/a/"))
        .route(Route.to(pool).name("dup").pathPrefix("/b/")).buildConfig())
        .isInstanceOf(IllegalStateException.class).hasMessage("two routes are named dup; give each route its own name");
    assertThatThrownBy(() -> ProxyServer.builder().route(Route.to(pool).name("default").pathPrefix("/c/"))
        .upstream(pool).buildConfig())
        .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("two routes are named default");
    assertThatThrownBy(() -> ProxyServer.builder().route(Route.to(pool).pathPrefix("/a/"))
        .route(Route.to(pool).name("/a/").pathPrefix("/b/")).buildConfig())
        .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("two routes are named /a/");
    ProxyServer.builder().route(Route.to(pool).pathPrefix("/a/").header("X-Canary", "1"))
        .route(Route.to(pool).pathPrefix("/a/")).buildConfig();
  }

  /** Names go into log lines and labels: a newline in one could forge a line of the access log. */
  @Test
  void refusesNamesWithControlCharacters() {
    Upstream pool = Upstream.of("http://127.0.0.1:9001");
    assertThatThrownBy(() -> Route.to(pool).name("r1\nFORGED 127.0.0.1")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("route name must not be blank or hold control characters (was \"r1?FORGED 127.0.0.1\")");
    assertThatThrownBy(() -> pool.name("a\tb")).hasMessageStartingWith("upstream name must not be blank");
    assertThatThrownBy(() -> pool.name(" ")).hasMessageStartingWith("upstream name must not be blank");
    assertThat(Route.to(pool).name("api v1.canary").name()).isEqualTo("api v1.canary");
  }

  /** A header the proxy sets itself would be overwritten, or would break the message's framing. */
  @Test
  void refusesProxyManagedHeadersForTheProxysOwnFields() {
    for (String name : List.of("Content-Length", "transfer-encoding", "Host", "Connection")) {
      assertThatThrownBy(() -> ProxyServer.builder().requestIdHeader(name))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("requestIdHeader cannot be " + name + ": the proxy manages Host, message framing and hop-by-hop headers");
      assertThatThrownBy(() -> CacheSpec.inMemory().statusHeader(name))
          .hasMessageStartingWith("statusHeader cannot be " + name);
    }
    assertThat(Headers.isProxyManaged("X-Request-Id")).isFalse();
    assertThat(ProxyServer.builder().requestIdHeader("X-Trace").buildConfig().requestIdHeader()).isEqualTo("X-Trace");
  }

  /** A reverse proxy reaches only its upstreams: forward-only options would silently do nothing. */
  @Test
  void refusesForwardOnlyOptionsOnAReverseProxy() {
    Upstream pool = Upstream.of("http://127.0.0.1:9001");
    for (ProxyServer.Builder builder : List.of(ProxyServer.builder().upstream(pool).allowConnectPorts(8443),
        ProxyServer.builder().upstream(pool).allowAnyConnectPort(),
        ProxyServer.builder().route(Route.to(pool).pathPrefix("/a/")).allowPrivateDestinations(true),
        ProxyServer.builder().upstream(pool).statsOnProxyPort(false))) {
      assertThatThrownBy(builder::buildConfig).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("are for forward proxies");
    }
    assertThat(ProxyServer.builder().allowAnyConnectPort().allowPrivateDestinations(true).buildConfig()
        .allowsPrivateDestinations()).isTrue();
  }

  /** A gateway's clients never send Proxy-Authorization: the check answered every one 407 (probe embed F1). */
  @Test
  void refusesProxyAuthenticationOnAReverseProxy() {
    Upstream pool = Upstream.of("http://127.0.0.1:9001");
    Authentication proxyAuth = Filters.proxyAuthentication().credentials(java.util.Map.of("a", "b")).build();
    for (ProxyServer.Builder builder : List.of(ProxyServer.builder().upstream(pool).filter(proxyAuth),
        ProxyServer.builder().route(Route.to(pool).pathPrefix("/a/")).filter(proxyAuth))) {
      assertThatThrownBy(builder::buildConfig).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("Filters.proxyAuthentication() is for forward proxies")
          .hasMessageContaining("use Filters.authentication()");
    }
    assertThat(ProxyServer.builder().filter(proxyAuth).buildConfig().filters()).containsExactly(proxyAuth);
    Authentication reverseAuth = Filters.authentication().credentials(java.util.Map.of("a", "b")).build();
    assertThat(ProxyServer.builder().upstream(pool).filter(reverseAuth).buildConfig().filters())
        .containsExactly(reverseAuth);
  }

  @Test
  void refusesASpoolDirectoryWithSpoolingOff() {
    Path dir = Path.of(System.getProperty("java.io.tmpdir"));
    assertThatThrownBy(() -> ProxyServer.builder().requestSpoolDirectory(dir).requestSpoolBytes(0).buildConfig())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("requestSpoolDirectory is set but requestSpoolBytes(0) turns spooling off; remove one");
  }

  /** Values that used to be accepted, or refused without naming the option. */
  @Test
  void refusesADuplicateEndpointAndABrokenPathRegexNamingThem() {
    assertThatThrownBy(() -> Upstream.pool("http://a:1", "http://A:1"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("endpoint http://A:1 is in the pool twice");
    assertThatThrownBy(() -> Upstream.of("http://a:1").endpoint("http://a:1", 2))
        .hasMessageContaining("is in the pool twice");
    assertThatThrownBy(() -> Route.to(Upstream.of("http://a:1")).pathRegex("(["))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("pathRegex is not a regular expression");
  }

  /** The filters' regexes failed with the JDK's PatternSyntaxException, naming no option (probe embed F3). */
  @Test
  void refusesABrokenFilterRegexNamingTheOption() {
    assertThatThrownBy(() -> Filters.rewritePath("(", "/x")).isExactlyInstanceOf(IllegalArgumentException.class)
        .hasMessage("rewritePath regex is not a regular expression: Unclosed group near index 1 (was ()");
    assertThatThrownBy(() -> Filters.replaceRequestHeader("X-A", "[a", "b"))
        .isExactlyInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("replaceRequestHeader regex is not a regular expression");
    assertThatThrownBy(() -> Filters.replaceResponseHeader("X-A", "a\r\nWARN forged", "b"))
        .isExactlyInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("replaceResponseHeader regex must not hold control characters")
        .hasMessageNotContaining("\n");
    assertThatThrownBy(() -> Filters.rewritePath(null, "/x")).isInstanceOf(NullPointerException.class)
        .hasMessage("rewritePath regex");
  }

  @Test
  void letsABoundedPoolGrowToACeilingAtLeastItsCap() {
    Concurrency growing = Concurrency.boundedPool(4, 8).growingTo(20);
    assertThat(growing).hasToString("boundedPool(4, 8).growingTo(20)");
    assertThat(growing.maxThreads()).isEqualTo(4);
    assertThat(growing.threadCeiling()).isEqualTo(20);
    assertThat(growing).isNotEqualTo(Concurrency.boundedPool(4, 8))
        .isEqualTo(Concurrency.boundedPool(4, 8).growingTo(20))
        .hasSameHashCodeAs(Concurrency.boundedPool(4, 8).growingTo(20));
    assertThat(Concurrency.boundedPool(4, 8).growingTo(4)).as("a fixed cap")
        .isEqualTo(Concurrency.boundedPool(4, 8)).hasToString("boundedPool(4, 8)");
    assertThat(Concurrency.boundedPool(4, 8).threadCeiling()).isEqualTo(4);
    assertThat(Concurrency.auto().threadCeiling()).isEqualTo(1000);
    assertThat(Concurrency.virtualThreads().threadCeiling()).isZero();
    assertThatThrownBy(() -> Concurrency.boundedPool(4, 8).growingTo(3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("growingTo(3) is below the pool's maxThreads 4: give at least 4");
    assertThatThrownBy(() -> Concurrency.auto().growingTo(2000))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("growingTo applies to boundedPool(maxThreads, queueSize), not to auto(), whose pool on "
            + "Java 17 grows to 1000");
    assertThatThrownBy(() -> Concurrency.threadPerConnection(4).growingTo(8))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("growingTo applies to boundedPool(maxThreads, queueSize), not to threadPerConnection(4)");
  }

  @Test
  void validatesConcurrencyAndUpstream() {
    assertThatThrownBy(() -> Concurrency.boundedPool(0, 1)).hasMessage("maxThreads must be at least 1 (was 0)");
    assertThatThrownBy(() -> Concurrency.boundedPool(1, -1)).hasMessage("queueSize must not be negative (was -1)");
    assertThat(Concurrency.boundedPool(4, 8)).hasToString("boundedPool(4, 8)");
    assertThatThrownBy(() -> Upstream.of("ftp://x")).hasMessageContaining("absolute http or https URL");
    assertThatThrownBy(() -> Upstream.of("http://x/?q")).hasMessageContaining("query or fragment");
    assertThatThrownBy(() -> Upstream.of("http://:19001")).hasMessage("upstream URL must name a host (was http://:19001)");
    // Accepted, every request naming the host so got 400 (probe v31): refused here instead.
    for (String legacy : new String[] {"127.1", "2130706433", "0x7f.0.0.1", "127.0.1", "127.000.0.1", "1.2.3.4.5"}) {
      assertThatThrownBy(() -> Upstream.of("http://" + legacy + ":8080")).as(legacy)
          .hasMessageStartingWith("upstream URL host " + legacy + " is an IPv4 address in a legacy form");
    }
    // Accepted, then every request got 400 (probe v32).
    for (String unspellable : new String[] {"127%2E1", "a..b", ".localhost", "localhost..", "local%68ost"}) {
      assertThatThrownBy(() -> Upstream.of("http://" + unspellable + ":8080")).as(unspellable)
          .hasMessageStartingWith("upstream URL host " + unspellable + " is no host name");
    }
    assertThat(Upstream.pool("http://127.0.0.1:8080", "http://10.0.0.255.:80", "http://[::1]:80", "http://a1.example:80",
        "http://x.0a:80", "http://[::ffff:127.0.0.1]:80").endpoints()).hasSize(6);
    assertThatThrownBy(() -> Upstream.of("http://[]:80/")).hasMessageContaining("must name a host");
    assertThatThrownBy(() -> Upstream.of("http://[::1")).hasMessageContaining("IPv6 literal without its ]");
    assertThatThrownBy(() -> Upstream.of("http://[zz]:80")).hasMessageContaining("invalid IPv6 literal");
    assertThatThrownBy(() -> Upstream.of("http://[::1]x")).hasMessageContaining("text after its IPv6 literal");
    assertThatThrownBy(() -> Upstream.of("http://a:80:90")).hasMessageContaining("an IPv6 address in brackets");
    assertThatThrownBy(() -> Upstream.of("http://::1:80")).hasMessageContaining("an IPv6 address in brackets");
    assertThatThrownBy(() -> Filters.rewriteHost("a]:80")).hasMessageContaining("host or host:port");
    assertThat(Upstream.of("http://[::ffff:127.0.0.1]:8080/").endpoints().get(0).port()).isEqualTo(8080);
    assertThat(Upstream.of("http://[2001:db8::1]").endpoints().get(0).host()).isEqualTo("2001:db8::1");
    assertThatThrownBy(() -> Upstream.of("http://127.0.0.1:0")).hasMessage("upstream port must be from 1 to 65535 (was http://127.0.0.1:0)");
    Upstream upstream = Upstream.of("https://api.example/v1/");
    assertThat(upstream.endpoints()).singleElement().satisfies(endpoint -> {
      assertThat(endpoint.port()).isEqualTo(443);
      assertThat(endpoint.basePath()).isEqualTo("/v1");
      assertThat(endpoint.weight()).isEqualTo(1);
    });
    assertThat(upstream.name()).isEqualTo("api.example");
    assertThatThrownBy(() -> upstream.endpoint("http://b:1", 0)).hasMessage("weight must be between 1 and 1000 (was 0)");
    assertThatThrownBy(() -> Upstream.pool()).hasMessageContaining("at least one endpoint");
    assertThat(upstream.preserveHost().preservesHost()).isTrue();
    assertThat(upstream.preservesHost()).isFalse();
  }

  @Test
  void explainsMissingEngine() {
    assertThatThrownBy(() -> ProxyServer.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("no Ferry engine on the classpath: add dev.ferry:proxy-impl (runtime scope is enough)");
  }

  @Test
  void refusesVirtualThreadsBeforeJava21() {
    assumeTrue(Runtime.version().feature() < 21, "runtime has virtual threads");
    assertThatThrownBy(() -> ProxyServer.builder().concurrency(Concurrency.virtualThreads()).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("virtual threads need Java 21+, running on 17");
  }

  @Test
  void listsOnlyNonDefaultOptionsAndRoundTrips() {
    ProxyServer.Builder builder = ProxyServer.builder().port(8080)
        .upstream(Upstream.of("http://127.0.0.1:9000")).idleTimeout(Duration.ofSeconds(5))
        .filter((exchange, chain) -> chain.proceed(exchange.request()));
    ProxyConfig config = new ProxyConfig(builder);
    assertThat(config).hasToString(
        "ProxyConfig{port=8080, idleTimeout=PT5S, upstream=http://127.0.0.1:9000, filters=1}");
    ProxyConfig copy = new ProxyConfig(config.toBuilder());
    assertThat(copy.toString()).isEqualTo(config.toString());
    assertThat(copy.filters()).isEqualTo(config.filters());
    assertThat(new ProxyConfig(ProxyServer.builder())).hasToString("ProxyConfig{}");
    assertThatThrownBy(() -> config.filters().clear()).isInstanceOf(UnsupportedOperationException.class);
  }
}
