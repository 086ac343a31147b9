package dev.ferry.proxy.engine.io;

import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * nginx's lingering close: stop sending, then read and discard what the client still sends, up
 * to 8 MiB (or the rest of a body of declared length) or five seconds, so that a response sent while request bytes were still unread (a
 * rejected body, an upstream's early answer to an upload, a refused CONNECT's tunnel bytes)
 * arrives before the socket closes, instead of being destroyed by the reset that closing with
 * unread input sends. (At 64 KiB or one second, a client uploading a few megabytes quickly was
 * often reset before it read the answer; nginx lingers up to 30 s.)
 *
 * <p>{@link #begin} half-closes; then either {@link #drainBlocking} drains on the caller's
 * thread, or a selector calls {@link #drainReady} whenever the channel is readable until it
 * says the close is over or {@link #LINGER_NANOS} have passed.
 */
public final class LingeringClose {
  /** How long a connection lingers at most. */
  public static final long LINGER_NANOS = 5_000_000_000L;
  /** How many bytes it discards at most. */
  public static final long LINGER_BYTES = 8L << 20;

  private LingeringClose() {}

  /**
   * How many bytes a lingering close discards: {@link #LINGER_BYTES}, or the rest of a body whose
   * length the client declared, when more. A client that writes its whole body before reading
   * (Java's HttpClient after a 100 Continue) was reset past 8 MiB of a 20 MB upload an upstream
   * had refused early, and never saw the 413 (probe c26); the time bound still holds.
   *
   * @param unreadBytes what the client declared and has not sent yet; negative if unknown
   */
  public static long budget(long unreadBytes) {
    return Math.max(LINGER_BYTES, unreadBytes);
  }

  /**
   * Drains a connection {@link #begin} half-closed, on this thread, up to {@code budget} bytes;
   * the caller closes the socket afterwards.
   */
  public static void drainBlocking(ConnectionInput in, long budget) throws IOException {
    long deadline = System.nanoTime() + LINGER_NANOS;
    byte[] scratch = new byte[4096];
    while (budget > 0) {
      long remaining = (deadline - System.nanoTime()) / 1_000_000;
      if (remaining <= 0) {
        return;
      }
      in.recoverableTimeout((int) remaining);
      int n = in.read(scratch, 0, (int) Math.min(scratch.length, budget));
      if (n < 0) {
        return;
      }
      budget -= n;
    }
  }

  /** Flushes what is buffered for the client, then half-closes the connection. */
  public static void begin(Socket socket, ConnectionOutput out) throws IOException {
    out.flush();
    socket.shutdownOutput();
  }

  /**
   * Reads and discards what the non-blocking {@code channel} has ready, through {@code scratch},
   * up to {@code budget} bytes. Returns what is left of the budget, or -1 once the close is over
   * (the client finished, or sent the whole budget).
   */
  public static long drainReady(SocketChannel channel, long budget, ByteBuffer scratch) throws IOException {
    long left = budget;
    while (left > 0) {
      scratch.clear();
      if (left < scratch.capacity()) {
        scratch.limit((int) left);
      }
      int n = channel.read(scratch);
      if (n < 0) {
        return -1;
      }
      if (n == 0) {
        return left;
      }
      left -= n;
    }
    return -1;
  }
}
