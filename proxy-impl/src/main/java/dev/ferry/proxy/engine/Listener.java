package dev.ferry.proxy.engine;

import dev.ferry.proxy.engine.http1.LogValues;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The accept loop, on one platform thread named {@code ferry-accept-<port>}. Every connection is
 * accepted; one past {@code maxConnections} is answered 503 with {@code Retry-After} and closed
 * at once (as Helidon's {@code SocketTransportBinding} does), rather than left unanswered in the
 * kernel's backlog ({@link Overload}). One the executor cannot take waits on the idle parker's
 * selector until it sends something, and is refused the same way only if no thread is free then
 * either (without a parker, at once).
 */
final class Listener implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(Listener.class);

  private final RealProxyServer server;
  private final ServerSocket serverSocket;
  private final Semaphore permits;
  private final InetSocketAddress address;
  private final Thread thread;
  private final AtomicLong connectionIds = new AtomicLong();

  Listener(RealProxyServer server, ServerSocket serverSocket, int maxConnections) {
    this.server = server;
    this.serverSocket = serverSocket;
    this.permits = new Semaphore(maxConnections);
    this.address = new InetSocketAddress(serverSocket.getInetAddress(), serverSocket.getLocalPort());
    this.thread = new Thread(this, "ferry-accept-" + serverSocket.getLocalPort());
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  int port() {
    return address.getPort();
  }

  InetSocketAddress address() {
    return address;
  }

  void releasePermit() {
    permits.release();
  }

  @Override
  public void run() {
    while (!serverSocket.isClosed()) {
      Socket socket;
      try {
        socket = serverSocket.accept();
      } catch (IOException e) {
        if (!serverSocket.isClosed()) {
          log.warn("accept_failed address={} error={}", address, LogValues.quoted(e.toString()));
          continue;
        }
        return;
      }
      if (!permits.tryAcquire()) {
        server.metrics().connectionsAccepted.increment();
        reject(socket, connectionIds.incrementAndGet(), "max_connections");
        continue;
      }
      dispatch(socket);
    }
  }

  private void dispatch(Socket socket) {
    ClientConnection connection;
    try {
      socket.setTcpNoDelay(true);
      connection = new ClientConnection(server, socket, connectionIds.incrementAndGet());
    } catch (IOException e) {
      closeQuietly(socket);
      permits.release();
      return;
    }
    server.metrics().connectionsAccepted.increment();
    if (!server.register(connection)) {
      reject(socket, connection.id(), "stopping");
      permits.release();
      return;
    }
    try {
      server.executor().execute(connection);
    } catch (RejectedExecutionException e) {
      // A connection needs no thread until it sends something: under a burst of connects it
      // waits on the selector, and is refused only if its request finds no thread either.
      if (!connection.parkAtAccept()) {
        reject(socket, connection.id(), "executor_full");
        server.unregister(connection);
      }
    }
  }

  private void reject(Socket socket, long connectionId, String reason) {
    Overload.refuse(server, socket, connectionId, reason);
  }

  /** Stops accepting and waits for the accept thread to end. */
  void close() {
    closeQuietly(serverSocket);
    thread.interrupt();
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void closeQuietly(java.io.Closeable closeable) {
    try {
      closeable.close();
    } catch (IOException ignored) {
      // Closing is best effort; the resource is being discarded.
    }
  }
}
