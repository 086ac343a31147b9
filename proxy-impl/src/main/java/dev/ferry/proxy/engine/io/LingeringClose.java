package dev.ferry.proxy.engine.io;

import java.io.IOException;
import java.net.Socket;

/**
 * nginx's lingering close: stop sending, then read and discard what the client still sends, up
 * to 64 KiB or one second, so that a response sent while request bytes were still unread (a
 * rejected body, a refused CONNECT's tunnel bytes) arrives before the socket closes, instead of
 * being destroyed by the reset that closing with unread input sends.
 */
public final class LingeringClose {
  private static final long LINGER_NANOS = 1_000_000_000L;
  private static final long LINGER_BYTES = 64 * 1024;

  private LingeringClose() {}

  /** Flushes, half-closes and drains; the caller closes the socket afterwards. */
  public static void run(Socket socket, ConnectionOutput out, ConnectionInput in) throws IOException {
    out.flush();
    socket.shutdownOutput();
    long deadline = System.nanoTime() + LINGER_NANOS;
    long budget = LINGER_BYTES;
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
}
