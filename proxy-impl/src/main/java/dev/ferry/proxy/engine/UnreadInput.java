package dev.ferry.proxy.engine;

import dev.ferry.proxy.engine.io.ConnectionInput;
import dev.ferry.proxy.engine.tls.EngineSocket;
import java.io.IOException;
import java.net.Socket;

/**
 * What a client has sent that no exchange has read yet, as a stopping proxy asks it of a
 * connection: a request to serve within the grace, or nothing (an idle connection closes at once).
 * Three readings, by who asks: the connection's own thread may read; the stop's thread may not,
 * and must not wait for a TLS session's read lock, which the connection's thread may hold in a
 * blocking read. Blank lines before a request line are ignored (RFC 9112 §2.2; some clients send
 * one after a POST body): taken for a request, they held a stop for its whole grace (probe v32).
 */
final class UnreadInput {
  private UnreadInput() {}

  /** True if what {@code in} buffers, if anything, is blank lines alone. */
  static boolean blankLinesOnly(ConnectionInput in) {
    return in.scanBuffered((bytes, from, to) -> {
      for (int i = from; i < to; i++) {
        if (bytes[i] != '\r' && bytes[i] != '\n') {
          return false;
        }
      }
      return true;
    });
  }

  /**
   * On the connection's own thread: what waits in the socket is taken in, and blank lines alone
   * are no request. Ciphertext still in the kernel counts, as it cannot be read without its
   * session.
   */
  static boolean waitsOnOwnThread(Socket socket, ConnectionInput in) {
    if (socket.isClosed()) {
      return false;
    }
    try {
      in.takeWaiting();
    } catch (IOException e) {
      return false;
    }
    if (in.hasBuffered()) {
      return !blankLinesOnly(in);
    }
    return socket instanceof EngineSocket session && session.hasUnreadInput();
  }

  /**
   * On the stop's thread, for a connection a thread may be running: buffered bytes that are
   * more than blank lines, or bytes in the socket (a request the thread has not read yet). A TLS
   * session's own check is left out: it waits for the read lock.
   */
  static boolean arriving(Socket socket, ConnectionInput in) {
    return !socket.isClosed() && (in.hasBuffered() && !blankLinesOnly(in) || in.socketAvailable() > 0);
  }

  /**
   * For a connection no other thread runs (queued, so no lock is held; or its own thread as its
   * turn begins): any byte unread. Under TLS a parked connection's request is still ciphertext in
   * the kernel (probe v31).
   */
  static boolean arrived(Socket socket, ConnectionInput in) {
    return !socket.isClosed() && (in.hasBuffered() || in.socketAvailable() > 0
        || socket instanceof EngineSocket session && session.hasUnreadInput());
  }
}
