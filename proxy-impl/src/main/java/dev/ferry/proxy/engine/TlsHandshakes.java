package dev.ferry.proxy.engine;

import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.tls.EngineSocket;
import dev.ferry.proxy.engine.tls.PlainHttpOnTlsPort;
import dev.ferry.proxy.engine.tls.UpstreamHandshake;
import dev.ferry.proxy.engine.upstream.HostNames;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failed server-side handshakes with clients, on the listener (TLS termination) and inside an
 * intercepted CONNECT: logged and counted; they disturb no other connection.
 */
final class TlsHandshakes {
  private static final Logger log = LoggerFactory.getLogger(TlsHandshakes.class);

  /** A client's alerts that refuse the certificate it was shown (RFC 8446 §6.2). */
  private static final Set<String> REFUSED_CERTIFICATE = Set.of("certificate_unknown", "unknown_ca",
      "bad_certificate", "certificate_expired", "unsupported_certificate", "certificate_revoked");

  private TlsHandshakes() {}

  /**
   * Logs and counts a client's handshake that ended with {@code cause} before completing. Plain
   * HTTP sent to the TLS port was answered 400: that is accounted for as a refused request
   * (counted, {@code MALFORMED_REQUEST}, in the access log with method and URL {@code -}), as a
   * malformed head on a plain port is.
   */
  static void failed(RealProxyServer server, InetSocketAddress client, long connectionId,
      IOException cause, long acceptedNanos, boolean intercepted) {
    if (cause instanceof PlainHttpOnTlsPort) {
      ExchangeReport.headless(server, connectionId, client, acceptedNanos, 400,
          PlainHttpOnTlsPort.answerBodyBytes(), ProxyFailure.MALFORMED_REQUEST.name(), true);
      return;
    }
    server.metrics().failure("TLS_HANDSHAKE_FAILED");
    log.info("tls_handshake_failed client={} conn={} reason={}",
        HostNames.authorityText(client.getAddress(), client.getPort()), connectionId,
        LogValues.quoted(reason(cause, intercepted)));
  }

  /**
   * Why: a client that refused the proxy's certificate is said to, naming what it should trust
   * (an intercepting proxy's CA: the most common setup mistake); else the JDK's words.
   */
  static String reason(IOException cause, boolean intercepted) {
    if (cause instanceof SocketTimeoutException) {
      return "timed out";
    }
    String alert = UpstreamHandshake.receivedAlert(cause);
    if (alert != null && REFUSED_CERTIFICATE.contains(alert)) {
      return (intercepted ? "the client does not trust the interception CA" : "the client refused the proxy's certificate")
          + " (alert " + alert + ")";
    }
    String message = String.valueOf(cause.getMessage());
    // A JDK client that does not trust the certificate closes without an alert: a hint, then.
    return intercepted && message.equals(EngineSocket.CLOSED_IN_HANDSHAKE)
        ? message + " (as a client that does not trust the interception CA does)" : message;
  }
}
