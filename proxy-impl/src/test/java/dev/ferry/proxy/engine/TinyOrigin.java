package dev.ferry.proxy.engine;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An origin of the test's own for exact-byte answers MockWebServer cannot give: HTTP/1.0
 * close-delimited bodies, malformed responses, interim responses, upgrades, echo tunnels.
 * Each accepted connection runs {@link Handler} on its own daemon thread.
 */
final class TinyOrigin implements Closeable {

  /** A request as the origin read it. */
  record Received(String requestLine, List<String> headerLines, byte[] body) {
    String header(String name) {
      for (String line : headerLines) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
          return line.substring(colon + 1).trim();
        }
      }
      return null;
    }
  }

  @FunctionalInterface
  interface Handler {
    void handle(Socket socket, InputStream in, OutputStream out) throws IOException;
  }

  private final ServerSocket serverSocket;
  private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final List<Socket> sockets = new ArrayList<>();
  private final CountDownLatch closed = new CountDownLatch(1);

  TinyOrigin(Handler handler) throws IOException {
    this(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), handler);
  }

  /** An origin on a listening socket of the test's own (a TLS one, say). */
  TinyOrigin(ServerSocket serverSocket, Handler handler) {
    this.serverSocket = serverSocket;
    Thread acceptor = new Thread(() -> {
      while (!serverSocket.isClosed()) {
        try {
          Socket socket = serverSocket.accept();
          connections.incrementAndGet();
          synchronized (sockets) {
            sockets.add(socket);
          }
          Thread worker = new Thread(() -> {
            try (socket) {
              handler.handle(socket, socket.getInputStream(), socket.getOutputStream());
            } catch (IOException ignored) {
              // The test decides what a broken connection means.
            }
          }, "tiny-origin-conn");
          worker.setDaemon(true);
          worker.start();
        } catch (IOException e) {
          return;
        }
      }
    }, "tiny-origin-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** An origin on {@code serverSocket} answering every request with its own body, kept alive. */
  static TinyOrigin echoingBodies(ServerSocket serverSocket) {
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = new TinyOrigin(serverSocket, (socket, in, out) -> {
      Received request;
      while ((request = self[0].readRequest(in)) != null) {
        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + request.body().length + "\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
        out.write(request.body());
        out.flush();
      }
    });
    return self[0];
  }

  /** An origin answering every request on a connection with the same raw bytes. */
  static TinyOrigin answering(String rawResponse) throws IOException {
    return answering(rawResponse, true);
  }

  /** An origin answering a connection's first request with these raw bytes, then closing it. */
  static TinyOrigin answeringThenClosing(String rawResponse) throws IOException {
    return answering(rawResponse, false);
  }

  private static TinyOrigin answering(String rawResponse, boolean everyRequest) throws IOException {
    byte[] bytes = rawResponse.getBytes(StandardCharsets.ISO_8859_1);
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = new TinyOrigin((socket, in, out) -> {
      do {
        if (self[0].readRequest(in) == null) {
          return;
        }
        out.write(bytes);
        out.flush();
      } while (everyRequest);
    });
    return self[0];
  }

  int port() {
    return serverSocket.getLocalPort();
  }

  String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  int connectionCount() {
    return connections.get();
  }

  Received takeRequest() throws InterruptedException {
    Received request = received.poll(10, TimeUnit.SECONDS);
    if (request == null) {
      throw new AssertionError("origin received no request within 10 s");
    }
    return request;
  }

  /** Returns the next request without waiting, or null. */
  Received pollRequest() {
    return received.poll();
  }

  /**
   * Reads one request (head and a Content-Length or chunked body); null at end of stream, also
   * when it cuts a body short (an origin discards an incomplete request).
   */
  Received readRequest(InputStream in) throws IOException {
    String requestLine = readLine(in);
    if (requestLine == null) {
      return null;
    }
    List<String> headers = new ArrayList<>();
    String line;
    while ((line = readLine(in)) != null && !line.isEmpty()) {
      headers.add(line);
    }
    Received head = new Received(requestLine, headers, new byte[0]);
    byte[] body = new byte[0];
    String length = head.header("Content-Length");
    if (length != null) {
      int declared = Integer.parseInt(length);
      body = in.readNBytes(declared);
      if (body.length < declared) {
        return null;
      }
    } else if ("chunked".equalsIgnoreCase(head.header("Transfer-Encoding"))) {
      body = readChunked(in, headers);
    }
    Received request = new Received(requestLine, headers, body);
    received.add(request);
    return request;
  }

  private static byte[] readChunked(InputStream in, List<String> headers) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      int size = Integer.parseInt(readLine(in).split(";")[0].trim().toLowerCase(Locale.ROOT), 16);
      if (size == 0) {
        String trailer;
        while ((trailer = readLine(in)) != null && !trailer.isEmpty()) {
          headers.add(trailer);
        }
        return body.toByteArray();
      }
      body.write(in.readNBytes(size));
      readLine(in);
    }
  }

  static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
      }
      line.write(b);
    }
    return null;
  }

  /**
   * For handlers whose behaviour is a delay (an origin that answers late, or never): waits up to
   * {@code millis}, returning early once the origin is closed so the test can end.
   */
  void awaitQuiet(long millis) {
    try {
      closed.await(millis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** For handlers that hold their answer until the test releases it (or the origin closes). */
  void awaitGate(CountDownLatch gate) {
    try {
      gate.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() throws IOException {
    closed.countDown();
    serverSocket.close();
    synchronized (sockets) {
      for (Socket socket : sockets) {
        socket.close();
      }
    }
  }
}
