package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.proxy.ProxyServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** curl, a real client with its own HTTP stack, through a proxy configured as the CLI does it. */
class CurlThroughProxyTest {
  private MockWebServer origin;
  private ProxyServer proxy;

  @BeforeEach
  void start() throws IOException {
    assumeTrue(curlAvailable(), "curl not installed; skipping curl tests");
    origin = new MockWebServer();
    origin.start();
    proxy = CliOptions.parse("-p", "0").builder().build().start();
  }

  @AfterEach
  void stop() throws IOException {
    if (proxy != null) {
      proxy.close();
    }
    if (origin != null) {
      origin.shutdown();
    }
  }

  @Test
  void forwardsGetFromCurl() throws Exception {
    origin.enqueue(new MockResponse().setBody("hello from origin"));
    String out = curl("-sS", "-x", "http://127.0.0.1:" + proxy.port(), origin.url("/hello").toString());
    assertThat(out).isEqualTo("hello from origin");
    RecordedRequest recorded = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(recorded.getPath()).isEqualTo("/hello");
    assertThat(recorded.getHeader("Via")).isEqualTo("1.1 ferry");
  }

  @Test
  void forwardsPostBodyFromCurl() throws Exception {
    origin.enqueue(new MockResponse().setBody("created"));
    String out = curl("-sS", "-x", "http://127.0.0.1:" + proxy.port(), "--data-binary", "a=1&b=2",
        origin.url("/orders").toString());
    assertThat(out).isEqualTo("created");
    RecordedRequest recorded = origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(recorded.getMethod()).isEqualTo("POST");
    assertThat(recorded.getBody().readUtf8()).isEqualTo("a=1&b=2");
  }

  @Test
  void asksCurlForProxyCredentials() throws Exception {
    proxy.close();
    proxy = CliOptions.parse("-p", "0", "--auth", "alice:s3cret").builder().build().start();
    origin.enqueue(new MockResponse().setBody("authenticated"));
    String proxyUrl = "http://127.0.0.1:" + proxy.port();
    assertThat(curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", proxyUrl, origin.url("/").toString()))
        .isEqualTo("407");
    assertThat(curl("-sS", "-x", proxyUrl, "--proxy-user", "alice:s3cret", origin.url("/").toString()))
        .isEqualTo("authenticated");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("Proxy-Authorization")).isNull();
  }

  private static String curl(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("curl", "--max-time", "20"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] output = process.getInputStream().readAllBytes();
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new String(output, StandardCharsets.UTF_8);
  }

  private static boolean curlAvailable() {
    try {
      Process process = new ProcessBuilder("curl", "--version").redirectErrorStream(true).start();
      process.getInputStream().readAllBytes();
      return process.waitFor(10, TimeUnit.SECONDS) && process.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }
}
