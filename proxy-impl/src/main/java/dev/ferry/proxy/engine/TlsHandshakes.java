package dev.ferry.proxy.engine;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server-side handshakes with clients, on the listener (TLS termination) and inside an
 * intercepted CONNECT: bounded in time, and a failure is logged and counted but disturbs no other
 * connection.
 */
final class TlsHandshakes {
  private static final Logger log = LoggerFactory.getLogger(TlsHandshakes.class);

  private TlsHandshakes() {}

  /** Completes the handshake within {@code timeoutMillis}; false (logged, counted) if it failed. */
  static boolean complete(SSLSocket ssl, int timeoutMillis, RealProxyServer server,
      InetSocketAddress client, long connectionId) throws IOException {
    ssl.setSoTimeout(timeoutMillis);
    try {
      ssl.startHandshake();
      return true;
    } catch (IOException e) {
      server.metrics().failure("TLS_HANDSHAKE_FAILED");
      log.info("tls_handshake_failed client={} conn={} reason=\"{}\"", client, connectionId,
          e instanceof SocketTimeoutException ? "timed out" : String.valueOf(e.getMessage()));
      return false;
    }
  }
}
