package dev.ferry.proxy.engine;

import dev.ferry.proxy.engine.upstream.HostNames;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failed server-side handshakes with clients, on the listener (TLS termination) and inside an
 * intercepted CONNECT: logged and counted; they disturb no other connection.
 */
final class TlsHandshakes {
  private static final Logger log = LoggerFactory.getLogger(TlsHandshakes.class);

  private TlsHandshakes() {}

  /** Logs and counts a client's handshake that ended with {@code cause} before completing. */
  static void failed(RealProxyServer server, InetSocketAddress client, long connectionId,
      IOException cause) {
    server.metrics().failure("TLS_HANDSHAKE_FAILED");
    log.info("tls_handshake_failed client={} conn={} reason=\"{}\"",
        HostNames.authorityText(client.getAddress(), client.getPort()), connectionId,
        cause instanceof SocketTimeoutException ? "timed out" : String.valueOf(cause.getMessage()));
  }
}
