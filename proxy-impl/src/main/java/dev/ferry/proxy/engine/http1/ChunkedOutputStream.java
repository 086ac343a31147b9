package dev.ferry.proxy.engine.http1;

import dev.ferry.proxy.Headers;
import java.io.IOException;
import dev.ferry.proxy.engine.io.ConnectionOutput;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Encodes a chunked body (RFC 9112 §7.1): one chunk per write call. {@link #finish} writes the
 * last chunk and the trailers; {@link #close()} does not, so an aborted body stays visibly
 * incomplete to the peer.
 */
public final class ChunkedOutputStream extends OutputStream {
  private static final byte[] CRLF = {'\r', '\n'};

  private final ConnectionOutput out;

  public ChunkedOutputStream(ConnectionOutput out) {
    this.out = out;
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] source, int offset, int length) throws IOException {
    if (length == 0) {
      return;
    }
    out.write(Integer.toHexString(length).getBytes(StandardCharsets.ISO_8859_1));
    out.write(CRLF);
    out.write(source, offset, length);
    out.write(CRLF);
  }

  /** Writes the last chunk and the trailer section. */
  public void finish(Headers trailers) throws IOException {
    out.write('0');
    out.write(CRLF);
    HeadWriter.writeFields(out, trailers);
    out.write(CRLF);
  }

  @Override
  public void flush() throws IOException {
    out.flush();
  }

  @Override
  public void close() {}
}
