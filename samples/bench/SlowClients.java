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
 * left stalled (the server's answer is read and dropped; only its closing ends the hold).
 *
 * <p>Usage (Java 17 source launcher, no build needed): {@code java SlowClients.java PORT COUNT
 * SECONDS [http|https]}. One thread drives every connection; everything is bounded by SECONDS.
 */
public final class SlowClients {
  private static final long LINE_EVERY_NANOS = 5_000_000_000L;

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int count = Integer.parseInt(args[1]);
    long end = System.nanoTime() + Long.parseLong(args[2]) * 1_000_000_000L;
    boolean tls = args.length > 3 && args[3].equals("https");
    InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
    List<SocketChannel> open = new ArrayList<>();
    for (int i = 0; i < count && System.nanoTime() < end; i++) {
      try {
        SocketChannel channel = SocketChannel.open(address);
        channel.write(tls ? clientHello() : ascii("GET /slow/" + i + " HTTP/1.1\r\nHost: slow\r\n"));
        channel.configureBlocking(false);
        open.add(channel);
      } catch (IOException refused) {
        // Counted below: only connections still open at the end are held.
      }
    }
    while (System.nanoTime() < end) {
      Thread.sleep(Math.max(1, Math.min(LINE_EVERY_NANOS, end - System.nanoTime()) / 1_000_000));
      open.removeIf(channel -> !stillHeld(channel, !tls, tls));
    }
    open.removeIf(channel -> !stillHeld(channel, false, tls));
    System.out.println("slow_clients=" + count + " held_at_end=" + open.size());
    for (SocketChannel channel : open) {
      channel.close();
    }
  }

  /**
   * False if the server closed, reset or answered the connection (bytes count as an answer unless
   * {@code handshaking}, where the server's handshake flight is expected); sends a header line if
   * asked.
   */
  private static boolean stillHeld(SocketChannel channel, boolean sendLine, boolean handshaking) {
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
      if (sendLine) {
        channel.write(ascii("X-Slow: still-here\r\n"));
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
