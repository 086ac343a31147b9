package dev.ferry.proxy.engine.io;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * The buffered input side of one socket, shared by the head parser and the body streams that
 * follow it on the same connection.
 *
 * <p>Memory: the buffer is allocated when bytes arrive and dropped by {@link #awaitData} while
 * the connection waits for its next message, so an idle keep-alive connection holds no large
 * buffer. Timeouts: {@link #deadline(long)} bounds the total time of a sequence of reads (a
 * request head), which per-read SO_TIMEOUT alone cannot do against a slowloris client.
 */
public final class ConnectionInput extends InputStream {
  private final Socket socket;
  private final InputStream in;
  private final int bufferSize;
  private byte[] buffer;
  private byte[] lineScratch;
  private int pos;
  private int limit;
  private long deadlineNanos;
  private int readTimeoutMillis;
  private long bytesRead;

  public ConnectionInput(Socket socket, int bufferSize) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.bufferSize = bufferSize;
  }

  /** Sets the per-read timeout used when no deadline is set; 0 waits forever. */
  public void readTimeout(int millis) {
    this.readTimeoutMillis = millis;
    this.deadlineNanos = 0;
  }

  /** Bounds every read from now until {@link #readTimeout} is called again. */
  public void deadline(long deadlineNanos) {
    this.deadlineNanos = deadlineNanos;
  }

  /**
   * Waits until at least one byte is buffered, with the given timeout. With {@code lean}, the
   * buffer is dropped while waiting. Returns false at end of stream.
   *
   * @throws SocketTimeoutException if nothing arrived in time; the connection stays usable
   */
  public boolean awaitData(int timeoutMillis, boolean lean) throws IOException {
    if (pos < limit) {
      return true;
    }
    if (!lean && buffer != null) {
      deadlineNanos = 0;
      readTimeoutMillis = timeoutMillis;
      return fill();
    }
    buffer = null;
    lineScratch = null;
    pos = 0;
    limit = 0;
    socket.setSoTimeout(timeoutMillis);
    int first = in.read();
    if (first < 0) {
      return false;
    }
    bytesRead++;
    buffer = new byte[bufferSize];
    buffer[0] = (byte) first;
    limit = 1;
    int available = in.available();
    if (available > 0) {
      int n = in.read(buffer, 1, Math.min(available, bufferSize - 1));
      if (n > 0) {
        limit += n;
        bytesRead += n;
      }
    }
    return true;
  }

  /**
   * Returns true if the peer is quiet: nothing arrives within a millisecond and the connection is
   * neither closed nor reset. A byte that does arrive is consumed, which is fine: a connection
   * that received unasked bytes is discarded.
   */
  public boolean probeQuiet() {
    if (pos < limit) {
      return false;
    }
    try {
      socket.setSoTimeout(1);
      in.read();
      return false;
    } catch (SocketTimeoutException e) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** A copy of the bytes buffered and not yet read, which stay buffered. */
  public byte[] peekBuffered() {
    return buffer == null ? new byte[0] : java.util.Arrays.copyOfRange(buffer, pos, limit);
  }

  /** The bytes buffered and not yet read, which are taken out of the buffer. */
  public byte[] takeBuffered() {
    byte[] taken = peekBuffered();
    pos = limit;
    return taken;
  }

  /**
   * A scratch array for the head parser's lines, kept with the connection so that parsing a head
   * allocates none; dropped with the buffer.
   */
  public byte[] lineScratch() {
    if (lineScratch == null) {
      lineScratch = new byte[256];
    }
    return lineScratch;
  }

  /** Drops the buffer while nothing is buffered, so a parked connection holds none. */
  public void dropBuffer() {
    lineScratch = null;
    if (pos == limit) {
      buffer = null;
      pos = 0;
      limit = 0;
    }
  }

  /** Returns true if bytes are buffered and can be read without blocking. */
  public boolean hasBuffered() {
    return pos < limit;
  }

  /** Reads one byte, or -1 at end of stream. */
  @Override
  public int read() throws IOException {
    if (pos == limit && !fill()) {
      return -1;
    }
    return buffer[pos++] & 0xff;
  }

  /** Flag in {@link #moveLine}'s result: the line's LF was reached (and consumed). */
  public static final int LINE_ENDED = 1 << 30;

  /**
   * Moves the bytes before the next LF into {@code target} from {@code offset}, at most
   * {@code room} of them, scanning the buffer rather than handing over a byte at a time; reads
   * when nothing is buffered. Returns the number moved, with {@link #LINE_ENDED} set if the LF
   * came next (it is consumed, never moved), so {@code room} 0 asks only whether the line ends.
   *
   * @throws EOFException at end of stream
   */
  public int moveLine(byte[] target, int offset, int room) throws IOException {
    if (pos == limit && !fill()) {
      throw new EOFException("connection closed by peer");
    }
    int start = pos;
    int end = Math.min(limit, start + room);
    int i = start;
    while (i < end && buffer[i] != '\n') {
      i++;
    }
    int moved = i - start;
    System.arraycopy(buffer, start, target, offset, moved);
    if (i < limit && buffer[i] == '\n') {
      pos = i + 1;
      return moved | LINE_ENDED;
    }
    pos = i;
    return moved;
  }

  /** Reads one byte, failing at end of stream. */
  public int readByte() throws IOException {
    if (pos == limit && !fill()) {
      throw new EOFException("connection closed by peer");
    }
    return buffer[pos++] & 0xff;
  }

  @Override
  public int read(byte[] target, int offset, int length) throws IOException {
    if (length == 0) {
      return 0;
    }
    if (pos == limit) {
      if (length >= bufferSize) {
        // Large reads bypass the buffer; nothing is left in it to keep in order.
        applyTimeout();
        int n = in.read(target, offset, length);
        if (n > 0) {
          bytesRead += n;
        }
        return n;
      }
      if (!fill()) {
        return -1;
      }
    }
    int n = Math.min(length, limit - pos);
    System.arraycopy(buffer, pos, target, offset, n);
    pos += n;
    return n;
  }

  @Override
  public int available() {
    return limit - pos;
  }

  /** Total bytes received on this connection. */
  public long bytesRead() {
    return bytesRead;
  }

  private boolean fill() throws IOException {
    if (buffer == null) {
      buffer = new byte[bufferSize];
    }
    pos = 0;
    limit = 0;
    applyTimeout();
    int n = in.read(buffer, 0, bufferSize);
    if (n <= 0) {
      return false;
    }
    limit = n;
    bytesRead += n;
    return true;
  }

  private void applyTimeout() throws IOException {
    if (deadlineNanos == 0) {
      socket.setSoTimeout(readTimeoutMillis);
      return;
    }
    long remaining = (deadlineNanos - System.nanoTime()) / 1_000_000;
    if (remaining <= 0) {
      throw new SocketTimeoutException("deadline passed");
    }
    socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, remaining));
  }

  /** Closing the stream closes nothing: the socket's owner closes the socket. */
  @Override
  public void close() {}
}
