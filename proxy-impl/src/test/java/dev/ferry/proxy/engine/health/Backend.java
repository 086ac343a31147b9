package dev.ferry.proxy.engine.health;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * A backend for health checks on a real socket: answers every request with a settable status,
 * or holds the connection without answering, and can go down (stop listening: connections are
 * refused) and come back on the same port.
 */
final class Backend implements Closeable {
  private final SSLContext tls;
  private final int port;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final BlockingQueue<String> requests = new LinkedBlockingQueue<>();
  private final AtomicInteger heldClosedByPeer = new AtomicInteger();
  private volatile ServerSocket listener;
  private volatile int status = 200;
  private volatile boolean silent;
  private volatile String interim = "";
  /** Sent as it is instead of an answer, then the connection held until the client closes; or null. */
  private volatile String broken;
  /** Whether the answer is a head that never ends, a field every few milliseconds. */
  private volatile boolean trickle;

  Backend() throws IOException {
    this(null);
  }

  /** A backend speaking TLS with this context's certificate. */
  Backend(SSLContext tls) throws IOException {
    this.tls = tls;
    this.port = listen(0);
  }

  /** The URL of this backend for {@code host} ({@code 127.0.0.1} or {@code localhost}). */
  String url(String host) {
    return (tls == null ? "http" : "https") + "://" + host + ":" + port;
  }

  void answer(int status) {
    this.status = status;
    this.silent = false;
    this.broken = null;
    this.trickle = false;
  }

  /** Sends {@code heads} (whole interim responses, such as 103 Early Hints) before each answer. */
  void interim(String heads) {
    this.interim = heads;
  }

  /**
   * Sends {@code bytes} as it is in place of an answer (a malformed head, or one that never
   * ends) and then holds the connection until the client closes it.
   */
  void answerBroken(String bytes) {
    this.broken = bytes;
  }

  /**
   * Answers with a head that never ends: a status line, then a field every 20 ms, each well
   * within any read timeout, until the client closes the connection.
   */
  void trickleHead() {
    this.trickle = true;
  }

  /** Reads requests but never answers; the connection stays open until the client closes it. */
  void silent() {
    this.silent = true;
  }

  /** Stops listening and drops every connection: connects are refused from now on. */
  void down() throws IOException {
    listener.close();
    for (Socket socket : sockets) {
      socket.close();
    }
  }

  /** Listens again on the same port. */
  void up() throws IOException {
    listen(port);
  }

  /** The heads of the requests received, in order. */
  BlockingQueue<String> requests() {
    return requests;
  }

  /** Connections held without an answer that the client then closed. */
  int heldClosedByPeer() {
    return heldClosedByPeer.get();
  }

  private int listen(int port) throws IOException {
    ServerSocket socket = tls == null ? new ServerSocket() : tls.getServerSocketFactory().createServerSocket();
    socket.setReuseAddress(true);
    socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
    listener = socket;
    Thread acceptor = new Thread(() -> accept(socket), "backend-accept-" + socket.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
    return socket.getLocalPort();
  }

  private void accept(ServerSocket server) {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        sockets.add(socket);
        Thread handler = new Thread(() -> serve(socket), "backend-conn");
        handler.setDaemon(true);
        handler.start();
      } catch (IOException e) {
        return; // closed by down() or close()
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      InputStream in = socket.getInputStream();
      String head = readHead(in);
      if (head == null) {
        return;
      }
      requests.add(head);
      if (trickle) {
        socket.getOutputStream().write("HTTP/1.1 200 OK\r\n".getBytes(StandardCharsets.ISO_8859_1));
        while (true) {
          // The pause is the input under test (a head slower than the check's timeout), not a wait.
          Thread.sleep(20);
          socket.getOutputStream().write("X-Slow: 1\r\n".getBytes(StandardCharsets.ISO_8859_1));
        }
      }
      String brokenAnswer = broken;
      if (brokenAnswer != null) {
        socket.getOutputStream().write(brokenAnswer.getBytes(StandardCharsets.ISO_8859_1));
      }
      if (silent || brokenAnswer != null) {
        if (in.read() < 0) {
          heldClosedByPeer.incrementAndGet();
        }
        return;
      }
      socket.getOutputStream().write((interim + "HTTP/1.1 " + status + " Test\r\nContent-Length: 0\r\n"
          + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    } catch (IOException e) {
      // The client went away (a timed-out or stopped check): nothing to answer.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      sockets.remove(socket);
    }
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      head.write(b);
      String text = head.toString(StandardCharsets.ISO_8859_1);
      if (text.endsWith("\r\n\r\n")) {
        return text;
      }
    }
    return null;
  }

  @Override
  public void close() throws IOException {
    down();
  }
}
