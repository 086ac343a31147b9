package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 9, item 2: a reverse proxy keeps serving with every access-control flag (it used to
 * answer every request 403 "loop" once any was given). Each flag's value is one the test request
 * passes; {@code --allow-port} is left out, as the ephemeral port is not known in advance. And
 * {@code --rate-limit} counts the failed logins of {@code --auth}.
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

  /**
   * Probe acl1: with {@code --auth} and {@code --rate-limit}, a wrong password used none of the
   * client's allowance (authentication ran first and answered it), so a password could be guessed
   * as fast as the connection allowed. The limit now runs first and counts every request.
   */
  @Test
  void countsFailedLoginsAgainstTheRateLimit() throws Exception {
    // 0.01/s: no token comes back during the test, however slow the machine.
    try (ProxyServer proxy = CliOptions.parse("-p", "0", "--upstream", origin.url("/").toString(),
        "--auth", "alice:s3cret", "--rate-limit", "0.01/s:2").builder().build().start()) {
      URI page = URI.create("http://127.0.0.1:" + proxy.port() + "/page");
      assertThat(status(page, "alice:guess1")).isEqualTo(401);
      assertThat(status(page, "alice:guess2")).isEqualTo(401);
      assertThat(status(page, "alice:guess3")).as("the third guess, past the burst of 2").isEqualTo(429);
      assertThat(status(page, "alice:s3cret")).as("the limit holds for the right password too").isEqualTo(429);
      assertThat(origin.getRequestCount()).isZero();
    }
  }

  private int status(URI page, String credentials) throws Exception {
    String basic = Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8));
    return client.send(HttpRequest.newBuilder(page).header("Authorization", "Basic " + basic).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
