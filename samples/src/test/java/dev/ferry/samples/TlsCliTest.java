package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.testkit.TestPki;
import dev.ferry.samples.bench.IdleConnections;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The TLS flags end to end: a proxy made from the command line, real TLS clients and origins. */
class TlsCliTest {
  @TempDir
  Path dir;
  private final MockWebServer origin = new MockWebServer();
  private final List<ProxyServer> proxies = new ArrayList<>();
  private TestPki ca;

  @BeforeEach
  void certificates() throws Exception {
    ca = TestPki.authority();
  }

  @AfterEach
  void stop() throws IOException {
    proxies.forEach(ProxyServer::close);
    origin.close();
  }

  /** Starts a proxy from the flags as the CLI does, with the files they ask for written first. */
  private ProxyServer start(String... args) {
    CliOptions.Parsed parsed = CliOptions.parse(args);
    ProxyServer proxy = parsed.builder().build();
    parsed.writeFiles().run();
    proxies.add(proxy.start());
    return proxy;
  }

  @Test
  void terminatesTlsWithTheCertificateTheClientNames() throws Exception {
    origin.enqueue(new MockResponse().setBody("behind tls"));
    origin.start();
    String site = ca.issue("localhost", "127.0.0.1").writeCertificate(dir, "site").toString();
    String api = ca.issue("api.test").writeCertificate(dir, "api").toString();
    ProxyServer proxy = start("-p", "0", "--upstream", origin.url("/").toString(),
        "--tls-cert", site, "--tls-key", dir.resolve("site.key").toString(),
        "--tls-cert", api, "--tls-key", dir.resolve("api.key").toString());

    HttpClient client = HttpClient.newBuilder().sslContext(ca.trustContext()).build();
    assertThat(client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + proxy.port() + "/"))
        .build(), HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("behind tls");
    assertThat(peerName(ca.trustContext(), proxy.port(), "api.test")).contains("CN=api.test");
    assertThat(peerName(ca.trustContext(), proxy.port(), "unknown.test")).contains("CN=localhost");
  }

  @Test
  void requiresClientCertificatesWithTlsClientCa() throws Exception {
    origin.enqueue(new MockResponse().setBody("mutual"));
    origin.start();
    TestPki clients = TestPki.authority();
    String site = ca.issue("localhost").writeCertificate(dir, "site").toString();
    ProxyServer proxy = start("-p", "0", "--upstream", origin.url("/").toString(),
        "--tls-cert", site, "--tls-key", dir.resolve("site.key").toString(),
        "--tls-client-ca", clients.writeCertificate(dir, "clients").toString());
    URI url = URI.create("https://localhost:" + proxy.port() + "/");

    HttpClient anonymous = HttpClient.newBuilder().sslContext(ca.trustContext()).build();
    assertThatThrownBy(() -> anonymous.send(HttpRequest.newBuilder(url).build(),
        HttpResponse.BodyHandlers.ofString())).isInstanceOf(IOException.class);
    HttpClient identified = HttpClient.newBuilder()
        .sslContext(clients.issue("client.test").keyContextTrusting(ca)).build();
    assertThat(identified.send(HttpRequest.newBuilder(url).build(),
        HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("mutual");
  }

  @Test
  void showsUpstreamsAClientCertificate() throws Exception {
    TestPki clients = TestPki.authority();
    origin.useHttps(ca.issue("localhost").keyContextTrusting(clients).getSocketFactory(), false);
    origin.requireClientAuth();
    origin.enqueue(new MockResponse().setBody("upstream mtls"));
    origin.start();
    clients.issue("ferry.test").writeCertificate(dir, "proxy");
    ProxyServer proxy = start("-p", "0", "--upstream", origin.url("/").toString(),
        "--upstream-ca", ca.writeCertificate(dir, "ca").toString(),
        "--upstream-client-cert", dir.resolve("proxy.crt").toString(),
        "--upstream-client-key", dir.resolve("proxy.key").toString());
    assertThat(HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + proxy.port() + "/")).build(),
        HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("upstream mtls");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHandshake().peerPrincipal().getName())
        .contains("CN=ferry.test");
  }

  @Test
  void interceptsHttpsWithMitmForJavaAndCurl() throws Exception {
    origin.useHttps(ca.issue("localhost", "127.0.0.1").keyContext().getSocketFactory(), false);
    origin.enqueue(new MockResponse().setBody("seen in the clear"));
    origin.enqueue(new MockResponse().setBody("curl too"));
    origin.start();
    Path caOut = dir.resolve("ferry-ca.pem");
    ProxyServer proxy = start("-p", "0", "--upstream-ca", ca.writeCertificate(dir, "origin-ca").toString(),
        "--mitm", "--ca-out", caOut.toString(), "--allow-connect-port", String.valueOf(origin.getPort()),
        "--allow-private-destinations");

    HttpClient client = HttpClient.newBuilder()
        .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", proxy.port())))
        .sslContext(IdleConnections.trusting(caOut)).build();
    assertThat(client.send(HttpRequest.newBuilder(origin.url("/java").uri()).build(),
        HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("seen in the clear");
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getHeader("Via")).isEqualTo("1.1 ferry");

    if (!curlAvailable()) {
      System.err.println("curl not installed; skipping the curl part of " + getClass().getSimpleName());
      return;
    }
    assertThat(curl("-sS", "--proxy", "http://127.0.0.1:" + proxy.port(), "--cacert", caOut.toString(),
        origin.url("/curl").toString())).isEqualTo("curl too");
  }

  /** The subject of the certificate the server shows for this SNI name. */
  private static String peerName(SSLContext context, int port, String sni) throws IOException {
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setServerNames(List.of(new SNIHostName(sni)));
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      return ((X509Certificate) socket.getSession().getPeerCertificates()[0])
          .getSubjectX500Principal().getName();
    }
  }

  private static boolean curlAvailable() {
    try {
      return new ProcessBuilder("curl", "--version").redirectErrorStream(true).start()
          .waitFor(10, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static String curl(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("curl", "--max-time", "20"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return output;
  }
}
