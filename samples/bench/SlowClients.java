import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;

/**
 * Slowloris clients for slowloris.sh: opens COUNT connections to a server on 127.0.0.1, sends
 * each the start of a request head, then one more header line every few seconds, never the
 * empty line that ends the head, for SECONDS in all. Prints how many connections the server
 * still held open at the end (a refused, reset or answered one is no longer held). With
 * {@code https}, each connection sends a TLS ClientHello instead and then nothing: a handshake
 * left stalled (the server's answer is read and dropped; only its closing ends the hold). With
 * {@code body}, each sends a whole head declaring a 1 MiB body with its first 1,500 bytes, then
 * 1,500 more every 5 s: a slow upload (300 bytes/s, always ahead of Ferry's default minimum
 * rate of 240) that a server must keep receiving, and that takes an hour to finish. With
 * {@code trickle}, the same with 100 bytes every 5 s: an upload too slow for that minimum, which
 * Ferry answers 408 after its 5 s grace while the client goes on sending (a lingering close).
 * With {@code large}, the pace of {@code body} under a declared 64 MiB: a "slow POST" whose body
 * is larger than Ferry's request buffer (on disk since requestSpoolBytes). With {@code chunked},
 * a body with no declared length: a first chunk of 20,000 bytes (past the 16 KiB Ferry awaits
 * in memory), then chunks at the pace of {@code body}.
 *
 * <p>Usage (Java 17 source launcher, no build needed): {@code java SlowClients.java PORT COUNT
 * SECONDS [http|https|body|trickle|large|chunked]}. One thread drives every connection; everything is bounded by SECONDS.
 */
public final class SlowClients {
  private static final long LINE_EVERY_NANOS = 5_000_000_000L;
  private static final String BODY_PIECE = "x".repeat(1500);
  private static final String TRICKLE_PIECE = "x".repeat(100);

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int count = Integer.parseInt(args[1]);
    long end = System.nanoTime() + Long.parseLong(args[2]) * 1_000_000_000L;
    String kind = args.length > 3 ? args[3] : "http";
    boolean tls = kind.equals("https");
    String piece = kind.equals("chunked") ? "5dc\r\n" + BODY_PIECE + "\r\n"
        : kind.equals("body") || kind.equals("large") ? BODY_PIECE
        : kind.equals("trickle") ? TRICKLE_PIECE : null;
    boolean body = piece != null;
    String framing = kind.equals("chunked") ? "Transfer-Encoding: chunked"
        : "Content-Length: " + (kind.equals("large") ? 64L << 20 : 1L << 20);
    InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
    List<SocketChannel> open = new ArrayList<>();
    for (int i = 0; i < count && System.nanoTime() < end; i++) {
      try {
        SocketChannel channel = SocketChannel.open(address);
        channel.write(tls ? clientHello() : body
            ? ascii("POST /slow/" + i + " HTTP/1.1\r\nHost: slow\r\n" + framing + "\r\n\r\n"
                + (kind.equals("chunked") ? "4e20\r\n" + "x".repeat(20_000) + "\r\n" : piece))
            : ascii("GET /slow/" + i + " HTTP/1.1\r\nHost: slow\r\n"));
        channel.configureBlocking(false);
        open.add(channel);
      } catch (IOException refused) {
        // Counted below: only connections still open at the end are held.
      }
    }
    while (System.nanoTime() < end) {
      Thread.sleep(Math.max(1, Math.min(LINE_EVERY_NANOS, end - System.nanoTime()) / 1_000_000));
      open.removeIf(channel -> !stillHeld(channel, tls ? null : body ? piece : "X-Slow: still-here\r\n", tls));
    }
    open.removeIf(channel -> !stillHeld(channel, null, tls));
    System.out.println("slow_clients=" + count + " held_at_end=" + open.size());
    for (SocketChannel channel : open) {
      channel.close();
    }
  }

  /**
   * False if the server closed, reset or answered the connection (bytes count as an answer unless
   * {@code handshaking}, where the server's handshake flight is expected); then sends
   * {@code more}, if given.
   */
  private static boolean stillHeld(SocketChannel channel, String more, boolean handshaking) {
    try {
      ByteBuffer scratch = ByteBuffer.allocate(16 * 1024);
      int n;
      while ((n = channel.read(scratch.clear())) > 0 && handshaking) {
        // the server's ServerHello to Finished, dropped
      }
      if (n != 0) {
        channel.close();
        return false;
      }
      if (more != null) {
        channel.write(ascii(more));
      }
      return true;
    } catch (IOException e) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // Gone either way.
      }
      return false;
    }
  }

  /** The ClientHello a TLS 1.3 client would send (one engine step, so no trust is needed). */
  private static ByteBuffer clientHello() throws Exception {
    SSLEngine engine = SSLContext.getDefault().createSSLEngine("localhost", 443);
    engine.setUseClientMode(true);
    ByteBuffer hello = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(ByteBuffer.allocate(0), hello);
    return hello.flip();
  }

  private static ByteBuffer ascii(String text) {
    return ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
  }
}
