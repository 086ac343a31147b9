package dev.ferry.proxy.engine;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;

/**
 * A loopback port whose connects hang: a listener that never accepts, its accept queue filled
 * by connections of its own, so the kernel drops the next SYNs and a connect waits for its
 * timeout (what a host that swallows packets does, without leaving loopback).
 */
final class UnansweredPort implements Closeable {
  private final ServerSocket listener = new ServerSocket();
  private final List<Socket> fillers = new ArrayList<>();

  UnansweredPort() throws IOException {
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
    for (int i = 0; i < 16; i++) {
      Socket filler = new Socket();
      fillers.add(filler);
      try {
        filler.connect(listener.getLocalSocketAddress(), 200);
      } catch (SocketTimeoutException e) {
        return;
      }
    }
    close();
    throw new IllegalStateException("the accept queue never filled: connects would not hang");
  }

  String url(String path) {
    return "http://127.0.0.1:" + listener.getLocalPort() + path;
  }

  @Override
  public void close() throws IOException {
    for (Socket filler : fillers) {
      filler.close();
    }
    listener.close();
  }
}
