package dev.ferry.proxy.engine.tls;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * Real TLS handshakes over loopback: a server that accepts connections, layers TLS over each
 * with the code under test, completes the handshake and answers one byte; and plain JDK clients.
 * Waits are bounded futures, never sleeps.
 */
final class Handshakes implements AutoCloseable {
  static final int OK = 'k';

  /** How the server turns an accepted plain socket into a TLS one. */
  interface Layer {
    EngineSocket layer(Socket plain) throws IOException;
  }

  private final ServerSocket server;
  private final ExecutorService executor = Executors.newCachedThreadPool();

  Handshakes() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
  }

  int port() {
    return server.getLocalPort();
  }

  /** Serves the next connection; the future holds the server's session or its handshake failure. */
  CompletableFuture<SSLSession> serveOne(Layer layer) {
    CompletableFuture<SSLSession> result = new CompletableFuture<>();
    executor.execute(() -> {
      try (Socket plain = server.accept(); EngineSocket tls = layer.layer(plain)) {
        tls.setSoTimeout(10_000);
        tls.startHandshake();
        result.complete(tls.getSession());
        tls.getOutputStream().write(OK);
        tls.getOutputStream().flush();
        tls.getInputStream().read(); // until the client closes
      } catch (Exception | AssertionError e) {
        result.completeExceptionally(e);
      }
    });
    return result;
  }

  /**
   * Connects a client with {@code context} to {@code host} (SNI when a name, hostname checked
   * with HTTPS endpoint identification), handshakes and reads the server's byte.
   */
  Client connect(SSLContext context, String host, boolean sendSni) throws IOException {
    Socket plain = new Socket(InetAddress.getLoopbackAddress(), port());
    // layered, so that SNI and the hostname check use host, whatever it resolves to
    SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, host, port(), true);
    socket.setSoTimeout(10_000);
    SSLParameters parameters = socket.getSSLParameters();
    parameters.setEndpointIdentificationAlgorithm("HTTPS");
    parameters.setApplicationProtocols(new String[] {"h2", "http/1.1"});
    if (!sendSni) {
      parameters.setServerNames(List.of());
    }
    socket.setSSLParameters(parameters);
    return new Client(socket, host);
  }

  /** A client connection; {@link #handshake()} returns the first byte read, -1 at end. */
  static final class Client implements AutoCloseable {
    final SSLSocket socket;
    final String host;

    Client(SSLSocket socket, String host) {
      this.socket = socket;
      this.host = host;
    }

    int handshake() throws IOException {
      socket.startHandshake();
      InputStream in = socket.getInputStream();
      return in.read();
    }

    X509Certificate peerLeaf() throws IOException {
      return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** A JDK client context trusting {@code trusted}, presenting {@code clientKey} if not null. */
  static SSLContext clientContext(X509Certificate trusted, TestPki.Issued clientKey) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", trusted);
    TrustManagerFactory trustFactory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trustFactory.init(trust);
    KeyManagerFactory keyFactory = null;
    if (clientKey != null) {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("client", clientKey.keys().getPrivate(), "pw".toCharArray(),
          clientKey.chain().toArray(new X509Certificate[0]));
      keyFactory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keyFactory.init(keys, "pw".toCharArray());
    }
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keyFactory == null ? null : keyFactory.getKeyManagers(), trustFactory.getTrustManagers(), null);
    return context;
  }

  @Override
  public void close() throws Exception {
    server.close();
    executor.shutdownNow();
    executor.awaitTermination(10, TimeUnit.SECONDS);
  }
}
