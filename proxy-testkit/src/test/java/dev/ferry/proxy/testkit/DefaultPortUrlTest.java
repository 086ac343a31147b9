package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * URLs on the scheme's default port are recorded and matched as browsers write them in HARs,
 * {@code https://host/path}: an intercepted request's origin comes from its CONNECT authority,
 * which always carries {@code :443} (probe t6, defect 1).
 */
class DefaultPortUrlTest {

  /** A HAR entry as a browser's developer tools write it: no port, no CONNECT entry. */
  private static String entry(String url, String body) {
    return "{\"startedDateTime\":\"2024-05-01T10:00:00.000Z\",\"time\":1,"
        + "\"request\":{\"method\":\"GET\",\"url\":\"" + url + "\",\"httpVersion\":\"HTTP/1.1\","
        + "\"headers\":[],\"queryString\":[],\"cookies\":[],\"headersSize\":-1,\"bodySize\":0},"
        + "\"response\":{\"status\":200,\"statusText\":\"OK\",\"httpVersion\":\"HTTP/1.1\","
        + "\"headers\":[{\"name\":\"Content-Type\",\"value\":\"text/plain\"}],\"cookies\":[],"
        + "\"content\":{\"size\":" + body.length() + ",\"mimeType\":\"text/plain\",\"text\":\""
        + body + "\"},\"redirectURL\":\"\",\"headersSize\":-1,\"bodySize\":" + body.length() + "},"
        + "\"cache\":{},\"timings\":{\"send\":0,\"wait\":1,\"receive\":0}}";
  }

  private static Path har(Path dir, String... entries) throws Exception {
    Path har = dir.resolve("browser.har");
    Files.writeString(har, "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"WebInspector\","
        + "\"version\":\"537.36\"},\"entries\":[" + String.join(",", entries) + "]}}");
    return har;
  }

  private static HttpResponse<String> get(HttpClient client, String url) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void replaysABrowserHarEntryToAnInterceptedRequestOnPort443(@TempDir Path dir) throws Exception {
    Path har = har(dir, entry("https://shop.example/api/items", "items"),
        entry("https://shop.example:8443/api/other", "other"));
    try (RecordingProxy proxy = RecordingProxy.forward().interceptHttps().replay(har).start()) {
      HttpClient client = proxy.httpClientBuilder().build();

      HttpResponse<String> items = get(client, "https://shop.example/api/items");
      HttpResponse<String> other = get(client, "https://shop.example:8443/api/other");

      assertThat(items.statusCode()).as(items.body()).isEqualTo(200);
      assertThat(items.body()).isEqualTo("items");
      assertThat(other.body()).as("a port other than the default stays in the URL").isEqualTo("other");
      // An exchange is recorded just after its client has the answer: wait for both.
      proxy.recording().awaitExchange(e -> e.path("/api/other"), Duration.ofSeconds(5));
      RecordedExchange recorded = proxy.recording()
          .awaitExchange(e -> e.path("/api/items"), Duration.ofSeconds(5));
      assertThat(recorded.request().url()).isEqualTo("https://shop.example/api/items");
      assertThat(recorded.request().authority()).isEqualTo("shop.example");
      assertThat(recorded.request().port()).isEqualTo(443);
      assertThat(proxy.recording().exchanges(e -> e.url("https://shop.example/api/items"))).hasSize(1);
      assertThat(proxy.recording().exchanges(e -> e.url("https://shop.example:8443/api/other")))
          .hasSize(1);
    }
  }

  @Test
  void replaysAnAbsoluteFormRequestNamingPort80(@TempDir Path dir) throws Exception {
    Path har = har(dir, entry("http://shop.example/plain", "plain"));
    try (RecordingProxy proxy = RecordingProxy.forward().replay(har).start();
        Socket socket = new Socket("127.0.0.1", proxy.port())) {
      OutputStream out = socket.getOutputStream();
      out.write(("GET http://shop.example:80/plain HTTP/1.1\r\nHost: shop.example:80\r\n"
          + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      String answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);

      assertThat(answer).startsWith("HTTP/1.1 200").endsWith("plain");
      assertThat(proxy.recording().awaitExchange(e -> e.path("/plain"), Duration.ofSeconds(5))
          .request().url()).isEqualTo("http://shop.example/plain");
    }
  }

  @Test
  void missAtAnotherPortSaysTheOriginDiffersNotTheHeaders(@TempDir Path dir) throws Exception {
    Path har = har(dir, entry("https://shop.example:8443/api/items", "items"));
    try (RecordingProxy proxy = RecordingProxy.forward().interceptHttps().replay(har).start()) {
      HttpResponse<String> miss = get(proxy.httpClientBuilder().build(),
          "https://shop.example/api/items");

      assertThat(miss.statusCode()).isEqualTo(502);
      assertThat(miss.body())
          .contains("no recorded exchange matches GET https://shop.example/api/items")
          .contains("GET https://shop.example:8443/api/items")
          .contains("at another origin")
          .doesNotContain("(headers, body) differ");
    }
  }
}
