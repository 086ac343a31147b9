package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.proxy.ProxyServer;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin dashboard in a real browser: headless Chromium loads {@code /_dashboard}, runs its
 * script (which polls {@code _stats} every second) for three seconds of virtual time, and the DOM
 * it leaves shows the proxy's numbers. Skipped when no Chromium is installed ({@code .ci/run}
 * installs the OS package when it can).
 */
class DashboardBrowserTest {
  private static final String PAGE = "dev/ferry/proxy/engine/admin/dashboard.html";

  @TempDir
  Path profile;

  @Test
  void fillsInTheNumbersFromStatsAsTrafficFlows() throws Exception {
    Optional<String> chromium = chromium();
    assumeTrue(chromium.isPresent(), "no chromium or chromium-browser on PATH; skipping the dashboard browser test");
    MockWebServer origin = new MockWebServer();
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return new MockResponse().setBody("ok");
      }
    });
    origin.start();
    try (ProxyServer proxy = CliOptions.parse("-q", "-p", "0", "--admin-port", "0", "--upstream",
        origin.url("/").toString()).builder().build().start()) {
      String dashboard = "http://" + FerryCli.hostPort(proxy.adminAddress().orElseThrow()) + "/_dashboard";
      traffic(proxy, 3);
      String first = dumpDom(chromium.get(), dashboard);
      assertThat(first).contains("id=\"status\">updated");
      long total = number(first, "total");
      assertThat(total).isGreaterThanOrEqualTo(3);
      assertThat(cell(first, "latency")).matches("\\d+\\.\\d / \\d+\\.\\d / \\d+\\.\\d");
      assertThat(cell(first, "rps")).matches("\\d+\\.\\d");
      assertThat(first).contains("<td>200</td><td>" + total + "</td>");

      traffic(proxy, 2);
      assertThat(number(dumpDom(chromium.get(), dashboard), "total")).isGreaterThanOrEqualTo(total + 2);
    } finally {
      origin.shutdown();
    }
  }

  @Test
  void referencesOnlyLocalResources() throws IOException {
    String html;
    try (InputStream in = getClass().getClassLoader().getResourceAsStream(PAGE)) {
      assertThat(in).as(PAGE + " on the classpath").isNotNull();
      html = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Matcher attributes = Pattern.compile("(?i)\\b(src|href|action)\\s*=\\s*[\"']?([^\"'\\s>]*)").matcher(html);
    while (attributes.find()) {
      assertThat(attributes.group(2)).as("%s=%s", attributes.group(1), attributes.group(2))
          .doesNotStartWith("//").doesNotContainPattern("(?i)^(?!data:)[a-z][a-z0-9+.-]*:");
    }
    // Without an icon of its own a browser fetches /favicon.ico: a 404 and a console error.
    assertThat(html).contains("<link rel=\"icon\" href=\"data:,\">");
    assertThat(html).doesNotContainPattern("(?i)https?://").doesNotContain("@import")
        .doesNotContainPattern("(?i)url\\(");
    Matcher fetches = Pattern.compile("fetch\\(\\s*[\"']([^\"']*)").matcher(html);
    while (fetches.find()) {
      assertThat(fetches.group(1)).as("fetch target").doesNotContain("//").doesNotContain(":");
    }
  }

  private static void traffic(ProxyServer proxy, int requests) throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    for (int i = 0; i < requests; i++) {
      HttpResponse<String> response = client.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + proxy.port() + "/page/" + i)).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
    }
    // The stats count an exchange once its last byte is written, which may trail the client.
    Await.until(() -> proxy.stats().activeExchanges() == 0, Duration.ofSeconds(10), "exchanges to finish");
  }

  /** The DOM after the page's script ran for three seconds of virtual time (three polls). */
  private String dumpDom(String chromium, String url) throws Exception {
    Path out = Files.createTempFile(profile, "dom", ".html");
    Process process = new ProcessBuilder(List.of(chromium, "--headless", "--disable-gpu", "--no-sandbox",
        "--user-data-dir=" + profile.resolve("profile"), "--virtual-time-budget=3000", "--dump-dom", url))
        .redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("chromium did not finish within 60 s");
    }
    assertThat(process.exitValue()).as("chromium exit code").isZero();
    return Files.readString(out);
  }

  private static String cell(String dom, String id) {
    Matcher m = Pattern.compile("id=\"" + id + "\">([^<]*)<").matcher(dom);
    assertThat(m.find()).as("element #%s in the dumped DOM", id).isTrue();
    return m.group(1);
  }

  private static long number(String dom, String id) {
    String text = cell(dom, id);
    assertThat(text).as("#%s", id).matches("\\d+");
    return Long.parseLong(text);
  }

  private static Optional<String> chromium() {
    for (String name : List.of("chromium", "chromium-browser")) {
      for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
        Path candidate = Path.of(dir, name);
        if (Files.isExecutable(candidate)) {
          return Optional.of(candidate.toString());
        }
      }
    }
    return Optional.empty();
  }
}
