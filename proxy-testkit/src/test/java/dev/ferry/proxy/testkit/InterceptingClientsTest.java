package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.ClientTlsStrategyBuilder;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * OkHttp, Apache HttpClient 5 and curl through an intercepting {@link FerryProxyExtension},
 * wired as the README shows; their https:// exchanges are recorded whole. WebSocket over TLS
 * still works through interception: the proxy relays the frames after the 101.
 */
class InterceptingClientsTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final HttpsOrigin origin = HttpsOrigin.start();

  @RegisterExtension
  static FerryProxyExtension ferry = FerryProxyExtension.forward().interceptHttps()
      .configure(proxy -> proxy.upstreamTls(origin.upstreamTls()));

  @TempDir
  Path dir;

  @AfterAll
  static void stopOrigin() {
    origin.close();
  }

  @Test
  void recordsOkHttpThroughInterception(RecordingProxy proxy) throws Exception {
    OkHttpClient client = new OkHttpClient.Builder()
        .proxy(proxy.proxy())
        .sslSocketFactory(proxy.sslContext().getSocketFactory(), proxy.trustManager())
        .build();
    try (Response response = client.newCall(new Request.Builder()
        .url(origin.url("/okhttp").toString()).header("X-Client", "okhttp").build()).execute()) {
      assertThat(response.body().string()).isEqualTo("GET /okhttp: ");
    }
    RecordedExchange exchange = proxy.recording().awaitExchange(e -> e.path("/okhttp"), WAIT);
    assertThat(exchange.request().url()).isEqualTo("https://localhost:" + origin.port() + "/okhttp");
    assertThat(exchange.request().header("X-Client")).hasValue("okhttp");
    assertThat(exchange.response().header("X-Origin")).hasValue("tls");
    assertThat(exchange.response().body().text()).isEqualTo("GET /okhttp: ");
  }

  @Test
  void recordsApacheHttpClientThroughInterception(RecordingProxy proxy) throws Exception {
    try (CloseableHttpClient client = HttpClients.custom()
        .setProxy(new HttpHost("127.0.0.1", proxy.port()))
        .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
            .setTlsSocketStrategy(ClientTlsStrategyBuilder.create()
                .setSslContext(proxy.sslContext()).buildClassic())
            .build())
        .build()) {
      String body = client.execute(new HttpGet(origin.url("/apache")),
          response -> EntityUtils.toString(response.getEntity()));
      assertThat(body).isEqualTo("GET /apache: ");
    }
    RecordedExchange exchange = proxy.recording().awaitExchange(e -> e.path("/apache"), WAIT);
    assertThat(exchange.request().url()).isEqualTo("https://localhost:" + origin.port() + "/apache");
    assertThat(exchange.response().body().text()).isEqualTo("GET /apache: ");
  }

  @Test
  void recordsCurlThroughInterception(RecordingProxy proxy) throws Exception {
    assumeTrue(curlAvailable(), "curl not installed; skipping the curl interception test");
    Path ca = Files.writeString(dir.resolve("ca.pem"), proxy.caCertificatePem());
    String out = run("curl", "-sS", "--max-time", "20", "--proxy", "http://127.0.0.1:" + proxy.port(),
        "--cacert", ca.toString(), "-H", "X-Client: curl", "--data-binary", "from curl",
        origin.url("/curl").toString());
    assertThat(out).isEqualTo("POST /curl: from curl");
    RecordedExchange exchange = proxy.recording().awaitExchange(e -> e.path("/curl"), WAIT);
    assertThat(exchange.request().url()).isEqualTo("https://localhost:" + origin.port() + "/curl");
    assertThat(exchange.request().header("X-Client")).hasValue("curl");
    assertThat(exchange.request().body().text()).isEqualTo("from curl");
  }

  @Test
  void relaysWebSocketFramesInsideAnInterceptedTunnel(RecordingProxy proxy) throws Exception {
    OkHttpClient client = new OkHttpClient.Builder()
        .proxy(proxy.proxy())
        .sslSocketFactory(proxy.sslContext().getSocketFactory(), proxy.trustManager())
        .build();
    BlockingQueue<String> received = new LinkedBlockingQueue<>();
    WebSocket socket = client.newWebSocket(new Request.Builder().url(origin.url("/ws").toString())
        .build(), new WebSocketListener() {
          @Override
          public void onMessage(WebSocket webSocket, String text) {
            received.add(text);
          }

          @Override
          public void onFailure(WebSocket webSocket, Throwable failure, Response response) {
            received.add("failed: " + failure);
          }
        });
    socket.send("hello");
    assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo("echo hello");
    socket.send("again");
    assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo("echo again");
    socket.close(1000, "done");
    RecordedExchange upgrade = proxy.recording().awaitExchange(e -> e.path("/ws"), WAIT);
    assertThat(upgrade.request().url()).startsWith("https://localhost:");
    assertThat(upgrade.response().status()).isEqualTo(101);
    client.dispatcher().executorService().shutdown();
    client.connectionPool().evictAll();
  }

  private static boolean curlAvailable() {
    try {
      return new ProcessBuilder("curl", "--version").redirectErrorStream(true).start()
          .waitFor(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      return false;
    }
  }

  private static String run(String... command) throws Exception {
    Process process = new ProcessBuilder(new ArrayList<>(List.of(command)))
        .redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return output;
  }
}
