package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Probe acl1: with {@code --auth} and {@code --rate-limit}, a wrong password used none of the
 * client's allowance (authentication ran first and answered it), so a password could be guessed
 * as fast as the connection allowed. The limit now runs first and counts every request.
 */
class FailedLoginLimitTest {
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
