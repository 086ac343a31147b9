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
 * either (without a parker, at once). A failed accept (the process out of file descriptors)
 * pauses the loop, from 50 ms doubling to 1.6 s while failures go on.
 */
final class Listener implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(Listener.class);
  private static final long FIRST_PAUSE_MILLIS = 50;
  private static final long MAX_PAUSE_MILLIS = 1600;

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
    long pauseMillis = 0;
    while (!serverSocket.isClosed()) {
      Socket socket;
      try {
        socket = serverSocket.accept();
      } catch (IOException e) {
        if (serverSocket.isClosed()) {
          return;
        }
        pauseMillis = failed(e, pauseMillis);
        continue;
      }
      pauseMillis = 0;
      try {
        take(socket);
      } catch (RuntimeException | Error e) {
        if (e instanceof VirtualMachineError) {
          throw e;
        }
        // This thread is the listener: nothing one connection throws may end it.
        closeQuietly(socket);
        pauseMillis = failed(e, pauseMillis);
      }
    }
  }

  private void take(Socket socket) {
    if (!permits.tryAcquire()) {
      server.metrics().connectionsAccepted.increment();
      reject(socket, connectionIds.incrementAndGet(), "max_connections");
      return;
    }
    dispatch(socket);
  }

  /**
   * Logs a failed accept and pauses before the next, longer at each failure in a row: a process
   * out of file descriptors fails every accept at once (Tomcat's acceptor pauses the same way),
   * and retrying without a pause would spin a core and flood the log. Returns the pause taken.
   * A failure of the logging itself (it may need a file too) is ignored.
   */
  private long failed(Throwable failure, long lastPauseMillis) {
    long pauseMillis = lastPauseMillis == 0 ? FIRST_PAUSE_MILLIS : Math.min(MAX_PAUSE_MILLIS, 2 * lastPauseMillis);
    try {
      log.warn("accept_failed address={} error={} pause_ms={}", address, LogValues.quoted(failure.toString()),
          pauseMillis);
    } catch (RuntimeException | Error e) {
      if (e instanceof VirtualMachineError) {
        throw e;
      }
    }
    try {
      Thread.sleep(pauseMillis);
    } catch (InterruptedException e) {
      // The listener is closing: the loop sees its socket closed.
    }
    return pauseMillis;
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
    EventLoop loop = server.eventLoop(connection.id());
    if (loop != null && LoopEligibility.mayServe(server)) {
      loop.take(connection);
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
