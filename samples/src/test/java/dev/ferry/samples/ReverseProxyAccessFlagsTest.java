package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 9, item 2: a reverse proxy keeps serving with every access-control flag (it used to
 * answer every request 403 "loop" once any was given). Each flag's value is one the test request
 * passes; {@code --allow-port} is left out, as the ephemeral port is not known in advance.
 */
class ReverseProxyAccessFlagsTest {
  private final MockWebServer origin = new MockWebServer();
  private final HttpClient client = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    origin.start();
  }

  @AfterEach
  void stop() throws Exception {
    origin.shutdown();
  }

  @Test
  void servesWithEachAccessFlag() throws Exception {
    List<String[]> flags = List.of(new String[] {"--allow-client", "127.0.0.0/8"},
        new String[] {"--deny-client", "10.0.0.0/8"}, new String[] {"--allow-host", "127.0.0.1"},
        new String[] {"--deny-host", "*.ads.example"}, new String[] {"--deny-host", "10.0.0.0/8"},
        new String[] {"--deny-port", "25"}, new String[] {"--allow-method", "GET"},
        new String[] {"--deny-method", "DELETE"});
    for (String[] flag : flags) {
      origin.enqueue(new MockResponse().setBody("served"));
      try (ProxyServer proxy = CliOptions.parse("-p", "0", "--upstream", origin.url("/").toString(),
          flag[0], flag[1]).builder().build().start()) {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + proxy.port() + "/page")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(String.join(" ", flag)).isEqualTo(200);
        assertThat(response.body()).isEqualTo("served");
      }
    }
  }
}
