package dev.ferry.proxy.engine;

import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.tls.TlsRecords;
import dev.ferry.proxy.engine.upstream.HostNames;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns away a new connection the proxy has no room for: 503 with {@code Retry-After}, or on a
 * TLS listener a fatal {@code internal_error} alert (a plaintext 503 would read as a corrupt
 * record, and a handshake needs the thread a full proxy does not have); counted and logged.
 */
final class Overload {
  private static final Logger log = LoggerFactory.getLogger(Listener.class);
  private static final byte[] OVERLOADED = ("HTTP/1.1 503 Service Unavailable\r\n"
      + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 17\r\nConnection: close\r\n"
      + "Retry-After: 1\r\n\r\nProxy overloaded\n").getBytes(StandardCharsets.ISO_8859_1);
  private static final int BODY_BYTES = "Proxy overloaded\n".length();

  private Overload() {}

  /**
   * Reads what the client sent already (a request, a TLS hello), without waiting for more:
   * closing a socket with unread input sends a reset, which can destroy the answer before the
   * client reads it.
   */
  private static void dropWhatArrived(InputStream in) throws IOException {
    byte[] scratch = new byte[2048];
    int budget = 64 * 1024; // a client that keeps sending is not read forever
    for (int waiting = in.available(); waiting > 0 && budget > 0; waiting = in.available()) {
      int n = in.read(scratch, 0, Math.min(waiting, scratch.length));
      if (n < 0) {
        return;
      }
      budget -= n;
    }
  }

  /**
   * Answers and closes {@code socket}; {@code reason} goes into the log line. The refusal is an
   * exchange like any other answer the proxy makes: counted, in the access log (method and URL
   * unknown, {@code -}) and reported to listeners, so an error rate taken from the access log or
   * the request metrics sees overload too.
   */
  static void refuse(RealProxyServer server, Socket socket, long connectionId, String reason) {
    long startNanos = System.nanoTime();
    server.metrics().connectionsRejected.increment();
    InetSocketAddress client = (InetSocketAddress) socket.getRemoteSocketAddress();
    log.warn("connection_rejected reason={} client={} conn={}", reason,
        HostNames.authorityText(client.getAddress(), client.getPort()), connectionId);
    boolean tls = server.serverTls() != null;
    long bytes = 0;
    try {
      socket.setSoTimeout(1000);
      dropWhatArrived(socket.getInputStream());
      OutputStream out = socket.getOutputStream();
      out.write(tls ? TlsRecords.internalErrorAlert() : OVERLOADED);
      out.flush();
      bytes = tls ? 0 : BODY_BYTES;
    } catch (IOException e) {
      log.debug("connection_reject_failed error={}", LogValues.quoted(e.toString()));
    } finally {
      try {
        socket.close();
      } catch (IOException ignored) {
        // Refused either way.
      }
    }
    ExchangeReport.headless(server, connectionId, client, startNanos, 503, bytes, "OVERLOADED", false);
  }
}
