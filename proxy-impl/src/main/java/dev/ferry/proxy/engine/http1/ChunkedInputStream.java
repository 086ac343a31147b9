package dev.ferry.proxy.engine.http1;

import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.io.BlockInputStream;
import dev.ferry.proxy.engine.io.ConnectionInput;
import java.io.EOFException;
import java.io.IOException;

/**
 * Decodes a chunked body (RFC 9112 §7.1) from a shared connection input, strictly: hex sizes
 * without sign or leading whitespace, then only whitespace before a bounded extension or the
 * line's CRLF, and CRLF after each chunk's data. Trailer fields
 * are read into {@link #trailers()} when the last chunk arrives.
 */
public final class ChunkedInputStream extends BlockInputStream {
  private static final int MAX_SIZE_LINE = 4096;
  /** A chunk size may have 15 significant hex digits: past this value another one overflows that. */
  static final long MAX_BEFORE_DIGIT = (1L << 56) - 1;
  /** What a size line the decoder refuses counts as available: its read fails without waiting. */
  private static final long REFUSED = 1;

  private final ConnectionInput in;
  private final boolean response;
  private final int maxTrailerBytes;
  private final int maxTrailerCount;
  private long remainingInChunk;
  /** A chunk's data was read whole; its CRLF is checked by the next read. */
  private boolean crlfDue;
  private boolean done;
  private Headers trailers = Headers.empty();

  /**
   * @param response true when decoding an upstream's response, which decides the failure kind
   */
  public ChunkedInputStream(ConnectionInput in, boolean response, int maxTrailerBytes,
      int maxTrailerCount) {
    this.in = in;
    this.response = response;
    this.maxTrailerBytes = maxTrailerBytes;
    this.maxTrailerCount = maxTrailerCount;
  }

  @Override
  public int read(byte[] target, int offset, int length) throws IOException {
    if (done) {
      return -1;
    }
    if (length == 0) {
      return 0;
    }
    if (remainingInChunk == 0) {
      if (crlfDue) {
        expectCrlf();
        crlfDue = false;
      }
      remainingInChunk = readChunkSize();
      if (remainingInChunk == 0) {
        trailers = new HeadParser(in, MAX_SIZE_LINE, maxTrailerBytes, maxTrailerCount)
            .readTrailers(response);
        done = true;
        return -1;
      }
    }
    int n = in.read(target, offset, (int) Math.min(length, remainingInChunk));
    if (n < 0) {
      throw new EOFException("connection closed inside a chunk");
    }
    remainingInChunk -= n;
    // The CRLF after the data waits for the next read: the data goes on now, whenever the CRLF
    // comes (a writer may send it with the next chunk; the chunk waited for it, probe v22).
    crlfDue = remainingInChunk == 0;
    return n;
  }

  /**
   * The bytes of the current chunk buffered; at a chunk boundary, those of the next one, once its
   * size line is buffered whole. So a caller that asks before each read whether it would wait
   * (to flush what it passed on first) is not told so at every boundary of chunks already here:
   * a body of many small chunks would otherwise be passed on a chunk per write.
   */
  @Override
  public int available() {
    if (done) {
      return 0;
    }
    if (remainingInChunk > 0) {
      return (int) Math.min(in.available(), remainingInChunk);
    }
    return (int) in.measureBuffered(crlfDue ? ChunkedInputStream::bufferedAfterCrlf
        : ChunkedInputStream::bufferedOfNextChunk);
  }

  /** As {@link #bufferedOfNextChunk}, for a next chunk behind the CRLF the last chunk's data owes. */
  private static long bufferedAfterCrlf(byte[] bytes, int from, int to) {
    if (to - from < 2) {
      return from < to && bytes[from] != '\r' ? REFUSED : 0;
    }
    if (bytes[from] != '\r' || bytes[from + 1] != '\n') {
      return REFUSED;
    }
    return bufferedOfNextChunk(bytes, from + 2, to);
  }

