package dev.ferry.proxy.engine.filter;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** A raw-socket client for filter tests: one request out, one Content-Length response back. */
final class Raw implements Closeable {
  private final Socket socket;

  Raw(int port) throws IOException {
    this(port, InetAddress.getLoopbackAddress());
  }

  /** Connects from {@code local}, another loopback address when a test needs a second client. */
  Raw(int port, InetAddress local) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port, local, 0);
    socket.setSoTimeout(10_000);
  }

  /** Sends {@code request} and returns the response head and body as text. */
  String exchange(String request) throws IOException {
    socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
    socket.getOutputStream().flush();
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("closed before a response head: " + head);
      }
      head.write(b);
      matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
          ? matched + 1 : 0;
    }
    String text = head.toString(StandardCharsets.ISO_8859_1);
    int length = 0;
    for (String line : text.split("\r\n")) {
      if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    return text + new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }

  /** Waits for a condition with a deadline of ten seconds. */
  static void await(BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 10 s");
      }
      Thread.onSpinWait();
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
