package dev.ferry.proxy.engine;

import dev.ferry.proxy.engine.io.ConnectionInput;
import dev.ferry.proxy.engine.io.ConnectionOutput;
import dev.ferry.proxy.engine.io.LingeringClose;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A client connection's lingering close ({@link LingeringClose}): whether its end asks for one
 * and how many bytes it may discard, and, once the close is handed to the idle parker, what is
 * left of it there. The connection's thread asks for it and hands it over; from then on the
 * parker's thread alone drains it.
 */
final class ClientLinger {
  private boolean asked;
  /** How many bytes the close discards at most (see {@link #ask(long)}). */
  private long budget = LingeringClose.LINGER_BYTES;
  /**
   * Set, for good, when the close is handed to the idle parker: the connection never runs
   * again, whatever its buffer still holds (the unread bytes behind a refusal).
   */
  private volatile boolean onParker;
  /**
   * A close whose input a read deadline shut down: nothing more can be read from it, so it waits
   * out its time on the parker without being watched for reads.
   */
  private volatile boolean blind;
  /** Bytes the close may still discard on the parker; the parker's thread's own. */
  private long left;

  /**
   * Asks for a lingering close: the connection ends with request bytes possibly unread (a
   * rejected body, a refused CONNECT's tunnel bytes), and closing a socket with unread input
   * sends a reset that can destroy the response before the client reads it.
   */
  void ask() {
    asked = true;
  }

  /**
   * {@link #ask()} for a request body the client declared and has not all sent: the close
   * discards at least the rest of it ({@link LingeringClose#budget}).
   *
   * @param unreadBytes the declared bytes not yet received; negative if unknown
   */
  void ask(long unreadBytes) {
    asked = true;
    budget = Math.max(budget, LingeringClose.budget(unreadBytes));
  }

  /** Takes back {@link #ask}: the connection just closes. */
  void cancel() {
    asked = false;
  }

  boolean asked() {
    return asked;
  }

  /**
   * Stops sending: flushes what is buffered and half-closes. Returns true, having only flushed,
   * when a body read cut by its deadline (a streaming body too slow) shut the input: reads end at
   * once, and closing then, with the client's bytes unread, reset the 408 away (probe lc2). Nor
   * may the output be half-closed: past its FIN, a socket whose input is shut answers the
   * client's next bytes with a reset. Such a connection is only held, for the linger's time, for
   * the client to read the answer.
   */
  boolean begin(Socket socket, ConnectionOutput out) throws IOException {
    if (socket.isInputShutdown()) {
      out.flush();
      return true;
    }
    LingeringClose.begin(socket, out);
    return false;
  }

  /** Drains on the caller's thread, where the connection cannot park; the caller then closes it. */
  void drainHere(ConnectionInput in) throws IOException {
    LingeringClose.drainBlocking(in, budget);
  }

  /** The close goes on on the idle parker; {@code blind} as {@link #begin} said. */
  void handedToParker(boolean blind) {
    left = budget;
    this.blind = blind;
    onParker = true;
  }

  /** True once the close lingers on the idle parker. */
  boolean onParker() {
    return onParker;
  }

  /** True for a close on the parker that cannot be read, only held until its deadline. */
  boolean blind() {
    return blind;
  }

  /**
   * The lingering connection's {@code channel} is readable: discards what came, on the parker's
   * thread, through its {@code scratch} buffer. Returns true once the close is over (the client
   * finished or sent all that is discarded); the parker then ends the connection.
   */
  boolean drain(SocketChannel channel, ByteBuffer scratch) {
    try {
      left = LingeringClose.drainReady(channel, left, scratch);
    } catch (IOException e) {
      left = -1;
    }
    return left < 0;
  }
}
