package dev.ferry.proxy.engine.route;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small origin for routing tests: answers each request with its own name and the request
 * line's path in the body ({@code name /path}), or with a status it is told to give. Counts what
 * it received. Keeps connections alive.
 */
final class Origins implements AutoCloseable {
  private final String name;
  private final ServerSocket server;
  private final AtomicInteger requests = new AtomicInteger();
  private final ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
  private final List<Socket> sockets = new ArrayList<>();
  private volatile int status = 200;
  private volatile String extraHeaders = "";
  private volatile long delayMillis;
  private volatile CountDownLatch gate = new CountDownLatch(0);
  private volatile int healthStatus = 200;
  private volatile boolean resetting;
  private volatile boolean breakingBodies;
  private volatile int padding;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();

  Origins(String name) throws IOException {
    this.name = name;
    this.server = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "origin-" + name);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  int port() {
    return server.getLocalPort();
  }

  /** Requests received so far. */
  int requests() {
    return requests.get();
  }

  /** Request lines received, oldest first. */
  List<String> requestLines() {
    return new ArrayList<>(lines);
  }

  /** From now on answers {@code /health} with {@code status}, other paths as before. */
  void health(int status) {
    this.healthStatus = status;
  }

  /** Requests received for a path other than {@code /health}. */
  int nonHealthRequests() {
    return (int) lines.stream().filter(line -> !line.contains(" /health ")).count();
  }

  /** From now on takes {@code millis} to answer each request (a slow backend). */
  void delay(long millis) {
    this.delayMillis = millis;
  }

  /** From now on holds each answer until {@link #release()}. */
  void hold() {
    gate = new CountDownLatch(1);
  }

  /** Sends the answers {@link #hold()} held back, and answers at once from now on. */
  void release() {
    gate.countDown();
  }

  /** Requests this origin is working on now. */
  int requestsInFlight() {
    return inFlight.get();
  }

  /** The most requests this origin was working on at once. */
  int maxConcurrentRequests() {
    return maxInFlight.get();
  }

  /** From now on answers with {@code status} (and these raw header lines, each ending CRLF). */
  void answer(int status, String extraHeaders) {
    this.status = status;
    this.extraHeaders = extraHeaders;
  }

  /** From now on resets each connection on which a request arrives, unanswered (a failing backend). */
  void resetEach() {
    this.resetting = true;
  }

  /** From now on pads each answer's body with this many more bytes. */
  void bodyPadding(int bytes) {
    this.padding = bytes;
  }

  /** From now on answers a head that promises more body than follows, then resets. */
  void breakBodies() {
    this.breakingBodies = true;
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        synchronized (sockets) {
          sockets.add(socket);
        }
        Thread worker = new Thread(() -> serve(socket), "origin-" + name + "-conn");
        worker.setDaemon(true);
        worker.start();
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      String line;
      while ((line = readLine(in)) != null) {
        String[] parts = line.split(" ");
        if (parts.length < 3) {
          return; // not a request line: the rest of a body this origin does not read (chunked)
        }
        long length = 0;
        String header;
        while ((header = readLine(in)) != null && !header.isEmpty()) {
          if (header.toLowerCase().startsWith("content-length:")) {
            length = Long.parseLong(header.substring(15).trim());
          }
        }
        in.readNBytes((int) length);
        requests.incrementAndGet();
        lines.add(line);
        if (resetting) {
          socket.setSoLinger(true, 0);
          return;
        }
        maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        try {
          if (delayMillis > 0) {
            Thread.sleep(delayMillis);
          }
          gate.await();
        } catch (InterruptedException e) {
          return;
        } finally {
          inFlight.decrementAndGet();
        }
        String path = parts[1];
        byte[] body = (name + " " + path + "x".repeat(padding)).getBytes(StandardCharsets.UTF_8);
        int answer = path.equals("/health") ? healthStatus : status;
        boolean breaking = breakingBodies && !path.equals("/health");
        out.write(("HTTP/1.1 " + answer + " X\r\n" + extraHeaders + "Content-Length: "
            + (body.length + (breaking ? 100 : 0)) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
        if (breaking) {
          socket.setSoLinger(true, 0);
          return;
        }
      }
    } catch (IOException gone) {
      // The test closed the origin or the proxy dropped the connection.
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        int end = line.length() > 0 && line.charAt(line.length() - 1) == '\r' ? line.length() - 1 : line.length();
        return line.substring(0, end);
      }
      line.append((char) b);
    }
    return null;
  }

  @Override
  public void close() throws IOException {
    server.close();
    synchronized (sockets) {
      for (Socket socket : sockets) {
        socket.close();
      }
    }
  }
}
