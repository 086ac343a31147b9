package dev.ferry.proxy.engine.filter;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An origin on 127.0.0.1 that counts every connection it accepts, forwarded request or CONNECT
 * tunnel alike, and answers each with {@code 200 ok}. One thread accepts in order, so once
 * {@link #connectionsAfterProbe()} has had its own connection served, every earlier connection
 * has been counted.
 */
final class CountingOrigin implements AutoCloseable {
  private final ServerSocket server;
  private final AtomicInteger connections = new AtomicInteger();
  private final Thread acceptor;

  CountingOrigin() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    acceptor = new Thread(this::serve, "counting-origin");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /** Connects once itself, waits to be served, and returns the connections before that one. */
  int connectionsAfterProbe() throws IOException {
    try (Raw probe = new Raw(port())) {
      probe.exchange("GET /probe HTTP/1.1\r\nHost: probe\r\n\r\n");
    }
    return connections.get() - 1;
  }

  private void serve() {
    while (!server.isClosed()) {
      try (Socket socket = server.accept()) {
        connections.incrementAndGet();
        socket.setSoTimeout(5_000);
        readHead(socket.getInputStream());
        socket.getOutputStream().write(
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
      } catch (IOException e) {
        // A tunnel that sends nothing, or the server closing: count it and go on.
      }
    }
  }

  private static void readHead(InputStream in) throws IOException {
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        return;
      }
      matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
          ? matched + 1 : 0;
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
