package dev.ferry.proxy.engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * An https origin answering every request with {@code secure PATH} (but {@code /hang}, which it
 * never answers; {@code secure PATH with Proxy-Authorization} if that reached it), keeping
 * connections alive,
 * each connection on its own daemon thread (a connection whose client never speaks, such as a
 * tunnel the proxy holds open, delays no other).
 */
final class TlsOrigin {
  private TlsOrigin() {}

  /** Starts one, closed by {@code ferry} after the test; returns its port. */
  static int start(ProxyTestExtension ferry, SSLContext context) throws IOException {
    return start(ferry, context, new AtomicInteger());
  }

  /** Starts one that counts the connections it accepts in {@code connections}; returns its port. */
  static int start(ProxyTestExtension ferry, SSLContext context, AtomicInteger connections) throws IOException {
    return start(ferry, context, connections, 0, new AtomicInteger());
  }

  /**
   * Starts one that closes a connection whose handshake has not begun within
   * {@code handshakeTimeoutMillis} (0: never), as servers bound a silent client, counting in
   * {@code dropped} the connections that ended before a handshake (closed so, or by the client);
   * returns its port.
   */
  static int start(ProxyTestExtension ferry, SSLContext context, AtomicInteger connections,
      int handshakeTimeoutMillis, AtomicInteger dropped) throws IOException {
    return listen(ferry, context, "tls-origin", (accepted, server) -> {
      connections.incrementAndGet();
      daemon("tls-origin-connection", () -> {
        try (Socket socket = accepted) {
          socket.setSoTimeout(handshakeTimeoutMillis);
          try {
            accepted.startHandshake();
          } catch (IOException silentOrGone) {
            dropped.incrementAndGet();
            return;
          }
          socket.setSoTimeout(0);
          serve(socket.getInputStream(), socket.getOutputStream(), server);
        } catch (IOException e) {
          // A closed connection ends this connection only.
        }
      });
    });
  }

  /**
   * Starts one that negotiates only the ALPN {@code protocols} with clients that offer any
   * (refusing those that offer none of them, as servers of HTTP/2 alone do), and serves HTTP/1.1
   * to the others; returns its port.
   */
  static int startSpeaking(ProxyTestExtension ferry, SSLContext context, String... protocols) throws IOException {
    return listen(ferry, context, "tls-origin-alpn", (accepted, server) -> {
      javax.net.ssl.SSLParameters parameters = accepted.getSSLParameters();
      parameters.setApplicationProtocols(protocols);
      accepted.setSSLParameters(parameters);
      daemon("tls-origin-connection", () -> {
        try (Socket socket = accepted) {
          accepted.startHandshake();
          serve(socket.getInputStream(), socket.getOutputStream(), server);
        } catch (IOException e) {
          // A refused handshake or a closed connection ends this connection only.
        }
      });
    });
  }

  /**
   * Starts one that runs each connection's handshake in its accept loop, one at a time (as
   * Python's http.server wrapped in TLS does), then serves it on a thread of its own; returns its
   * port. A connection that never handshakes holds every later one up to 10 s.
   */
  static int startSerial(ProxyTestExtension ferry, SSLContext context) throws IOException {
    return listen(ferry, context, "tls-origin-serial", (accepted, server) -> {
      try {
        accepted.setSoTimeout(10_000);
        accepted.startHandshake();
        accepted.setSoTimeout(0);
      } catch (IOException e) {
        accepted.close();
        return;
      }
      daemon("tls-origin-connection", () -> {
        try (Socket socket = accepted) {
          serve(socket.getInputStream(), socket.getOutputStream(), server);
        } catch (IOException e) {
          // A closed connection ends this connection only.
        }
      });
    });
  }

  /**
   * Starts one that speaks only {@code protocol} and requires a client certificate, refusing a
   * client without one with an alert; returns its port. The connection beneath stays open until
   * the client closes it, so that the alert is read, not lost to the reset a close can bring
   * when the client's request arrives after it.
   */
  static int startNeedingClientCertificates(ProxyTestExtension ferry, SSLContext context, String protocol)
      throws IOException {
    ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    ferry.track(listener);
    daemon("tls-origin-mtls", () -> {
      while (!listener.isClosed()) {
        try {
          Socket plain = listener.accept();
          daemon("tls-origin-connection", () -> refuseWithoutCertificate(plain, context, protocol));
        } catch (IOException e) {
          // The listener closed: the loop ends.
        }
      }
    });
    return listener.getLocalPort();
  }

  private static void refuseWithoutCertificate(Socket plain, SSLContext context, String protocol) {
    try (Socket held = plain) {
      held.setSoTimeout(10_000);
      SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(held, null, false);
      tls.setEnabledProtocols(new String[] {protocol});
      tls.setNeedClientAuth(true);
      try {
        tls.startHandshake();
        tls.getInputStream().read();
      } catch (IOException refused) {
        // The alert is sent; now wait for the client to close.
        while (held.getInputStream().read() >= 0) {
          // Whatever the client sends after the alert is not read as TLS.
        }
      }
    } catch (IOException e) {
      // The client is gone.
    }
  }

  /** What an origin does with each connection it accepts, on its accepting thread. */
  private interface Accepted {
    void handle(SSLSocket accepted, SSLServerSocket server) throws IOException;
  }

  /** Listens on a free loopback port, closed by {@code ferry} after the test; returns the port. */
  private static int listen(ProxyTestExtension ferry, SSLContext context, String name, Accepted accepted)
      throws IOException {
    SSLServerSocket server = (SSLServerSocket) context.getServerSocketFactory()
        .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
    ferry.track(server);
    daemon(name, () -> {
      while (!server.isClosed()) {
        try {
          accepted.handle((SSLSocket) server.accept(), server);
        } catch (IOException e) {
          // That connection failed, or the server closed: the loop decides.
        }
      }
    });
    return server.getLocalPort();
  }

  private static void daemon(String name, Runnable task) {
    Thread thread = new Thread(task, name);
    thread.setDaemon(true);
    thread.start();
  }

  private static void serve(InputStream in, OutputStream out, SSLServerSocket server) throws IOException {
    String line;
    while ((line = TinyOrigin.readLine(in)) != null) {
      String path = line.split(" ")[1];
      boolean proxyCredentials = false;
      while ((line = TinyOrigin.readLine(in)) != null && !line.isEmpty()) {
        // A proxy's credentials are for the proxy: say so when they leak this far.
        proxyCredentials |= line.regionMatches(true, 0, "Proxy-Authorization:", 0, 20);
      }
      if (path.equals("/early")) {
        // Refuses the body unread, as a server's size limit does, and closes: the body the proxy
        // is still sending makes the close a reset.
        out.write(("HTTP/1.1 413 Content Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\n"
            + "too much").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return;
      }
      if (path.equals("/hang")) {
        // Never answers, nor reads again (so never answers a close_notify), until the test ends.
        while (!server.isClosed()) {
          LockSupport.parkNanos(50_000_000L);
        }
        return;
      }
      byte[] body = ("secure " + path + (proxyCredentials ? " with Proxy-Authorization" : ""))
          .getBytes(StandardCharsets.ISO_8859_1);
      out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.write(body);
      out.flush();
    }
  }
}
