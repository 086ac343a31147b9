package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.engine.io.ConnectionInput;
import java.io.IOException;

/**
 * Whether an upstream has given its final answer while its request's body is still being sent
 * (RFC 9112 §9.5: a 413 or 401 after the head, or an answer after the upstream gave up waiting
 * for a paused body). Sending on would put what the client sends next, perhaps a second request
 * smuggled in a "body" the upstream no longer reads, on a connection the upstream reads as
 * requests, and returning that connection to the pool would hand the answer to that request to
 * another client. Interim (1xx) responses are not an answer: an upstream may send Early Hints
 * while it reads the body.
 *
 * <p>Plain sockets only: on TLS, bytes in the socket may be a session ticket, not an answer.
 */
final class EarlyAnswer {
  /** "HTTP/1.1 200" and the space after it: enough of a status line to read its code. */
  private static final int STATUS_LINE_START = 13;

  private EarlyAnswer() {}

  /**
   * True if the upstream of {@code connection} has sent anything but whole interim responses:
   * what it sent is left buffered in the connection's input for the response to be read from.
   */
  static boolean arrived(UpstreamConnection connection) {
    if (!connection.output().watchesForAnswer()) {
      return false;
    }
    ConnectionInput in = connection.input();
    try {
      while (in.takeWaiting()) {
        if (wholeInterims(in.peekBuffered()) < 0) {
          return true;
        }
        if (!in.socketHasMore() || !in.takeMore()) {
          // An interim head still arriving, or whole ones only: no answer yet.
          return false;
        }
      }
      return false;
    } catch (IOException e) {
      // The socket broke (a write timeout closed it, say): the body's next write tells why.
      return false;
    }
  }

  /**
   * How many bytes of {@code seen} are whole interim heads; -1 if it holds anything else, the
   * start of a final answer.
   */
  private static int wholeInterims(byte[] seen) {
    int at = 0;
    while (at < seen.length) {
      if (seen.length - at < STATUS_LINE_START) {
        return at;
      }
      if (!interim(seen, at)) {
        return -1;
      }
      int end = headEnd(seen, at);
      if (end < 0) {
        return at;
      }
      at = end;
    }
    return at;
  }

  /** An "HTTP/1.x 1xx" status line other than 101, which ends the exchange as an answer does. */
  private static boolean interim(byte[] b, int at) {
    return b[at] == 'H' && b[at + 1] == 'T' && b[at + 2] == 'T' && b[at + 3] == 'P' && b[at + 4] == '/'
        && b[at + 5] == '1' && b[at + 6] == '.' && b[at + 8] == ' ' && b[at + 9] == '1'
        && !(b[at + 10] == '0' && b[at + 11] == '1');
  }

  /** The index just past the head starting at {@code at} (its empty line), or -1 if incomplete. */
  private static int headEnd(byte[] b, int at) {
    for (int i = at; i + 1 < b.length; i++) {
      if (b[i] == '\n' && (b[i + 1] == '\n' || (b[i + 1] == '\r' && i + 2 < b.length && b[i + 2] == '\n'))) {
        return b[i + 1] == '\n' ? i + 2 : i + 3;
      }
    }
    return -1;
  }
}
