package dev.ferry.proxy.engine.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The engine-driven server side of TLS over real loopback sockets, against the JDK's client
 * socket: bytes exact across many records both ways, a half-close, and a handshake that stops
 * at a read timeout and goes on where it stopped.
 */
class EngineSocketTest {
  private static final TestPki.Issued CA = TestPki.ca("Engine Socket Test CA");
  private static final TestPki.Issued LEAF = TestPki.server(CA, TestPki.ec(), "localhost");
  private static final ServerTlsContext SERVER = ServerTlsContext.create(
      List.of(new CertifiedKey(LEAF.chain(), LEAF.keys().getPrivate())));

  private ServerSocket listener;
  /** The client's plain socket, for the test that drives the client's handshake step by step. */
  private Socket plain;
  private SSLSocket client;
  private EngineSocket accepted;

  @BeforeEach
  void connect() throws Exception {
    listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
  }

  @AfterEach
  void close() throws Exception {
    if (client != null) {
      client.close();
    }
    if (plain != null) {
      plain.close();
    }
    if (accepted != null) {
      accepted.close();
    }
    listener.close();
  }

  @Test
  void carriesLargeWritesBothWaysByteExact() throws Exception {
    EngineSocket server = acceptWithClient();
    byte[] up = random(300_000, 1);
    byte[] down = random(500_000, 2);
    CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
      try {
        client.getOutputStream().write(up);
        client.getOutputStream().flush();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    assertThat(server.getInputStream().readNBytes(up.length)).isEqualTo(up);
    sent.get(10, TimeUnit.SECONDS);
    CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
      try {
        return client.getInputStream().readNBytes(down.length);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    server.getOutputStream().write(down);
    assertThat(received.get(10, TimeUnit.SECONDS)).isEqualTo(down);
    assertThat(server.getSession().getProtocol()).isEqualTo("TLSv1.3");
  }

  @Test
  void halfClosesWithCloseNotifyAndGoesOnReading() throws Exception {
    EngineSocket server = acceptWithClient();
    server.getOutputStream().write("bye".getBytes());
    server.shutdownOutput();
    assertThat(client.getInputStream().readAllBytes()).isEqualTo("bye".getBytes());
    assertThatThrownBy(() -> server.getOutputStream().write(1)).isInstanceOf(java.net.SocketException.class);
    client.getOutputStream().write("still".getBytes());
    client.getOutputStream().flush();
    assertThat(server.getInputStream().readNBytes(5)).isEqualTo("still".getBytes());
    client.close();
    assertThat(server.getInputStream().read()).isEqualTo(-1);
  }

  @Test
  void resumesAHandshakeAfterAReadTimeoutWhereItStopped() throws Exception {
    plain = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
    plain.setSoTimeout(10_000);
    StallingTlsClient stalling = new StallingTlsClient(plain, Handshakes.clientContext(CA.certificate(), null),
        "localhost");
    accepted = SERVER.accept(listener.accept(), new byte[0]);
    accepted.setSoTimeout(200);
    stalling.sendHello();

    assertThatThrownBy(() -> accepted.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
    assertThat(accepted.handshakeBegun()).isTrue();
    assertThat(accepted.handshaken()).isFalse();

    // The client reads the server's flight and answers with its Finished only now.
    stalling.finishAndSend("ping");
    accepted.setSoTimeout(10_000);
    assertThat(accepted.getInputStream().readNBytes(4)).isEqualTo("ping".getBytes());
    assertThat(accepted.handshaken()).isTrue();
  }

  /** Connects a JDK client trusting the CA, accepts it and completes the handshake. */
  private EngineSocket acceptWithClient() throws Exception {
    SSLContext trusting = Handshakes.clientContext(CA.certificate(), null);
    client = (SSLSocket) trusting.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
        listener.getLocalPort());
    client.setSoTimeout(10_000);
    accepted = SERVER.accept(listener.accept(), new byte[0]);
    accepted.setSoTimeout(10_000);
    CompletableFuture<Void> clientSide = CompletableFuture.runAsync(() -> {
      try {
        client.startHandshake();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    accepted.startHandshake();
    clientSide.get(10, TimeUnit.SECONDS);
    return accepted;
  }

  private static byte[] random(int length, long seed) {
    byte[] bytes = new byte[length];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }
}
