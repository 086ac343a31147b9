package dev.ferry.samples.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A minimal keep-alive origin for benchmarks: {@code GET /bytes/N} answers N bytes with
 * Content-Length. Loopback only; one platform thread per connection; prints its port.
 */
public final class BenchOrigin {
  private static final Map<Integer, byte[]> RESPONSES = new ConcurrentHashMap<>();

  private BenchOrigin() {}

  /** Starts the origin on {@code args[0]} (default 0) and serves until killed. */
  public static void main(String[] args) throws IOException {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    try (ServerSocket server = new ServerSocket(port, 1024, InetAddress.getLoopbackAddress())) {
      System.out.println(server.getLocalPort());
      System.out.flush();
      while (true) {
        Socket socket = server.accept();
        socket.setTcpNoDelay(true);
        Thread worker = new Thread(() -> serve(socket), "bench-origin");
        worker.setDaemon(true);
        worker.start();
      }
    }
  }

  private static void serve(Socket socket) {
    try (socket) {
      InputStream in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
      OutputStream out = socket.getOutputStream();
      StringBuilder line = new StringBuilder();
      String requestLine = null;
      int b;
      while ((b = in.read()) != -1) {
        if (b == '\n') {
          String text = line.toString().trim();
          line.setLength(0);
          if (requestLine == null) {
            requestLine = text;
          } else if (text.isEmpty()) {
            out.write(responseFor(requestLine));
            out.flush();
            requestLine = null;
          }
        } else {
          line.append((char) b);
        }
      }
    } catch (IOException | RuntimeException e) {
      // A benchmark client went away; nothing to report.
    }
  }

  private static byte[] responseFor(String requestLine) {
    int size = 1024;
    int at = requestLine.indexOf("/bytes/");
    if (at >= 0) {
      int end = requestLine.indexOf(' ', at);
      size = Integer.parseInt(requestLine.substring(at + 7, end < 0 ? requestLine.length() : end));
    }
    return RESPONSES.computeIfAbsent(size, BenchOrigin::build);
  }

  private static byte[] build(int size) {
    // Cacheable for an hour, so the same origin serves the cache-hit benchmark.
    byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        + "Cache-Control: max-age=3600\r\nContent-Length: " + size + "\r\n\r\n")
        .getBytes(StandardCharsets.ISO_8859_1);
    byte[] response = Arrays.copyOf(head, head.length + size);
    Arrays.fill(response, head.length, response.length, (byte) 'x');
    return response;
  }
}
