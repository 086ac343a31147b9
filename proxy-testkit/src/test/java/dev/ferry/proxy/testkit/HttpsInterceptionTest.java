package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.CertificateAuthority;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A recording proxy that intercepts HTTPS records https:// exchanges whole (java.net.http). */
class HttpsInterceptionTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  private HttpsOrigin origin;
  private RecordingProxy proxy;

  @BeforeEach
  void start() {
    origin = HttpsOrigin.start();
    proxy = RecordingProxy.forward().interceptHttps()
        .configure(b -> b.upstreamTls(origin.upstreamTls())).start();
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    origin.close();
  }

  /** The CONNECT opening an intercepted session is plumbing: faults go to the requests in it. */
  @Test
  void appliesFaultsToTheRequestsOfAnInterceptedSessionNotItsConnect() throws Exception {
    proxy.inject(e -> e.host("localhost"), Fault.status(503));
    HttpClient client = proxy.httpClientBuilder().build();
    HttpResponse<String> response = client.send(HttpRequest.newBuilder(origin.url("/faulted")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.body()).isEqualTo("GET /faulted: ");
  }

  @Test
  void recordsHttpsUrlsHeadersAndBodies() throws Exception {
    HttpClient client = proxy.httpClientBuilder().build();
    URI url = origin.url("/orders?page=2");
    HttpResponse<String> response = client.send(HttpRequest.newBuilder(url)
            .header("X-Client", "jdk").POST(HttpRequest.BodyPublishers.ofString("sku-1")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.body()).isEqualTo("POST /orders?page=2: sku-1");

    RecordedExchange exchange = proxy.recording().awaitExchange(e -> e.path("/orders"), WAIT);
    assertThat(exchange.request().url()).isEqualTo("https://localhost:" + origin.port() + "/orders?page=2");
    assertThat(exchange.request().scheme()).isEqualTo("https");
    assertThat(exchange.request().header("X-Client")).hasValue("jdk");
    assertThat(exchange.request().body().text()).isEqualTo("sku-1");
    assertThat(exchange.response().status()).isEqualTo(200);
    assertThat(exchange.response().header("X-Origin")).hasValue("tls");
    assertThat(exchange.response().body().text()).isEqualTo("POST /orders?page=2: sku-1");
    RecordedExchange fromHar = Recording.fromHar(new StringReader(proxy.recording().toHar()))
        .first(e -> e.path("/orders")).orElseThrow();
    assertThat(fromHar.request().url()).isEqualTo(exchange.request().url());
    assertThat(fromHar.request().body().text()).isEqualTo("sku-1");
    assertThat(fromHar.response().body().text()).isEqualTo("POST /orders?page=2: sku-1");
  }

  /**
   * HTTPS replays offline: a recording of Ferry's own (with its CONNECT entries), record-if-missing
   * once the origin is gone, and a browser-style HAR without CONNECT entries. The CONNECT used to
   * be answered from the recording without the session being intercepted, or 502 unmatched.
   * Record-if-missing saves no CONNECT: the replay answers it itself, and saving that answer added
   * one more entry to the file on every run.
   */
  @Test
  void replaysHttpsOfflineWithAndWithoutConnectEntries(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("https.har");
    URI url = origin.url("/orders");
    assertThat(get(proxy, url)).isEqualTo("GET /orders: ");
    // Recorded as it completes, which can be just after the client read its answer.
    proxy.recording().awaitExchange(e -> e.method("GET").path("/orders"), Duration.ofSeconds(5));
    Path ferrys = dir.resolve("ferrys.har");
    proxy.recording().writeHar(ferrys);
    try (RecordingProxy first = RecordingProxy.forward().interceptHttps()
        .configure(b -> b.upstreamTls(origin.upstreamTls())).recordIfMissing(har).start()) {
      assertThat(get(first, url)).isEqualTo("GET /orders: ");
    }
    origin.close();
    for (int run = 0; run < 2; run++) {
      try (RecordingProxy offline = RecordingProxy.forward().interceptHttps().recordIfMissing(har).start()) {
        assertThat(get(offline, url)).isEqualTo("GET /orders: ");
        assertThat(get(offline, url)).as("again, on a new session").isEqualTo("GET /orders: ");
      }
    }
    assertThat(Recording.fromHar(har).exchanges()).as("one GET, no CONNECT, however many runs")
        .extracting(e -> e.request().method()).containsExactly("GET");

    Recording withConnect = Recording.fromHar(ferrys);
    assertThat(withConnect.exchanges(e -> e.method("CONNECT"))).as("CONNECT entries recorded").isNotEmpty();
    try (RecordingProxy replay = RecordingProxy.forward().interceptHttps().replay(withConnect).start()) {
      assertThat(get(replay, url)).isEqualTo("GET /orders: ");
    }
    Recording browserStyle = Recording.of(withConnect.exchanges().stream()
        .filter(e -> !e.request().method().equals("CONNECT")).toList());
    try (RecordingProxy replay = RecordingProxy.forward().interceptHttps().replay(browserStyle).start()) {
      assertThat(get(replay, url)).isEqualTo("GET /orders: ");
    }
  }

  /**
   * An intercepted CONNECT is answered by the proxy, not from a recording: it is not replayed,
   * on a first record-if-missing run nor on a later one (it was, on both: probe t24), and it is
   * still left out of the file.
   */
  @Test
  void neverReportsAnInterceptedConnectAsReplayed(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("first.har");
    URI url = origin.url("/live");
    for (int run = 0; run < 2; run++) {
      try (RecordingProxy proxy = RecordingProxy.forward().interceptHttps()
          .configure(b -> b.upstreamTls(origin.upstreamTls())).recordIfMissing(har).start()) {
        assertThat(get(proxy, url)).isEqualTo("GET /live: ");
        proxy.recording().awaitExchange(e -> e.method("GET").path("/live"), WAIT);
        FerryAssertions.assertThat(proxy.recording()).eventually()
            .hasExchangeCount(1, e -> e.method("CONNECT"))
            .hasExchangeCount(run, e -> e.replayed())
            .hasNoExchange(e -> e.method("CONNECT").replayed());
      }
    }
    assertThat(Recording.fromHar(har).exchanges()).extracting(e -> e.request().method())
        .containsExactly("GET");
  }

  /**
   * A CONNECT's url() is the URL its HAR entry has, {@code https://host:port/}, so a url(...)
   * condition finds a tunnel; it was the bare {@code host:port} (probe t24).
   */
  @Test
  void givesAConnectTheUrlOfItsHarEntry() throws Exception {
    URI url = origin.url("/tunnelled");
    try (RecordingProxy blind = RecordingProxy.forward().start()) {
      HttpClient client = HttpClient.newBuilder().proxy(blind.proxySelector()).sslContext(origin.clientContext()).build();
      assertThat(client.send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.ofString()).body())
          .isEqualTo("GET /tunnelled: ");
      RecordedExchange connect = blind.recording().awaitExchange(e -> e.method("CONNECT"), WAIT);
      String expected = "https://localhost:" + origin.port() + "/";
      assertThat(connect.request().url()).isEqualTo(expected);
      assertThat(connect.request().toString()).isEqualTo("CONNECT localhost:" + origin.port());
      assertThat(blind.recording().exchanges(e -> e.url(expected))).containsExactly(connect);
      assertThat(HarWriter.JSON.readTree(blind.recording().toHar()).at("/log/entries/0/request/url").asText())
          .isEqualTo(expected);
      RecordedRequest imported = Recording.fromHar(new StringReader(blind.recording().toHar()))
          .exchanges().get(0).request();
      assertThat(imported.url()).isEqualTo(expected);
      assertThat(imported.authority()).isEqualTo("localhost:" + origin.port());
    }
  }

  /**
   * A tunnel the proxy does not decrypt is opened on every record-if-missing run, and never
   * answered from a recording. Before, the first run saved its CONNECT, and every later run
   * "replayed" a 200 with no tunnel behind it, so the client's handshake failed with the origin up.
   */
  @Test
  void tunnelsHttpsItDoesNotInterceptOnEveryRecordIfMissingRun(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("tunnel.har");
    URI url = origin.url("/tunnelled");
    for (int run = 0; run < 2; run++) {
      try (RecordingProxy blind = RecordingProxy.forward().recordIfMissing(har).start()) {
        HttpClient client = HttpClient.newBuilder().proxy(blind.proxySelector()).sslContext(origin.clientContext()).build();
        assertThat(client.send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.ofString()).body())
            .as("run %d", run).isEqualTo("GET /tunnelled: ");
      }
    }
    assertThat(Files.exists(har) ? Recording.fromHar(har).size() : 0).as("no CONNECT saved").isZero();
    try (RecordingProxy replay = RecordingProxy.forward().replay(Recording.create()).start()) {
      HttpClient client = HttpClient.newBuilder().proxy(replay.proxySelector()).sslContext(origin.clientContext()).build();
      assertThatThrownBy(() -> client.send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.ofString()))
          .as("a tunnel cannot be replayed").hasMessageContaining("502");
      assertThat(replay.recording().awaitExchange(e -> e.method("CONNECT"), WAIT).unmatched()).isTrue();
    }
  }

  private static String get(RecordingProxy proxy, URI url) throws Exception {
    return proxy.httpClientBuilder().build().send(HttpRequest.newBuilder(url).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  @Test
  void failsTheHandshakeOfAClientThatDoesNotTrustTheCaAndServesOthers() throws Exception {
    HttpClient untrusting = HttpClient.newBuilder().proxy(proxy.proxySelector()).build();
    assertThatThrownBy(() -> untrusting.send(HttpRequest.newBuilder(origin.url("/refused")).build(),
        HttpResponse.BodyHandlers.ofString())).isInstanceOf(SSLHandshakeException.class);

    HttpClient trusting = proxy.httpClientBuilder().build();
    assertThat(trusting.send(HttpRequest.newBuilder(origin.url("/served")).build(),
        HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("GET /served: ");
    assertThat(proxy.recording().awaitExchange(e -> e.path("/served"), WAIT).request().url())
        .startsWith("https://");
    assertThat(proxy.recording().exchanges(e -> e.path("/refused"))).isEmpty();
  }

  @Test
  void handsClientsTheCaThatSignsTheCertificates() {
    CertificateAuthority ca = proxy.certificateAuthority().orElseThrow();
    assertThat(proxy.caCertificatePem()).isEqualTo(ca.certificatePem())
        .startsWith("-----BEGIN CERTIFICATE-----").doesNotContain("PRIVATE KEY");
    assertThat(proxy.trustManager().getAcceptedIssuers()).containsExactly(ca.certificate());
    assertThat(proxy.sslContext()).isSameAs(proxy.sslContext());
    assertThat(proxy).hasToString("RecordingProxy{forward, port=" + proxy.port()
        + ", intercepting HTTPS}");
  }

  @Test
  void reusesTheGeneratedCaForEveryProxyOfABuilder() {
    RecordingProxy.Builder builder = RecordingProxy.forward().interceptHttps();
    try (RecordingProxy first = builder.start(); RecordingProxy second = builder.start()) {
      assertThat(first.certificateAuthority()).isEqualTo(second.certificateAuthority())
          .isNotEqualTo(proxy.certificateAuthority());
    }
  }

  @Test
  void interceptsWithAGivenAuthority() {
    CertificateAuthority ca = CertificateAuthority.generate(Duration.ofHours(1));
    try (RecordingProxy given = RecordingProxy.forward().interceptHttps(ca).start()) {
      assertThat(given.certificateAuthority()).hasValue(ca);
    }
  }

  @Test
  void refusesTheCaHelpersWithoutInterception() {
    try (RecordingProxy plain = RecordingProxy.forward().start()) {
      assertThat(plain.certificateAuthority()).isEmpty();
      assertThat(plain.httpClientBuilder().build().sslContext()).isNotSameAs(proxy.sslContext());
      assertThatThrownBy(plain::sslContext).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("interceptHttps()");
      assertThatThrownBy(plain::caCertificatePem).isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void refusesInterceptionOnAReverseProxy() {
    assertThatThrownBy(() -> RecordingProxy.reverse(URI.create("http://127.0.0.1:1")).interceptHttps())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("forward proxies");
  }
}
