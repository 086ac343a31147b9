import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Slowloris clients for slowloris.sh: opens COUNT connections to a server on 127.0.0.1, sends
 * each the start of a request head, then one more header line every few seconds, never the
 * empty line that ends the head, for SECONDS in all. Prints how many connections the server
 * still held open at the end (a refused, reset or answered one is no longer held).
 *
 * <p>Usage (Java 17 source launcher, no build needed): {@code java SlowClients.java PORT COUNT
 * SECONDS}. One thread drives every connection; everything is bounded by SECONDS.
 */
public final class SlowClients {
  private static final long LINE_EVERY_NANOS = 5_000_000_000L;

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int count = Integer.parseInt(args[1]);
    long end = System.nanoTime() + Long.parseLong(args[2]) * 1_000_000_000L;
    InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
    List<SocketChannel> open = new ArrayList<>();
    for (int i = 0; i < count && System.nanoTime() < end; i++) {
      try {
        SocketChannel channel = SocketChannel.open(address);
        channel.write(ascii("GET /slow/" + i + " HTTP/1.1\r\nHost: slow\r\n"));
        channel.configureBlocking(false);
        open.add(channel);
      } catch (IOException refused) {
        // Counted below: only connections still open at the end are held.
      }
    }
    while (System.nanoTime() < end) {
      Thread.sleep(Math.max(1, Math.min(LINE_EVERY_NANOS, end - System.nanoTime()) / 1_000_000));
      open.removeIf(channel -> !stillHeld(channel, true));
    }
    open.removeIf(channel -> !stillHeld(channel, false));
    System.out.println("slow_clients=" + count + " held_at_end=" + open.size());
    for (SocketChannel channel : open) {
      channel.close();
    }
  }

  /** False if the server closed, reset or answered the connection; sends a header line if asked. */
  private static boolean stillHeld(SocketChannel channel, boolean sendLine) {
    try {
      if (channel.read(ByteBuffer.allocate(512)) != 0) {
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

  private static ByteBuffer ascii(String text) {
    return ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
  }
}
