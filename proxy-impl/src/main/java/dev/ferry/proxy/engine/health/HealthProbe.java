package dev.ferry.proxy.engine.health;

import dev.ferry.proxy.HealthCheck;
import dev.ferry.proxy.engine.http1.Framing;
import dev.ferry.proxy.engine.http1.HeadParser;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ResponseHead;
import dev.ferry.proxy.engine.io.ConnectionInput;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import dev.ferry.proxy.engine.tls.BeneathTlsSocket;
import dev.ferry.proxy.engine.tls.UpstreamHandshake;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;

/**
 * One active health check of one endpoint: {@code GET <path> HTTP/1.1} with
 * {@code Connection: close} on a fresh connection (never a pooled one, which would test the pool
 * rather than the endpoint), for https the TLS handshake requests' connections make (so an
 * endpoint whose certificate the proxy refuses is unhealthy), and the final response head read
 * whole by the parser requests' answers go through, with the proxy's limits on heads and its
 * framing checked: a head that would be a 502 or a 504 for a request (a malformed field, two
 * Content-Lengths, too many fields, a head that never ends) fails the check, whatever its status
 * (probes r22, v22). Interim 1xx responses (a {@code 103 Early Hints} before the 200) are
 * skipped, as every HTTP/1.1 client must parse them (RFC 9110 §15.2). Connect, handshake and
 * read share the check's timeout. The body is not read.
 */
final class HealthProbe {
  /** A status line longer than this is not one: the endpoint is not speaking HTTP. */
  private static final int MAX_STATUS_LINE = 1024;
  /** Interim responses skipped before the final one, at most: as many as a request's are relayed. */
  private static final int MAX_INTERIM = 32;

  private final HealthCheck check;
  private final UpstreamHandshake tls;
  /** Sockets of checks in progress, so that stopping closes them instead of waiting them out. */
  private final Set<Socket> open;
  private final HeadLimits limits;

  HealthProbe(HealthCheck check, UpstreamHandshake tls, Set<Socket> open, HeadLimits limits) {
    this.check = check;
    this.tls = tls;
    this.open = open;
    this.limits = limits;
  }

  ProbeResult probe(LiveEndpoint endpoint) {
    long deadline = System.nanoTime() + check.timeout().toNanos();
    Socket socket = null;
    try {
      socket = connect(endpoint, deadline);
      socket.setSoTimeout(remainingMillis(deadline));
      OutputStream out = socket.getOutputStream();
      out.write(request(endpoint));
      out.flush();
      ConnectionInput in = new ConnectionInput(socket, 4096);
      // The whole head, however it trickles in, within the check's time (probe v22).
      in.deadline(deadline);
      for (int interim = 0; interim <= MAX_INTERIM; interim++) {
        ResponseHead head = new HeadParser(in, MAX_STATUS_LINE, limits.maxHeaderBytes(),
            limits.maxHeaderCount()).readResponse();
        int status = head.status();
        if (status >= 200 || status == 101) {
          Framing.responseBodyLength("GET", status, head.headers());
          return new ProbeResult(check.expects(status), "status_" + status);
        }
      }
      return ProbeResult.failed("bad_response");
    } catch (HttpFailureException e) {
      return ProbeResult.failed("bad_response");
    } catch (EOFException e) {
      return ProbeResult.failed("closed_before_head");
    } catch (SocketTimeoutException e) {
      return ProbeResult.failed("timeout");
    } catch (UnknownHostException e) {
      return ProbeResult.failed("unknown_host");
    } catch (ConnectException e) {
      return ProbeResult.failed("connect_refused");
    } catch (UpstreamHandshake.RefusedCertificateException e) {
      return ProbeResult.failed("certificate_refused");
    } catch (SSLException e) {
      return ProbeResult.failed("tls_failed");
    } catch (IOException e) {
      return ProbeResult.failed("io_error");
    } finally {
      if (socket != null) {
        open.remove(socket);
        closeQuietly(socket);
      }
    }
  }

  private byte[] request(LiveEndpoint endpoint) {
    return ("GET " + check.path() + " HTTP/1.1\r\n"
        + "Host: " + endpoint.endpoint().authority() + "\r\n"
        + "Connection: close\r\n"
        + "User-Agent: ferry-health-check\r\n"
        + "Accept: */*\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
  }

  /** Tries each resolved address in turn within the deadline, as the forwarder's connector does. */
  private Socket connect(LiveEndpoint endpoint, long deadline) throws IOException {
    String host = endpoint.endpoint().host();
    int port = endpoint.endpoint().port();
    IOException last = null;
    for (InetAddress address : InetAddress.getAllByName(host)) {
      boolean https = "https".equals(endpoint.endpoint().scheme());
      // Beneath TLS, a socket that bounds the whole handshake by the deadline, not each read.
      Socket socket = https ? new BeneathTlsSocket() : new Socket();
      open.add(socket);
      try {
        socket.connect(new InetSocketAddress(address, port), remainingMillis(deadline));
        return https ? handshake((BeneathTlsSocket) socket, host, port, deadline) : socket;
      } catch (SocketTimeoutException e) {
        open.remove(socket);
        closeQuietly(socket);
        throw e;
      } catch (IOException e) {
        open.remove(socket);
        closeQuietly(socket);
        last = e;
      }
    }
    throw last != null ? last : new UnknownHostException(host);
  }

  /**
   * Stopping closes {@code plain} while the handshake runs, which ends it; then the TLS socket.
   * The deadline then bounds every read beneath TLS, as {@link ConnectionInput#deadline} does
   * above it: a record trickled a byte at a time is one read for TLS, which held the check 30
   * times its timeout and then counted it healthy (probe v31).
   */
  private Socket handshake(BeneathTlsSocket plain, String host, int port, long deadline) throws IOException {
    SSLSocket socket = tls.handshake(plain, host, port, deadline);
    plain.deadline(deadline);
    open.add(socket);
    open.remove(plain);
    return socket;
  }

  private static int remainingMillis(long deadline) throws SocketTimeoutException {
    long remaining = (deadline - System.nanoTime()) / 1_000_000;
    if (remaining <= 0) {
      throw new SocketTimeoutException("health check timeout passed");
    }
    return (int) Math.min(Integer.MAX_VALUE, remaining);
  }

  static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // The check is over either way.
    }
  }
}
