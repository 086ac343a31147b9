package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;

class SmokeTest {
  @Test
  void forwardsAndReverses() throws Exception {
    try (MockWebServer origin = new MockWebServer()) {
      origin.enqueue(new MockResponse().setBody("hello"));
      origin.enqueue(new MockResponse().setBody("world"));
      origin.start();
      try (ProxyServer proxy = ProxyServer.builder().build().start()) {
        HttpClient client = HttpClient.newBuilder().proxy(ProxySelector.of(proxy.address())).build();
        HttpResponse<String> response = client.send(
            HttpRequest.newBuilder(URI.create(origin.url("/a").toString())).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(response.body()).isEqualTo("hello");
      }
      try (ProxyServer proxy = ProxyServer.builder()
          .upstream(Upstream.of(origin.url("/").toString())).build().start()) {
        HttpClient client = HttpClient.newHttpClient();
        HttpResponse<String> response = client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/b")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(response.body()).isEqualTo("world");
        assertThat(origin.takeRequest().getPath()).isEqualTo("/a");
        assertThat(origin.takeRequest().getHeader("X-Forwarded-For")).isEqualTo("127.0.0.1");
      }
    }
  }
}