  /**
   * How many data bytes of the chunk whose size line starts at {@code bytes[from]} are buffered
   * up to {@code to}: 0 unless its size line is complete and the chunk is not the last. A line
   * the decoder refuses counts as 1 once the byte it refuses is buffered: reading it then fails
   * at once, without waiting, so that an upstream's malformed first chunk is answered 502 before
   * the response head goes out (a caller flushes what it passed on before a read that would
   * wait). The checks are {@link #readChunkSize}'s.
   */
  private static long bufferedOfNextChunk(byte[] bytes, int from, int to) {
    long size = 0;
    int digits = 0;
    int i = from;
    for (; i < to && HeadScan.hexValue(bytes[i]) >= 0; i++) {
      if (++digits > MAX_SIZE_LINE || size > MAX_BEFORE_DIGIT) {
        return REFUSED;
      }
      size = size * 16 + HeadScan.hexValue(bytes[i]);
    }
    if (i < to && digits == 0) {
      return REFUSED;
    }
    int lineBytes = digits;
    for (; i < to && (bytes[i] == ' ' || bytes[i] == '\t'); i++) {
      if (++lineBytes > MAX_SIZE_LINE) {
        return REFUSED;
      }
    }
    if (i < to && bytes[i] == ';') {
      for (; i < to && bytes[i] != '\r'; i++) {
        byte b = bytes[i];
        if (b == '\n' || (b < 0x20 && b != '\t') || b == 0x7f || ++lineBytes > MAX_SIZE_LINE) {
          return REFUSED;
        }
      }
    }
    if (i + 1 >= to) {
      return i < to && bytes[i] != '\r' ? REFUSED : 0;
    }
    if (bytes[i] != '\r' || bytes[i + 1] != '\n') {
      return REFUSED;
    }
    return size == 0 ? 0 : Math.min(size, to - (i + 2));
  }

  /** True once the last chunk and the trailers have been read. */
  public boolean isComplete() {
    return done;
  }

  /** The trailer fields; empty until {@link #isComplete()}. */
  public Headers trailers() {
    return trailers;
  }

  private long readChunkSize() throws IOException {
    long size = 0;
    int digits = 0;
    int b = in.readByte();
    while (HeadScan.hexValue(b) >= 0) {
      // RFC 9112 §7.1: any number of digits; leading zeros are no overflow, only the line's length.
      if (++digits > MAX_SIZE_LINE) {
        throw malformed("chunk size line too long");
      }
      if (size > MAX_BEFORE_DIGIT) {
        throw malformed("chunk size too large");
      }
      size = size * 16 + HeadScan.hexValue(b);
      b = in.readByte();
    }
    if (digits == 0) {
      throw malformed("invalid chunk size");
    }
    int lineBytes = digits;
    // BWS before an extension's ';' (RFC 9112 §7.1.1), tolerated before the line's end too, as
    // nginx does; anything else after the size ("2 x") is no chunk size.
    while (b == ' ' || b == '\t') {
      if (++lineBytes > MAX_SIZE_LINE) {
        throw malformed("chunk size line too long");
      }
      b = in.readByte();
    }
    if (b == ';') {
      // Chunk extensions are allowed but ignored; only their length is bounded.
      while (b != '\r') {
        if (b == '\n' || (b < 0x20 && b != '\t') || b == 0x7f || ++lineBytes > MAX_SIZE_LINE) {
          throw malformed("invalid chunk extension");
        }
        b = in.readByte();
      }
    }
    if (b != '\r' || in.readByte() != '\n') {
      throw malformed("chunk size line must end with CRLF");
    }
    return size;
  }

  private void expectCrlf() throws IOException {
    if (in.readByte() != '\r' || in.readByte() != '\n') {
      throw malformed("chunk data must be followed by CRLF");
    }
  }

  private HttpFailureException malformed(String detail) {
    return new HttpFailureException(
        response ? ProxyFailure.UPSTREAM_BAD_RESPONSE : ProxyFailure.MALFORMED_REQUEST, detail);
  }
}
