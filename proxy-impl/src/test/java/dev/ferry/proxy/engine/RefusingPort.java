package dev.ferry.proxy.engine;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * A loopback port that refuses connections and stays taken while open: a socket bound but not
 * listening. The port of a closed server socket is free again, and a proxy started next may be
 * given it, which then proxies to itself instead of meeting a refused connection.
 */
final class RefusingPort implements Closeable {
  private final Socket socket = new Socket();

  RefusingPort() throws IOException {
    socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
  }

  int port() {
    return socket.getLocalPort();
  }

  String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
