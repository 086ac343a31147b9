package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a pooled connection to an https upstream may carry next (probe s9). The proxy cannot ask
 * a TLS socket whether the upstream answered early, so a connection whose request body was not
 * all here when it went is not reused; and bytes the upstream sent unasked after its answer,
 * which a TLS socket does not count until it has decrypted them, keep a connection out of the
 * pool. Before, both were pooled, and each next client got the answer meant for the one before.
 */
class TlsUpstreamReuseTest {
  private static TestCertificates localhost;

  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @BeforeAll
  static void makeCertificates() throws Exception {
    localhost = TestCertificates.issued("localhost", null, 2);
  }

  private TinyOrigin tlsOrigin(TinyOrigin.Handler handler) throws Exception {
    ServerSocket server = localhost.serverContext().getServerSocketFactory()
        .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
    return ferry.track(new TinyOrigin(server, handler));
  }

  private ProxyServer proxyTo(TinyOrigin origin) throws Exception {
    return ferry.start(ProxyServer.builder().upstream(Upstream.of("https://localhost:" + origin.port() + "/"))
        .upstreamSslContext(localhost.trustingContext()));
  }

  private static byte[] answer(String body) {
    return ("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
        .getBytes(StandardCharsets.ISO_8859_1);
  }

  @Test
  void doesNotReuseAConnectionWhoseChunkedBodyWaitedForTheClient() throws Exception {
    CountDownLatch answered = new CountDownLatch(1);
    // Answers on the head alone and reads whatever follows as requests of their own.
    TinyOrigin origin = tlsOrigin((socket, in, out) -> {
      String line;
      while ((line = TinyOrigin.readLine(in)) != null) {
        while (!TinyOrigin.readLine(in).isEmpty()) {
          // The head's fields.
        }
        out.write(answer("answered: " + line));
        out.flush();
        answered.countDown();
      }
    });
    ProxyServer proxy = proxyTo(origin);
    try (RawClient client = new RawClient(proxy.address())) {
      client.send("POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n");
      assertThat(client.readResponse(true).status()).isEqualTo(100);
      client.send("5\r\nhello");
      assertThat(answered.await(10, TimeUnit.SECONDS)).as("the origin to answer on the head").isTrue();
      client.send("\r\n0\r\n\r\n");
      assertThat(client.readResponse().bodyText()).isEqualTo("answered: POST /upload HTTP/1.1");
    }
    try (RawClient next = new RawClient(proxy.address())) {
      assertThat(next.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText())
          .isEqualTo("answered: GET /next HTTP/1.1");
    }
    assertThat(proxy.stats().upstreamConnectionsReused()).isZero();
  }

  /**
   * An upload that was all here when it went reuses its connection, through a route that keeps
   * a copy for retries too (whose stream said nothing was here before its first read, so every
   * POST over https closed its connection).
   */
  @Test
  void reusesTheConnectionOfAnUploadThatWasAllHere() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.echoingBodies(localhost.serverContext()
        .getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress())));
    ProxyServer proxy = proxyTo(origin);
    try (RawClient client = new RawClient(proxy.address())) {
      for (int i = 0; i < 5; i++) {
        String body = "order-" + i;
        assertThat(client.send("POST /orders HTTP/1.1\r\nHost: a\r\nContent-Length: " + body.length()
            + "\r\n\r\n" + body).readResponse().bodyText()).isEqualTo(body);
      }
    }
    assertThat(origin.connectionCount()).as("connections the origin saw").isEqualTo(1);
  }

  @Test
  void doesNotReuseAConnectionOnWhichTheUpstreamSentUnaskedBytes() throws Exception {
    CountDownLatch answerRelayed = new CountDownLatch(1);
    CountDownLatch unaskedSent = new CountDownLatch(1);
    TinyOrigin origin = tlsOrigin((socket, in, out) -> {
      // The unasked bytes leave at once, not when the answer's segment is acknowledged.
      socket.setTcpNoDelay(true);
      String line;
      while ((line = TinyOrigin.readLine(in)) != null) {
        while (!TinyOrigin.readLine(in).isEmpty()) {
          // The head's fields.
        }
        out.write(answer("answered: " + line));
        out.flush();
        if (unaskedSent.getCount() > 0) {
          // Once the answer is through the proxy: a late excess, as a buggy upstream sends it.
          try {
            answerRelayed.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          out.write(answer("UNASKED"));
          out.flush();
          unaskedSent.countDown();
        }
      }
    });
    ProxyServer proxy = proxyTo(origin);
    try (RawClient client = new RawClient(proxy.address())) {
      assertThat(client.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText())
          .isEqualTo("answered: GET /first HTTP/1.1");
    }
    answerRelayed.countDown();
    assertThat(unaskedSent.await(10, TimeUnit.SECONDS)).isTrue();
    try (RawClient next = new RawClient(proxy.address())) {
      assertThat(next.send("GET /second HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText())
          .isEqualTo("answered: GET /second HTTP/1.1");
    }
  }
}
