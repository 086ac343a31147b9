package dev.ferry.proxy.engine.health;

import dev.ferry.proxy.HealthCheck;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import dev.ferry.proxy.engine.tls.UpstreamHandshake;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
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
 * endpoint whose certificate the proxy refuses is unhealthy), and only the final status line
 * read: interim 1xx responses (a {@code 103 Early Hints} before the 200) are skipped, as every
 * HTTP/1.1 client must parse them (RFC 9110 §15.2). Connect, handshake and read share the
 * check's timeout.
 */
final class HealthProbe {
  /** A status line longer than this is not one: the endpoint is not speaking HTTP. */
  private static final int MAX_STATUS_LINE = 1024;
  /** The most bytes of interim responses skipped before the final status line. */
  private static final int MAX_INTERIM_BYTES = 16 * 1024;

  private final HealthCheck check;
  private final UpstreamHandshake tls;
  /** Sockets of checks in progress, so that stopping closes them instead of waiting them out. */
  private final Set<Socket> open;

  HealthProbe(HealthCheck check, UpstreamHandshake tls, Set<Socket> open) {
    this.check = check;
    this.tls = tls;
    this.open = open;
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
      Lines lines = new Lines(socket, deadline);
      int interimBytes = 0;
      while (true) {
        String statusLine = lines.next(MAX_STATUS_LINE);
        if (statusLine == null) {
          return ProbeResult.failed("closed_before_status");
        }
        int status = status(statusLine);
        if (status < 0) {
          return ProbeResult.failed("bad_status_line");
        }
        if (status >= 200 || status == 101) {
          return new ProbeResult(check.expects(status), "status_" + status);
        }
        // An interim response: its fields, then the next status line.
        interimBytes += statusLine.length();
        for (String field = lines.next(MAX_INTERIM_BYTES); field != null && !field.isEmpty();
            field = lines.next(MAX_INTERIM_BYTES)) {
          interimBytes += field.length();
        }
        if (interimBytes > MAX_INTERIM_BYTES) {
          return ProbeResult.failed("bad_status_line");
        }
      }
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
    } catch (ProtocolException e) {
      return ProbeResult.failed("bad_status_line");
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
      Socket socket = new Socket();
      open.add(socket);
      try {
        socket.connect(new InetSocketAddress(address, port), remainingMillis(deadline));
        return "https".equals(endpoint.endpoint().scheme()) ? handshake(socket, host, port, deadline) : socket;
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

  /** Stopping closes {@code plain} while the handshake runs, which ends it; then the TLS socket. */
  private Socket handshake(Socket plain, String host, int port, long deadline) throws IOException {
    SSLSocket socket = tls.handshake(plain, host, port, remainingMillis(deadline));
    open.add(socket);
    open.remove(plain);
    return socket;
  }

  /** The lines of a response head, read in chunks; each read bounded by what is left of the deadline. */
  private static final class Lines {
    private final Socket socket;
    private final InputStream in;
    private final long deadline;
    private final byte[] buffer = new byte[4096];
    private int position;
    private int limit;

    Lines(Socket socket, long deadline) throws IOException {
      this.socket = socket;
      this.in = socket.getInputStream();
      this.deadline = deadline;
    }

    /**
     * The next line without its line end and surrounding whitespace; null at the end of the
     * stream.
     *
     * @throws ProtocolException if it is longer than {@code max} bytes: no status line, or a head
     *     that does not end
     */
    String next(int max) throws IOException {
      StringBuilder line = new StringBuilder();
      while (true) {
        if (position == limit) {
          socket.setSoTimeout(remainingMillis(deadline));
          int read = in.read(buffer);
          if (read < 0) {
            return null;
          }
          position = 0;
          limit = read;
        }
        int start = position;
        while (position < limit && buffer[position] != '\n') {
          position++;
        }
        line.append(new String(buffer, start, position - start, StandardCharsets.ISO_8859_1));
        if (line.length() > max) {
          throw new ProtocolException("line too long");
        }
        if (position < limit) {
          position++; // the LF
          return line.toString().trim();
        }
      }
    }
  }

  /** RFC 9112 §4: {@code HTTP/1.1 200 OK}; -1 if the line is not a status line. */
  static int status(String line) {
    if (!line.startsWith("HTTP/1.") || line.length() < 12 || line.charAt(8) != ' ') {
      return -1;
    }
    if (line.length() > 12 && line.charAt(12) != ' ') {
      return -1;
    }
    int status = 0;
    for (int i = 9; i < 12; i++) {
      char c = line.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      status = status * 10 + (c - '0');
    }
    return status >= 100 ? status : -1;
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
