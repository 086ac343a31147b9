package dev.ferry.proxy.engine;

import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.tls.PlainHttpOnTlsPort;
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

  /**
   * Logs and counts a client's handshake that ended with {@code cause} before completing. Plain
   * HTTP sent to the TLS port was answered 400: that is accounted for as a refused request
   * (counted, {@code MALFORMED_REQUEST}, in the access log with method and URL {@code -}), as a
   * malformed head on a plain port is.
   */
  static void failed(RealProxyServer server, InetSocketAddress client, long connectionId,
      IOException cause, long acceptedNanos) {
    if (cause instanceof PlainHttpOnTlsPort) {
      ExchangeReport.headless(server, connectionId, client, acceptedNanos, 400,
          PlainHttpOnTlsPort.answerBodyBytes(), ProxyFailure.MALFORMED_REQUEST.name(), true);
      return;
    }
    server.metrics().failure("TLS_HANDSHAKE_FAILED");
    log.info("tls_handshake_failed client={} conn={} reason={}",
        HostNames.authorityText(client.getAddress(), client.getPort()), connectionId,
        LogValues.quoted(cause instanceof SocketTimeoutException ? "timed out" : String.valueOf(cause.getMessage())));
  }
}
