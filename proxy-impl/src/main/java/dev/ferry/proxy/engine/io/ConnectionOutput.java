package dev.ferry.proxy.engine.io;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;

/**
 * The buffered output side of one socket. The buffer is allocated on first write and dropped by
 * {@link #release()} once flushed, so an idle connection keeps no output buffer.
 */
public final class ConnectionOutput extends OutputStream {
  private final OutputStream out;
  private final int bufferSize;
  private byte[] buffer;
  private int count;
  private long bytesWritten;

  public ConnectionOutput(Socket socket, int bufferSize) throws IOException {
    this.out = socket.getOutputStream();
    this.bufferSize = bufferSize;
  }

  @Override
  public void write(int b) throws IOException {
    if (buffer == null) {
      buffer = new byte[bufferSize];
    }
    if (count == buffer.length) {
      flushBuffer();
    }
    buffer[count++] = (byte) b;
    bytesWritten++;
  }

  @Override
  public void write(byte[] source, int offset, int length) throws IOException {
    bytesWritten += length;
    if (length >= bufferSize) {
      flushBuffer();
      out.write(source, offset, length);
      return;
    }
    if (buffer == null) {
      buffer = new byte[bufferSize];
    }
    if (length > buffer.length - count) {
      flushBuffer();
    }
    System.arraycopy(source, offset, buffer, count, length);
    count += length;
  }

  @Override
  public void flush() throws IOException {
    flushBuffer();
    out.flush();
  }

  /** Flushes, then drops the buffer until the next write. */
  public void release() throws IOException {
    flush();
    buffer = null;
  }

  /** Total bytes written to this connection. */
  public long bytesWritten() {
    return bytesWritten;
  }

  private void flushBuffer() throws IOException {
    if (count > 0) {
      out.write(buffer, 0, count);
      count = 0;
    }
  }

  /** Closing the stream closes nothing: the socket's owner closes the socket. */
  @Override
  public void close() throws IOException {
    flush();
  }
}
