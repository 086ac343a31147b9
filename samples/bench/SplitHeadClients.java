import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Keep-alive clients for split-heads.sh whose requests arrive in two pieces, as a request larger
 * than a network segment arrives on a real network, which loopback never shows: CONNS
 * connections each send GETs for PATH with a 2,000-byte cookie, the head written in two parts
 * half a millisecond apart (TCP_NODELAY), or with {@code post} POSTs of a 3,000-byte body, the
 * head and the body's first 1,000 bytes, then the rest; each reads the whole answer (framed by
 * Content-Length) before its next request, for SECONDS. Prints the answers counted and those
 * other than 200.
 *
 * <p>Usage (Java 17 source launcher, no build needed): {@code java SplitHeadClients.java PORT
 * CONNS SECONDS PATH [get|post]}. One thread per connection; everything is bounded by SECONDS.
 */
public final class SplitHeadClients {
  private static final long PAUSE_NANOS = 500_000;

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int conns = Integer.parseInt(args[1]);
    long deadline = System.nanoTime() + Long.parseLong(args[2]) * 1_000_000_000L;
    boolean post = args.length > 4 && args[4].equals("post");
    String filler = "x".repeat(2000);
    String body = "y".repeat(3000);
    byte[] first = (post
        ? "POST " + args[3] + " HTTP/1.1\r\nHost: bench\r\nContent-Length: 3000\r\n\r\n" + body.substring(0, 1000)
        : "GET " + args[3] + " HTTP/1.1\r\nHost: bench\r\nCookie: s=" + filler.substring(0, 1000))
        .getBytes(StandardCharsets.ISO_8859_1);
    byte[] second = (post ? body.substring(1000) : filler.substring(1000) + "\r\n\r\n")
        .getBytes(StandardCharsets.ISO_8859_1);
    AtomicLong answered = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < conns; i++) {
      Thread thread = new Thread(() -> {
        try (Socket socket = new Socket()) {
          socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
          socket.setTcpNoDelay(true);
          socket.setSoTimeout(5000);
          OutputStream out = socket.getOutputStream();
          InputStream in = new BufferedInputStream(socket.getInputStream());
          while (System.nanoTime() < deadline) {
            out.write(first);
            out.flush();
            LockSupport.parkNanos(PAUSE_NANOS);
            out.write(second);
            out.flush();
            if (readAnswer(in) != 200) {
              failed.incrementAndGet();
            }
            answered.incrementAndGet();
          }
        } catch (IOException e) {
          failed.incrementAndGet();
        }
      });
      thread.start();
      threads.add(thread);
    }
    for (Thread thread : threads) {
      thread.join();
    }
    System.out.println("answered=" + answered.get() + " not_200=" + failed.get());
  }

  /** Reads one answer's head and its Content-Length body; returns its status. */
  private static int readAnswer(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("closed mid-answer");
      }
      head.append((char) b);
    }
    String text = head.toString();
    int length = 0;
    for (String line : text.split("\r\n")) {
      if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    in.readNBytes(length);
    return Integer.parseInt(text.substring(9, 12));
  }
}
