package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A reverse proxy's endpoint naming itself in Location or Refresh (built from the Host the proxy
 * sent it) is rewritten to the client's path, and a stripped prefix is told to the endpoint.
 */
class LocationRewriteTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private final HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

  private HttpResponse<String> get(ProxyServer proxy, String path, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path));
    if (headers.length > 0) {
      request.headers(headers);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static MockResponse redirect(String location) {
    return new MockResponse().setResponseCode(302).setHeader("Location", location);
  }

  @Test
  void rewritesLocationNamingTheEndpointToTheClientsPath() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    String self = "http://127.0.0.1:" + origin.getPort();
    origin.enqueue(redirect(self + "/app/login?next=%2Fhome#top"));
    origin.enqueue(new MockResponse().setResponseCode(201).setHeader("Location", self + "/app"));
    origin.enqueue(new MockResponse().setHeader("Refresh", "5; URL=" + self + "/app/later"));
    origin.enqueue(redirect("HTTP://127.0.0.1:" + origin.getPort() + "/app/case"));
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.of(self + "/app")).pathPrefix("/v1/").stripPrefix()));

    HttpResponse<String> login = get(proxy, "/v1/account", "X-Forwarded-Prefix", "/forged");
    assertThat(login.statusCode()).isEqualTo(302);
    assertThat(login.headers().firstValue("Location")).hasValue("/v1/login?next=%2Fhome#top");
    RecordedRequest sent = origin.takeRequest();
    assertThat(sent.getPath()).isEqualTo("/app/account");
    assertThat(sent.getHeader("X-Forwarded-Prefix")).as("the route's, not the client's").isEqualTo("/v1");

    assertThat(get(proxy, "/v1/items").headers().firstValue("Location")).hasValue("/v1/");
    assertThat(get(proxy, "/v1/wait").headers().firstValue("Refresh")).hasValue("5; URL=/v1/later");
    assertThat(get(proxy, "/v1/case").headers().firstValue("Location")).hasValue("/v1/case");
  }

  @Test
  void leavesLocationsOfOtherPlacesAsTheyCame() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    int port = origin.getPort();
    String[] kept = {"https://id.example.test/authorize?x=1", "/relative/path", "next",
        "http://127.0.0.1:" + port + "/outside-the-base", "https://127.0.0.1:" + port + "/app/other-scheme",
        "http://127.0.0.1:" + (port == 65535 ? 1 : port + 1) + "/app/other-port",
        "http://user@127.0.0.1:" + port + "/app/userinfo",
        // Rewritten to //evil.example/x or /\\evil.example/x, they would leave the client's host
        // (probe v22); as they came, they name the endpoint.
        "http://127.0.0.1:" + port + "/app//evil.example/x", "http://127.0.0.1:" + port + "/app/\\evil.example/x"};
    for (String location : kept) {
      origin.enqueue(redirect(location));
    }
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("http://127.0.0.1:" + port + "/app")));
    for (String location : kept) {
      HttpResponse<String> response = get(proxy, "/x");
      assertThat(response.headers().firstValue("Location")).hasValue(location);
    }
    assertThat(origin.takeRequest().getHeader("X-Forwarded-Prefix")).as("nothing stripped").isNull();
  }

  @Test
  void rewritesAnEndpointNamedByHostWithItsDefaultPortLeftOut() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(redirect("http://LocalHost:" + origin.getPort() + "/done"));
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of("http://localhost:" + origin.getPort())));
    assertThat(get(proxy, "/go").headers().firstValue("Location")).hasValue("/done");
  }

  @Test
  void keepLocationPassesThemOnUnchanged() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    String self = "http://127.0.0.1:" + origin.getPort();
    origin.enqueue(redirect(self + "/login"));
    ProxyServer proxy = ferry.start(ProxyServer.builder()
        .route(Route.to(Upstream.of(self).keepLocation()).pathPrefix("/v1/").stripPrefix()));
    assertThat(get(proxy, "/v1/account").headers().firstValue("Location")).hasValue(self + "/login");
    assertThat(origin.takeRequest().getHeader("X-Forwarded-Prefix")).isEqualTo("/v1");
  }
}
