package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;

class ClientWiringTest {
  private final MockWebServer origin = new MockWebServer();
  private RecordingProxy proxy;

  @BeforeEach
  void start() throws Exception {
    origin.enqueue(new MockResponse().setBody("wired"));
    origin.start();
    proxy = RecordingProxy.forward().start();
  }

  @AfterEach
  void stop() throws Exception {
    proxy.close();
    origin.close();
  }

  private URI url() {
    return URI.create("http://127.0.0.1:" + origin.getPort() + "/w");
  }

  @Test
  void wiresAnExistingHttpClientBuilder() throws Exception {
    HttpClient client = proxy.configure(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)))
        .build();
    client.send(HttpRequest.newBuilder(url()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(proxy.recording().awaitExchanges(1, Duration.ofSeconds(5))).hasSize(1);
  }

  @Test
  void wiresHttpUrlConnectionThroughAJavaNetProxy() throws Exception {
    assertThat(proxy.proxy().type()).isEqualTo(Proxy.Type.HTTP);
    HttpURLConnection connection = (HttpURLConnection) url().toURL().openConnection(proxy.proxy());
    try (InputStream in = connection.getInputStream()) {
      assertThat(new String(in.readAllBytes())).isEqualTo("wired");
    }
    assertThat(proxy.recording().awaitExchanges(1, Duration.ofSeconds(5)).get(0).request().path())
        .isEqualTo("/w");
  }

  @Test
  @ResourceLock(Resources.SYSTEM_PROPERTIES)
  void setsProxySystemPropertiesOnlyUntilClosed() throws Exception {
    System.setProperty("http.proxyHost", "before.test");
    System.clearProperty("http.proxyPort");
    try {
      try (SystemProxyProperties ignored = proxy.systemProperties()) {
        assertThat(System.getProperty("http.proxyHost")).isEqualTo("127.0.0.1");
        assertThat(System.getProperty("http.proxyPort")).isEqualTo(Integer.toString(proxy.port()));
        // A client that is given no proxy uses the JVM's default selector, which reads them.
        HttpClient.newHttpClient().send(HttpRequest.newBuilder(url()).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(proxy.recording().awaitExchanges(1, Duration.ofSeconds(5))).hasSize(1);
      }
      assertThat(System.getProperty("http.proxyHost")).isEqualTo("before.test");
      assertThat(System.getProperty("http.proxyPort")).isNull();
      assertThat(System.getProperty("http.nonProxyHosts")).isNull();
    } finally {
      System.clearProperty("http.proxyHost");
    }
  }
}
